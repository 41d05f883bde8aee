/*
 * t_fork_stream: a process forks WITHOUT exec, and the child streams.
 *
 *  - first the process forks before its first asio call (a UCW daemon going
 *    to the background): the child copies a 16 MiB + 12345 bytes file with
 *    O_DIRECT in the fb-direct pattern (one read ahead, ASIO_WRITE_BACK with
 *    max_writebacks 3, the tail rounded up and cut with ftruncate), twice at
 *    once (its main thread and a thread of its own, one queue each), and
 *    checks the statuses, the counters and the copies byte for byte; it must
 *    exit 0 within 60 s, with an engine of its own loaded (mapped, its
 *    threads running);
 *  - meanwhile the parent makes its first asio calls and does the same copy;
 *  - after the child ended, the parent, now with the engine loaded, forks a
 *    second child that copies in the same way on the synchronous path (a
 *    single thread again at the end: the library started none in it), and
 *    copies once more itself.
 * Skipped (77) without O_DIRECT.
 */

#include "forklib.h"

#define SIZE ((16u << 20) + 12345u)
#define BS (256u << 10)
#define SEED 71

static void *thread_copy(void *to)
{
	tf_direct_copy("src", (const char *)to, BS, 3, SIZE, SEED);
	return NULL;
}

/* Two copies at once, one in a thread of the child's own. A child forked
 * before the first asio call has an engine of its own by then; one forked
 * after has only the forking thread again (the library started none). */
static int child_copy(const char *to, int own_engine)
{
	char second[64];
	pthread_t t;
	own_engine = own_engine && !tl_sync_route();	/* UCW_ASIO_ENGINE=sync: no engine anywhere */
	CHECK(!own_engine || !tf_engine_mapped(), "the engine is mapped into a child forked before the first asio call");
	snprintf(second, sizeof(second), "%s_thread", to);
	CHECK(pthread_create(&t, NULL, thread_copy, second) == 0, "pthread_create failed");
	tf_direct_copy("src", to, BS, 3, SIZE, SEED);
	pthread_join(t, NULL);
	if (own_engine) {
		CHECK(tf_engine_mapped(), "the child forked before the first asio call did not load an engine");
		CHECK(tf_threads() > 1, "the child's engine has no threads");
	} else {
		CHECK_EQ("threads in the forked child after its copies", 1, tf_threads());
	}
	return 0;
}

/* Forks a child that runs child_copy(to) while the parent copies to `mine`. */
static void copy_in_both(const char *to, const char *mine, int own_engine)
{
	struct tl_child c;
	int pfd[2];
	pid_t pid;
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
		exit(child_copy(to, own_engine));
	}
	close(pfd[1]);
	tf_direct_copy("src", mine, BS, 3, SIZE, SEED);		/* concurrently, in the parent */
	tl_collect(pid, pfd[0], tl_now() + 60, &c);
	CHECK_CHILD_OK("the child's O_DIRECT copy", &c);
}

int main(void)
{
	tl_watchdog(110, "t_fork_stream");
	if (!tf_have_o_direct())
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	tf_make_source("src", SIZE, SEED);

	/* No asio call before this fork: the child loads its own engine. */
	CHECK(!tf_engine_mapped(), "the engine is mapped before the first asio call");
	copy_in_both("dst_child", "dst_parent", 1);
	/* The parent has loaded the engine now; fork again. */
	copy_in_both("dst_child2", "dst_parent2", 0);
	printf("two forked children and their parent each copied %u bytes with O_DIRECT, verified\n", SIZE);
	return 0;
}
