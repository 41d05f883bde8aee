/*
 *	ucw-asio -- the synchronous C implementation (capi/stub/sync.c) as a
 *	test harness for Go (see syncimpl.go)
 *
 *	sync.c is compiled here, unchanged, with two differences from the
 *	library's build, both for tests only:
 *	- read(2) and write(2) go through harness_read and harness_write, which
 *	  inject the faults the engine's fuzz tests inject through
 *	  engine.Syscalls (EINTR, short transfers, a disk that fills up), on
 *	  the descriptors the test names and no others;
 *	- ucwasio_die (die.c in the library) records the line and longjmps back
 *	  to the trampoline around the call (harness_call), which returns 1 to
 *	  Go: no Go frame is ever unwound through C.
 *
 *	sync_c.h, sync.h and die.h are symbolic links to capi/stub/: the go
 *	command hashes the .h files of a package's directory, so an edit of
 *	sync.c rebuilds the harness.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static ssize_t harness_read(int fd, void *buf, size_t len);
static ssize_t harness_write(int fd, const void *buf, size_t len);

#define read harness_read
#define write harness_write
#include "sync_c.h"
#undef read
#undef write

/*** Fault injection ***/

static struct harness_faults faults;
static long long io_calls;

void harness_set_faults(const struct harness_faults *f)
{
	if (f)
		faults = *f;
	else
		memset(&faults, 0, sizeof(faults));
	io_calls = 0;
}

static int faulty(int fd)
{
	for (int i = 0; i < faults.nfds; i++)
		if (faults.fds[i] == fd)
			return 1;
	return 0;
}

/* As the engine's test Syscalls (faultSys in engine/fuzz_test.go): every
 * eintr_every-th call fails with EINTR, a call moves at most short_limit
 * bytes, writes through quota_fd stop at file position quota (ENOSPC). */
static int prepare(int fd, size_t *len)
{
	if (!faulty(fd))
		return 0;
	if (faults.eintr_every > 0 && ++io_calls % faults.eintr_every == 0) {
		errno = EINTR;
		return -1;
	}
	if (faults.short_limit > 0 && *len > (size_t)faults.short_limit)
		*len = faults.short_limit;
	return 0;
}

static ssize_t harness_read(int fd, void *buf, size_t len)
{
	if (prepare(fd, &len) < 0)
		return -1;
	return read(fd, buf, len);
}

static ssize_t harness_write(int fd, const void *buf, size_t len)
{
	if (prepare(fd, &len) < 0)
		return -1;
	if (faulty(fd) && faults.quota >= 0 && fd == faults.quota_fd && len > 0) {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		if (pos < 0)
			return -1;
		if (pos >= faults.quota) {
			errno = ENOSPC;
			return -1;
		}
		if ((off_t)len > faults.quota - pos)
			len = faults.quota - pos;
	}
	return write(fd, buf, len);
}

/*** Ending the process ***/

/* The call in progress on this thread: where die returns to, and where the
 * line goes. */
static __thread jmp_buf *die_jump;
static __thread char *die_msg;

void ucwasio_die_line(const char *msg)
{
	if (!die_jump) {
		/* Not inside harness_call: end the process as the library would. */
		fprintf(stderr, "%s\n", msg);
		exit(1);
	}
	snprintf(die_msg, HARNESS_MSG_LEN, "%s", msg);
	longjmp(*die_jump, 1);
}

void ucwasio_die(const char *fmt, ...)
{
	char line[512];		/* as die.c */
	va_list args;
	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	ucwasio_die_line(line);
}

#ifdef UCWASIO_GCOV
/* Coverage of sync.c (see syncimpl.go): a Go program ends without exit(),
 * so gcov's counters are written after every call. */
void __gcov_dump(void);
void __gcov_reset(void);
#define GCOV_FLUSH() (__gcov_dump(), __gcov_reset())
#else
#define GCOV_FLUSH() ((void)0)
#endif

/* After sync.c ended the process in the call fn(arg): whatever the call
 * had marked for its duration and would have unmarked on return (the mark
 * of "a call is in progress on this queue", see sync.c's enter()) is
 * unmarked here, so that the test can go on with the queue. */
static void revive(int fn, void *arg)
{
	if (fn == HARNESS_SUBMIT || fn == HARNESS_PUT)
		ucwasio_sync_revive(NULL, arg);
	else
		ucwasio_sync_revive(arg, NULL);
}

int harness_call(int fn, void *arg, void **result, char *msg)
{
	jmp_buf jump;
	msg[0] = 0;
	*result = NULL;
	if (setjmp(jump)) {
		die_jump = NULL;
		revive(fn, arg);
		GCOV_FLUSH();
		return 1;
	}
	die_jump = &jump;
	die_msg = msg;
	switch (fn) {
	case HARNESS_INIT:
		ucwasio_sync_init_queue(arg);
		break;
	case HARNESS_CLEANUP:
		ucwasio_sync_cleanup_queue(arg);
		break;
	case HARNESS_GET:
		*result = ucwasio_sync_get(arg);
		break;
	case HARNESS_SUBMIT:
		ucwasio_sync_submit(arg);
		break;
	case HARNESS_WAIT:
		*result = ucwasio_sync_wait(arg);
		break;
	case HARNESS_PUT:
		ucwasio_sync_put(arg);
		break;
	case HARNESS_SYNC:
		ucwasio_sync_sync(arg);
		break;
	default:
		snprintf(msg, HARNESS_MSG_LEN, "harness: unknown function %d", fn);
		die_jump = NULL;
		return 1;
	}
	die_jump = NULL;
	GCOV_FLUSH();
	return 0;
}

/* After the process would have died: the requests it lost (a failed
 * write-back, never recycled) are forgotten, so that the queue can be
 * cleaned up. The only use of sync.c's internals. */
void harness_abandon(struct asio_queue *pub)
{
	struct sync_queue *q = pub->queue.private_handle;
	if (pub->queue.private_magic != SYNC_QUEUE_MAGIC || !q)
		return;
	q->allocated = 0;
	q->running_wb = 0;
	publish(q);
}

/*** Facts for the Go side ***/

const uint64_t harness_magic[4] = {
	ENGINE_QUEUE_MAGIC, ENGINE_REQUEST_MAGIC, SYNC_QUEUE_MAGIC, SYNC_REQUEST_MAGIC,
};

const size_t harness_layout[] = {
	sizeof(struct asio_queue),
	offsetof(struct asio_queue, buffer_size),
	offsetof(struct asio_queue, max_writebacks),
	offsetof(struct asio_queue, allocated_requests),
	offsetof(struct asio_queue, running_requests),
	offsetof(struct asio_queue, running_writebacks),
	offsetof(struct asio_queue, queue.private_magic),
	offsetof(struct asio_queue, queue.private_handle),
	offsetof(struct asio_queue, use_count),
	sizeof(struct asio_request),
	offsetof(struct asio_request, work),
	offsetof(struct asio_request, queue),
	offsetof(struct asio_request, buffer),
	offsetof(struct asio_request, fd),
	offsetof(struct asio_request, op),
	offsetof(struct asio_request, len),
	offsetof(struct asio_request, status),
	offsetof(struct asio_request, returned_errno),
	offsetof(struct asio_request, submitted),
	offsetof(struct asio_request, user_data),
};
