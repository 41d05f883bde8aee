/*
 * t_fairness: a request blocked on one queue never stalls another queue.
 *
 *  1. queue A has an ASIO_READ blocked on an empty pipe (submitted, not
 *     waited for) and queue C an ASIO_WRITE blocked on a full pipe; queue B
 *     does 1000 reads/writes on a file, with data checked, and finishes
 *     within 10 s (it would hang forever if it stalled);
 *  2. the same while another thread sits in asio_wait(A);
 *  3. 64 queues each with a read blocked on its own pipe: B still works, and
 *     a write submitted on yet another queue reaches its pipe with no asio
 *     call (background progress); then each blocked read gets its byte;
 *  then the pipes are served and A's read returns the data written, C's write
 *  its full length.
 * On the synchronous path (UCW_ASIO_ENGINE=sync) a submit never blocks and a
 * request runs in the caller's thread when a call of its queue needs it, so
 * the same holds with one difference, checked there: nothing progresses
 * without a call (C's write and D's write reach their pipes only in
 * asio_wait).
 */

#include "testlib.h"

static struct asio_queue qa, qb, qc;

/* 500 writes and 500 reads of 512 bytes on fd through queue B. */
static void busy_b(int fd, uint64_t seed)
{
	struct asio_request *r;
	double start = tl_now();
	int i;

	lseek(fd, 0, SEEK_SET);
	for (i = 0; i < 500; i++) {
		r = tl_req(&qb, ASIO_WRITE, fd, 512);
		tl_fill(r->buffer, 512, seed, (uint64_t)i * 512);
		asio_submit(r);
		CHECK_PTR("asio_wait(B)", r, asio_wait(&qb));
		CHECK_DONE(r, 512, 0);
		asio_put(r);
	}
	lseek(fd, 0, SEEK_SET);
	for (i = 0; i < 500; i++) {
		r = tl_req(&qb, ASIO_READ, fd, 512);
		asio_submit(r);
		asio_sync(&qb);
		CHECK_PTR("asio_wait(B)", r, asio_wait(&qb));
		CHECK_DONE(r, 512, 0);
		CHECK_FILL("queue B data", r->buffer, 512, seed, (uint64_t)i * 512);
		asio_put(r);
		CHECK(tl_now() - start < 10, "queue B needed more than 10 s for %d requests: stalled by queue A or C?", 500 + i);
	}
	CHECK_COUNTERS(&qb, 0, 0, 0);
}

static void *wait_a(void *arg)
{
	struct asio_request **out = arg;
	*out = asio_wait(&qa);
	return NULL;
}

int main(void)
{
	struct asio_request *ra, *rc, *got = NULL;
	int pa[2], pc[2], fd = tl_tmpfile("b", O_RDWR), fill = 0, flags;
	char junk[65536];
	pthread_t t;

	tl_watchdog(25, "t_fairness (queue B stalled behind a blocked queue?)");
	CHECK(pipe(pa) == 0 && pipe(pc) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&qa, 4096, 2);
	tl_init_queue(&qb, 4096, 2);
	tl_init_queue(&qc, 4096, 2);

	/* Fill pipe C so that a write blocks. */
	flags = fcntl(pc[1], F_GETFL);
	fcntl(pc[1], F_SETFL, flags | O_NONBLOCK);
	memset(junk, 'j', sizeof(junk));
	for (;;) {
		ssize_t n = write(pc[1], junk, sizeof(junk));
		if (n < 0) {
			CHECK(errno == EAGAIN, "filling the pipe: %s", strerror(errno));
			break;
		}
		fill += (int)n;
	}
	fcntl(pc[1], F_SETFL, flags);

	/* 1: blocked requests submitted from this thread. */
	ra = tl_req(&qa, ASIO_READ, pa[0], 100);
	asio_submit(ra);
	rc = tl_req(&qc, ASIO_WRITE, pc[1], 4096);
	memset(rc->buffer, 'c', 4096);
	asio_submit(rc);
	tl_sleep_ms(50);		/* let both block */
	busy_b(fd, 71);
	CHECK_EQ("A's read still running", 1, ra->submitted);

	tl_write_all(pa[1], "first", 5);
	CHECK_PTR("asio_wait(A)", ra, asio_wait(&qa));
	CHECK_DONE(ra, 5, 0);
	CHECK(!memcmp(ra->buffer, "first", 5), "A's data differs");
	asio_put(ra);

	/* 2: another thread waits on A while B works. */
	ra = tl_req(&qa, ASIO_READ, pa[0], 100);
	asio_submit(ra);
	CHECK(!pthread_create(&t, NULL, wait_a, &got), "pthread_create failed");
	tl_sleep_ms(50);
	busy_b(fd, 72);
	tl_write_all(pa[1], "second", 6);
	pthread_join(t, NULL);
	CHECK_PTR("asio_wait(A) in the other thread", ra, got);
	CHECK_DONE(ra, 6, 0);
	CHECK(!memcmp(ra->buffer, "second", 6), "A's data differs");
	asio_put(ra);

	/* Drain pipe C: the blocked write completes with its full length. On
	 * the synchronous path it has not run yet: it runs in asio_wait(C),
	 * once the pipe has room. */
	if (tl_sync_route()) {
		int left = fill;
		while (left > 0) {
			ssize_t n = read(pc[0], junk, (size_t)left < sizeof(junk) ? (size_t)left : sizeof(junk));
			CHECK(n > 0, "draining the pipe: %s", n < 0 ? strerror(errno) : "EOF");
			left -= (int)n;
		}
		CHECK_PTR("asio_wait(C)", rc, asio_wait(&qc));
		CHECK_DONE(rc, 4096, 0);
		CHECK_EQ("bytes of C's write", 4096, read(pc[0], junk, sizeof(junk)));
		asio_put(rc);
	} else {
		int left = fill + 4096;
		while (left > 0) {
			ssize_t n = read(pc[0], junk, sizeof(junk));
			CHECK(n > 0, "draining the pipe: %s", n < 0 ? strerror(errno) : "EOF");
			left -= (int)n;
		}
		CHECK_EQ("bytes drained from pipe C", 0, left);
		CHECK_PTR("asio_wait(C)", rc, asio_wait(&qc));
		CHECK_DONE(rc, 4096, 0);
		asio_put(rc);
	}

	/* 3: 64 queues blocked at once; B still works, and D's write progresses
	 * in the background (reaches its pipe with no asio call). */
	{
		enum { NQ = 64 };
		static struct asio_queue qs[NQ], qd;
		static int ps[NQ][2];
		struct asio_request *rs[NQ], *rd;
		int pd[2], j;
		struct pollfd pf;
		char c;

		for (j = 0; j < NQ; j++) {
			CHECK(pipe(ps[j]) == 0, "pipe: %s", strerror(errno));
			tl_init_queue(&qs[j], 4096, 1);
			rs[j] = tl_req(&qs[j], ASIO_READ, ps[j][0], 10);
			asio_submit(rs[j]);
		}
		tl_sleep_ms(50);
		busy_b(fd, 73);
		CHECK(pipe(pd) == 0, "pipe: %s", strerror(errno));
		tl_init_queue(&qd, 4096, 1);
		rd = tl_req(&qd, ASIO_WRITE, pd[1], 1);
		rd->buffer[0] = 'd';
		asio_submit(rd);
		pf.fd = pd[0];
		pf.events = POLLIN;
		if (tl_sync_route()) {
			CHECK(poll(&pf, 1, 0) == 0, "synchronous path: D's write reached its pipe without a call");
			CHECK_PTR("asio_wait(D)", rd, asio_wait(&qd));
			CHECK_DONE(rd, 1, 0);
			CHECK(read(pd[0], &c, 1) == 1 && c == 'd', "pipe D data differs");
		} else {
			CHECK(poll(&pf, 1, 10000) == 1, "with %d queues blocked, a write on another queue did not progress within 10 s", NQ);
			CHECK(read(pd[0], &c, 1) == 1 && c == 'd', "pipe D data differs");
			CHECK_PTR("asio_wait(D)", rd, asio_wait(&qd));
			CHECK_DONE(rd, 1, 0);
		}
		asio_put(rd);
		asio_cleanup_queue(&qd);
		for (j = 0; j < NQ; j++) {
			unsigned char v = (unsigned char)j;
			tl_write_all(ps[j][1], &v, 1);
		}
		for (j = NQ - 1; j >= 0; j--) {
			CHECK_PTR("asio_wait on one of the blocked queues", rs[j], asio_wait(&qs[j]));
			CHECK_DONE(rs[j], 1, 0);
			CHECK_EQ("byte read by a blocked queue", j, rs[j]->buffer[0]);
			asio_put(rs[j]);
			asio_cleanup_queue(&qs[j]);
			close(ps[j][0]);
			close(ps[j][1]);
		}
		close(pd[0]);
		close(pd[1]);
	}

	CHECK_COUNTERS(&qa, 0, 0, 0);
	CHECK_COUNTERS(&qc, 0, 0, 0);
	asio_cleanup_queue(&qa);
	asio_cleanup_queue(&qb);
	asio_cleanup_queue(&qc);
	return 0;
}
