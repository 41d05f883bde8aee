/*
 * t_writeback: ASIO_WRITE_BACK requests and the max_writebacks limit.
 *
 *  - max_writebacks 2, 10 write-backs: after the n-th submit
 *    running_writebacks == running_requests == allocated_requests ==
 *    min(n, 2) (finished write-backs are reaped only when the limit is hit,
 *    one at a time, and recycled); at most 3 distinct requests are used;
 *  - after asio_sync all three counters are 0 and the file holds exactly the
 *    data, in submit order;
 *  - asio_wait with only write-backs in flight reaps them and returns NULL,
 *    counters 0;
 *  - a READ submitted before write-backs beyond the limit is collected by the
 *    blocking submit and still returned by asio_wait afterwards, with its data;
 *  - max_writebacks is read at every submit (lowered to 1, raised to 4);
 *  - ASIO_WRITE and ASIO_WRITE_BACK on one descriptor land in submit order.
 */

#include "testlib.h"

#define BS 4096
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static struct asio_queue q;

static struct asio_request *wb(int fd, uint64_t seed, uint64_t off)
{
	struct asio_request *r = tl_req(&q, ASIO_WRITE_BACK, fd, BS);
	tl_fill(r->buffer, BS, seed, off);
	asio_submit(r);
	CHECK_EQ("submitted after a write-back submit", 1, r->submitted);
	return r;
}

static void check_file(int fd, size_t size, uint64_t seed)
{
	unsigned char *buf = tl_malloc(size + 1);
	CHECK_EQ("file size", size, tl_size(fd));
	CHECK_EQ("pread", size, tl_pread_all(fd, buf, size + 1, 0));
	CHECK_FILL("file contents", buf, size, seed, 0);
	free(buf);
}

int main(void)
{
	struct asio_request *r, *seen[10], *rd;
	int nseen = 0, n, i;
	int fd = tl_tmpfile("out", O_RDWR), fd2 = tl_tmpfile("out2", O_RDWR), src = tl_tmpfile("src", O_RDWR);
	unsigned char data[BS];

	tl_watchdog(25, "t_writeback");
	tl_init_queue(&q, BS, 2);

	/* 10 write-backs with max_writebacks = 2. */
	for (n = 1; n <= 10; n++) {
		r = wb(fd, 51, (uint64_t)(n - 1) * BS);
		for (i = 0; i < nseen && seen[i] != r; i++)
			;
		if (i == nseen)
			seen[nseen++] = r;
		CHECK(q.running_writebacks == (uint)MIN(n, 2) && q.running_requests == (uint)MIN(n, 2) &&
		      q.allocated_requests == (uint)MIN(n, 2),
		      "after write-back #%d: expected running_writebacks = running_requests = allocated_requests = %d, "
		      "got %u, %u, %u", n, MIN(n, 2), q.running_writebacks, q.running_requests, q.allocated_requests);
	}
	CHECK(nseen <= 3, "10 write-backs with max_writebacks 2 used %d distinct requests, expected at most 3 (recycling)", nseen);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_EQ("position after the write-backs", 10 * BS, tl_pos(fd));
	check_file(fd, 10 * BS, 51);
	CHECK_PTR("asio_wait after asio_sync of write-backs", NULL, asio_wait(&q));

	/* asio_wait with only write-backs in flight. */
	wb(fd, 51, 10 * BS);
	wb(fd, 51, 11 * BS);
	CHECK_COUNTERS(&q, 2, 2, 2);
	CHECK_PTR("asio_wait with only write-backs in flight", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd, 12 * BS, 51);

	/* A READ before write-backs beyond the limit stays available. */
	tl_fill(data, BS, 52, 0);
	tl_write_all(src, data, BS);
	lseek(src, 0, SEEK_SET);
	rd = tl_req(&q, ASIO_READ, src, BS);
	asio_submit(rd);
	CHECK_COUNTERS(&q, 1, 1, 0);
	for (n = 1; n <= 5; n++) {
		wb(fd2, 53, (uint64_t)(n - 1) * BS);
		CHECK(q.running_writebacks == (uint)MIN(n, 2),
		      "after write-back #%d behind a READ: expected running_writebacks %d, got %u",
		      n, MIN(n, 2), q.running_writebacks);
	}
	r = asio_wait(&q);
	CHECK_PTR("asio_wait after the write-backs", rd, r);
	CHECK_DONE(r, BS, 0);
	CHECK_FILL("data of the READ", r->buffer, BS, 52, 0);
	asio_put(r);
	CHECK_PTR("asio_wait with only write-backs left", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd2, 5 * BS, 53);

	/* max_writebacks is read at every submit. */
	lseek(fd2, 0, SEEK_SET);
	CHECK(ftruncate(fd2, 0) == 0, "ftruncate: %s", strerror(errno));
	wb(fd2, 54, 0);
	wb(fd2, 54, BS);
	CHECK_EQ("running_writebacks with max 2", 2, q.running_writebacks);
	q.max_writebacks = 1;
	wb(fd2, 54, 2 * BS);
	CHECK_EQ("running_writebacks after lowering max to 1", 1, q.running_writebacks);
	CHECK_EQ("allocated_requests after lowering max to 1", 1, q.allocated_requests);
	q.max_writebacks = 4;
	for (n = 2; n <= 4; n++) {
		wb(fd2, 54, (uint64_t)(n + 1) * BS);
		CHECK_EQ("running_writebacks after raising max to 4", n, q.running_writebacks);
		CHECK_EQ("allocated_requests after raising max to 4", n, q.allocated_requests);
	}
	wb(fd2, 54, 6 * BS);
	CHECK_EQ("running_writebacks at max 4", 4, q.running_writebacks);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	check_file(fd2, 7 * BS, 54);

	/* WRITE and WRITE_BACK on one descriptor, in submit order. */
	lseek(fd2, 0, SEEK_SET);
	CHECK(ftruncate(fd2, 0) == 0, "ftruncate: %s", strerror(errno));
	q.max_writebacks = 2;
	wb(fd2, 55, 0);
	rd = tl_req(&q, ASIO_WRITE, fd2, BS);
	tl_fill(rd->buffer, BS, 55, BS);
	asio_submit(rd);
	wb(fd2, 55, 2 * BS);
	wb(fd2, 55, 3 * BS);		/* reaps the first write-back */
	CHECK_EQ("running_writebacks", 2, q.running_writebacks);
	r = asio_wait(&q);
	CHECK_PTR("the WRITE among write-backs", rd, r);
	CHECK_DONE(r, BS, 0);
	asio_put(r);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_PTR("asio_wait at the end", NULL, asio_wait(&q));
	check_file(fd2, 4 * BS, 55);

	asio_cleanup_queue(&q);
	close(fd);
	close(fd2);
	close(src);
	return 0;
}
