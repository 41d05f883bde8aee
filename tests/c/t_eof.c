/*
 * t_eof: reads at and near the end of a file.
 *
 *  - a read that crosses the end returns the remaining byte count, with the
 *    right data and returned_errno 0;
 *  - a read at the end returns status 0, returned_errno 0 (not an error);
 *  - an empty file reads as 0 at once;
 *  - several reads queued past the end: the first gets the tail, the rest 0.
 */

#include "testlib.h"

static struct asio_request *do_read(struct asio_queue *q, int fd, uint len)
{
	struct asio_request *r = tl_req(q, ASIO_READ, fd, len);
	memset(r->buffer, 0xEE, q->buffer_size);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(q));
	return r;
}

int main(void)
{
	struct asio_queue q;
	struct asio_request *r, *rs[4];
	unsigned char data[1000];
	int fd = tl_tmpfile("data", O_RDWR);
	int empty = tl_tmpfile("empty", O_RDWR);
	int i;

	tl_watchdog(20, "t_eof");
	tl_fill(data, sizeof(data), 5, 0);
	tl_write_all(fd, data, sizeof(data));
	lseek(fd, 0, SEEK_SET);
	tl_init_queue(&q, 4096, 2);

	/* The whole file in one read that asks for more. */
	r = do_read(&q, fd, 4096);
	CHECK_DONE(r, 1000, 0);
	CHECK_FILL("whole file", r->buffer, 1000, 5, 0);
	CHECK(r->buffer[1000] == 0xEE, "byte after the data changed: 0x%02x", r->buffer[1000]);
	asio_put(r);

	/* At the end. */
	r = do_read(&q, fd, 4096);
	CHECK_DONE(r, 0, 0);
	asio_put(r);
	CHECK_EQ("position", 1000, tl_pos(fd));

	/* A short read at the end. */
	lseek(fd, 900, SEEK_SET);
	r = do_read(&q, fd, 512);
	CHECK_DONE(r, 100, 0);
	CHECK_FILL("tail", r->buffer, 100, 5, 900);
	asio_put(r);

	/* An empty file. */
	r = do_read(&q, empty, 4096);
	CHECK_DONE(r, 0, 0);
	asio_put(r);

	/* Four reads queued from 700: 300 bytes, then 0, 0, 0. */
	lseek(fd, 700, SEEK_SET);
	for (i = 0; i < 4; i++) {
		rs[i] = tl_req(&q, ASIO_READ, fd, 4096);
		asio_submit(rs[i]);
	}
	for (i = 0; i < 4; i++) {
		r = asio_wait(&q);
		CHECK_PTR("asio_wait order", rs[i], r);
		CHECK_DONE(r, i ? 0 : 300, 0);
		if (!i)
			CHECK_FILL("tail from 700", r->buffer, 300, 5, 700);
		asio_put(r);
	}
	CHECK_COUNTERS(&q, 0, 0, 0);

	/* A zero-length read is not end of file but still status 0. */
	lseek(fd, 0, SEEK_SET);
	r = do_read(&q, fd, 0);
	CHECK_DONE(r, 0, 0);
	CHECK_EQ("position after a zero-length read", 0, tl_pos(fd));
	asio_put(r);

	asio_cleanup_queue(&q);
	close(fd);
	close(empty);
	return 0;
}
