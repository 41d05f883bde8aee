/*
 * t_fault_efbig: writes that fail part-way because the file would grow past
 * RLIMIT_FSIZE (SIGXFSZ ignored, so write(2) gives EFBIG). Each scenario runs
 * in a child (re-executed from /proc/self/exe) with the limit set.
 *
 *  - plain ASIO_WRITEs of 4096 bytes, limit 10000: statuses 4096, 4096, 1808
 *    (the part that fits), then -1 EFBIG, also for a write placed past the
 *    limit with lseek; the queue goes on working (a read returns the data);
 *    the file holds exactly the 10000 bytes acknowledged, every byte right;
 *  - ASIO_WRITE_BACKs, limit 10000: the process ends with "Asynchronous
 *    write to fd N wrote only 1808 bytes out of 4096", exit status 1, and
 *    the file holds exactly the 10000 bytes written before the fault;
 *  - the same on an O_DIRECT file (write-backs done in parallel with pwrite
 *    at computed offsets), limit 12288: "failed: File too large" for the
 *    fourth write-back, and the file holds exactly the first three blocks.
 */

#include "testlib.h"

#define FD 100
#define BLK 4096

static void limit_size(rlim_t bytes)
{
	struct rlimit rl = { bytes, bytes };
	signal(SIGXFSZ, SIG_IGN);
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit(RLIMIT_FSIZE): %s", strerror(errno));
}

static int open_at(const char *name, int flags)
{
	int fd = tl_tmpfile(name, O_RDWR | flags);
	CHECK(dup2(fd, FD) == FD, "dup2: %s", strerror(errno));
	close(fd);
	return FD;
}

static struct asio_request *write_block(struct asio_queue *q, enum asio_op op, int fd, uint64_t off)
{
	struct asio_request *r = tl_req(q, op, fd, BLK);
	tl_fill(r->buffer, BLK, 5, off);
	asio_submit(r);
	return r;
}

static void plain(void)
{
	struct asio_queue q;
	struct asio_request *r;
	static const int want[] = { BLK, BLK, 10000 - 2 * BLK, -1, -1 };
	int fd, i;
	limit_size(10000);
	fd = open_at("plain", 0);
	tl_init_queue(&q, BLK, 2);
	for (i = 0; i < 5; i++) {
		write_block(&q, ASIO_WRITE, fd, (uint64_t)i * BLK);
		r = asio_wait(&q);
		CHECK_DONE(r, want[i], want[i] < 0 ? EFBIG : 0);
		asio_put(r);
		CHECK_COUNTERS(&q, 0, 0, 0);
	}
	CHECK_EQ("file position after the writes", 10000, tl_pos(fd));
	CHECK(lseek(fd, 20000, SEEK_SET) == 20000, "lseek: %s", strerror(errno));
	write_block(&q, ASIO_WRITE, fd, 20000);
	r = asio_wait(&q);
	CHECK_DONE(r, -1, EFBIG);
	asio_put(r);

	/* The queue works on: read everything back through it. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	for (i = 0; i < 3; i++) {
		r = tl_req(&q, ASIO_READ, fd, BLK);
		asio_submit(r);
		r = asio_wait(&q);
		CHECK_DONE(r, want[i], 0);
		CHECK_FILL("data read back", r->buffer, (size_t)want[i], 5, (uint64_t)i * BLK);
		asio_put(r);
	}
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	CHECK_EQ("file size", 10000, tl_size(fd));
}

static void writeback(int direct)
{
	struct asio_queue q;
	int fd, i;
	limit_size(direct ? 3 * BLK : 10000);
	fd = open_at(direct ? "direct" : "wb", direct ? O_DIRECT : 0);
	tl_init_queue(&q, BLK, direct ? 4 : 2);
	for (i = 0; i < 5; i++)
		write_block(&q, ASIO_WRITE_BACK, fd, (uint64_t)i * BLK);
	fprintf(stderr, "all submitted\n");
	asio_sync(&q);
	fprintf(stderr, "survived\n");
}

/* The file a dead child left: exactly `size` bytes of the pattern. */
static void check_file(const char *name, long size)
{
	unsigned char *buf = tl_malloc(5 * BLK);
	int fd = tl_tmpopen(name, O_RDONLY);
	CHECK(fd >= 0, "open %s: %s", name, strerror(errno));
	CHECK_EQ("size of the file the child left", size, tl_size(fd));
	CHECK_EQ("bytes read", size, tl_pread_all(fd, buf, 5 * BLK, 0));
	CHECK_FILL("data written before the fault", buf, (size_t)size, 5, 0);
	close(fd);
	free(buf);
}

static int direct_supported(void)
{
	int fd = tl_tmpfile("probe", O_RDWR | O_DIRECT);
	void *p = tl_alloc_aligned(BLK, BLK);
	ssize_t n = write(fd, p, BLK);
	close(fd);
	free(p);
	return n == BLK;
}

int main(int argc, char **argv)
{
	struct tl_child c;
	char msg[128];

	if (argc > 1) {
		tl_no_core();
		if (!strcmp(argv[1], "plain"))
			plain();
		else if (!strcmp(argv[1], "wb"))
			writeback(0);
		else if (!strcmp(argv[1], "direct"))
			writeback(1);
		else
			return 2;
		return 0;
	}
	tl_watchdog(60, "t_fault_efbig");

	tl_run_child("plain", NULL, 20000, &c);
	CHECK(c.exited && c.code == 0, "plain writes past RLIMIT_FSIZE: the child %s; stderr: %s", tl_child_how(&c), c.err);
	check_file("plain", 10000);

	snprintf(msg, sizeof(msg), "Asynchronous write to fd %d wrote only %d bytes out of %d", FD, 10000 - 2 * BLK, BLK);
	tl_run_child("wb", NULL, 20000, &c);
	CHECK(c.exited && c.code == 1, "write-backs past RLIMIT_FSIZE: expected exit status 1, the child %s; stderr: %s",
	      tl_child_how(&c), c.err);
	CHECK(strstr(c.err, msg) && !strstr(c.err, "survived"), "write-backs: stderr lacks \"%s\": %s", msg, c.err);
	check_file("wb", 10000);

	if (!direct_supported()) {
		printf("O_DIRECT not supported in %s: the O_DIRECT case is skipped\n", tl_tmpdir());
		return 0;
	}
	snprintf(msg, sizeof(msg), "Asynchronous write to fd %d failed: File too large", FD);
	tl_run_child("direct", NULL, 20000, &c);
	CHECK(c.exited && c.code == 1, "O_DIRECT write-backs past RLIMIT_FSIZE: expected exit status 1, the child %s; stderr: %s",
	      tl_child_how(&c), c.err);
	CHECK(strstr(c.err, msg) && !strstr(c.err, "survived"), "O_DIRECT write-backs: stderr lacks \"%s\": %s", msg, c.err);
	check_file("direct", 3 * BLK);
	return 0;
}
