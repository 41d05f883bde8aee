/*
 *	ucw-asio benchmarks: the system under test, through its public API only.
 *
 *	Built with -DBENCH_FLOOR it is bench-floor, the same program run on the
 *	floor engine (bench/floor/): every queue is checked to be the floor's,
 *	so that a build or path mistake cannot pass the real engine off as the
 *	floor.
 */

#define _GNU_SOURCE
#include "common.h"
#include "sys.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <ucw/asio.h>

#ifdef BENCH_FLOOR
const char sys_name[] = "floor";

/* What the floor engine puts in queue.private_magic (bench/floor/floor.go). */
#define FLOOR_MAGIC 0x726f6f6c66ULL

static void init_queue(struct asio_queue *q)
{
	asio_init_queue(q);
	if (q->queue.private_magic != FLOOR_MAGIC)
		die("floor: the engine loaded is not the floor engine (is build/bench/floor/ complete? "
		    "is LD_LIBRARY_PATH pointing elsewhere?)");
}
#else
const char sys_name[] = "ucw-asio";

static void init_queue(struct asio_queue *q)
{
	asio_init_queue(q);
}
#endif

struct reader {
	struct asio_queue q;
};

struct reader *reader_open(size_t bufsize)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	rd->q.buffer_size = bufsize;
	rd->q.max_writebacks = 1;
	init_queue(&rd->q);
	return rd;
}

/* get, submit, wait, put: the request's whole life, one at a time. */
void reader_read(struct reader *rd, int fd, uint64_t off, size_t len, uint64_t seed)
{
	struct asio_request *r = asio_get(&rd->q);
	r->op = ASIO_READ;
	r->fd = fd;
	r->len = len;
	asio_submit(r);
	struct asio_request *done = asio_wait(&rd->q);
	if (done != r)
		die("ucw-asio: asio_wait returned %p, not the request submitted (%p)", (void *)done, (void *)r);
	if (done->status < 0) {
		errno = done->returned_errno;
		die_errno("ucw-asio: read");
	}
	verify_read(done->buffer, done->status, len, off, seed, sys_name);
	asio_put(done);
}

void reader_close(struct reader *rd)
{
	asio_cleanup_queue(&rd->q);
	free(rd);
}

struct blocker {
	struct asio_queue q;
	struct asio_request *r;
};

struct blocker *blocker_start(int fd)
{
	struct blocker *b = calloc(1, sizeof(*b));
	b->q.buffer_size = BLOCK;
	b->q.max_writebacks = 1;
	init_queue(&b->q);
	b->r = asio_get(&b->q);
	b->r->op = ASIO_READ;
	b->r->fd = fd;
	b->r->len = 1;
	asio_submit(b->r);
	return b;
}

void blocker_finish(struct blocker *b)
{
	struct asio_request *r = asio_wait(&b->q);
	if (r != b->r || r->status != 1)
		die("ucw-asio: the blocked read returned %p with status %d", (void *)r, r ? r->status : 0);
	asio_put(r);
	asio_cleanup_queue(&b->q);
	free(b);
}

/* The fb-direct pattern: one read ahead, every buffer written back. */
void sys_stream(int in, int out, uint64_t size, size_t bufsize, unsigned writebacks)
{
	struct asio_queue q;
	q.buffer_size = bufsize;
	q.max_writebacks = writebacks;
	init_queue(&q);

	struct asio_request *r = asio_get(&q);
	r->op = ASIO_READ;
	r->fd = in;
	r->len = bufsize;
	asio_submit(r);
	uint64_t total = 0;
	for (;;) {
		r = asio_wait(&q);
		if (!r)
			die("ucw-asio: asio_wait returned NULL with a read running");
		if (r->status < 0) {
			errno = r->returned_errno;
			die_errno("ucw-asio: read");
		}
		uint n = r->status;
		if (!n) {
			asio_put(r);
			break;
		}
		if (n == bufsize) {
			struct asio_request *next = asio_get(&q);
			next->op = ASIO_READ;
			next->fd = in;
			next->len = bufsize;
			asio_submit(next);
		}
		r->op = ASIO_WRITE_BACK;
		r->fd = out;
		r->len = (n + BLOCK - 1) / BLOCK * BLOCK;
		asio_submit(r);
		total += n;
		if (n < bufsize)
			break;
	}
	asio_sync(&q);
	while ((r = asio_wait(&q)))
		asio_put(r);
	asio_cleanup_queue(&q);
	if (total != size)
		die("ucw-asio: copied %llu bytes of %llu", (unsigned long long)total, (unsigned long long)size);
}

void sys_writeback(int out, uint64_t size, size_t bs, unsigned inflight)
{
	if (lseek(out, 0, SEEK_SET) < 0)
		die_errno("lseek");
	struct asio_queue q;
	q.buffer_size = bs;
	q.max_writebacks = inflight;
	init_queue(&q);
	for (uint64_t off = 0; off < size; off += bs) {
		struct asio_request *r = asio_get(&q);
		r->op = ASIO_WRITE_BACK;
		r->fd = out;
		r->len = bs;
		asio_submit(r);
	}
	asio_sync(&q);
	if (q.running_requests || q.allocated_requests)
		die("ucw-asio: after asio_sync, %u requests running and %u allocated",
		    q.running_requests, q.allocated_requests);
	asio_cleanup_queue(&q);
}
