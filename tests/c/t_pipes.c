/*
 * t_pipes: reads and writes on pipes through two queues of one thread.
 *
 *  - a writer queue (ASIO_WRITE, 64 x 4 KiB = 4 times the pipe's capacity, so
 *    its writes block) and a reader queue (ASIO_READ of 4 KiB, short reads
 *    accumulated): all data arrives in order, every write reports 4096;
 *  - one 1 MiB ASIO_WRITE to a pipe completes with status 1 MiB while the
 *    other queue reads it;
 *  - a read when only 10 bytes are in the pipe returns 10;
 *  - a read from a pipe whose writer is closed: status 0, returned_errno 0;
 *  - a write to a pipe whose reader is closed (SIGPIPE ignored): status -1,
 *    EPIPE.
 * On the synchronous path (UCW_ASIO_ENGINE=sync) the writer queue's writes
 * run only in its own asio_wait, in the caller's thread, so the first two
 * parts read the pipe from a thread with plain read(2) instead; the submits
 * must leave the pipe empty, and asio_wait returns every write in order
 * with its full length.
 */

#include "testlib.h"
#include <sys/ioctl.h>

#define CHUNKS 64
#define CHUNK 4096

static struct asio_queue wq, rq;

/* Read `total` bytes from fd through rq, checking them against the pattern. */
static void read_stream(int fd, size_t total, uint64_t seed)
{
	size_t got = 0;
	while (got < total) {
		struct asio_request *r = tl_req(&rq, ASIO_READ, fd, CHUNK);
		asio_submit(r);
		CHECK_PTR("reader asio_wait", r, asio_wait(&rq));
		CHECK(r->status > 0 && r->returned_errno == 0,
		      "pipe read after %zu of %zu bytes: status %d errno %d", got, total, r->status, r->returned_errno);
		CHECK((size_t)r->status <= total - got, "pipe read returned %d bytes, only %zu expected", r->status, total - got);
		CHECK_FILL("pipe data", r->buffer, (size_t)r->status, seed, got);
		got += (size_t)r->status;
		asio_put(r);
	}
}

static pthread_t drain_thread;

struct drain {
	int fd;
	size_t total;
	uint64_t seed;
};

/* Plain read(2) of d->total bytes, checked against the pattern. */
static void *drain(void *arg)
{
	struct drain *d = arg;
	static unsigned char buf[65536];
	size_t got = 0;
	while (got < d->total) {
		ssize_t n = read(d->fd, buf, d->total - got < sizeof(buf) ? d->total - got : sizeof(buf));
		CHECK(n > 0, "plain read of the pipe after %zu of %zu bytes: %s", got, d->total, n < 0 ? strerror(errno) : "EOF");
		CHECK_FILL("pipe data", buf, (size_t)n, d->seed, got);
		got += (size_t)n;
	}
	return NULL;
}

/* What the writer queue submitted, read by a thread while asio_wait runs it. */
static void sync_route_stream(int fd, size_t total, uint64_t seed)
{
	static struct drain d;
	int n = -1;
	pthread_t t;
	d.fd = fd;
	d.total = total;
	d.seed = seed;
	CHECK(ioctl(fd, FIONREAD, &n) == 0 && n == 0, "synchronous path: %d bytes in the pipe after the submits", n);
	CHECK(!pthread_create(&t, NULL, drain, &d), "pthread_create failed");
	drain_thread = t;
}

int main(void)
{
	struct asio_request *ws[CHUNKS], *r;
	int p[2], i;

	tl_watchdog(25, "t_pipes");
	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&wq, 1 << 20, 2);
	tl_init_queue(&rq, CHUNK, 2);

	/* Many writes queued first: the writer blocks on the full pipe. */
	for (i = 0; i < CHUNKS; i++) {
		ws[i] = tl_req(&wq, ASIO_WRITE, p[1], CHUNK);
		tl_fill(ws[i]->buffer, CHUNK, 41, (uint64_t)i * CHUNK);
		asio_submit(ws[i]);
	}
	CHECK_COUNTERS(&wq, CHUNKS, CHUNKS, 0);
	if (tl_sync_route())
		sync_route_stream(p[0], (size_t)CHUNKS * CHUNK, 41);
	else
		read_stream(p[0], (size_t)CHUNKS * CHUNK, 41);
	for (i = 0; i < CHUNKS; i++) {
		r = asio_wait(&wq);
		CHECK_PTR("writer asio_wait order", ws[i], r);
		CHECK_DONE(r, CHUNK, 0);
		asio_put(r);
	}
	if (tl_sync_route())
		pthread_join(drain_thread, NULL);
	CHECK_COUNTERS(&wq, 0, 0, 0);
	CHECK_COUNTERS(&rq, 0, 0, 0);

	/* One write much larger than the pipe. */
	r = tl_req(&wq, ASIO_WRITE, p[1], 1 << 20);
	tl_fill(r->buffer, 1 << 20, 42, 0);
	asio_submit(r);
	if (tl_sync_route())
		sync_route_stream(p[0], 1 << 20, 42);
	else
		read_stream(p[0], 1 << 20, 42);
	CHECK_PTR("asio_wait", r, asio_wait(&wq));
	CHECK_DONE(r, 1 << 20, 0);
	asio_put(r);
	if (tl_sync_route())
		pthread_join(drain_thread, NULL);

	/* A short read. */
	tl_write_all(p[1], "0123456789", 10);
	r = tl_req(&rq, ASIO_READ, p[0], CHUNK);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&rq));
	CHECK_DONE(r, 10, 0);
	CHECK(!memcmp(r->buffer, "0123456789", 10), "short read data differs");
	asio_put(r);

	/* Writer closed: end of file. */
	close(p[1]);
	r = tl_req(&rq, ASIO_READ, p[0], CHUNK);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&rq));
	CHECK_DONE(r, 0, 0);
	asio_put(r);
	close(p[0]);

	/* Reader closed: EPIPE. */
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	close(p[0]);
	r = tl_req(&wq, ASIO_WRITE, p[1], 100);
	memset(r->buffer, 'z', 100);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&wq));
	CHECK(r->status == -1 && r->returned_errno == EPIPE,
	      "write to a pipe without reader: expected status -1 errno EPIPE, got status %d errno %d (%s)",
	      r->status, r->returned_errno, strerror(r->returned_errno));
	asio_put(r);
	close(p[1]);

	CHECK_COUNTERS(&wq, 0, 0, 0);
	CHECK_COUNTERS(&rq, 0, 0, 0);
	asio_cleanup_queue(&wq);
	asio_cleanup_queue(&rq);
	return 0;
}
