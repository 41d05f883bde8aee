/*
 * t_background: submitted requests make progress while the caller makes no
 * asio call, and the public counters still do not change behind its back.
 *
 *  - an ASIO_WRITE to a pipe: the data reaches the pipe's other end (seen
 *    with poll/read, no asio call) within 10 s;
 *  - an ASIO_READ from a pipe: data written afterwards is consumed (FIONREAD
 *    drops to 0) within 10 s, and asio_wait then returns it;
 *  - 3 ASIO_WRITE_BACKs to a file: the file reaches its full size within
 *    10 s, without asio_sync;
 *  - meanwhile allocated_requests, running_requests, running_writebacks and
 *    the submitted flags keep the values the last call left (bookkeeping
 *    happens only inside the calls, in the caller's thread).
 * On the synchronous path (UCW_ASIO_ENGINE=sync) nothing runs without a call,
 * and that is what is checked there instead: after the submits the pipe gets
 * nothing, written data stays in the pipe, the file stays empty, the counters
 * and flags stay as they are; asio_wait and asio_sync then run the requests,
 * in submit order, and the results are the same.
 */

#include "testlib.h"
#include <sys/ioctl.h>

static struct asio_queue q;

/* Counters and flags must stay exactly as they are while no call is made. */
#define CHECK_FROZEN(alloc, run, wb) \
	do { \
		CHECK(q.allocated_requests == (alloc) && q.running_requests == (run) && q.running_writebacks == (wb), \
		      "counters changed without an asio call: expected %u/%u/%u, got %u/%u/%u", \
		      (alloc), (run), (wb), q.allocated_requests, q.running_requests, q.running_writebacks); \
	} while (0)

/* Bytes waiting in the pipe. */
static int in_pipe(int fd)
{
	int n = -1;
	CHECK(ioctl(fd, FIONREAD, &n) == 0, "FIONREAD: %s", strerror(errno));
	return n;
}

/* The synchronous path: a request runs when a call needs its result. */
static int deferred(void)
{
	struct asio_request *r, *wbs[3];
	int p[2], fd = tl_tmpfile("wb", O_RDWR), i;
	char buf[16];

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&q, 4096, 4);

	r = tl_req(&q, ASIO_WRITE, p[1], 4);
	memcpy(r->buffer, "ping", 4);
	asio_submit(r);
	CHECK_EQ("bytes in the pipe after the submit of an ASIO_WRITE (synchronous path: not run yet)", 0, in_pipe(p[0]));
	CHECK_FROZEN(1u, 1u, 0u);
	CHECK_EQ("submitted", 1, r->submitted);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 4, 0);
	CHECK_EQ("read", 4, read(p[0], buf, sizeof(buf)));
	CHECK(!memcmp(buf, "ping", 4), "pipe data differs");
	asio_put(r);

	r = tl_req(&q, ASIO_READ, p[0], 100);
	asio_submit(r);
	tl_write_all(p[1], "pong!", 5);
	CHECK_EQ("bytes in the pipe after a submitted ASIO_READ (synchronous path: not run yet)", 5, in_pipe(p[0]));
	CHECK_FROZEN(1u, 1u, 0u);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 5, 0);
	CHECK(!memcmp(r->buffer, "pong!", 5), "pipe data differs");
	CHECK_EQ("bytes in the pipe after asio_wait", 0, in_pipe(p[0]));
	asio_put(r);

	for (i = 0; i < 3; i++) {
		wbs[i] = tl_req(&q, ASIO_WRITE_BACK, fd, 4096);
		tl_fill(wbs[i]->buffer, 4096, 101, (uint64_t)i * 4096);
		asio_submit(wbs[i]);
	}
	CHECK_EQ("file size after 3 write-backs below the limit (synchronous path: not run yet)", 0, tl_size(fd));
	CHECK_FROZEN(3u, 3u, 3u);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_EQ("file size after asio_sync", 3 * 4096, tl_size(fd));
	{
		unsigned char data[3 * 4096];
		CHECK_EQ("pread", sizeof(data), tl_pread_all(fd, data, sizeof(data), 0));
		CHECK_FILL("file written by write-backs", data, sizeof(data), 101, 0);
	}
	asio_cleanup_queue(&q);
	close(p[0]);
	close(p[1]);
	close(fd);
	printf("synchronous path: nothing ran without a call; asio_wait and asio_sync ran the requests\n");
	return 0;
}

int main(void)
{
	struct asio_request *r, *wbs[3];
	int p[2], fd = tl_tmpfile("wb", O_RDWR), i, avail;
	char buf[16];
	double end;

	tl_watchdog(25, "t_background");
	if (tl_sync_route())
		return deferred();
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&q, 4096, 4);

	/* A write to a pipe arrives without any asio call. */
	r = tl_req(&q, ASIO_WRITE, p[1], 4);
	memcpy(r->buffer, "ping", 4);
	asio_submit(r);
	{
		struct pollfd pf = { p[0], POLLIN, 0 };
		int n = poll(&pf, 1, 10000);
		CHECK(n == 1, "the submitted ASIO_WRITE did not reach the pipe within 10 s without an asio call");
	}
	CHECK_EQ("read", 4, read(p[0], buf, sizeof(buf)));
	CHECK(!memcmp(buf, "ping", 4), "pipe data differs");
	CHECK_FROZEN(1u, 1u, 0u);
	CHECK_EQ("submitted of a finished, not collected request", 1, r->submitted);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 4, 0);
	asio_put(r);

	/* A read from a pipe consumes data written after the submit. */
	r = tl_req(&q, ASIO_READ, p[0], 100);
	asio_submit(r);
	tl_write_all(p[1], "pong!", 5);
	end = tl_now() + 10;
	do {
		CHECK(ioctl(p[0], FIONREAD, &avail) == 0, "FIONREAD: %s", strerror(errno));
		if (!avail)
			break;
		tl_sleep_ms(1);
	} while (tl_now() < end);
	CHECK_EQ("bytes left in the pipe 10 s after a submitted ASIO_READ", 0, avail);
	CHECK_FROZEN(1u, 1u, 0u);
	CHECK_EQ("submitted", 1, r->submitted);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 5, 0);
	CHECK(!memcmp(r->buffer, "pong!", 5), "pipe data differs");
	asio_put(r);

	/* Write-backs reach the file without asio_sync. */
	for (i = 0; i < 3; i++) {
		wbs[i] = tl_req(&q, ASIO_WRITE_BACK, fd, 4096);
		tl_fill(wbs[i]->buffer, 4096, 101, (uint64_t)i * 4096);
		asio_submit(wbs[i]);
	}
	end = tl_now() + 10;
	while (tl_size(fd) < 3 * 4096 && tl_now() < end)
		tl_sleep_ms(1);
	CHECK_EQ("file size 10 s after 3 write-backs, without asio_sync", 3 * 4096, tl_size(fd));
	tl_sleep_ms(20);
	CHECK_FROZEN(3u, 3u, 3u);
	for (i = 0; i < 3; i++)
		CHECK_EQ("submitted of a finished, not reaped write-back", 1, wbs[i]->submitted);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	{
		unsigned char data[3 * 4096];
		CHECK_EQ("pread", sizeof(data), tl_pread_all(fd, data, sizeof(data), 0));
		CHECK_FILL("file written by write-backs", data, sizeof(data), 101, 0);
	}

	asio_cleanup_queue(&q);
	close(p[0]);
	close(p[1]);
	close(fd);
	return 0;
}
