/*
 * t_direct_unaligned: O_DIRECT rules come back as errors, and the library's
 * own buffers satisfy them.
 *
 *  - an aligned O_DIRECT read (len 4096) into the request's own buffer works
 *    (the buffer is usable for O_DIRECT) and returns the right data;
 *  - an O_DIRECT read with an unaligned len (100): status -1, EINVAL;
 *  - an O_DIRECT read into an unaligned caller buffer: status -1, EINVAL
 *    (where the device requires that alignment);
 *  - an aligned O_DIRECT write from the own buffer works.
 * Skipped (77) when the temporary directory's filesystem has no O_DIRECT or
 * does not enforce its alignment (checked with plain read(2) first).
 */

#include "testlib.h"

int main(void)
{
	struct asio_queue q;
	struct asio_request *r;
	unsigned char *data = tl_alloc_aligned(65536, TL_PAGE);
	unsigned char *probe = tl_alloc_aligned(8192, TL_PAGE);
	int fd = tl_tmpfile("data", O_RDWR), dfd;
	ssize_t n;

	tl_watchdog(20, "t_direct_unaligned");
	tl_fill(data, 65536, 21, 0);
	tl_write_all(fd, data, 65536);
	fsync(fd);
	dfd = tl_tmpopen("data", O_RDWR | O_DIRECT);
	if (dfd < 0 && errno == EINVAL)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(dfd >= 0, "open(O_DIRECT): %s", strerror(errno));
	n = read(dfd, probe, 100);
	if (n >= 0 || errno != EINVAL)
		SKIP("O_DIRECT on %s accepts an unaligned length (read returned %zd)", tl_tmpdir(), n);
	CHECK_EQ("position after the probe", 0, lseek(dfd, 0, SEEK_SET));

	tl_init_queue(&q, 65536, 2);

	r = tl_req(&q, ASIO_READ, dfd, 4096);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 4096, 0);
	CHECK_FILL("O_DIRECT read", r->buffer, 4096, 21, 0);
	asio_put(r);

	r = tl_req(&q, ASIO_READ, dfd, 100);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK(r->status == -1 && r->returned_errno == EINVAL,
	      "O_DIRECT read of 100 bytes: expected status -1 errno EINVAL, got status %d errno %d (%s)",
	      r->status, r->returned_errno, strerror(r->returned_errno));
	asio_put(r);
	CHECK_EQ("position after the failed read", 4096, tl_pos(dfd));

	/* Memory alignment: only where the device requires more than 8 bytes. */
	if (pread(dfd, probe + 8, 4096, 0) < 0 && errno == EINVAL) {
		r = tl_req(&q, ASIO_READ, dfd, 4096);
		r->buffer = probe + 8;
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(&q));
		CHECK(r->status == -1 && r->returned_errno == EINVAL,
		      "O_DIRECT read into an unaligned buffer: expected status -1 errno EINVAL, got status %d errno %d (%s)",
		      r->status, r->returned_errno, strerror(r->returned_errno));
		asio_put(r);
		CHECK_EQ("position after the failed read", 4096, tl_pos(dfd));
	} else {
		printf("note: the device accepts 8-byte aligned O_DIRECT buffers; unaligned-buffer check skipped\n");
	}

	r = tl_req(&q, ASIO_WRITE, dfd, 8192);
	tl_fill(r->buffer, 8192, 22, 0);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 8192, 0);
	asio_put(r);
	CHECK_EQ("pread", 8192, tl_pread_all(fd, data, 8192, 4096));
	CHECK_FILL("O_DIRECT write", data, 8192, 22, 0);

	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	close(dfd);
	close(fd);
	free(data);
	free(probe);
	return 0;
}
