/*
 * t_fault_fds: descriptors closed or reused while requests wait in the queue.
 *
 * A read from an empty pipe heads the queue, so the requests behind it wait.
 * Meanwhile the test
 *  - closes the descriptor of a waiting ASIO_READ and of a waiting ASIO_WRITE:
 *    both end with status -1, EBADF;
 *  - closes the descriptor of a waiting ASIO_WRITE and opens a read-only file
 *    that gets the same number: -1 EBADF (the request acts on whatever the
 *    number names when it runs, as read(2)/write(2) would);
 *  - reuses the number of a waiting ASIO_WRITE for another writable file:
 *    the data lands there, and not in the file closed;
 * then feeds the pipe. Every request comes back in order, the queue goes on
 * working, the counters are right.
 *
 * A read blocked in read(2) whose descriptor is closed by another thread
 * comes back with the data written into the pipe afterwards (Linux keeps
 * the open file until the call returns) or with EBADF; either way nothing
 * crashes and the queue works on.
 *
 * In a child: a write-back whose descriptor is closed before it runs ends
 * the process with "Asynchronous write to fd N failed: Bad file descriptor".
 */

#include "testlib.h"

#define BS 4096

static struct asio_queue q;

/* Move fd to number n. */
static int high(int fd, int n)
{
	CHECK(dup2(fd, n) == n, "dup2: %s", strerror(errno));
	close(fd);
	return n;
}

static struct asio_request *submit(enum asio_op op, int fd, uint len, uint64_t seed)
{
	struct asio_request *r = tl_req(&q, op, fd, len);
	tl_fill(r->buffer, len, seed, 0);
	asio_submit(r);
	return r;
}

static void waiting(void)
{
	int p[2], a, b, c, d, ro, other, i;
	struct asio_request *head, *ra, *wb, *wc, *wd, *after;
	unsigned char buf[BS];

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	/* High numbers, which no open() in between takes (the lowest free
	 * number is taken), so that a closed one stays closed. */
	a = high(tl_tmpfile("a", O_RDWR), 201);
	tl_fill(buf, BS, 31, 0);
	tl_write_all(a, buf, BS);
	CHECK(lseek(a, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	b = high(tl_tmpfile("b", O_RDWR), 202);
	c = high(tl_tmpfile("c", O_RDWR), 203);
	d = high(tl_tmpfile("d", O_RDWR), 204);

	head = submit(ASIO_READ, p[0], 16, 0);
	ra = submit(ASIO_READ, a, BS, 0);
	wb = submit(ASIO_WRITE, b, BS, 32);
	wc = submit(ASIO_WRITE, c, BS, 33);
	wd = submit(ASIO_WRITE, d, BS, 34);
	CHECK_COUNTERS(&q, 5, 5, 0);

	close(a);
	close(b);
	close(c);
	close(d);
	/* c's number: a read-only file; d's number: another writable file. */
	ro = tl_tmpfile("ro", O_RDWR);
	close(ro);
	ro = tl_tmpopen("ro", O_RDONLY);
	CHECK(ro >= 0, "open: %s", strerror(errno));
	CHECK(high(ro, c) == c, "dup2");
	other = tl_tmpfile("other", O_RDWR);
	CHECK(high(other, d) == d, "dup2");
	CHECK(fcntl(a, F_GETFD) < 0 && fcntl(b, F_GETFD) < 0, "a closed descriptor number was taken again");

	tl_write_all(p[1], "0123456789abcdef", 16);
	CHECK_PTR("asio_wait", head, asio_wait(&q));
	CHECK_DONE(head, 16, 0);
	CHECK_PTR("asio_wait", ra, asio_wait(&q));
	CHECK_DONE(ra, -1, EBADF);
	CHECK_PTR("asio_wait", wb, asio_wait(&q));
	CHECK_DONE(wb, -1, EBADF);
	CHECK_PTR("asio_wait", wc, asio_wait(&q));
	CHECK_DONE(wc, -1, EBADF);
	CHECK_PTR("asio_wait", wd, asio_wait(&q));
	CHECK_DONE(wd, BS, 0);
	CHECK_COUNTERS(&q, 5, 0, 0);
	asio_put(head);
	asio_put(ra);
	asio_put(wb);
	asio_put(wc);
	asio_put(wd);

	/* Where the data went: the reused number's new file, nothing else. */
	CHECK_EQ("size of the file reusing d's number", BS, tl_size(d));
	CHECK_EQ("bytes in it", BS, tl_pread_all(d, buf, BS, 0));
	CHECK_FILL("data written through the reused number", buf, BS, 34, 0);
	for (i = 0; i < 3; i++) {
		static const char *names[] = { "b", "c", "d" };
		int fd = tl_tmpopen(names[i], O_RDONLY);
		CHECK(fd >= 0, "open: %s", strerror(errno));
		CHECK_EQ("size of a file whose descriptor was closed before the write ran", 0, tl_size(fd));
		close(fd);
	}

	/* The queue works on. */
	after = submit(ASIO_WRITE, d, BS, 35);
	CHECK_PTR("asio_wait", after, asio_wait(&q));
	CHECK_DONE(after, BS, 0);
	asio_put(after);
	CHECK_COUNTERS(&q, 0, 0, 0);
	close(c);
	close(d);
	close(p[0]);
	close(p[1]);
}

struct closer {
	int fd, wfd;
};

static void *close_then_feed(void *arg)
{
	struct closer *c = arg;
	tl_sleep_ms(100);	/* the read has most likely started */
	close(c->fd);
	tl_sleep_ms(50);
	tl_write_all(c->wfd, "late", 4);
	return NULL;
}

static void executing(void)
{
	int p[2];
	pthread_t th;
	struct closer c;
	struct asio_request *r;

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	p[0] = high(p[0], 205);	/* closed below: no open() may take the number meanwhile */
	c.fd = p[0];
	c.wfd = p[1];
	r = submit(ASIO_READ, p[0], 16, 0);
	CHECK(!pthread_create(&th, NULL, close_then_feed, &c), "pthread_create failed");
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	pthread_join(th, NULL);
	CHECK((r->status == 4 && r->returned_errno == 0 && !memcmp(r->buffer, "late", 4)) ||
		      (r->status == -1 && r->returned_errno == EBADF),
	      "a read whose descriptor was closed while it ran: status %d errno %d (%s); want 4 with the data, or -1 EBADF",
	      r->status, r->returned_errno, strerror(r->returned_errno));
	printf("a read whose descriptor was closed while it ran: %s\n",
	       r->status == 4 ? "got the data written afterwards" : "EBADF");
	asio_put(r);
	close(p[1]);
	CHECK_COUNTERS(&q, 0, 0, 0);
}

static int child(void)
{
	int p[2], fd;
	struct asio_request *head;
	tl_no_core();
	tl_init_queue(&q, BS, 2);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	fd = tl_tmpfile("wb", O_RDWR);
	CHECK(dup2(fd, 100) == 100, "dup2: %s", strerror(errno));
	close(fd);
	head = submit(ASIO_READ, p[0], 1, 0);
	submit(ASIO_WRITE_BACK, 100, BS, 36);
	close(100);
	tl_write_all(p[1], "x", 1);
	CHECK_PTR("asio_wait", head, asio_wait(&q));
	asio_sync(&q);
	fprintf(stderr, "survived\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct tl_child c;

	if (argc > 1 && !strcmp(argv[1], "wb"))
		return child();
	tl_watchdog(60, "t_fault_fds");
	tl_init_queue(&q, BS, 2);
	waiting();
	executing();
	asio_cleanup_queue(&q);

	tl_run_child("wb", NULL, 10000, &c);
	CHECK(c.exited && c.code == 1 && strstr(c.err, "Asynchronous write to fd 100 failed: Bad file descriptor") &&
		      !strstr(c.err, "survived"),
	      "a write-back whose descriptor was closed before it ran: expected exit status 1 and \"Asynchronous write to fd 100 failed: Bad file descriptor\"; the child %s; stderr: %s",
	      tl_child_how(&c), c.err);
	return 0;
}
