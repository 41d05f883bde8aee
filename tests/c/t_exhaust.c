/*
 * t_exhaust: many queues and requests at once, and memory running out.
 *
 *  - QUEUES queues alive at once (default 2000), each with 3 requests in
 *    flight (an ASIO_READ of /dev/zero, an ASIO_WRITE and an ASIO_WRITE_BACK
 *    to /dev/null), and every 8th with a fourth, an ASIO_READ blocked on its
 *    own empty pipe: the counters of every queue are right while all of
 *    them are in flight; then each pipe gets a byte and every request comes
 *    back with the right status and data;
 *  - one queue with REQS requests (default 10000) in flight at once: reads
 *    of consecutive 512-byte blocks of a file, returned in order, each with
 *    its block's data;
 *  - in a child under RLIMIT_AS (the address space in use plus 256 MiB), a
 *    queue whose buffer_size is 4 GiB - 4 KiB: asio_get cannot map the
 *    buffer and ends the process with exit status 1 and "asio_get: cannot
 *    allocate a request with a buffer of 4294963200 bytes: Cannot allocate
 *    memory" (not a crash);
 *  - in a child under a tight RLIMIT_AS (the address space in use plus
 *    512 MiB: the Go runtime needs room for the threads it adds as workers
 *    block, 8 MiB of stack each, up to a few dozen here): 4 threads
 *    each stream 8 MiB through a queue of 64 KiB buffers (write-backs,
 *    then read-ahead), every byte verified; then requests with
 *    1 MiB buffers are taken until the limit is reached, which ends the
 *    process with exit status 1 and the same message.
 *
 *   t_exhaust [QUEUES REQS]
 */

#include "testlib.h"

#define HUGE_BS 0xFFFFF000u

static void raise_nofile(long need)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit: %s", strerror(errno));
	if ((long)rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit: %s", strerror(errno));
	}
	if ((long)rl.rlim_cur < need)
		SKIP("RLIMIT_NOFILE %ld is below the %ld descriptors needed", (long)rl.rlim_cur, need);
}

struct qset {
	struct asio_queue q;
	struct asio_request *rd, *wr, *blocked;
	int p[2];
};

static void many_queues(int n)
{
	struct qset *qs = calloc((size_t)n, sizeof(*qs));
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY), i, blocked = 0;
	CHECK(qs && zero >= 0 && null >= 0, "setup: %s", strerror(errno));
	raise_nofile(2L * (n / 8 + 1) + 64);
	for (i = 0; i < n; i++) {
		struct qset *s = &qs[i];
		struct asio_request *wb;
		tl_init_queue(&s->q, 4096, 2);
		s->rd = tl_req(&s->q, ASIO_READ, zero, 4096);
		memset(s->rd->buffer, 0xAA, 4096);
		asio_submit(s->rd);
		s->wr = tl_req(&s->q, ASIO_WRITE, null, 4096);
		asio_submit(s->wr);
		wb = tl_req(&s->q, ASIO_WRITE_BACK, null, 4096);
		asio_submit(wb);
		if (i % 8 == 0) {
			CHECK(pipe(s->p) == 0, "pipe (queue %d): %s", i, strerror(errno));
			s->blocked = tl_req(&s->q, ASIO_READ, s->p[0], 16);
			asio_submit(s->blocked);
			blocked++;
		}
	}
	for (i = 0; i < n; i++) {
		struct qset *s = &qs[i];
		uint extra = s->blocked ? 1 : 0;
		CHECK_EQ("allocated_requests with all queues in flight", 3 + extra, s->q.allocated_requests);
		CHECK_EQ("running_requests with all queues in flight", 3 + extra, s->q.running_requests);
		CHECK_EQ("running_writebacks with all queues in flight", 1, s->q.running_writebacks);
	}
	printf("%d queues alive, %d requests in flight (%d blocked on pipes)\n", n, 3 * n + blocked, blocked);
	for (i = 0; i < n; i++)
		if (qs[i].blocked)
			tl_write_all(qs[i].p[1], "x", 1);
	for (i = 0; i < n; i++) {
		struct qset *s = &qs[i];
		struct asio_request *r;
		int k;
		r = asio_wait(&s->q);
		CHECK_PTR("asio_wait: the read", s->rd, r);
		CHECK_DONE(r, 4096, 0);
		for (k = 0; k < 4096; k++)
			CHECK(!r->buffer[k], "queue %d: byte %d read from /dev/zero is 0x%02x", i, k, r->buffer[k]);
		asio_put(r);
		r = asio_wait(&s->q);
		CHECK_PTR("asio_wait: the write", s->wr, r);
		CHECK_DONE(r, 4096, 0);
		asio_put(r);
		if (s->blocked) {
			r = asio_wait(&s->q);
			CHECK_PTR("asio_wait: the read from the pipe", s->blocked, r);
			CHECK_DONE(r, 1, 0);
			CHECK(r->buffer[0] == 'x', "queue %d: wrong byte from the pipe", i);
			asio_put(r);
			close(s->p[0]);
			close(s->p[1]);
		}
		CHECK_PTR("asio_wait with only the write-back left", NULL, asio_wait(&s->q));
		CHECK_COUNTERS(&s->q, 0, 0, 0);
		asio_cleanup_queue(&s->q);
	}
	close(zero);
	close(null);
	free(qs);
}

static void many_requests(int n)
{
	struct asio_queue q;
	struct asio_request **rs = calloc((size_t)n, sizeof(*rs));
	unsigned char *data = tl_malloc((size_t)n * 512);
	int fd = tl_tmpfile("blocks", O_RDWR), i;
	CHECK(rs != NULL, "calloc failed");
	tl_fill(data, (size_t)n * 512, 41, 0);
	tl_write_all(fd, data, (size_t)n * 512);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	tl_init_queue(&q, 512, 2);
	for (i = 0; i < n; i++) {
		rs[i] = tl_req(&q, ASIO_READ, fd, 512);
		asio_submit(rs[i]);
	}
	CHECK_COUNTERS(&q, (uint)n, (uint)n, 0);
	for (i = 0; i < n; i++) {
		struct asio_request *r = asio_wait(&q);
		CHECK_PTR("asio_wait (submit order)", rs[i], r);
		CHECK_DONE(r, 512, 0);
		CHECK_FILL("block read", r->buffer, 512, 41, (uint64_t)i * 512);
	}
	for (i = 0; i < n; i++)
		asio_put(rs[i]);
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	close(fd);
	free(rs);
	free(data);
	printf("one queue with %d requests in flight\n", n);
}

static void limit_as(long extra_mb)
{
	struct asio_queue q;
	long mb;
	/* The first call waits until the library's Go runtime has started and
	 * reserved its address space, which is counted in VmSize. */
	tl_init_queue(&q, 4096, 1);
	asio_put(asio_get(&q));
	asio_cleanup_queue(&q);
	mb = tl_limit_address_space(extra_mb);
	fprintf(stderr, "RLIMIT_AS: %ld MiB in use + %ld MiB\n", mb, extra_mb);
}

static int huge_child(void)
{
	struct asio_queue q;
	limit_as(256);
	tl_init_queue(&q, HUGE_BS, 1);
	asio_get(&q);
	fprintf(stderr, "survived\n");
	return 0;
}

struct streamer {
	int id, fd;
};

#define STREAM_BS 65536
#define STREAM_BLOCKS 128

static void *stream(void *arg)
{
	struct streamer *s = arg;
	struct asio_queue q;
	struct asio_request *r;
	int i, next = 0;
	tl_init_queue(&q, STREAM_BS, 3);
	for (i = 0; i < STREAM_BLOCKS; i++) {
		r = tl_req(&q, ASIO_WRITE_BACK, s->fd, STREAM_BS);
		tl_fill(r->buffer, STREAM_BS, 50 + (uint64_t)s->id, (uint64_t)i * STREAM_BS);
		asio_submit(r);
	}
	asio_sync(&q);
	CHECK(lseek(s->fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	for (i = 0; i < STREAM_BLOCKS; i++) {
		while (next < STREAM_BLOCKS && next < i + 3) {
			asio_submit(tl_req(&q, ASIO_READ, s->fd, STREAM_BS));
			next++;
		}
		r = asio_wait(&q);
		CHECK_DONE(r, STREAM_BS, 0);
		CHECK_FILL("data streamed under RLIMIT_AS", r->buffer, STREAM_BS, 50 + (uint64_t)s->id, (uint64_t)i * STREAM_BS);
		asio_put(r);
	}
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	return NULL;
}

static int tight_child(void)
{
	struct streamer s[4];
	pthread_t th[4];
	pthread_attr_t attr;
	struct asio_queue q;
	int i;
	for (i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "tight%d", i);
		s[i].id = i;
		s[i].fd = tl_tmpfile(name, O_RDWR);
	}
	limit_as(512);
	/* Small stacks: the limit is for the library, not for our threads. */
	CHECK(!pthread_attr_init(&attr) && !pthread_attr_setstacksize(&attr, 256 << 10), "pthread_attr");
	for (i = 0; i < 4; i++)
		CHECK(!pthread_create(&th[i], &attr, stream, &s[i]), "pthread_create failed under RLIMIT_AS");
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "streams verified; %ld threads in the process\n", tl_status_field("Threads"));
	tl_init_queue(&q, 1 << 20, 1);
	for (i = 0; i < 1000; i++)
		asio_get(&q);
	fprintf(stderr, "survived\n");
	return 0;
}

static void expect_alloc_failure(const char *scenario, const char *size, const char *before)
{
	struct tl_child c;
	char msg[160];
	snprintf(msg, sizeof(msg), "asio_get: cannot allocate a request with a buffer of %s bytes: Cannot allocate memory", size);
	tl_run_child(scenario, NULL, 60000, &c);
	CHECK(c.exited && c.code == 1, "%s: expected exit status 1, the child %s; stderr: %s", scenario, tl_child_how(&c), c.err);
	CHECK(strstr(c.err, msg), "%s: stderr lacks \"%s\": %s", scenario, msg, c.err);
	CHECK(!strstr(c.err, "survived"), "%s: the process went on", scenario);
	CHECK(!before || strstr(c.err, before), "%s: stderr lacks \"%s\": %s", scenario, before, c.err);
	printf("%s: %s\n", scenario, msg);
}

int main(int argc, char **argv)
{
	int nq = 2000, nr = 10000;
	char size[32];

	if (argc == 2) {
		tl_no_core();
		if (!strcmp(argv[1], "huge"))
			return huge_child();
		if (!strcmp(argv[1], "tight"))
			return tight_child();
		return 2;
	}
	if (argc >= 3) {
		nq = atoi(argv[1]);
		nr = atoi(argv[2]);
	}
	tl_watchdog(240, "t_exhaust");
	many_queues(nq);
	many_requests(nr);
	snprintf(size, sizeof(size), "%u", HUGE_BS);
	expect_alloc_failure("huge", size, NULL);
	expect_alloc_failure("tight", "1048576", "streams verified");
	return 0;
}
