/*
 * t_fork_contract: in a child forked WITHOUT exec from a process that has
 * loaded the engine (served by the library's synchronous C implementation),
 * the contract of <ucw/asio.h> holds as in the engine. Each scenario runs in
 * its own forked child, within 10 s:
 *  - fields: what asio_get sets and keeps (user_data), page-aligned buffers,
 *    recycling, use_count on a garbage struct; a buffer pointed at the
 *    caller's memory is served from there and asio_get restores the own one;
 *    len larger than the buffer: status -1, EINVAL;
 *  - rw: ASIO_WRITE and ASIO_READ in submit order at the current file
 *    position, end of file (0), EBADF; asio_wait returns one request per
 *    call (running_requests drops by one), asio_sync leaves finished reads
 *    for asio_wait, asio_wait returns NULL when nothing is left;
 *  - writebacks: after the n-th write-back submit running_writebacks ==
 *    running_requests == allocated_requests == min(n, 2), at most 3 distinct
 *    requests, asio_wait with only write-backs in flight reaps them and
 *    returns NULL, a READ submitted before write-backs over the limit is
 *    still returned afterwards, max_writebacks is read at every submit;
 *  - pipe_self: a submit never waits for I/O: the child submits reads from an
 *    empty pipe, then writes into the pipe itself, then collects the data;
 *  - eintr: SIGALRM every 1 ms (a handler without SA_RESTART) while reads
 *    wait for a slow writer: no request fails, all data is right;
 *  - epipe: ASIO_WRITE to a pipe without reader: status -1, EPIPE, alive;
 *  - a failed write-back (O_RDONLY descriptor) ends the child where it is
 *    reaped (asio_sync, asio_wait, a submit at the limit), after the submit
 *    returned: "Asynchronous write to fd 100 failed: Bad file descriptor",
 *    exit status 1 (SIGABRT with UCW_DIE_BY_ABORT=1); a short one (RLIMIT_FSIZE
 *    1000): "... wrote only 1000 bytes out of 4096".
 */

#include "forklib.h"
#include <sys/time.h>

#define BS 4096
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static int fields(void *arg)
{
	struct asio_queue q;
	struct asio_request *r, *r2;
	static unsigned char mine[BS];
	int fd = open("/dev/zero", O_RDONLY);
	(void)arg;
	tl_init_queue(&q, 3 * BS + 100, 1);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_EQ("use_count after asio_init_queue on garbage", 0, q.use_count);
	r = asio_get(&q);
	CHECK(r != NULL, "asio_get returned NULL");
	CHECK_EQ("op", ASIO_FREE, r->op);
	CHECK_EQ("fd", -1, r->fd);
	CHECK_EQ("len", 0, r->len);
	CHECK_EQ("status", -1, r->status);
	CHECK_EQ("returned_errno", -1, r->returned_errno);
	CHECK_EQ("submitted", 0, r->submitted);
	CHECK_PTR("queue", &q, r->queue);
	CHECK_PTR("user_data of a new request", NULL, r->user_data);
	CHECK(((uintptr_t)r->buffer & 4095) == 0, "buffer %p is not page-aligned", (void *)r->buffer);
	memset(r->buffer, 0x5A, 3 * BS + 100);		/* the whole buffer is writable */
	CHECK_COUNTERS(&q, 1, 0, 0);
	r->user_data = &q;
	r->op = ASIO_READ;
	r->fd = fd;
	r->len = 7;
	asio_put(r);
	CHECK_COUNTERS(&q, 0, 0, 0);
	r2 = asio_get(&q);
	CHECK_PTR("asio_get recycles the request", r, r2);
	CHECK_PTR("user_data kept", &q, r2->user_data);
	CHECK(r2->op == ASIO_FREE && r2->fd == -1 && r2->len == 0 && r2->status == -1,
	      "a recycled request is not reset: op %d fd %d len %u status %d", r2->op, r2->fd, r2->len, r2->status);

	/* The caller's buffer. */
	memset(mine, 0x77, sizeof(mine));
	r2->buffer = mine;
	r2->op = ASIO_READ;
	r2->fd = fd;
	r2->len = BS;
	asio_submit(r2);
	CHECK_PTR("asio_wait", r2, asio_wait(&q));
	CHECK_DONE(r2, BS, 0);
	CHECK(mine[0] == 0 && mine[BS - 1] == 0, "the read did not land in the caller's buffer");
	asio_put(r2);
	r = asio_get(&q);
	CHECK(r->buffer != mine && ((uintptr_t)r->buffer & 4095) == 0, "asio_get did not restore the request's own buffer");

	/* len larger than the request's own buffer. */
	r->op = ASIO_READ;
	r->fd = fd;
	r->len = 3 * BS + 101;
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, -1, EINVAL);
	asio_put(r);
	asio_cleanup_queue(&q);
	close(fd);
	return 0;
}

static int rw(void *arg)
{
	struct asio_queue q;
	struct asio_request *w[3], *r[4], *got;
	int fd = tl_tmpfile("rw", O_RDWR), i;
	(void)arg;
	tl_init_queue(&q, BS, 2);
	for (i = 0; i < 3; i++) {
		w[i] = tl_req(&q, ASIO_WRITE, fd, BS);
		tl_fill(w[i]->buffer, BS, 11, (uint64_t)i * BS);
		asio_submit(w[i]);
		CHECK_EQ("submitted", 1, w[i]->submitted);
		CHECK_COUNTERS(&q, i + 1, i + 1, 0);
	}
	for (i = 0; i < 3; i++) {
		got = asio_wait(&q);
		CHECK_PTR("asio_wait returns the writes in submit order", w[i], got);
		CHECK_DONE(got, BS, 0);
		CHECK_EQ("running_requests drops by one per asio_wait", 2 - i, q.running_requests);
		asio_put(got);
	}
	CHECK_EQ("position after the writes", 3 * BS, tl_pos(fd));
	CHECK_PTR("asio_wait with nothing running", NULL, asio_wait(&q));

	lseek(fd, BS, SEEK_SET);
	for (i = 0; i < 3; i++) {
		r[i] = tl_req(&q, ASIO_READ, fd, BS);
		asio_submit(r[i]);
	}
	r[3] = tl_req(&q, ASIO_READ, 1000, BS);		/* not a descriptor */
	asio_submit(r[3]);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 4, 0, 0);
	for (i = 0; i < 4; i++) {
		got = asio_wait(&q);
		CHECK_PTR("asio_wait after asio_sync returns the reads in order", r[i], got);
	}
	CHECK_DONE(r[0], BS, 0);
	CHECK_FILL("second block", r[0]->buffer, BS, 11, BS);
	CHECK_DONE(r[1], BS, 0);
	CHECK_FILL("third block", r[1]->buffer, BS, 11, 2 * BS);
	CHECK_DONE(r[2], 0, 0);
	CHECK_DONE(r[3], -1, EBADF);
	for (i = 0; i < 4; i++)
		asio_put(r[i]);
	CHECK_PTR("asio_wait at the end", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	close(fd);
	return 0;
}

static struct asio_request *wb(struct asio_queue *q, int fd, uint64_t seed, uint64_t off)
{
	struct asio_request *r = tl_req(q, ASIO_WRITE_BACK, fd, BS);
	tl_fill(r->buffer, BS, seed, off);
	asio_submit(r);
	return r;
}

static void check_file(int fd, size_t size, uint64_t seed)
{
	unsigned char *buf = tl_malloc(size + 1);
	CHECK_EQ("file size", size, tl_size(fd));
	CHECK_EQ("pread", size, tl_pread_all(fd, buf, size + 1, 0));
	CHECK_FILL("file contents", buf, size, seed, 0);
	free(buf);
}

static int writebacks(void *arg)
{
	struct asio_queue q;
	struct asio_request *r, *seen[10], *rd;
	int fd = tl_tmpfile("wb", O_RDWR), fd2 = tl_tmpfile("wb2", O_RDWR), nseen = 0, n, i;
	(void)arg;
	tl_init_queue(&q, BS, 2);
	for (n = 1; n <= 10; n++) {
		r = wb(&q, fd, 21, (uint64_t)(n - 1) * BS);
		for (i = 0; i < nseen && seen[i] != r; i++)
			;
		if (i == nseen)
			seen[nseen++] = r;
		CHECK_COUNTERS(&q, MIN(n, 2), MIN(n, 2), MIN(n, 2));
	}
	CHECK(nseen <= 3, "10 write-backs with max_writebacks 2 used %d distinct requests", nseen);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd, 10 * BS, 21);

	wb(&q, fd, 21, 10 * BS);
	wb(&q, fd, 21, 11 * BS);
	CHECK_COUNTERS(&q, 2, 2, 2);
	CHECK_PTR("asio_wait with only write-backs in flight", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd, 12 * BS, 21);

	/* A READ before write-backs beyond the limit. */
	lseek(fd, 0, SEEK_SET);
	rd = tl_req(&q, ASIO_READ, fd, BS);
	asio_submit(rd);
	for (n = 1; n <= 5; n++) {
		wb(&q, fd2, 22, (uint64_t)(n - 1) * BS);
		CHECK_EQ("running_writebacks behind a READ", MIN(n, 2), q.running_writebacks);
	}
	r = asio_wait(&q);
	CHECK_PTR("the READ after the write-backs", rd, r);
	CHECK_DONE(r, BS, 0);
	CHECK_FILL("the READ", r->buffer, BS, 21, 0);
	asio_put(r);
	CHECK_PTR("asio_wait with only write-backs left", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd2, 5 * BS, 22);

	/* max_writebacks is read at every submit. */
	wb(&q, fd2, 22, 5 * BS);
	wb(&q, fd2, 22, 6 * BS);
	q.max_writebacks = 1;
	wb(&q, fd2, 22, 7 * BS);
	CHECK_COUNTERS(&q, 1, 1, 1);
	q.max_writebacks = 4;
	for (n = 2; n <= 4; n++) {
		wb(&q, fd2, 22, (uint64_t)(6 + n) * BS);
		CHECK_COUNTERS(&q, n, n, n);
	}
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd2, 11 * BS, 22);
	asio_cleanup_queue(&q);
	close(fd);
	close(fd2);
	return 0;
}

static int pipe_self(void *arg)
{
	struct asio_queue q;
	struct asio_request *a, *b;
	int p[2];
	(void)arg;
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&q, BS, 1);
	a = tl_req(&q, ASIO_READ, p[0], 5);
	asio_submit(a);
	b = tl_req(&q, ASIO_READ, p[0], 100);
	asio_submit(b);
	CHECK_COUNTERS(&q, 2, 2, 0);
	tl_write_all(p[1], "hello world", 11);	/* nobody has read the pipe yet */
	CHECK_PTR("first read", a, asio_wait(&q));
	CHECK_DONE(a, 5, 0);
	CHECK(!memcmp(a->buffer, "hello", 5), "first read: wrong data");
	CHECK_PTR("second read", b, asio_wait(&q));
	CHECK_DONE(b, 6, 0);
	CHECK(!memcmp(b->buffer, " world", 6), "second read: wrong data");
	asio_put(a);
	asio_put(b);
	asio_cleanup_queue(&q);
	return 0;
}

#define SLOW_TOTAL (32 << 10)
#define PIECE 100
static long handled;

static void on_alarm(int sig)
{
	(void)sig;
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
}

static void *slow_writer(void *arg)
{
	int fd = (int)(intptr_t)arg, off;
	unsigned char piece[PIECE];
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (off = 0; off < SLOW_TOTAL; off += PIECE) {
		int n = SLOW_TOTAL - off < PIECE ? SLOW_TOTAL - off : PIECE;
		tl_fill(piece, (size_t)n, 31, (uint64_t)off);
		tl_write_all(fd, piece, (size_t)n);
		if (off % (20 * PIECE) == 0)
			tl_sleep_ms(2);
	}
	close(fd);
	return NULL;
}

static int eintr(void *arg)
{
	struct asio_queue q;
	struct asio_request *r;
	struct sigaction sa;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	unsigned char *data = tl_malloc(SLOW_TOTAL);
	pthread_t t;
	int p[2], got = 0;
	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;		/* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	CHECK(pthread_create(&t, NULL, slow_writer, (void *)(intptr_t)p[1]) == 0, "pthread_create failed");
	setitimer(ITIMER_REAL, &it, NULL);
	tl_init_queue(&q, BS, 1);
	for (;;) {
		r = tl_req(&q, ASIO_READ, p[0], 1000);
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(&q));
		CHECK(r->status >= 0, "a read from the pipe failed: status %d, errno %d (%s)", r->status,
		      r->returned_errno, strerror(r->returned_errno));
		CHECK(got + r->status <= SLOW_TOTAL, "more data than written");
		memcpy(data + got, r->buffer, (size_t)r->status);
		got += r->status;
		asio_put(r);
		if (!r->status)
			break;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_join(t, NULL);
	CHECK_EQ("bytes through the pipe", SLOW_TOTAL, got);
	CHECK_FILL("data through the pipe", data, SLOW_TOTAL, 31, 0);
	CHECK(__atomic_load_n(&handled, __ATOMIC_RELAXED) > 0, "the SIGALRM handler never ran");
	asio_cleanup_queue(&q);
	free(data);
	return 0;
}

static int epipe(void *arg)
{
	struct asio_queue q;
	struct asio_request *r;
	sigset_t pending;
	int p[2];
	(void)arg;
	signal(SIGPIPE, SIG_DFL);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	close(p[0]);
	tl_init_queue(&q, BS, 1);
	r = tl_req(&q, ASIO_WRITE, p[1], 10);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, -1, EPIPE);
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGPIPE), "SIGPIPE left pending");
	asio_put(r);
	asio_cleanup_queue(&q);
	return 0;
}

/* Write-backs that fail: `arg` names where the failure is reaped. */
static int wb_fail(void *arg)
{
	const char *how = (const char *)arg;
	struct asio_queue q;
	struct asio_request *r;
	int fd;
	tl_no_core();
	tl_init_queue(&q, BS, 2);
	if (!strcmp(how, "short")) {
		struct rlimit rl = { 1000, 1000 };
		fd = tl_tmpfile("short", O_RDWR);
		CHECK(dup2(fd, 101) == 101, "dup2: %s", strerror(errno));
		signal(SIGXFSZ, SIG_IGN);
		CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit: %s", strerror(errno));
		fd = 101;
	} else {
		fd = open("/dev/null", O_RDONLY);
		CHECK(fd >= 0 && dup2(fd, 100) == 100, "open/dup2: %s", strerror(errno));
		fd = 100;
	}
	r = tl_req(&q, ASIO_WRITE_BACK, fd, BS);
	memset(r->buffer, 'w', BS);
	asio_submit(r);
	fprintf(stderr, "submitted\n");
	if (!strcmp(how, "wait")) {
		asio_wait(&q);
	} else if (!strcmp(how, "submit")) {
		q.max_writebacks = 1;
		r = tl_req(&q, ASIO_WRITE_BACK, open("/dev/null", O_WRONLY), BS);
		asio_submit(r);
	} else {
		asio_sync(&q);
	}
	fprintf(stderr, "survived\n");
	return 0;
}

struct scenario {
	const char *name;
	int (*fn)(void *);
	const char *arg;
	int die_by_abort;
	const char *err;	/* the exact stderr expected, or NULL: exit 0 */
};

static const struct scenario scenarios[] = {
	{ "fields", fields, NULL, 0, NULL },
	{ "rw", rw, NULL, 0, NULL },
	{ "writebacks", writebacks, NULL, 0, NULL },
	{ "pipe_self", pipe_self, NULL, 0, NULL },
	{ "eintr", eintr, NULL, 0, NULL },
	{ "epipe", epipe, NULL, 0, NULL },
	{ "failed write-back, reaped by asio_sync", wb_fail, "sync", 0,
	  "submitted\nAsynchronous write to fd 100 failed: Bad file descriptor\n" },
	{ "failed write-back, reaped by asio_wait", wb_fail, "wait", 0,
	  "submitted\nAsynchronous write to fd 100 failed: Bad file descriptor\n" },
	{ "failed write-back, reaped by a submit at the limit", wb_fail, "submit", 0,
	  "submitted\nAsynchronous write to fd 100 failed: Bad file descriptor\n" },
	{ "failed write-back, UCW_DIE_BY_ABORT", wb_fail, "sync", 1,
	  "submitted\nAsynchronous write to fd 100 failed: Bad file descriptor\n" },
	{ "short write-back", wb_fail, "short", 0,
	  "submitted\nAsynchronous write to fd 101 wrote only 1000 bytes out of 4096\n" },
};

int main(void)
{
	struct tl_child c;
	unsigned i, failed = 0;

	tl_watchdog(100, "t_fork_contract");
	tf_load_engine();		/* so that the children take the synchronous path */
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		const char *why = NULL;
		tf_fork(s->fn, (void *)s->arg, s->die_by_abort, 10000, &c);
		if (!s->err) {
			if (!c.exited || c.code)
				why = tl_child_how(&c);
		} else if (s->die_by_abort && !(c.signaled && c.sig == SIGABRT)) {
			why = "expected death by SIGABRT";
		} else if (!s->die_by_abort && !(c.exited && c.code == 1)) {
			why = "expected exit status 1";
		} else if (strcmp(c.err, s->err)) {
			why = "unexpected stderr";
		}
		if (why) {
			printf("FAIL %s: %s (the child %s)\n  stderr: %s\n", s->name, why, tl_child_how(&c),
			       c.errlen ? c.err : "(empty)");
			failed++;
		}
	}
	if (failed) {
		printf("%u of %u scenarios failed\n", failed, (unsigned)(sizeof(scenarios) / sizeof(scenarios[0])));
		return 1;
	}
	return 0;
}
