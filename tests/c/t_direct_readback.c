/*
 * t_direct_readback: one queue writes an O_DIRECT file with write-backs and
 * reads it back through a second O_DIRECT descriptor, round after round.
 *
 * Write-backs to an O_DIRECT file and reads of one may go to the kernel
 * through the queue's io_uring, and their completions may be reaped by the
 * caller or by a background task while the caller is parked. Each round:
 * BLOCKS write-backs of 64 KiB at once (max_writebacks BLOCKS), then at once
 * reads of the same blocks (queued behind them: they must see their data),
 * then asio_wait for each read, in order, with its data checked; the file's
 * size and the descriptors' positions are those sequential read(2) and
 * write(2) would leave. Skipped (77) where the filesystem has no O_DIRECT.
 *
 *   t_direct_readback [ROUNDS]
 */

#include "testlib.h"

#define BS 65536
#define BLOCKS 8

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200, round, i;
	struct asio_queue q;
	struct asio_request *r, *reads[BLOCKS];
	int wfd, rfd;

	tl_watchdog(120, "t_direct_readback");
	close(tl_tmpfile("data", O_RDWR));
	wfd = tl_tmpopen("data", O_RDWR | O_DIRECT);
	if (wfd < 0 && errno == EINVAL)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(wfd >= 0, "open(O_DIRECT): %s", strerror(errno));
	rfd = tl_tmpopen("data", O_RDONLY | O_DIRECT);
	CHECK(rfd >= 0, "open(O_DIRECT) for reading: %s", strerror(errno));
	tl_init_queue(&q, BS, BLOCKS);

	for (round = 0; round < rounds; round++) {
		uint64_t base = (uint64_t)round * BLOCKS * BS;
		for (i = 0; i < BLOCKS; i++) {
			r = tl_req(&q, ASIO_WRITE_BACK, wfd, BS);
			tl_fill(r->buffer, BS, 31 + (uint64_t)round, base + (uint64_t)i * BS);
			asio_submit(r);
		}
		for (i = 0; i < BLOCKS; i++) {
			reads[i] = tl_req(&q, ASIO_READ, rfd, BS);
			asio_submit(reads[i]);
		}
		for (i = 0; i < BLOCKS; i++) {
			r = asio_wait(&q);
			CHECK(r == reads[i], "round %d: asio_wait returned %p, want read %d (%p)", round, (void *)r, i, (void *)reads[i]);
			CHECK_DONE(r, BS, 0);
			CHECK_FILL("data read back behind the write-backs", r->buffer, BS, 31 + (uint64_t)round, base + (uint64_t)i * BS);
			asio_put(r);
		}
		CHECK_COUNTERS(&q, 0, 0, 0);
		CHECK_EQ("write descriptor's position", (long long)(base + BLOCKS * BS), (long long)lseek(wfd, 0, SEEK_CUR));
		CHECK_EQ("read descriptor's position", (long long)(base + BLOCKS * BS), (long long)lseek(rfd, 0, SEEK_CUR));
	}
	CHECK_EQ("file size", (long long)rounds * BLOCKS * BS, (long long)tl_size(wfd));
	asio_cleanup_queue(&q);
	printf("%d rounds of %d write-backs and %d reads of 64 KiB, read back right\n", rounds, BLOCKS, BLOCKS);
	return 0;
}
