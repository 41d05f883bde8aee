/*
 * t_ring_signals: O_DIRECT writes that extend a file never fail because of
 * a signal, as write(2) never does.
 *
 * In each of CHILDREN processes (default 300; fork and exec of this program,
 * so that each loads the engine afresh), SIGALRM has a handler (SA_ONSTACK,
 * no SA_RESTART) and fires every 100 us (setitimer); the child then writes
 * sixteen 64 KiB blocks to a new O_DIRECT file, all submitted at once:
 * ASIO_WRITEs in half the children (each must end with status 65536), write-
 * backs with max_writebacks 16 in the other half (asio_sync must return).
 * Then the file must hold exactly the sixteen blocks. An extending O_DIRECT
 * write handed to the kernel's io-wq workers comes back with ECANCELED when
 * the worker cannot be created while a signal is pending; the library must
 * do such a write again with write(2) rather than report it. Every child must
 * exit 0; the failures are counted by kind. Skipped (77) where the
 * filesystem has no O_DIRECT.
 *
 *   t_ring_signals [CHILDREN]
 */

#include "testlib.h"
#include <sys/time.h>

#define BS 65536
#define BLOCKS 16

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* One child: "write" or "writeback". */
static int child(const char *mode)
{
	int writeback = !strcmp(mode, "writeback"), fd, i;
	struct asio_queue q;
	struct asio_request *r, *reqs[BLOCKS];
	char name[64], path[PATH_MAX + 256], *back;

	snprintf(name, sizeof(name), "data-%d", (int)getpid());
	fd = tl_tmpfile(name, O_WRONLY);
	close(fd);
	fd = tl_tmpopen(name, O_WRONLY | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(fd >= 0, "open(O_DIRECT): %s", strerror(errno));

	tl_alarm_every(100, on_alarm);

	tl_init_queue(&q, BS, BLOCKS);
	for (i = 0; i < BLOCKS; i++) {
		reqs[i] = r = tl_req(&q, writeback ? ASIO_WRITE_BACK : ASIO_WRITE, fd, BS);
		tl_fill(r->buffer, BS, 5, (uint64_t)i * BS);
		asio_submit(r);
	}
	if (writeback) {
		asio_sync(&q);	/* a failed write-back ends the process with its message */
	} else {
		for (i = 0; i < BLOCKS; i++) {
			r = asio_wait(&q);
			CHECK(r == reqs[i], "asio_wait returned %p, want write %d", (void *)r, i);
			CHECK(r->status == BS, "write %d of %d: status %d, errno %d (%s); write(2) gives %d",
			      i, BLOCKS, r->status, r->returned_errno, strerror(r->returned_errno), BS);
			asio_put(r);
		}
	}
	tl_alarm_stop();
	asio_cleanup_queue(&q);
	CHECK_EQ("file size", (long long)BLOCKS * BS, (long long)tl_size(fd));
	close(fd);
	fd = tl_tmpopen(name, O_RDONLY);
	back = (char *)tl_malloc(BLOCKS * BS);
	CHECK_EQ("bytes read back", (long long)BLOCKS * BS, (long long)tl_pread_all(fd, back, BLOCKS * BS, 0));
	CHECK_FILL("file", back, BLOCKS * BS, 5, 0);
	close(fd);
	tl_tmppath(name, path, sizeof(path));
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	int children = 300, i, failed = 0, canceled = 0, skipped = 0;
	char first[1024] = "";
	struct tl_child c;

	if (argc > 1 && (!strcmp(argv[1], "write") || !strcmp(argv[1], "writeback")))
		return child(argv[1]);
	if (argc > 1)
		children = atoi(argv[1]);
	tl_watchdog(280, "t_ring_signals");
	for (i = 0; i < children; i++) {
		const char *mode = i % 2 ? "writeback" : "write";
		tl_run_child(mode, NULL, 30000, &c);
		if (c.exited && c.code == TL_SKIP) {
			skipped = 1;
			break;
		}
		if (!c.exited || c.code != 0) {
			if (!failed++)
				snprintf(first, sizeof(first), "%s child %s: %.400s", mode, tl_child_how(&c), c.err);
			if (strstr(c.err, "Operation canceled") || strstr(c.err, "errno 125"))
				canceled++;
		}
	}
	if (skipped)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(!failed, "%d of %d children failed under a 100 us SIGALRM (%d with ECANCELED); the first: %s",
	      failed, children, canceled, first);
	printf("%d children wrote sixteen 64 KiB O_DIRECT blocks (writes and write-backs) under a 100 us SIGALRM\n", children);
	return 0;
}
