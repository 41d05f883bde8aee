/*
 *	ucw-asio benchmarks: liburing, the fast asynchronous peer. Explicit
 *	offsets (io_uring has no ordered current-position requests); each request
 *	is submitted by its own io_uring_submit(), as asio submits one at a time.
 *
 *	Built twice: bench-uring, and with -DURING_FIXED bench-uring-fixed, what
 *	a careful liburing user writes for long-lived buffers: each ring's buffers
 *	are registered with it (io_uring_register_buffers) and every read and
 *	write is a READ_FIXED / WRITE_FIXED on them (the fairness blocker's
 *	1-byte read excepted). Where the kernel or RLIMIT_MEMLOCK refuses the
 *	registration, bench-uring-fixed says so and exits EXIT_UNAVAILABLE.
 */

#define _GNU_SOURCE
#include "common.h"
#include "sys.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>

#ifdef URING_FIXED
#define FIXED 1
const char sys_name[] = "liburing-fixed";
#else
#define FIXED 0
const char sys_name[] = "liburing";
#endif

static void ring_init(struct io_uring *ring, unsigned entries)
{
	int err = io_uring_queue_init(entries, ring, 0);
	if (err < 0) {
		errno = -err;
		die_errno("%s: io_uring_queue_init", sys_name);
	}
}

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe)
		die("%s: the submission queue is full", sys_name);
	return sqe;
}

static void submit(struct io_uring *ring)
{
	int n;
	do
		n = io_uring_submit(ring);
	while (n == -EINTR);
	if (n < 0) {
		errno = -n;
		die_errno("%s: io_uring_submit", sys_name);
	}
}

/* Waits for the next completion: returns its user_data, sets *res. */
static uint64_t reap(struct io_uring *ring, int *res)
{
	struct io_uring_cqe *cqe;
	int err;
	do
		err = io_uring_wait_cqe(ring, &cqe);
	while (err == -EINTR);
	if (err < 0) {
		errno = -err;
		die_errno("%s: io_uring_wait_cqe", sys_name);
	}
	uint64_t data = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return data;
}

/*
 * With URING_FIXED: registers the ring's n buffers of len bytes, as buffer
 * indexes 0 to n-1, or leaves saying registered buffers are unavailable here.
 */
static void register_buffers(struct io_uring *ring, unsigned char *const *buf, unsigned n, size_t len)
{
	if (!FIXED)
		return;
	struct iovec *iov = calloc(n, sizeof(*iov));
	if (!iov)
		die("out of memory");
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = len;
	}
	int err = io_uring_register_buffers(ring, iov, n);
	free(iov);
	if (err >= 0)
		return;
	char lim[64] = "unknown";
	struct rlimit rl;
	if (!getrlimit(RLIMIT_MEMLOCK, &rl)) {
		if (rl.rlim_cur == RLIM_INFINITY)
			snprintf(lim, sizeof(lim), "unlimited");
		else
			snprintf(lim, sizeof(lim), "%llu KiB", (unsigned long long)rl.rlim_cur >> 10);
	}
	unavailable("%s: io_uring_register_buffers of %u buffer%s of %zu KiB: %s (RLIMIT_MEMLOCK %s): "
		    "registered buffers are unavailable here", sys_name, n, n == 1 ? "" : "s", len >> 10,
		    strerror(-err), lim);
}

/* A read or write of buffer buf, registered as index (with URING_FIXED). */
static void prep_rw(struct io_uring_sqe *sqe, int write, int fd, void *buf, size_t len, uint64_t off,
		    unsigned index)
{
	if (FIXED && write)
		io_uring_prep_write_fixed(sqe, fd, buf, len, off, index);
	else if (FIXED)
		io_uring_prep_read_fixed(sqe, fd, buf, len, off, index);
	else if (write)
		io_uring_prep_write(sqe, fd, buf, len, off);
	else
		io_uring_prep_read(sqe, fd, buf, len, off);
}

struct reader {
	struct io_uring ring;
	unsigned char *buf;
};

struct reader *reader_open(size_t bufsize)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	ring_init(&rd->ring, 4);
	rd->buf = alloc_aligned(bufsize);
	register_buffers(&rd->ring, &rd->buf, 1, bufsize);
	return rd;
}

/* One SQE, io_uring_submit_and_wait(1), one CQE. */
void reader_read(struct reader *rd, int fd, uint64_t off, size_t len, uint64_t seed)
{
	struct io_uring_sqe *sqe = sqe_get(&rd->ring);
	prep_rw(sqe, 0, fd, rd->buf, len, off, 0);
	sqe->user_data = 1;
	int n;
	do
		n = io_uring_submit_and_wait(&rd->ring, 1);
	while (n == -EINTR);
	if (n < 0) {
		errno = -n;
		die_errno("%s: io_uring_submit_and_wait", sys_name);
	}
	int res;
	reap(&rd->ring, &res);
	if (res < 0) {
		errno = -res;
		die_errno("%s: read", sys_name);
	}
	verify_read(rd->buf, res, len, off, seed, sys_name);
}

void reader_close(struct reader *rd)
{
	io_uring_queue_exit(&rd->ring);
	free(rd->buf);
	free(rd);
}

struct blocker {
	struct io_uring ring;
	char c;
};

struct blocker *blocker_start(int fd)
{
	struct blocker *b = calloc(1, sizeof(*b));
	ring_init(&b->ring, 2);
	struct io_uring_sqe *sqe = sqe_get(&b->ring);
	io_uring_prep_read(sqe, fd, &b->c, 1, (uint64_t)-1);
	sqe->user_data = 1;
	submit(&b->ring);
	return b;
}

void blocker_finish(struct blocker *b)
{
	int res;
	reap(&b->ring, &res);
	if (res != 1)
		die("%s: the blocked read returned %d", sys_name, res);
	io_uring_queue_exit(&b->ring);
	free(b);
}

/* Buffers of a stream: one read ahead, up to writebacks writes, one in hand. */
#define WRITE_BIT (1ULL << 32)

void sys_stream(int in, int out, uint64_t size, size_t bufsize, unsigned writebacks)
{
	struct io_uring ring;
	ring_init(&ring, 2 * (writebacks + 2));
	unsigned nbuf = writebacks + 2, nfree = nbuf;
	unsigned char **buf = calloc(nbuf, sizeof(*buf));
	unsigned *freelist = calloc(nbuf, sizeof(*freelist));
	size_t *wlen = calloc(nbuf, sizeof(*wlen));
	for (unsigned i = 0; i < nbuf; i++) {
		buf[i] = alloc_aligned(bufsize);
		freelist[i] = i;
	}
	register_buffers(&ring, buf, nbuf, bufsize);
	unsigned writes = 0, reading;
	int read_done = 0, read_res = 0;
	uint64_t roff = 0, total = 0;

#define REAP_ONE() do {								\
		int res_;								\
		uint64_t d_ = reap(&ring, &res_);					\
		if (d_ & WRITE_BIT) {							\
			unsigned s_ = (unsigned)d_;					\
			if (res_ < 0 || (size_t)res_ != wlen[s_])			\
				die("%s: write of %zu bytes returned %d", sys_name, wlen[s_], res_); \
			writes--;							\
			freelist[nfree++] = s_;						\
		} else {								\
			read_done = 1;							\
			read_res = res_;						\
		}									\
	} while (0)

	reading = freelist[--nfree];
	struct io_uring_sqe *sqe = sqe_get(&ring);
	prep_rw(sqe, 0, in, buf[reading], bufsize, roff, reading);
	sqe->user_data = reading;
	submit(&ring);
	roff += bufsize;
	for (;;) {
		while (!read_done)
			REAP_ONE();
		read_done = 0;
		if (read_res < 0) {
			errno = -read_res;
			die_errno("%s: read", sys_name);
		}
		unsigned slot = reading;
		uint64_t data_off = roff - bufsize;
		size_t n = read_res;
		if (!n) {
			freelist[nfree++] = slot;
			break;
		}
		if (n == bufsize) {
			while (!nfree)
				REAP_ONE();
			reading = freelist[--nfree];
			sqe = sqe_get(&ring);
			prep_rw(sqe, 0, in, buf[reading], bufsize, roff, reading);
			sqe->user_data = reading;
			submit(&ring);
			roff += bufsize;
		}
		while (writes >= writebacks)
			REAP_ONE();
		wlen[slot] = (n + BLOCK - 1) / BLOCK * BLOCK;
		sqe = sqe_get(&ring);
		prep_rw(sqe, 1, out, buf[slot], wlen[slot], data_off, slot);
		sqe->user_data = slot | WRITE_BIT;
		submit(&ring);
		writes++;
		total += n;
		if (n < bufsize)
			break;
	}
	while (writes)
		REAP_ONE();
#undef REAP_ONE
	io_uring_queue_exit(&ring);
	for (unsigned i = 0; i < nbuf; i++)
		free(buf[i]);
	free(buf);
	free(freelist);
	free(wlen);
	if (total != size)
		die("%s: copied %llu bytes of %llu", sys_name, (unsigned long long)total, (unsigned long long)size);
}

void sys_writeback(int out, uint64_t size, size_t bs, unsigned inflight)
{
	struct io_uring ring;
	ring_init(&ring, inflight * 2);
	unsigned char **buf = calloc(inflight, sizeof(*buf));
	unsigned *freelist = calloc(inflight, sizeof(*freelist));
	unsigned nfree = inflight;
	for (unsigned i = 0; i < inflight; i++) {
		buf[i] = alloc_aligned(bs);
		freelist[i] = i;
	}
	register_buffers(&ring, buf, inflight, bs);
	uint64_t off = 0;
	while (off < size || nfree < inflight) {
		while (nfree && off < size) {
			unsigned s = freelist[--nfree];
			struct io_uring_sqe *sqe = sqe_get(&ring);
			prep_rw(sqe, 1, out, buf[s], bs, off, s);
			sqe->user_data = s;
			submit(&ring);
			off += bs;
		}
		int res;
		unsigned s = (unsigned)reap(&ring, &res);
		if (res < 0 || (size_t)res != bs)
			die("%s: write of %zu bytes returned %d", sys_name, bs, res);
		freelist[nfree++] = s;
	}
	io_uring_queue_exit(&ring);
	for (unsigned i = 0; i < inflight; i++)
		free(buf[i]);
	free(buf);
	free(freelist);
}
