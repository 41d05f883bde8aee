/*
 * t_order: requests of one queue run and come back in submit order, whatever
 * descriptors they use.
 *
 *  - 12 requests interleaved over 3 descriptors (reads from file A, reads
 *    from a pipe with data available, writes to file B): asio_wait returns
 *    them in submit order, with the right statuses and data;
 *  - 2000 writes of 4 bytes (their index) in flight at once on one file
 *    land in the file in submit order and come back in that order;
 *  - execution is sequential too: a write queued behind a read that blocks
 *    (empty pipe) does not happen before that read completes, and both come
 *    back in order once the pipe gets data.
 */

#include "testlib.h"

#define N 12

int main(void)
{
	struct asio_queue q;
	struct asio_request *rs[N], *r;
	unsigned char buf[2000];
	int a = tl_tmpfile("a", O_RDWR), b = tl_tmpfile("b", O_RDWR), p[2];
	int i, na = 0, np = 0, nb = 0;

	tl_watchdog(20, "t_order");
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	tl_fill(buf, 1000, 31, 0);
	tl_write_all(a, buf, 1000);
	lseek(a, 0, SEEK_SET);
	tl_fill(buf, 200, 32, 0);
	tl_write_all(p[1], buf, 200);

	tl_init_queue(&q, 4096, 2);
	for (i = 0; i < N; i++) {
		switch (i % 3) {
		case 0:
			rs[i] = tl_req(&q, ASIO_READ, a, 100);
			break;
		case 1:
			rs[i] = tl_req(&q, ASIO_READ, p[0], 50);
			break;
		default:
			rs[i] = tl_req(&q, ASIO_WRITE, b, 100);
			tl_fill(rs[i]->buffer, 100, 33, 100 * (i / 3));
		}
		rs[i]->user_data = &rs[i];
		asio_submit(rs[i]);
		CHECK_EQ("running_requests", i + 1, q.running_requests);
	}
	for (i = 0; i < N; i++) {
		r = asio_wait(&q);
		CHECK(r == rs[i], "asio_wait #%d: expected request #%d, got request #%d", i, i,
		      r ? (int)((struct asio_request **)r->user_data - rs) : -1);
		CHECK_EQ("running_requests", N - i - 1, q.running_requests);
		switch (i % 3) {
		case 0:
			CHECK_DONE(r, 100, 0);
			CHECK_FILL("read from file a", r->buffer, 100, 31, 100 * na++);
			break;
		case 1:
			CHECK_DONE(r, 50, 0);
			CHECK_FILL("read from the pipe", r->buffer, 50, 32, 50 * np++);
			break;
		default:
			CHECK_DONE(r, 100, 0);
			nb++;
		}
	}
	CHECK_PTR("asio_wait after all", NULL, asio_wait(&q));
	CHECK_EQ("pread", 100 * nb, tl_pread_all(b, buf, sizeof(buf), 0));
	CHECK_FILL("file b", buf, 100 * nb, 33, 0);
	CHECK_EQ("position of a", 100 * na, tl_pos(a));
	for (i = 0; i < N; i++)
		asio_put(rs[i]);

	/* A blocked read holds back the write queued behind it. */
	rs[0] = tl_req(&q, ASIO_READ, p[0], 100);	/* the pipe is empty now */
	rs[1] = tl_req(&q, ASIO_WRITE, b, 10);
	memset(rs[1]->buffer, 'x', 10);
	asio_submit(rs[0]);
	asio_submit(rs[1]);
	tl_sleep_ms(150);
	CHECK_EQ("size of b while the write is queued behind a blocked read", 100 * nb, tl_size(b));
	CHECK_EQ("submitted", 1, rs[1]->submitted);
	tl_write_all(p[1], "hello", 5);
	r = asio_wait(&q);
	CHECK_PTR("first back", rs[0], r);
	CHECK_DONE(r, 5, 0);
	CHECK(!memcmp(r->buffer, "hello", 5), "pipe data differs");
	r = asio_wait(&q);
	CHECK_PTR("second back", rs[1], r);
	CHECK_DONE(r, 10, 0);
	CHECK_EQ("size of b", 100 * nb + 10, tl_size(b));
	asio_put(rs[0]);
	asio_put(rs[1]);

	/* 2000 writes in flight at once on one file: executed in submit order. */
	{
		enum { MANY = 2000 };
		struct asio_request **many = tl_malloc(MANY * sizeof(*many));
		uint32_t *words = tl_malloc(MANY * sizeof(*words));
		CHECK(ftruncate(b, 0) == 0, "ftruncate: %s", strerror(errno));
		lseek(b, 0, SEEK_SET);
		for (i = 0; i < MANY; i++) {
			uint32_t v = (uint32_t)i;
			many[i] = tl_req(&q, ASIO_WRITE, b, 4);
			memcpy(many[i]->buffer, &v, 4);
			asio_submit(many[i]);
		}
		CHECK_COUNTERS(&q, MANY, MANY, 0);
		for (i = 0; i < MANY; i++) {
			r = asio_wait(&q);
			CHECK(r == many[i], "asio_wait #%d of %d in flight: wrong request", i, MANY);
			CHECK_DONE(r, 4, 0);
			asio_put(r);
		}
		CHECK_EQ("pread", MANY * 4, tl_pread_all(b, words, MANY * 4, 0));
		for (i = 0; i < MANY; i++)
			CHECK(words[i] == (uint32_t)i, "write #%u landed at position %d: writes ran out of order", words[i], i);
		free(many);
		free(words);
	}

	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	close(a);
	close(b);
	close(p[0]);
	close(p[1]);
	return 0;
}
