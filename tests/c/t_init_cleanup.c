/*
 * t_init_cleanup: 1000 init/cleanup cycles do not leak.
 *
 * Each cycle initialises a queue struct full of garbage (buffer_size 64 KiB),
 * gets 3 requests, does an ASIO_READ from /dev/zero, an ASIO_WRITE and an
 * ASIO_WRITE_BACK to /dev/null, waits, puts, syncs and cleans up; counters
 * and data are checked every cycle. Between cycle 100 and cycle 1000: VmRSS
 * must not grow by more than 4 MiB (the Go heap settles), the number of open
 * descriptors (not counting the Go runtime's lazily opened epoll, eventfd
 * and cgroup files) must not grow, the number of mappings (/proc/self/maps lines) and of threads must
 * stay within a small slack (a leak of one buffer or thread per cycle would
 * add 900).
 */

#include "testlib.h"

int main(void)
{
	struct asio_queue q;
	struct asio_request *rd, *wr, *wb, *r;
	struct tl_usage at100 = { 0, 0, 0, 0 }, at1000;
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
	int cycle;

	tl_watchdog(25, "t_init_cleanup");
	CHECK(zero >= 0 && null >= 0, "open: %s", strerror(errno));
	for (cycle = 1; cycle <= 1000; cycle++) {
		memset(&q, 0x5A ^ cycle, sizeof(q));
		q.buffer_size = 65536;
		q.max_writebacks = 2;
		asio_init_queue(&q);
		CHECK_COUNTERS(&q, 0, 0, 0);

		rd = tl_req(&q, ASIO_READ, zero, 65536);
		wr = tl_req(&q, ASIO_WRITE, null, 65536);
		wb = tl_req(&q, ASIO_WRITE_BACK, null, 65536);
		memset(rd->buffer, 0xFF, 65536);
		asio_submit(rd);
		asio_submit(wr);
		asio_submit(wb);
		CHECK_COUNTERS(&q, 3, 3, 1);
		r = asio_wait(&q);
		CHECK_PTR("first asio_wait", rd, r);
		CHECK_DONE(r, 65536, 0);
		CHECK(r->buffer[0] == 0 && r->buffer[65535] == 0, "cycle %d: /dev/zero data not zero", cycle);
		r = asio_wait(&q);
		CHECK_PTR("second asio_wait", wr, r);
		CHECK_DONE(r, 65536, 0);
		asio_put(rd);
		asio_put(wr);
		asio_sync(&q);
		CHECK_COUNTERS(&q, 0, 0, 0);
		asio_cleanup_queue(&q);

		if (cycle == 100)
			tl_measure(&at100);
	}
	tl_measure(&at1000);
	printf("cycle 100: rss %ld kB, %ld threads, %ld fds, %ld maps; cycle 1000: rss %ld kB, %ld threads, %ld fds, %ld maps\n",
	       at100.rss_kb, at100.threads, at100.fds, at100.maps,
	       at1000.rss_kb, at1000.threads, at1000.fds, at1000.maps);
	CHECK(at1000.rss_kb - at100.rss_kb <= 4096, "VmRSS grew by %ld kB between cycle 100 and 1000 (limit 4096)",
	      at1000.rss_kb - at100.rss_kb);
	CHECK(at1000.fds <= at100.fds, "open descriptors grew from %ld to %ld", at100.fds, at1000.fds);
	CHECK(at1000.maps - at100.maps <= 16, "mappings grew from %ld to %ld", at100.maps, at1000.maps);
	CHECK(at1000.threads - at100.threads <= 4, "threads grew from %ld to %ld", at100.threads, at1000.threads);
	close(zero);
	close(null);
	return 0;
}
