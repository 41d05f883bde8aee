/*
 * t_threads: 4 threads, each with its own queue and file, 10240 requests
 * each, at the same time.
 *
 * Every round a thread rewrites 16 blocks of 512 bytes (ASIO_WRITE and
 * ASIO_WRITE_BACK alternating, max_writebacks 3) with data unique to the
 * thread and round, drains (asio_sync, then the ASIO_WRITEs through
 * asio_wait, in order, status 512), seeks back and reads the blocks again
 * with 4 reads in flight, verifying every byte. Counters are checked every
 * round and at the end; a mismatch in any thread fails the test.
 */

#include "testlib.h"

#define THREADS 4
#define ROUNDS 320
#define BLOCKS 16
#define BLK 512

struct job {
	int id;
	int fd;
	long requests;
};

static void *worker(void *arg)
{
	struct job *job = arg;
	struct asio_queue q;
	struct asio_request *r, *writes[BLOCKS];
	int round, i, nwrites, next, done;

	tl_init_queue(&q, 4096, 3);
	for (round = 0; round < ROUNDS; round++) {
		uint64_t seed = (uint64_t)job->id * 100000 + round;

		CHECK_EQ("lseek", 0, lseek(job->fd, 0, SEEK_SET));
		nwrites = 0;
		for (i = 0; i < BLOCKS; i++) {
			r = tl_req(&q, (i & 1) ? ASIO_WRITE_BACK : ASIO_WRITE, job->fd, BLK);
			tl_fill(r->buffer, BLK, seed, (uint64_t)i * BLK);
			asio_submit(r);
			if (!(i & 1))
				writes[nwrites++] = r;
			CHECK(q.running_writebacks <= 3, "thread %d: running_writebacks %u > 3", job->id, q.running_writebacks);
		}
		asio_sync(&q);
		CHECK_EQ("running_requests after asio_sync", 0, q.running_requests);
		CHECK_EQ("running_writebacks after asio_sync", 0, q.running_writebacks);
		CHECK_EQ("allocated_requests after asio_sync (the ASIO_WRITEs)", nwrites, q.allocated_requests);
		for (i = 0; i < nwrites; i++) {
			r = asio_wait(&q);
			CHECK(r == writes[i], "thread %d round %d: asio_wait returned the wrong write (#%d expected)", job->id, round, i);
			CHECK_DONE(r, BLK, 0);
			asio_put(r);
		}
		CHECK_PTR("asio_wait after the writes", NULL, asio_wait(&q));
		CHECK_COUNTERS(&q, 0, 0, 0);

		/* Read back, 4 in flight. */
		CHECK_EQ("lseek", 0, lseek(job->fd, 0, SEEK_SET));
		for (next = done = 0; done < BLOCKS;) {
			while (next < BLOCKS && next - done < 4) {
				r = tl_req(&q, ASIO_READ, job->fd, BLK);
				r->user_data = (void *)(intptr_t)next++;
				asio_submit(r);
			}
			r = asio_wait(&q);
			CHECK(r && (intptr_t)r->user_data == done, "thread %d round %d: read #%d came back out of order",
			      job->id, round, done);
			CHECK_DONE(r, BLK, 0);
			CHECK_FILL("data read back", r->buffer, BLK, seed, (uint64_t)done * BLK);
			asio_put(r);
			done++;
		}
		CHECK_COUNTERS(&q, 0, 0, 0);
		job->requests += 2 * BLOCKS;
	}
	asio_cleanup_queue(&q);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	struct job jobs[THREADS];
	char name[32];
	int i;

	tl_watchdog(55, "t_threads");
	for (i = 0; i < THREADS; i++) {
		snprintf(name, sizeof(name), "file%d", i);
		jobs[i].id = i;
		jobs[i].fd = tl_tmpfile(name, O_RDWR);
		jobs[i].requests = 0;
	}
	for (i = 0; i < THREADS; i++)
		CHECK(!pthread_create(&t[i], NULL, worker, &jobs[i]), "pthread_create failed");
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ("requests done by a thread", ROUNDS * 2 * BLOCKS, jobs[i].requests);
		CHECK_EQ("file size", BLOCKS * BLK, tl_size(jobs[i].fd));
		close(jobs[i].fd);
	}
	return 0;
}
