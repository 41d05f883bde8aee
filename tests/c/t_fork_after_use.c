/*
 * t_fork_after_use: a process that has used asio (queues alive, requests in
 * flight) forks WITHOUT exec; the child creates its own queues and works,
 * and so does a grandchild; the parent goes on with its queues.
 *
 *  - parent, before the fork: queue A with write-backs and a read in flight
 *    on a file, queue B with a read blocked on an empty pipe;
 *  - child: the same round trip (ASIO_WRITE and ASIO_WRITE_BACK of 2 MiB in
 *    64 KiB pieces, then read back with one read ahead, counters and data
 *    checked) on a new queue in its main thread and on one queue in each of
 *    3 threads at once, then forks a grandchild that does the round trip
 *    too (and must exit 0); the child must exit 0 within 60 s;
 *  - parent, meanwhile: completes A and B (B's data comes from a write made
 *    after the fork) and does the round trip on a new queue.
 */

#include "forklib.h"

#define BS (64u << 10)
#define PIECES 32

/* Write PIECES buffers of pattern seed to a new file with one queue, then
 * read them back through the same queue with one read ahead. */
static void round_trip(const char *name, uint64_t seed)
{
	struct asio_queue q;
	struct asio_request *r, *ahead;
	int fd = tl_tmpfile(name, O_RDWR), i;

	tl_init_queue(&q, BS, 2);
	for (i = 0; i < PIECES; i++) {
		r = tl_req(&q, i % 4 == 3 ? ASIO_WRITE : ASIO_WRITE_BACK, fd, BS);
		tl_fill(r->buffer, BS, seed, (uint64_t)i * BS);
		asio_submit(r);
		CHECK(q.running_writebacks <= 2, "%s: running_writebacks %u > 2", name, q.running_writebacks);
		if (r->op == ASIO_WRITE) {
			r = asio_wait(&q);
			CHECK(r != NULL && r->op == ASIO_WRITE, "%s: asio_wait did not return the ASIO_WRITE", name);
			CHECK_DONE(r, BS, 0);
			asio_put(r);
		}
	}
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_EQ("file size", (off_t)PIECES * BS, tl_size(fd));

	lseek(fd, 0, SEEK_SET);
	ahead = tl_req(&q, ASIO_READ, fd, BS);
	asio_submit(ahead);
	for (i = 0; i <= PIECES; i++) {
		r = asio_wait(&q);
		CHECK_PTR("asio_wait returns the read ahead", ahead, r);
		CHECK_DONE(r, i < PIECES ? (int)BS : 0, 0);
		CHECK_EQ("running_requests after asio_wait", 0, q.running_requests);
		if (i < PIECES) {
			ahead = tl_req(&q, ASIO_READ, fd, BS);
			asio_submit(ahead);
			CHECK_FILL(name, r->buffer, BS, seed, (uint64_t)i * BS);
		}
		asio_put(r);
	}
	CHECK_PTR("asio_wait with nothing left", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	close(fd);
}

static void *thread_trip(void *arg)
{
	char name[32];
	snprintf(name, sizeof(name), "child_thread%d", (int)(intptr_t)arg);
	round_trip(name, 200 + (uint64_t)(intptr_t)arg);
	return NULL;
}

static int grandchild(void *arg)
{
	(void)arg;
	round_trip("grandchild", 300);
	return 0;
}

static int child(void *arg)
{
	pthread_t t[3];
	struct tl_child g;
	int i;
	(void)arg;
	round_trip("child", 100);
	for (i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, thread_trip, (void *)(intptr_t)i) == 0, "pthread_create failed");
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	tf_fork(grandchild, NULL, 0, 30000, &g);
	CHECK_CHILD_OK("the grandchild's round trip", &g);
	return 0;
}

int main(void)
{
	struct asio_queue a, b;
	struct asio_request *r, *rd, *blocked;
	struct tl_child c;
	int fd = tl_tmpfile("parent_a", O_RDWR), p[2], pfd[2], i;
	pid_t pid;

	if (TF_UNDER_ASAN)
		SKIP("under AddressSanitizer: a child whose threads come and go after a fork without exec (see forklib.h)");
	tl_watchdog(100, "t_fork_after_use");

	/* Queues alive and requests in flight in the parent. */
	tl_init_queue(&a, BS, 4);
	for (i = 0; i < 4; i++) {
		r = tl_req(&a, ASIO_WRITE_BACK, fd, BS);
		tl_fill(r->buffer, BS, 1, (uint64_t)i * BS);
		asio_submit(r);
	}
	rd = tl_req(&a, ASIO_READ, fd, BS);		/* at the end of the file by then: 0 */
	asio_submit(rd);
	tl_init_queue(&b, 4096, 1);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	blocked = tl_req(&b, ASIO_READ, p[0], 6);
	asio_submit(blocked);

	memset(&c, 0, sizeof(c));
	CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		close(pfd[1]);
		exit(child(NULL));
	}
	close(pfd[1]);

	/* The parent, while the child works. */
	tl_write_all(p[1], "parent", 6);
	r = asio_wait(&b);
	CHECK_PTR("the parent's pipe read", blocked, r);
	CHECK_DONE(r, 6, 0);
	CHECK(!memcmp(r->buffer, "parent", 6), "the parent's pipe read got the wrong data");
	asio_put(r);
	asio_cleanup_queue(&b);
	r = asio_wait(&a);
	CHECK_PTR("the parent's read behind its write-backs", rd, r);
	CHECK_DONE(r, 0, 0);
	asio_put(r);
	asio_sync(&a);
	CHECK_COUNTERS(&a, 0, 0, 0);
	asio_cleanup_queue(&a);
	{
		unsigned char *buf = tl_malloc(4 * BS);
		CHECK_EQ("the parent's file", 4 * BS, tl_pread_all(fd, buf, 4 * BS, 0));
		CHECK_FILL("the parent's write-backs", buf, 4 * BS, 1, 0);
		free(buf);
	}
	round_trip("parent", 400);

	tl_collect(pid, pfd[0], tl_now() + 60, &c);
	CHECK_CHILD_OK("the child's work on its own queues", &c);
	close(fd);
	return 0;
}
