/*
 * t_ring_shortread: the program's own read(2) is never cut short by the
 * library's I/O.
 *
 * Round after round (ROUNDS, default 2000): four O_DIRECT ASIO_READs of
 * 64 KiB, one on each of four files (so that all four are in flight at
 * once, through the queue's io_uring where there is one), then the program
 * itself reads 8 MiB from /dev/zero with one read(2), then it collects the
 * four reads. Every read(2) of /dev/zero must come back whole, as it does
 * without the library: a completion that notified the submitting thread as
 * a signal does (io_uring without DEFER_TASKRUN, or a request handed to the
 * kernel's io-wq workers) makes it return short. Skipped (77) where the
 * filesystem has no O_DIRECT.
 *
 *   t_ring_shortread [ROUNDS]
 */

#include "testlib.h"

#define BS 65536
#define FILES 4
#define FILE_SIZE (4 << 20)
#define ZERO_READ (8 << 20)

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 2000, round, i, zero, short_reads = 0;
	int fds[FILES];
	struct asio_queue q;
	struct asio_request *r;
	char *big;
	ssize_t first_short = -1;

	tl_watchdog(120, "t_ring_shortread");
	for (i = 0; i < FILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "data%d", i);
		fds[i] = tl_direct_pattern_file(name, FILE_SIZE, 7 + (uint64_t)i);
	}
	zero = open("/dev/zero", O_RDONLY);
	CHECK(zero >= 0, "open(/dev/zero): %s", strerror(errno));
	big = (char *)tl_malloc(ZERO_READ);
	tl_init_queue(&q, BS, 1);

	for (round = 0; round < rounds; round++) {
		off_t off = ((off_t)round * BS) % FILE_SIZE;
		ssize_t n;
		for (i = 0; i < FILES; i++) {
			CHECK(lseek(fds[i], off, SEEK_SET) == off, "lseek: %s", strerror(errno));
			asio_submit(tl_req(&q, ASIO_READ, fds[i], BS));
		}
		n = read(zero, big, ZERO_READ);
		CHECK(n >= 0, "round %d: read(/dev/zero) failed: %s", round, strerror(errno));
		if (n != ZERO_READ && short_reads++ == 0)
			first_short = n;
		for (i = 0; i < FILES; i++) {
			r = asio_wait(&q);
			CHECK(r && r->fd == fds[i], "round %d: asio_wait returned %p, want the read of file %d", round, (void *)r, i);
			CHECK_DONE(r, BS, 0);
			CHECK_FILL("data read", r->buffer, BS, 7 + (uint64_t)i, (uint64_t)off);
			asio_put(r);
		}
	}
	CHECK(short_reads == 0,
	      "%d of %d read(2)s of 8 MiB from /dev/zero came back short beside O_DIRECT ASIO_READs (the first got %zd bytes); without the library none does",
	      short_reads, rounds, first_short);
	asio_cleanup_queue(&q);
	printf("%d rounds: every read(2) of 8 MiB from /dev/zero whole beside 4 O_DIRECT reads in flight\n", rounds);
	return 0;
}
