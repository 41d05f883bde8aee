/*
 * t_fault_short: short reads and writes.
 *
 *  - end of file in the middle of a request: reads of 4096 from a file of
 *    10000 bytes give 4096, 4096, 1808, 0, 0 with the right data, 3 in
 *    flight at once; the same with O_DIRECT where the filesystem allows it;
 *  - a pipe whose writer delivers 64 KiB in pieces of 1 to 7 bytes, read
 *    with 3 ASIO_READs of 4096 in flight: every status >= 1, the stream
 *    arrives complete and in order, the last read after the writer closed
 *    gives 0;
 *  - one ASIO_WRITE of 1 MiB to a pipe whose reader takes it in pieces of
 *    1 to 7 bytes: status 1 MiB, every byte arrives;
 *  - a reader that closes its end after 100000 bytes of a 1 MiB ASIO_WRITE
 *    (SIGPIPE ignored): the write reports what went into the pipe (at least
 *    100000 bytes, at most that plus the pipe's capacity), errno 0; the next
 *    write reports -1 EPIPE; the queue goes on working;
 *  - the same with SIGPIPE at its default action when the program starts,
 *    in a child: the process lives, the write reports -1 EPIPE;
 *  - a write-back to a pipe without reader, in a child: exit status 1 with
 *    "Asynchronous write to fd N failed: Broken pipe".
 */

#include "testlib.h"

#define STREAM (64 << 10)
#define BIG (1 << 20)

static struct asio_queue q;

static void eof(int flags, const char *what)
{
	unsigned char data[10000];
	static const int want[] = { 4096, 4096, 1808, 0, 0 };
	struct asio_request *rs[5];
	int fd, i;
	uint len = 4096;

	fd = tl_tmpfile("eof", O_RDWR);
	tl_fill(data, sizeof(data), 21, 0);
	tl_write_all(fd, data, sizeof(data));
	close(fd);
	fd = tl_tmpopen("eof", O_RDONLY | flags);
	if (fd < 0 && (flags & O_DIRECT)) {
		printf("O_DIRECT is not supported here: %s skipped\n", what);
		return;
	}
	CHECK(fd >= 0, "open: %s", strerror(errno));
	/* 3 in flight: submit 0 1 2, then collect one and submit the next. */
	for (i = 0; i < 5 + 3; i++) {
		if (i >= 3) {
			struct asio_request *r = asio_wait(&q);
			int k = i - 3;
			CHECK_PTR("asio_wait (submit order)", rs[k], r);
			CHECK_DONE(r, want[k], 0);
			CHECK_FILL(what, r->buffer, (size_t)want[k], 21, (uint64_t)k * len);
			asio_put(r);
		}
		if (i < 5) {
			rs[i] = tl_req(&q, ASIO_READ, fd, len);
			memset(rs[i]->buffer, 0xEE, len);
			asio_submit(rs[i]);
		}
	}
	CHECK_EQ("file position at the end", 10000, tl_pos(fd));
	CHECK_COUNTERS(&q, 0, 0, 0);
	close(fd);
}

struct trickle {
	int fd;
	size_t total;
	uint64_t seed;
	size_t got;	/* reader: bytes read before closing (0: all) */
	size_t done;
};

static void pause_a_little(unsigned i)
{
	struct timespec ts = { 0, (long)(i % 5) * 20000 };
	if (ts.tv_nsec)
		nanosleep(&ts, NULL);
}

/* Writes the stream in pieces of 1..7 bytes, then closes. */
static void *trickle_writer(void *arg)
{
	struct trickle *t = arg;
	unsigned char piece[8];
	unsigned i = 0;
	while (t->done < t->total) {
		size_t n = 1 + i % 7;
		if (n > t->total - t->done)
			n = t->total - t->done;
		tl_fill(piece, n, t->seed, t->done);
		tl_write_all(t->fd, piece, n);
		t->done += n;
		if (++i % 64 == 0)
			pause_a_little(i / 64);
	}
	close(t->fd);
	return NULL;
}

/* Reads in pieces of 1..7 bytes, checking them; stops (and closes) after
 * t->got bytes if that is set. */
static void *trickle_reader(void *arg)
{
	struct trickle *t = arg;
	unsigned char piece[8];
	unsigned i = 0;
	size_t stop = t->got ? t->got : t->total;
	while (t->done < stop) {
		size_t n = 1 + i % 7;
		ssize_t got;
		if (n > stop - t->done)
			n = stop - t->done;
		got = read(t->fd, piece, n);
		if (got < 0 && errno == EINTR)
			continue;
		CHECK(got > 0, "reader thread: read: %zd (%s)", got, got < 0 ? strerror(errno) : "end of file");
		CHECK_FILL("the bytes the reader thread got", piece, (size_t)got, t->seed, t->done);
		t->done += (size_t)got;
		if (++i % 256 == 0)
			pause_a_little(i / 256);
	}
	close(t->fd);
	return NULL;
}

static void pipe_in_pieces(void)
{
	int p[2], n = 0;
	pthread_t th;
	struct trickle t;
	struct asio_request *rs[3];
	size_t got = 0;
	int head = 0, i;

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	t.fd = p[1];
	t.total = STREAM;
	t.seed = 22;
	t.done = 0;
	t.got = 0;
	CHECK(!pthread_create(&th, NULL, trickle_writer, &t), "pthread_create failed");
	for (i = 0; i < 3; i++) {
		rs[i] = tl_req(&q, ASIO_READ, p[0], 4096);
		asio_submit(rs[i]);
	}
	for (;;) {
		struct asio_request *r = asio_wait(&q);
		CHECK_PTR("asio_wait (submit order)", rs[head], r);
		CHECK(r->status >= 0 && r->returned_errno == 0, "pipe read after %zu bytes: status %d errno %d (%s)", got,
		      r->status, r->returned_errno, strerror(r->returned_errno));
		if (r->status == 0) {
			CHECK_EQ("bytes through the pipe when it reported the end", STREAM, got);
			asio_put(r);
			break;
		}
		CHECK_FILL("pipe data delivered in pieces", r->buffer, (size_t)r->status, 22, got);
		got += (size_t)r->status;
		n++;
		asio_submit(r);		/* again, at the back */
		head = (head + 1) % 3;
	}
	pthread_join(th, NULL);
	/* The two others got 0 too. */
	for (i = 0; i < 2; i++) {
		struct asio_request *r = asio_wait(&q);
		CHECK_DONE(r, 0, 0);
		asio_put(r);
	}
	CHECK_COUNTERS(&q, 0, 0, 0);
	close(p[0]);
	printf("a 64 KiB stream in pieces of 1-7 bytes took %d reads\n", n);
}

static void write_to_slow_reader(void)
{
	int p[2];
	pthread_t th;
	struct trickle t;
	struct asio_request *r;

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	t.fd = p[0];
	t.total = BIG;
	t.seed = 23;
	t.done = 0;
	t.got = 0;
	CHECK(!pthread_create(&th, NULL, trickle_reader, &t), "pthread_create failed");
	r = tl_req(&q, ASIO_WRITE, p[1], BIG);
	tl_fill(r->buffer, BIG, 23, 0);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, BIG, 0);
	asio_put(r);
	pthread_join(th, NULL);
	CHECK_EQ("bytes the reader got", BIG, t.done);
	close(p[1]);
}

static void reader_closes(void)
{
	int p[2], size;
	pthread_t th;
	struct trickle t;
	struct asio_request *r;

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	size = fcntl(p[1], F_GETPIPE_SZ);
	CHECK(size > 0, "F_GETPIPE_SZ: %s", strerror(errno));
	t.fd = p[0];
	t.total = BIG;
	t.seed = 24;
	t.done = 0;
	t.got = 100000;
	CHECK(!pthread_create(&th, NULL, trickle_reader, &t), "pthread_create failed");
	r = tl_req(&q, ASIO_WRITE, p[1], BIG);
	tl_fill(r->buffer, BIG, 24, 0);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	pthread_join(th, NULL);
	CHECK(r->status >= 100000 && r->status <= 100000 + size && r->returned_errno == 0,
	      "a write whose reader closed after 100000 bytes: status %d errno %d (%s); want between 100000 and %d, errno 0",
	      r->status, r->returned_errno, strerror(r->returned_errno), 100000 + size);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, -1, EPIPE);
	asio_put(r);
	close(p[1]);
	CHECK_COUNTERS(&q, 0, 0, 0);
	/* The queue goes on. */
	eof(0, "a read after EPIPE");
}

/* Children. */
static int child(const char *name)
{
	int p[2];
	struct asio_request *r;
	tl_no_core();
	tl_init_queue(&q, 4096, 2);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	CHECK(dup2(p[1], 100) == 100, "dup2: %s", strerror(errno));
	close(p[0]);
	if (!strcmp(name, "epipe_default")) {
		struct sigaction sa;
		/* Not ignored when the library was loaded (the parent made sure). */
		CHECK(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN, "SIGPIPE is ignored in the child");
		r = tl_req(&q, ASIO_WRITE, 100, 4096);
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(&q));
		CHECK_DONE(r, -1, EPIPE);
		asio_put(r);
		asio_cleanup_queue(&q);
		return 0;
	}
	if (!strcmp(name, "epipe_wb")) {
		signal(SIGPIPE, SIG_IGN);
		r = tl_req(&q, ASIO_WRITE_BACK, 100, 4096);
		asio_submit(r);
		asio_sync(&q);
		fprintf(stderr, "survived\n");
		return 0;
	}
	return 2;
}

int main(int argc, char **argv)
{
	struct tl_child c;

	if (argc > 1)
		return child(argv[1]);
	tl_watchdog(60, "t_fault_short");
	signal(SIGPIPE, SIG_IGN);
	tl_init_queue(&q, BIG, 2);

	eof(0, "reads across the end of the file");
	eof(O_DIRECT, "O_DIRECT reads across the end of the file");
	pipe_in_pieces();
	write_to_slow_reader();
	reader_closes();
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);

	/* SIGPIPE at its default action from the start: the library's Go
	 * runtime installs its handler when it is loaded. (A program that sets
	 * SIG_DFL later replaces that handler, and a broken pipe kills it.) */
	signal(SIGPIPE, SIG_DFL);
	tl_run_child("epipe_default", NULL, 10000, &c);
	CHECK(c.exited && c.code == 0, "a write to a pipe without reader, SIGPIPE at its default action: the child %s; stderr: %s",
	      tl_child_how(&c), c.err);
	tl_run_child("epipe_wb", NULL, 10000, &c);
	CHECK(c.exited && c.code == 1 && strstr(c.err, "Asynchronous write to fd 100 failed: Broken pipe") &&
		      !strstr(c.err, "survived"),
	      "a write-back to a pipe without reader: expected exit status 1 and \"Asynchronous write to fd 100 failed: Broken pipe\"; the child %s; stderr: %s",
	      tl_child_how(&c), c.err);
	return 0;
}
