/*
 * t_direct_copy: a 64 MiB + 12345 bytes O_DIRECT copy in the fb-direct
 * pattern, the library's main use.
 *
 * One queue, buffer_size 1 MiB, max_writebacks 4, the fb-direct stream of
 * stream.h: reading keeps one ASIO_READ in flight ahead of the consumer;
 * every block read is copied into a request submitted as ASIO_WRITE_BACK
 * when full; the last partial block is written rounded up to 4096 and cut
 * with ftruncate after asio_sync.
 * Checks: every read's status (1 MiB, then the tail, never an error), the
 * counters stay within their limits (running_writebacks <= 4), are 0 at the
 * end, and the copy equals the source (size, checksum, and the generating
 * pattern byte for byte). Skipped (77) without O_DIRECT.
 */

#include "testlib.h"
#include "stream.h"

#define BS (1u << 20)
#define SIZE ((64u << 20) + 12345u)
#define SEED 61

static uint64_t checksum(int fd, unsigned char *buf, int verify)
{
	uint64_t h = 1469598103934665603ULL, off = 0;
	size_t n, i;
	while ((n = tl_pread_all(fd, buf, BS, (off_t)off))) {
		if (verify)
			CHECK_FILL("copy", buf, n, SEED, off);
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
		off += n;
	}
	CHECK_EQ("bytes checksummed", SIZE, off);
	return h;
}

int main(void)
{
	struct asio_queue q;
	struct ts_reader rd;
	struct ts_writer wr;
	const unsigned char *data;
	unsigned char *buf = tl_alloc_aligned(BS, TL_PAGE);
	uint64_t total = 0, off;
	int src, dst, n;
	uint max_wb = 0, max_alloc = 0;

	tl_watchdog(110, "t_direct_copy");

	/* The source, written with plain I/O. */
	src = tl_tmpfile("src", O_RDWR);
	for (off = 0; off < SIZE; off += BS) {
		size_t n = SIZE - off < BS ? SIZE - off : BS;
		tl_fill(buf, n, SEED, off);
		tl_write_all(src, buf, n);
	}
	close(src);
	src = tl_tmpopen("src", O_RDONLY | O_DIRECT);
	if (src < 0 && errno == EINVAL)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(src >= 0, "open(src, O_DIRECT): %s", strerror(errno));
	dst = tl_tmpfile("dst", O_RDWR | O_DIRECT);

	tl_init_queue(&q, BS, 4);
	ts_read_open(&rd, src, &q);
	ts_write_open(&wr, dst, &q);
	while ((n = ts_read(&rd, &data)) > 0) {
		CHECK_EQ("read size", SIZE - total < BS ? SIZE - total : BS, n);
		ts_write(&wr, data, (size_t)n);
		total += (uint)n;
		CHECK(q.running_writebacks <= 4, "running_writebacks %u > max_writebacks 4", q.running_writebacks);
		if (q.running_writebacks > max_wb)
			max_wb = q.running_writebacks;
		if (q.allocated_requests > max_alloc)
			max_alloc = q.allocated_requests;
		/* The block being read, the read ahead, the block being written. */
		CHECK(q.allocated_requests <= 4 + 3, "allocated_requests %u: more than 4 write-backs and 3 blocks",
		      q.allocated_requests);
	}
	CHECK(n == 0, "read #%ld at %llu: status %d errno %d (%s)", rd.reads, (unsigned long long)total, n, errno,
	      strerror(errno));
	ts_read_close(&rd);
	CHECK_EQ("bytes written, the file cut", SIZE, ts_write_close(&wr));
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_PTR("asio_wait after asio_sync", NULL, asio_wait(&q));
	CHECK_EQ("bytes copied", SIZE, total);
	CHECK_EQ("number of reads", (SIZE + BS - 1) / BS + 1, rd.reads);
	CHECK(max_wb >= 1, "running_writebacks was never above 0 after a write-back submit");
	asio_cleanup_queue(&q);

	close(dst);
	close(src);

	/* Compare through plain descriptors. */
	src = tl_tmpopen("src", O_RDONLY);
	dst = tl_tmpopen("dst", O_RDONLY);
	CHECK(src >= 0 && dst >= 0, "open: %s", strerror(errno));
	CHECK_EQ("dst size", SIZE, tl_size(dst));
	CHECK_EQ("src size", SIZE, tl_size(src));
	{
		uint64_t hs = checksum(src, buf, 0), hd = checksum(dst, buf, 1);
		CHECK(hs == hd, "checksums differ: source %016llx, copy %016llx", (unsigned long long)hs, (unsigned long long)hd);
	}
	printf("copied %u bytes in %ld reads, at most %u write-backs and %u requests at once\n", SIZE, rd.reads, max_wb, max_alloc);
	close(src);
	close(dst);
	free(buf);
	return 0;
}
