/*
 * t_ring_fork: a child forked without exec while a queue has requests in its
 * io_uring neither holds the ring nor holds up the parent.
 *
 * The main thread submits O_DIRECT ASIO_READs (through the queue's ring on
 * the engine's route) and forks a child that stays alive, blocked on a pipe,
 * until the parent is done. Then another thread of the parent takes the
 * queue over and collects the reads: a ring belongs to the thread that made
 * it, so the new thread shuts it and collects its completions, which the
 * kernel posts only once the ring's last descriptor is closed. A child that
 * kept the inherited descriptor kept the ring alive, and the parent waited
 * for the child's end. The child must see no io_uring descriptor of its
 * parent's. ROUNDS rounds; skipped (77) where the filesystem has no O_DIRECT.
 */

#include "testlib.h"

#define ROUNDS 50
#define READS 8

static struct asio_queue q;
static int dfd;

/* The io_uring descriptors the process has. */
static int count_rings(void)
{
	char path[64], target[64];
	int fd, n = 0;
	for (fd = 0; fd < 1024; fd++) {
		ssize_t len;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		n += !strcmp(target, "anon_inode:[io_uring]");
	}
	return n;
}

static void *collect(void *arg)
{
	int i;
	(void)arg;
	for (i = 0; i < READS; i++) {
		struct asio_request *r = asio_wait(&q);
		CHECK(r != NULL, "asio_wait returned NULL with reads running");
		CHECK_DONE(r, TL_PAGE, 0);
		CHECK_FILL("read", r->buffer, TL_PAGE, 7, (uint64_t)i * TL_PAGE);
		asio_put(r);
	}
	return NULL;
}

int main(void)
{
	int round;

	tl_watchdog(60, "t_ring_fork (the parent waited for its child)");
	dfd = tl_direct_pattern_file("data", READS * TL_PAGE, 7);
	tl_init_queue(&q, TL_PAGE, 1);
	for (round = 0; round < ROUNDS; round++) {
		int go[2], i, status;
		pthread_t t;
		pid_t pid;
		CHECK(lseek(dfd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
		for (i = 0; i < READS; i++)
			asio_submit(tl_req(&q, ASIO_READ, dfd, TL_PAGE));
		CHECK(pipe(go) == 0, "pipe: %s", strerror(errno));
		pid = fork();
		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (!pid) {
			char c;
			int rings = count_rings();
			close(go[1]);
			while (read(go[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(rings);
		}
		close(go[0]);
		CHECK(pthread_create(&t, NULL, collect, NULL) == 0, "pthread_create");
		CHECK(pthread_join(t, NULL) == 0, "pthread_join");
		close(go[1]);
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "round %d: the forked child had %d io_uring descriptor(s) of its parent's", round,
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	asio_cleanup_queue(&q);
	printf("ok: %d rounds, no ring in the children, the parent never waited for one\n", ROUNDS);
	return 0;
}
