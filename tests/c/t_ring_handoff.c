/*
 * t_ring_handoff: a queue handed from thread to thread, one at a time, with
 * requests in flight, works on.
 *
 * Round after round (ROUNDS, default 200), a new thread submits four O_DIRECT
 * ASIO_READs (one on each of four files) and eight 64 KiB write-backs to a
 * fifth O_DIRECT file, then hands the queue to the main thread, which
 * collects the reads (data checked), syncs, and checks the file. In even
 * rounds the submitting thread has ended before the main thread calls; in
 * odd rounds it lives on, blocked, and never calls again. A queue's io_uring
 * belongs to the thread that made it; the next thread must still get every
 * request back, in order and right, and never hang. Skipped (77) where the
 * filesystem has no O_DIRECT.
 *
 *   t_ring_handoff [ROUNDS]
 */

#include "testlib.h"

#define BS 65536
#define FILES 4
#define WB 8

static struct asio_queue q;
static int fds[FILES], wfd;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int submitted, released;
static uint64_t wb_base;

static void *submitter(void *arg)
{
	int i, stay = *(int *)arg;
	for (i = 0; i < FILES; i++) {
		CHECK(lseek(fds[i], 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
		asio_submit(tl_req(&q, ASIO_READ, fds[i], BS));
	}
	for (i = 0; i < WB; i++) {
		struct asio_request *r = tl_req(&q, ASIO_WRITE_BACK, wfd, BS);
		tl_fill(r->buffer, BS, 3, wb_base + (uint64_t)i * BS);
		asio_submit(r);
	}
	pthread_mutex_lock(&lock);
	submitted = 1;
	pthread_cond_broadcast(&cond);
	while (stay && !released)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200, round, i;
	char *back = (char *)tl_alloc_aligned(WB * BS, TL_PAGE);

	tl_watchdog(120, "t_ring_handoff");
	for (i = 0; i < FILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "data%d", i);
		fds[i] = tl_direct_pattern_file(name, BS, 11 + (uint64_t)i);
	}
	close(tl_tmpfile("wb", O_WRONLY));
	wfd = tl_tmpopen("wb", O_WRONLY | O_DIRECT);
	CHECK(wfd >= 0, "open(O_DIRECT): %s", strerror(errno));
	tl_init_queue(&q, BS, WB);

	for (round = 0; round < rounds; round++) {
		pthread_t t;
		int stay = round % 2;
		struct asio_request *r;
		submitted = released = 0;
		wb_base = (uint64_t)round * WB * BS;
		CHECK(!pthread_create(&t, NULL, submitter, &stay), "pthread_create failed");
		if (!stay) {
			pthread_join(t, NULL);
		} else {
			pthread_mutex_lock(&lock);
			while (!submitted)
				pthread_cond_wait(&cond, &lock);
			pthread_mutex_unlock(&lock);
		}
		for (i = 0; i < FILES; i++) {
			r = asio_wait(&q);
			CHECK(r && r->fd == fds[i], "round %d: asio_wait returned %p, want the read of file %d", round, (void *)r, i);
			CHECK_DONE(r, BS, 0);
			CHECK_FILL("data read", r->buffer, BS, 11 + (uint64_t)i, 0);
			asio_put(r);
		}
		asio_sync(&q);
		CHECK_COUNTERS(&q, 0, 0, 0);
		CHECK_EQ("write-back file position", (long long)(wb_base + WB * BS), (long long)lseek(wfd, 0, SEEK_CUR));
		if (stay) {
			pthread_mutex_lock(&lock);
			released = 1;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
			pthread_join(t, NULL);
		}
	}
	{
		int rfd = tl_tmpopen("wb", O_RDONLY);
		off_t off;
		for (off = 0; off < (off_t)rounds * WB * BS; off += WB * BS) {
			CHECK_EQ("bytes read back", (long long)WB * BS, (long long)tl_pread_all(rfd, back, WB * BS, off));
			CHECK_FILL("write-backs", back, WB * BS, 3, (uint64_t)off);
		}
		close(rfd);
	}
	asio_cleanup_queue(&q);
	printf("%d rounds: reads and write-backs left in flight by another thread collected right\n", rounds);
	return 0;
}
