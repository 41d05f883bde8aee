/*
 * t_rw_position: ASIO_WRITE and ASIO_READ on a regular file.
 *
 *  - data written by ASIO_WRITE is in the file, ASIO_READ reads it back;
 *  - requests use and advance the descriptor's current position like
 *    read(2)/write(2): two 100-byte writes leave the position at 200, two
 *    reads submitted back to back read consecutive ranges, an lseek() by the
 *    caller between drained requests is honoured, a request never moves the
 *    position by more than it transferred;
 *  - status = bytes transferred, returned_errno = 0;
 *  - submitted is 1 after asio_submit and 0 after asio_wait;
 *  - running_requests / allocated_requests after each submit, wait, put;
 *  - asio_wait with nothing submitted returns NULL at once;
 *  - asio_sync leaves finished requests for asio_wait, in order.
 */

#include "testlib.h"

int main(void)
{
	struct asio_queue q;
	struct asio_request *w1, *w2, *r1, *r2, *r;
	unsigned char file[400];
	int fd = tl_tmpfile("data", O_RDWR);
	int i;

	tl_watchdog(20, "t_rw_position");
	tl_init_queue(&q, 4096, 2);
	CHECK_PTR("asio_wait on an empty queue", NULL, asio_wait(&q));

	/* Two writes, submitted back to back. */
	w1 = tl_req(&q, ASIO_WRITE, fd, 100);
	tl_fill(w1->buffer, 100, 1, 0);
	w2 = tl_req(&q, ASIO_WRITE, fd, 100);
	tl_fill(w2->buffer, 100, 1, 100);
	CHECK_COUNTERS(&q, 2, 0, 0);
	asio_submit(w1);
	CHECK_EQ("submitted after asio_submit", 1, w1->submitted);
	CHECK_COUNTERS(&q, 2, 1, 0);
	asio_submit(w2);
	CHECK_EQ("submitted after asio_submit", 1, w2->submitted);
	CHECK_COUNTERS(&q, 2, 2, 0);

	r = asio_wait(&q);
	CHECK_PTR("first asio_wait", w1, r);
	CHECK_DONE(r, 100, 0);
	CHECK_EQ("op kept", ASIO_WRITE, r->op);
	CHECK_EQ("fd kept", fd, r->fd);
	CHECK_EQ("len kept", 100, r->len);
	CHECK_COUNTERS(&q, 2, 1, 0);
	r = asio_wait(&q);
	CHECK_PTR("second asio_wait", w2, r);
	CHECK_DONE(r, 100, 0);
	CHECK_COUNTERS(&q, 2, 0, 0);
	CHECK_PTR("asio_wait when all is collected", NULL, asio_wait(&q));
	CHECK_COUNTERS(&q, 2, 0, 0);
	CHECK_EQ("file position after two 100-byte writes", 200, tl_pos(fd));
	CHECK_EQ("file size", 200, tl_size(fd));
	CHECK_EQ("pread", 200, tl_pread_all(fd, file, sizeof(file), 0));
	CHECK_FILL("file contents", file, 200, 1, 0);
	asio_put(w1);
	asio_put(w2);
	CHECK_COUNTERS(&q, 0, 0, 0);

	/* The caller's lseek is honoured: read 100 bytes from offset 50. */
	CHECK_EQ("lseek", 50, lseek(fd, 50, SEEK_SET));
	r1 = tl_req(&q, ASIO_READ, fd, 100);
	memset(r1->buffer, 0, 4096);
	asio_submit(r1);
	CHECK_EQ("submitted", 1, r1->submitted);
	CHECK_COUNTERS(&q, 1, 1, 0);
	r = asio_wait(&q);
	CHECK_PTR("asio_wait", r1, r);
	CHECK_DONE(r, 100, 0);
	CHECK_FILL("data read at offset 50", r->buffer, 100, 1, 50);
	CHECK_EQ("position after reading 100 bytes at 50", 150, tl_pos(fd));
	CHECK_COUNTERS(&q, 1, 0, 0);
	asio_put(r1);

	/* Two reads back to back read consecutive ranges. */
	lseek(fd, 0, SEEK_SET);
	r1 = tl_req(&q, ASIO_READ, fd, 120);
	r2 = tl_req(&q, ASIO_READ, fd, 120);
	memset(r1->buffer, 0, 4096);
	memset(r2->buffer, 0, 4096);
	asio_submit(r1);
	asio_submit(r2);
	CHECK_COUNTERS(&q, 2, 2, 0);
	r = asio_wait(&q);
	CHECK_PTR("first read back", r1, r);
	CHECK_DONE(r, 120, 0);
	CHECK_FILL("first read", r->buffer, 120, 1, 0);
	r = asio_wait(&q);
	CHECK_PTR("second read back", r2, r);
	CHECK_DONE(r, 80, 0);			/* only 80 bytes left */
	CHECK_FILL("second read", r->buffer, 80, 1, 120);
	CHECK_EQ("position at end of file", 200, tl_pos(fd));
	asio_put(r1);
	asio_put(r2);

	/* Overwrite in the middle after an lseek, then append. */
	lseek(fd, 150, SEEK_SET);
	w1 = tl_req(&q, ASIO_WRITE, fd, 100);
	tl_fill(w1->buffer, 100, 2, 150);
	asio_submit(w1);
	r = asio_wait(&q);
	CHECK_DONE(r, 100, 0);
	CHECK_EQ("position after overwriting 150..250", 250, tl_pos(fd));
	CHECK_EQ("file size", 250, tl_size(fd));
	CHECK_EQ("pread", 250, tl_pread_all(fd, file, sizeof(file), 0));
	CHECK_FILL("file head untouched", file, 150, 1, 0);
	CHECK_FILL("overwritten part", file + 150, 100, 2, 150);
	asio_put(w1);

	/* asio_sync: everything finishes, the reads stay for asio_wait in order. */
	lseek(fd, 0, SEEK_SET);
	{
		struct asio_request *rs[5];
		for (i = 0; i < 5; i++) {
			rs[i] = tl_req(&q, ASIO_READ, fd, 50);
			rs[i]->user_data = &rs[i];
			asio_submit(rs[i]);
		}
		CHECK_COUNTERS(&q, 5, 5, 0);
		asio_sync(&q);
		CHECK_EQ("running_requests after asio_sync", 0, q.running_requests);
		CHECK_EQ("allocated_requests after asio_sync", 5, q.allocated_requests);
		CHECK_EQ("position after asio_sync of 5 reads", 250, tl_pos(fd));
		for (i = 0; i < 5; i++) {
			r = asio_wait(&q);
			CHECK_PTR("asio_wait after asio_sync", rs[i], r);
			CHECK_DONE(r, 50, 0);
			CHECK_EQ("running_requests", 0, q.running_requests);
			memcpy(file + 50 * i, r->buffer, 50);
		}
		CHECK_PTR("asio_wait after all collected", NULL, asio_wait(&q));
		CHECK_FILL("file head via 5 reads", file, 150, 1, 0);
		CHECK_FILL("overwritten part via 5 reads", file + 150, 100, 2, 150);
		for (i = 0; i < 5; i++)
			asio_put(rs[i]);
	}
	CHECK_COUNTERS(&q, 0, 0, 0);

	/* asio_sync with nothing running returns at once. */
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);

	asio_cleanup_queue(&q);
	close(fd);
	return 0;
}
