/*
 *	ucw-asio benchmarks: liburing, the fast asynchronous peer. Explicit
 *	offsets (io_uring has no ordered current-position requests); each request
 *	is submitted by its own io_uring_submit(), as asio submits one at a time.
 */

#define _GNU_SOURCE
#include "common.h"
#include "sys.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

const char sys_name[] = "liburing";

static void ring_init(struct io_uring *ring, unsigned entries)
{
	int err = io_uring_queue_init(entries, ring, 0);
	if (err < 0) {
		errno = -err;
		die_errno("liburing: io_uring_queue_init");
	}
}

static struct io_uring_sqe *sqe_get(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe)
		die("liburing: the submission queue is full");
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
		die_errno("liburing: io_uring_submit");
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
		die_errno("liburing: io_uring_wait_cqe");
	}
	uint64_t data = cqe->user_data;
	*res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return data;
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
	return rd;
}

/* One SQE, io_uring_submit_and_wait(1), one CQE. */
void reader_read(struct reader *rd, int fd, uint64_t off, size_t len, uint64_t seed)
{
	struct io_uring_sqe *sqe = sqe_get(&rd->ring);
	io_uring_prep_read(sqe, fd, rd->buf, len, off);
	sqe->user_data = 1;
	int n;
	do
		n = io_uring_submit_and_wait(&rd->ring, 1);
	while (n == -EINTR);
	if (n < 0) {
		errno = -n;
		die_errno("liburing: io_uring_submit_and_wait");
	}
	int res;
	reap(&rd->ring, &res);
	if (res < 0) {
		errno = -res;
		die_errno("liburing: read");
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
		die("liburing: the blocked read returned %d", res);
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
	unsigned writes = 0, reading;
	int read_done = 0, read_res = 0;
	uint64_t roff = 0, total = 0;

#define REAP_ONE() do {								\
		int res_;								\
		uint64_t d_ = reap(&ring, &res_);					\
		if (d_ & WRITE_BIT) {							\
			unsigned s_ = (unsigned)d_;					\
			if (res_ < 0 || (size_t)res_ != wlen[s_])			\
				die("liburing: write of %zu bytes returned %d", wlen[s_], res_); \
			writes--;							\
			freelist[nfree++] = s_;						\
		} else {								\
			read_done = 1;							\
			read_res = res_;						\
		}									\
	} while (0)

	reading = freelist[--nfree];
	struct io_uring_sqe *sqe = sqe_get(&ring);
	io_uring_prep_read(sqe, in, buf[reading], bufsize, roff);
	sqe->user_data = reading;
	submit(&ring);
	roff += bufsize;
	for (;;) {
		while (!read_done)
			REAP_ONE();
		read_done = 0;
		if (read_res < 0) {
			errno = -read_res;
			die_errno("liburing: read");
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
			io_uring_prep_read(sqe, in, buf[reading], bufsize, roff);
			sqe->user_data = reading;
			submit(&ring);
			roff += bufsize;
		}
		while (writes >= writebacks)
			REAP_ONE();
		wlen[slot] = (n + BLOCK - 1) / BLOCK * BLOCK;
		sqe = sqe_get(&ring);
		io_uring_prep_write(sqe, out, buf[slot], wlen[slot], data_off);
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
		die("liburing: copied %llu bytes of %llu", (unsigned long long)total, (unsigned long long)size);
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
	uint64_t off = 0;
	while (off < size || nfree < inflight) {
		while (nfree && off < size) {
			unsigned s = freelist[--nfree];
			struct io_uring_sqe *sqe = sqe_get(&ring);
			io_uring_prep_write(sqe, out, buf[s], bs, off);
			sqe->user_data = s;
			submit(&ring);
			off += bs;
		}
		int res;
		unsigned s = (unsigned)reap(&ring, &res);
		if (res < 0 || (size_t)res != bs)
			die("liburing: write of %zu bytes returned %d", bs, res);
		freelist[nfree++] = s;
	}
	io_uring_queue_exit(&ring);
	for (unsigned i = 0; i < inflight; i++)
		free(buf[i]);
	free(buf);
	free(freelist);
}
