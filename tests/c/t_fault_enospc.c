/*
 * t_fault_enospc: a disk that fills up (ENOSPC), on a tmpfs of 1000 KiB
 * (not a whole number of the 64 KiB blocks written).
 *
 * The test re-executes itself in a private mount namespace (unshare and
 * mount need root, or CAP_SYS_ADMIN: without them it is skipped, exit 77),
 * mounts the tmpfs there (it vanishes with the namespace), and:
 *
 *  - ASIO_WRITEs of 64 KiB until the disk is full: every status is 65536
 *    until one is short or -1 ENOSPC, every later one -1 ENOSPC; the file
 *    then holds exactly the bytes the statuses acknowledged, read back
 *    through the queue and verified; the queue goes on working;
 *  - ASIO_WRITE_BACKs of 64 KiB, in a child (the process must end): exit
 *    status 1 with "Asynchronous write to fd N failed: No space left on
 *    device" or "... wrote only X bytes out of 65536"; afterwards the file
 *    holds a whole number of acknowledged blocks plus X bytes, every byte
 *    right, and nothing else;
 *  - the same with the file opened O_DIRECT where tmpfs allows it.
 */

#include "testlib.h"
#include <sched.h>
#include <sys/mount.h>

#define BS 65536
#define FD 100

static char mnt[PATH_MAX];

static void mount_path(void)
{
	const char *m = getenv("T_ENOSPC_MNT");
	if (m)
		snprintf(mnt, sizeof(mnt), "%s", m);
	else
		tl_tmppath("mnt", mnt, sizeof(mnt));
}

static int open_in_mnt(const char *name, int flags)
{
	char path[PATH_MAX + 64];
	int fd;
	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	fd = open(path, O_RDWR | O_CREAT | flags, 0600);
	if (fd < 0 && (flags & O_DIRECT))
		return -1;
	CHECK(fd >= 0, "open(%s): %s", path, strerror(errno));
	return fd;
}

/* Plain writes until the disk is full, in this process. */
static void plain(void)
{
	struct asio_queue q;
	struct asio_request *r;
	long acked = 0;
	int fd = open_in_mnt("plain", O_TRUNC), full = 0, i;
	tl_init_queue(&q, BS, 2);
	for (i = 0; i < 40 && full < 3; i++) {
		r = tl_req(&q, ASIO_WRITE, fd, BS);
		tl_fill(r->buffer, BS, 9, (uint64_t)acked);
		asio_submit(r);
		r = asio_wait(&q);
		CHECK(r != NULL, "asio_wait returned NULL");
		if (!full)
			CHECK((r->status == BS && r->returned_errno == 0) || (r->status > 0 && r->status < BS && !r->returned_errno) ||
				      (r->status == -1 && r->returned_errno == ENOSPC),
			      "write %d: status %d errno %d (%s); want 65536, a short count or -1 ENOSPC", i, r->status,
			      r->returned_errno, strerror(r->returned_errno));
		else
			CHECK(r->status == -1 && r->returned_errno == ENOSPC,
			      "write %d on a full disk: status %d errno %d (%s); want -1 ENOSPC", i, r->status,
			      r->returned_errno, strerror(r->returned_errno));
		if (r->status > 0)
			acked += r->status;
		if (r->status != BS)
			full++;
		asio_put(r);
	}
	CHECK(full, "40 writes of 64 KiB fitted on a 1000 KiB disk");
	CHECK(acked > 0 && acked <= (1 << 20), "%ld bytes acknowledged on a 1000 KiB disk", acked);
	CHECK_EQ("file size: the bytes acknowledged", acked, tl_size(fd));
	CHECK_EQ("file position", acked, tl_pos(fd));

	/* Read back through the queue, 2 in flight. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	{
		long off = 0;
		for (i = 0; off < acked || i == 0; i++) {
			r = tl_req(&q, ASIO_READ, fd, BS);
			asio_submit(r);
			r = asio_wait(&q);
			CHECK_DONE(r, acked - off < BS ? acked - off : BS, 0);
			CHECK_FILL("data acknowledged before the disk filled up", r->buffer, (size_t)r->status, 9, (uint64_t)off);
			off += r->status;
			asio_put(r);
		}
	}
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	close(fd);
	{
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/plain", mnt);
		unlink(path);
	}
	printf("plain writes: %ld bytes acknowledged and read back on the 1000 KiB disk\n", acked);
}

/* Write-backs until the process ends (a child). */
static void writeback(int direct)
{
	struct asio_queue q;
	int fd = open_in_mnt(direct ? "wbd" : "wb", O_TRUNC | (direct ? O_DIRECT : 0)), i;
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK(dup2(fd, FD) == FD, "dup2: %s", strerror(errno));
	tl_init_queue(&q, BS, 3);
	for (i = 0; i < 40; i++) {
		struct asio_request *r = tl_req(&q, ASIO_WRITE_BACK, FD, BS);
		tl_fill(r->buffer, BS, 10, (uint64_t)i * BS);
		asio_submit(r);
	}
	asio_sync(&q);
	fprintf(stderr, "survived\n");
}

static void check_wb(const char *scenario, const char *file)
{
	struct tl_child c;
	char failed[128], shortw[128], path[PATH_MAX + 64];
	const char *s;
	unsigned char *buf = tl_malloc(2 << 20);
	long size, want;
	int fd;

	tl_run_child(scenario, NULL, 30000, &c);
	snprintf(failed, sizeof(failed), "Asynchronous write to fd %d failed: No space left on device", FD);
	snprintf(shortw, sizeof(shortw), "Asynchronous write to fd %d wrote only ", FD);
	CHECK(c.exited && c.code == 1, "%s: expected exit status 1, the child %s; stderr: %s", scenario, tl_child_how(&c), c.err);
	CHECK(!strstr(c.err, "survived"), "%s: the process went on after the failure", scenario);
	s = strstr(c.err, shortw);
	CHECK(strstr(c.err, failed) || (s && strstr(s, " bytes out of 65536")), "%s: stderr lacks the message: %s", scenario, c.err);

	snprintf(path, sizeof(path), "%s/%s", mnt, file);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0, "open(%s): %s", path, strerror(errno));
	size = (long)tl_size(fd);
	/* What was acknowledged: the full blocks before the failing one, and
	 * the part a short write-back reported. */
	want = size - size % BS;
	if (s)
		want += atol(s + strlen(shortw));
	CHECK_EQ("file size: the blocks written before the fault plus the part reported", want, size);
	CHECK(size > 0, "%s: nothing was written before the disk filled up", scenario);
	CHECK_EQ("bytes read", size, tl_pread_all(fd, buf, 2 << 20, 0));
	CHECK_FILL("data written before the fault", buf, (size_t)size, 10, 0);
	close(fd);
	unlink(path);
	free(buf);
	s = strstr(c.err, "Asynchronous");
	printf("%s: died with \"%.*s\"; the file holds the %ld bytes written before\n", scenario,
	       (int)strcspn(s, "\n"), s, size);
}

/* In the private mount namespace: mount, run, verify. */
static int inside(void)
{
	static char env[PATH_MAX + 32];
	int fd;
	mount_path();
	CHECK(mkdir(mnt, 0700) == 0 || errno == EEXIST, "mkdir(%s): %s", mnt, strerror(errno));
	if (mount("ucw-asio-enospc", mnt, "tmpfs", 0, "size=1000k,mode=0700") < 0) {
		printf("SKIP: mount -t tmpfs: %s\n", strerror(errno));
		return TL_SKIP;
	}
	snprintf(env, sizeof(env), "T_ENOSPC_MNT=%s", mnt);
	putenv(env);
	plain();
	check_wb("wb", "wb");
	fd = open_in_mnt("probe", O_DIRECT);
	if (fd < 0) {
		printf("O_DIRECT is not supported on tmpfs here: the O_DIRECT case is skipped\n");
	} else {
		close(fd);
		check_wb("wbd", "wbd");
	}
	umount2(mnt, MNT_DETACH);
	return 0;
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (argc > 1) {
		tl_no_core();
		if (!strcmp(argv[1], "inside"))
			return inside();
		mount_path();
		if (!strcmp(argv[1], "wb"))
			writeback(0);
		else if (!strcmp(argv[1], "wbd"))
			writeback(1);
		else
			return 2;
		return 0;
	}
	tl_watchdog(100, "t_fault_enospc");
	tl_tmpdir();
	fflush(stdout);
	/* A child in its own mount namespace: fork, unshare in the (single
	 * threaded) child, then exec, so that every thread of the new program
	 * sees the mount. */
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		char *args[] = { (char *)"/proc/self/exe", (char *)"inside", NULL };
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
			printf("SKIP: a private mount namespace for the tmpfs: %s\n", strerror(errno));
			fflush(stdout);
			_exit(TL_SKIP);
		}
		execv("/proc/self/exe", args);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		CHECK(errno == EINTR, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status), "the child in the mount namespace was killed by signal %d", WTERMSIG(status));
	tl_tmppath("mnt", mnt, sizeof(mnt));
	rmdir(mnt);
	if (WEXITSTATUS(status) == TL_SKIP)
		return TL_SKIP;
	CHECK_EQ("exit status of the child in the mount namespace", 0, WEXITSTATUS(status));
	return 0;
}
