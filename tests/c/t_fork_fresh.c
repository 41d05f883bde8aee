/*
 * t_fork_fresh: the engine (libucw-asio-go.so.1) is loaded by a process's
 * first asio call, so a child forked WITHOUT exec before that call gets an
 * engine of its own, with I/O in the background.
 *
 * A read of 5 bytes from an empty pipe is submitted, then the caller writes
 * "hello" into the pipe. With an engine the read runs in the background: the
 * data leaves the pipe before asio_wait (waited for up to 10 s, a hang bound).
 * On the synchronous path it stays in the pipe until asio_wait. Either way
 * asio_wait returns the request with "hello".
 *  - the parent has not called asio: the engine is not mapped;
 *  - a forked child: no engine mapped before its first call; the read runs
 *    in the background; then the engine is mapped and has threads. It forks
 *    a grandchild, which (its parent having the engine) takes the
 *    synchronous path: the data stays in the pipe, and at the end it has a
 *    single thread;
 *  - the parent, still without an engine, then does the same with its own;
 *  - forks during the first call (in a fresh process, re-executed): a thread
 *    makes the first asio call while the main thread forks 20 children at
 *    once. Each child took the synchronous path if the engine was mapped at
 *    the fork (the load was complete), else loads its own; never a
 *    half-done load: each does the pipe read within 20 s, with the engine
 *    mapped and its threads running if it loaded one, a single thread if not.
 *    Not under AddressSanitizer, whose allocator lock a child may inherit
 *    held (see forklib.h).
 */

#include "forklib.h"

#include <sys/ioctl.h>

#define RACE_CHILDREN 20

/* Bytes waiting in the pipe. */
static int in_pipe(int fd)
{
	int n = -1;
	CHECK(ioctl(fd, FIONREAD, &n) == 0, "ioctl(FIONREAD): %s", strerror(errno));
	return n;
}

enum path { SYNCHRONOUS, BACKGROUND };

/* The path of a process's own first calls: the engine's (background), or
 * with UCW_ASIO_ENGINE=sync the synchronous one in every process, which
 * then never maps an engine nor starts a thread. */
static enum path own_path(void)
{
	return tl_sync_route() ? SYNCHRONOUS : BACKGROUND;
}

/* The pipe read, served on the path expected. */
static void pipe_read(const char *who, enum path path)
{
	struct asio_queue q;
	struct asio_request *r;
	int p[2];
	double end;
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&q, 4096, 1);
	r = tl_req(&q, ASIO_READ, p[0], 5);
	asio_submit(r);
	tl_write_all(p[1], "hello", 5);
	if (path == BACKGROUND) {
		for (end = tl_now() + 10; in_pipe(p[0]) && tl_now() < end;)
			tl_sleep_ms(1);
		CHECK_EQ("bytes left in the pipe 10 s after the write (the read should run in the background)", 0,
			 in_pipe(p[0]));
	} else {
		CHECK_EQ("bytes in the pipe before asio_wait (synchronous path: nothing read yet)", 5, in_pipe(p[0]));
	}
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 5, 0);
	CHECK(!memcmp(r->buffer, "hello", 5), "%s: the read got the wrong data", who);
	asio_put(r);
	asio_cleanup_queue(&q);
	close(p[0]);
	close(p[1]);
}

static int grandchild(void *arg)
{
	(void)arg;
	pipe_read("the grandchild", SYNCHRONOUS);
	CHECK_EQ("threads in the grandchild", 1, tf_threads());
	return 0;
}

static int child(void *arg)
{
	struct tl_child g;
	(void)arg;
	CHECK(!tf_engine_mapped(), "the engine is mapped into the child before its first asio call");
	pipe_read("the child", own_path());
	if (tl_sync_route()) {
		CHECK(!tf_engine_mapped(), "UCW_ASIO_ENGINE=sync, yet the child's asio calls loaded the engine");
		CHECK_EQ("threads in the child with UCW_ASIO_ENGINE=sync", 1, tf_threads());
	} else {
		CHECK(tf_engine_mapped(), "the child's asio calls did not load the engine");
		CHECK(tf_threads() > 1, "the child's engine has no threads");
	}
	tf_fork(grandchild, NULL, 0, 20000, &g);
	CHECK_CHILD_OK("the grandchild's pipe read (synchronous path)", &g);
	return 0;
}

/* In a child of the race: 0 if it took the synchronous path, 3 if it loaded
 * an engine of its own. */
static int race_child(void)
{
	if (tf_engine_mapped() || tl_sync_route()) {
		pipe_read("a child forked after the load", SYNCHRONOUS);
		CHECK_EQ("threads in a child forked after the load", 1, tf_threads());
		return 0;
	}
	pipe_read("a child forked before the load", BACKGROUND);
	CHECK(tf_engine_mapped(), "a child forked before the load did not load the engine");
	CHECK(tf_threads() > 1, "the engine of a child forked before the load has no threads");
	return 3;
}

static void *first_call(void *arg)
{
	(void)arg;
	tf_load_engine();
	return NULL;
}

static int race(void)
{
	struct tl_child c[RACE_CHILDREN];
	int fds[RACE_CHILDREN], i, own = 0, sync = 0;
	pid_t pids[RACE_CHILDREN];
	double deadline;
	pthread_t t;

	CHECK(!tf_engine_mapped(), "the engine is mapped before the first asio call");
	fflush(stdout);
	fflush(stderr);
	CHECK(pthread_create(&t, NULL, first_call, NULL) == 0, "pthread_create failed");
	for (i = 0; i < RACE_CHILDREN; i++) {
		int pfd[2];
		CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
		pids[i] = fork();
		CHECK(pids[i] >= 0, "fork: %s", strerror(errno));
		if (!pids[i]) {
			close(pfd[0]);
			dup2(pfd[1], 2);
			close(pfd[1]);
			exit(race_child());
		}
		close(pfd[1]);
		fds[i] = pfd[0];
	}
	pthread_join(t, NULL);
	deadline = tl_now() + 20;
	for (i = 0; i < RACE_CHILDREN; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		tl_collect(pids[i], fds[i], deadline, &c[i]);
		CHECK(c[i].exited && (c[i].code == 0 || c[i].code == 3), "child %d forked during the first call %s; its stderr: %s",
		      i, tl_child_how(&c[i]), c[i].errlen ? c[i].err : "(empty)");
		if (c[i].code == 3)
			own++;
		else
			sync++;
	}
	printf("%d children forked during the first asio call: %d took the synchronous path, %d loaded their own engine\n",
	       RACE_CHILDREN, sync, own);
	return 0;
}

int main(int argc, char **argv)
{
	struct tl_child c;

	if (argc > 1 && !strcmp(argv[1], "race")) {
		tl_watchdog(60, "t_fork_fresh race");
		return race();
	}
	tl_watchdog(100, "t_fork_fresh");
	CHECK(!tf_engine_mapped(), "the engine is mapped before the first asio call");

	tf_fork(child, NULL, 0, 30000, &c);
	CHECK_CHILD_OK("the child forked before the first asio call", &c);

	CHECK(!tf_engine_mapped(), "the engine is mapped into the parent, which has not called asio");
	pipe_read("the parent", own_path());
	CHECK(tf_engine_mapped() == !tl_sync_route(), "the parent's asio calls %s the engine (UCW_ASIO_ENGINE=%s)",
	      tl_sync_route() ? "loaded" : "did not load", tl_sync_route() ? "sync" : "unset");

	if (TF_UNDER_ASAN) {
		printf("a child forked before the first asio call has its own engine; "
		       "forks during the load: skipped under AddressSanitizer\n");
		return 0;
	}
	tl_run_child("race", NULL, 60000, &c);
	if (c.errlen)
		printf("%s", c.err);
	CHECK(c.exited && c.code == 0, "forks during the first asio call: the re-executed child %s", tl_child_how(&c));
	printf("a child forked before the first asio call has %s; forks during the first call: ok\n",
	       tl_sync_route() ? "the synchronous path (UCW_ASIO_ENGINE=sync)" : "its own engine");
	return 0;
}
