/*
 * t_leak: memory stays flat over many cycles.
 *
 *   t_leak [CYCLES INITS]   (default 200000 20000; make leakcheck: 1000000 100000)
 *
 * Phase 1: CYCLES get/submit/wait/put cycles on one queue (ASIO_READ of a
 * file and of /dev/zero, ASIO_WRITE to /dev/null, every 4th an
 * ASIO_WRITE_BACK with an asio_sync now and then), every status and the
 * file data checked. Phase 2: INITS init/cleanup cycles, each with requests
 * got, submitted, waited for and put.
 *
 * VmRSS, threads, descriptors and mappings are measured at ten checkpoints
 * of each phase; the first is the baseline (the worker pool and the
 * runtime settle). The Go collector runs only when 4 MiB of garbage have
 * piled up (its minimum heap goal), so VmRSS may rise by that much before it
 * levels off: a leak shows as growth beyond it, or as growth that goes on
 * in the second half. So after the baseline
 *   - VmRSS may grow by at most 8 MiB (the 4 MiB, and the runtime's memory for
 *     the threads and Ps the executor adds), and by at most 2 MiB in the
 *     second half;
 *   - threads may grow only as far as the executor raises GOMAXPROCS (64),
 *     and mappings with them (a stack and its guard per thread) plus 32;
 *   - no descriptor may be left open.
 * A request buffer (8 KiB of mappings) lost per thousand cycles, or a Go
 * queue (~1 KiB) per init/cleanup, fails it. The figures are printed.
 */

#include "testlib.h"

#define BS 4096
#define RSS_SLACK_KB (8 << 10)
#define RSS_SECOND_HALF_KB (2 << 10)
#define THREADS_SLACK 64
#define MAPS_SLACK (2 * THREADS_SLACK + 32)

static void report(const char *phase, long done, const struct tl_usage *u, const struct tl_usage *base,
		   const struct tl_usage *half)
{
	printf("%-12s %9ld cycles: VmRSS %6ld KiB (%+ld), threads %3ld, descriptors %3ld, mappings %4ld\n", phase, done,
	       u->rss_kb, base ? u->rss_kb - base->rss_kb : 0, u->threads, u->fds, u->maps);
	fflush(stdout);
	if (!base)
		return;
	CHECK(u->rss_kb - base->rss_kb <= RSS_SLACK_KB, "%s: VmRSS grew by %ld KiB after %ld cycles (more than %d KiB)",
	      phase, u->rss_kb - base->rss_kb, done, RSS_SLACK_KB);
	CHECK(!half || u->rss_kb - half->rss_kb <= RSS_SECOND_HALF_KB,
	      "%s: VmRSS grew by %ld KiB in the second half, after %ld cycles (more than %d KiB)", phase,
	      u->rss_kb - half->rss_kb, done, RSS_SECOND_HALF_KB);
	CHECK(u->maps - base->maps <= MAPS_SLACK, "%s: %ld mappings more after %ld cycles", phase, u->maps - base->maps, done);
	CHECK(u->threads - base->threads <= THREADS_SLACK, "%s: %ld threads more after %ld cycles", phase,
	      u->threads - base->threads, done);
	CHECK(u->fds <= base->fds, "%s: %ld descriptors more after %ld cycles", phase, u->fds - base->fds, done);
}

/* Measure at checkpoint k (1..10) of a phase. */
static void checkpoint(const char *phase, int k, long done, struct tl_usage *base, struct tl_usage *half)
{
	struct tl_usage u;
	tl_measure(&u);
	if (k == 1)
		*base = u;
	if (k == 5)
		*half = u;
	report(phase, done, &u, k == 1 ? NULL : base, k > 5 ? half : NULL);
}

static int file_fd, zero_fd, null_fd;

/* One get/submit/wait/put cycle of kind i % 4. */
static void cycle(struct asio_queue *q, long i)
{
	struct asio_request *r = asio_get(q);
	CHECK(r != NULL, "asio_get returned NULL");
	switch (i % 4) {
	case 0:		/* a block of the file, in turn */
		if ((i / 4) % 16 == 0)
			CHECK(lseek(file_fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
		r->op = ASIO_READ;
		r->fd = file_fd;
		r->len = BS;
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(q));
		CHECK_DONE(r, BS, 0);
		CHECK_FILL("file data", r->buffer, BS, 61, (uint64_t)((i / 4) % 16) * BS);
		break;
	case 1:
		r->op = ASIO_READ;
		r->fd = zero_fd;
		r->len = BS;
		r->buffer[0] = 1;
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(q));
		CHECK_DONE(r, BS, 0);
		CHECK(!r->buffer[0], "a read of /dev/zero left a non-zero byte");
		break;
	case 2:
		r->op = ASIO_WRITE;
		r->fd = null_fd;
		r->len = BS;
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(q));
		CHECK_DONE(r, BS, 0);
		break;
	case 3:		/* a write-back: recycled by the next calls */
		r->op = ASIO_WRITE_BACK;
		r->fd = null_fd;
		r->len = BS;
		asio_submit(r);
		if ((i / 4) % 8 == 0) {
			asio_sync(q);
			CHECK_COUNTERS(q, 0, 0, 0);
		}
		return;
	}
	asio_put(r);
}

int main(int argc, char **argv)
{
	long cycles = 200000, inits = 20000, i;
	struct tl_usage base, half, u;
	struct asio_queue q;
	unsigned char *data;
	double t0;

	if (argc >= 3) {
		cycles = atol(argv[1]);
		inits = atol(argv[2]);
	}
	CHECK(cycles >= 10 && inits >= 10, "usage: t_leak [CYCLES INITS] (at least 10 each)");
	tl_watchdog(600, "t_leak");
	file_fd = tl_tmpfile("data", O_RDWR);
	data = tl_malloc(16 * BS);
	tl_fill(data, 16 * BS, 61, 0);
	tl_write_all(file_fd, data, 16 * BS);
	free(data);
	zero_fd = open("/dev/zero", O_RDONLY);
	null_fd = open("/dev/null", O_WRONLY);
	CHECK(zero_fd >= 0 && null_fd >= 0, "open: %s", strerror(errno));

	printf("phase 1: %ld get/submit/wait/put cycles on one queue\n", cycles);
	tl_init_queue(&q, BS, 3);
	tl_measure(&u);
	report("start", 0, &u, NULL, NULL);
	t0 = tl_now();
	for (i = 0; i < cycles; i++) {
		cycle(&q, i);
		if ((i + 1) % (cycles / 10) == 0)
			checkpoint("cycles", (int)((i + 1) / (cycles / 10)), i + 1, &base, &half);
	}
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	printf("phase 1: %.0f cycles/s\n", cycles / (tl_now() - t0));

	printf("phase 2: %ld init/cleanup cycles\n", inits);
	t0 = tl_now();
	for (i = 0; i < inits; i++) {
		long k;
		tl_init_queue(&q, 1 << 16, 2);
		for (k = 0; k < 4; k++)
			cycle(&q, i * 4 + k);
		asio_sync(&q);
		CHECK_COUNTERS(&q, 0, 0, 0);
		asio_cleanup_queue(&q);
		if ((i + 1) % (inits / 10) == 0)
			checkpoint("init/cleanup", (int)((i + 1) / (inits / 10)), i + 1, &base, &half);
	}
	printf("phase 2: %.0f cycles/s\n", inits / (tl_now() - t0));
	close(file_fd);
	close(zero_fd);
	close(null_fd);
	return 0;
}
