/*
 * t_writeback_chain_death: a failed write-back in a chain of write-backs to
 * one O_DIRECT file ends the process at the same call as one write at a
 * time would: the write-back submit at the limit that needs the failed one's
 * slot, not a later call.
 *
 * The scenario (found by differential testing of the engine against the
 * synchronous path): an O_DIRECT file whose position is 1, max_writebacks 2;
 * a write-back of 12288 bytes (EINVAL: the position is not aligned), one of
 * 0 bytes (done at once), then a third write-back, at the limit. One write
 * at a time runs the first, fails, and ends the process in that third
 * submit. The engine, whose second write-back finished before the first,
 * used to collect it instead, return from the submit, and end the process
 * only in the asio_sync after it. Run ROUNDS times on each route (ctest runs
 * the test on both). Skipped (77) where the file system has no O_DIRECT or
 * accepts the unaligned write.
 */

#include "testlib.h"

#define ROUNDS 40

static int scenario(void)
{
	struct asio_queue q;
	struct asio_request *r;
	int fd = tl_tmpopen("data", O_RDWR | O_DIRECT);
	tl_no_core();
	lseek(fd, 1, SEEK_SET);
	tl_init_queue(&q, 16384, 2);
	r = tl_req(&q, ASIO_WRITE_BACK, fd, 12288);
	memset(r->buffer, 'a', 12288);
	asio_submit(r);
	r = tl_req(&q, ASIO_WRITE_BACK, fd, 0);
	asio_submit(r);
	r = tl_req(&q, ASIO_WRITE_BACK, fd, 4096);
	memset(r->buffer, 'b', 4096);
	asio_submit(r);
	fprintf(stderr, "the submit at the limit returned\n");
	asio_sync(&q);
	fprintf(stderr, "asio_sync returned\n");
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char *block = tl_alloc_aligned(16384, TL_PAGE);
	char want[128];
	struct tl_child c;
	int fd, dfd, i;

	if (argc > 1 && !strcmp(argv[1], "scenario"))
		return scenario();
	tl_watchdog(120, "t_writeback_chain_death");
	fd = tl_tmpfile("data", O_RDWR);
	memset(block, '0', 16384);
	tl_write_all(fd, block, 16384);
	fsync(fd);
	dfd = tl_tmpopen("data", O_RDWR | O_DIRECT);
	if (dfd < 0 && errno == EINVAL)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(dfd >= 0, "open(O_DIRECT): %s", strerror(errno));
	lseek(dfd, 1, SEEK_SET);
	if (write(dfd, block, 12288) >= 0 || errno != EINVAL)
		SKIP("O_DIRECT on %s accepts an unaligned write", tl_tmpdir());
	close(dfd);
	for (i = 0; i < ROUNDS; i++) {
		tl_run_child("scenario", NULL, 10000, &c);
		CHECK(c.exited && c.code == 1, "round %d: the child %s; stderr:\n%s", i, tl_child_how(&c), c.err);
		CHECK(strstr(c.err, "the submit at the limit returned") == NULL,
		      "round %d: the process went on after the write-back submit at the limit; stderr:\n%s", i, c.err);
		snprintf(want, sizeof(want), "failed: %s\n", strerror(EINVAL));
		CHECK(strstr(c.err, "Asynchronous write to fd ") && strstr(c.err, want),
		      "round %d: want \"Asynchronous write to fd N failed: %s\"; stderr:\n%s", i, strerror(EINVAL), c.err);
	}
	printf("ok: %d rounds, each ended in the write-back submit at the limit\n", ROUNDS);
	return 0;
}
