/*
 *	ucw-asio -- the synchronous C implementation as a test harness (see
 *	harness.c and syncimpl.go)
 */

#ifndef UCWASIO_HARNESS_H
#define UCWASIO_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <ucw/asio.h>

/* The functions harness_call makes. */
enum { HARNESS_INIT, HARNESS_CLEANUP, HARNESS_GET, HARNESS_SUBMIT, HARNESS_WAIT, HARNESS_PUT, HARNESS_SYNC };

#define HARNESS_MSG_LEN 512
#define HARNESS_MAX_FDS 16

/* Faults injected into read(2) and write(2) on fds (see harness.c). */
struct harness_faults {
	long long eintr_every;	/* every n-th call fails with EINTR first (0: never) */
	int short_limit;	/* a call moves at most this many bytes (0: no limit) */
	int quota_fd;		/* writes through this descriptor... */
	long long quota;	/* ...stop at this file position with ENOSPC (< 0: no limit) */
	int nfds;
	int fds[HARNESS_MAX_FDS];
};

void harness_set_faults(const struct harness_faults *f);

/* Calls the function fn of sync.c on arg (a queue or a request); 0 when it
 * returned (with its result in *result), 1 when it ended the process (the
 * line in msg, HARNESS_MSG_LEN bytes). */
int harness_call(int fn, void *arg, void **result, char *msg);

void harness_abandon(struct asio_queue *pub);

extern const uint64_t harness_magic[4];
extern const size_t harness_layout[20];

#endif
