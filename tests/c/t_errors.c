/*
 * t_errors: failing reads and writes come back with status -1 and the errno.
 *
 *  - read/write on a descriptor that is not open: EBADF;
 *  - write to an O_RDONLY descriptor, read from an O_WRONLY one: EBADF;
 *  - read from a directory: EISDIR;
 *  - read into / write from an unmapped caller buffer: EFAULT;
 *  - len larger than the request's own buffer (read and write): status -1,
 *    returned_errno EINVAL, the buffer untouched, the file position and size
 *    unchanged; len == buffer_size works;
 *  - a caller that points r->buffer at its own memory is served from that
 *    memory (read and write), and the next asio_get of the recycled request
 *    has buffer back at its own page-aligned buffer;
 *  - after a failure the queue goes on working (counters, next requests).
 */

#include "testlib.h"
#include <sys/mman.h>

#define BS 8192u

static struct asio_queue q;

static struct asio_request *run(enum asio_op op, int fd, uint len, byte *buffer)
{
	struct asio_request *r = tl_req(&q, op, fd, len);
	if (buffer)
		r->buffer = buffer;
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_EQ("submitted", 0, r->submitted);
	return r;
}

static void expect_error(enum asio_op op, int fd, uint len, byte *buffer, int err, const char *what)
{
	struct asio_request *r = run(op, fd, len, buffer);
	CHECK(r->status == -1 && r->returned_errno == err,
	      "%s: expected status -1 errno %d (%s), got status %d errno %d (%s)",
	      what, err, strerror(err), r->status, r->returned_errno, strerror(r->returned_errno));
	asio_put(r);
	CHECK_COUNTERS(&q, 0, 0, 0);
}

int main(void)
{
	struct asio_request *r;
	byte *own, *mine, *bad;
	int fd, rdonly, wronly, dir, badfd, i;
	unsigned char *data = tl_malloc(3 * BS);
	char path[PATH_MAX + 256];

	tl_watchdog(20, "t_errors");
	tl_init_queue(&q, BS, 2);

	fd = tl_tmpfile("data", O_RDWR);
	tl_fill(data, 3 * BS, 9, 0);
	tl_write_all(fd, data, 3 * BS);
	tl_tmppath("data", path, sizeof(path));
	rdonly = open(path, O_RDONLY);
	wronly = open(path, O_WRONLY);
	dir = open(tl_tmpdir(), O_RDONLY | O_DIRECTORY);
	CHECK(rdonly >= 0 && wronly >= 0 && dir >= 0, "open: %s", strerror(errno));

	/* A descriptor number that is surely not open. */
	for (badfd = 900; fcntl(badfd, F_GETFD) >= 0; badfd++)
		;
	expect_error(ASIO_READ, badfd, 100, NULL, EBADF, "read from a closed fd");
	expect_error(ASIO_WRITE, badfd, 100, NULL, EBADF, "write to a closed fd");
	expect_error(ASIO_READ, -1, 100, NULL, EBADF, "read from fd -1");
	expect_error(ASIO_WRITE, rdonly, 100, NULL, EBADF, "write to an O_RDONLY fd");
	expect_error(ASIO_READ, wronly, 100, NULL, EBADF, "read from an O_WRONLY fd");
	expect_error(ASIO_READ, dir, 100, NULL, EISDIR, "read from a directory");
	CHECK_EQ("file size after failed writes", 3 * BS, tl_size(fd));

	/* Unmapped caller memory. */
	bad = mmap(NULL, BS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(bad != MAP_FAILED, "mmap: %s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	expect_error(ASIO_READ, fd, 100, bad, EFAULT, "read into a PROT_NONE buffer");
	expect_error(ASIO_WRITE, fd, 100, bad, EFAULT, "write from a PROT_NONE buffer");
	CHECK_EQ("position after EFAULT", 0, tl_pos(fd));

	/* len larger than the buffer. */
	lseek(fd, 0, SEEK_SET);
	r = tl_req(&q, ASIO_READ, fd, BS + 4096);
	memset(r->buffer, 0xEE, BS);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK(r->status == -1 && r->returned_errno == EINVAL,
	      "read with len %u > buffer_size %u: expected status -1 errno EINVAL, got status %d errno %d (%s)",
	      BS + 4096, BS, r->status, r->returned_errno, strerror(r->returned_errno));
	for (i = 0; i < (int)BS; i++)
		CHECK(r->buffer[i] == 0xEE, "read with len > buffer_size changed buffer byte %d", i);
	CHECK_EQ("position after the refused read", 0, tl_pos(fd));
	asio_put(r);

	r = tl_req(&q, ASIO_WRITE, fd, BS + 1);
	tl_fill(r->buffer, BS, 10, 0);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK(r->status == -1 && r->returned_errno == EINVAL,
	      "write with len %u > buffer_size %u: expected status -1 errno EINVAL, got status %d errno %d (%s)",
	      BS + 1, BS, r->status, r->returned_errno, strerror(r->returned_errno));
	asio_put(r);
	CHECK_EQ("position after the refused write", 0, tl_pos(fd));
	CHECK_EQ("file size after the refused write", 3 * BS, tl_size(fd));
	CHECK_EQ("pread", 3 * BS, tl_pread_all(fd, data, 3 * BS, 0));
	CHECK_FILL("file after the refused write", data, 3 * BS, 9, 0);

	/* len == buffer_size is fine, and the queue still works. */
	r = run(ASIO_READ, fd, BS, NULL);
	CHECK_DONE(r, (int)BS, 0);
	CHECK_FILL("read of buffer_size bytes", r->buffer, BS, 9, 0);
	own = r->buffer;
	asio_put(r);
	CHECK_EQ("position", BS, tl_pos(fd));

	/* A caller's buffer: read into it. */
	mine = tl_malloc(BS + 16);
	memset(mine, 0, BS + 16);
	r = tl_req(&q, ASIO_READ, fd, 3000);
	CHECK_PTR("recycled request's buffer", own, r->buffer);
	memset(own, 0x77, BS);
	r->buffer = mine + 3;			/* not even aligned */
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 3000, 0);
	CHECK_PTR("buffer pointer kept until put", mine + 3, r->buffer);
	CHECK_FILL("data read into the caller's buffer", mine + 3, 3000, 9, BS);
	CHECK(mine[2] == 0 && mine[3003] == 0, "bytes around the caller's buffer changed");
	for (i = 0; i < (int)BS; i++)
		CHECK(own[i] == 0x77, "the request's own buffer changed at byte %d on a read into the caller's buffer", i);
	asio_put(r);

	r = asio_get(&q);
	CHECK_PTR("buffer after recycling a request pointed at caller memory", own, r->buffer);

	/* A caller's buffer: write from it. */
	tl_fill(mine, 2000, 11, 0);
	r->op = ASIO_WRITE;
	r->fd = fd;
	r->len = 2000;
	r->buffer = mine;
	lseek(fd, 100, SEEK_SET);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	CHECK_DONE(r, 2000, 0);
	asio_put(r);
	CHECK_EQ("pread", 2000, tl_pread_all(fd, data, 2000, 100));
	CHECK_FILL("data written from the caller's buffer", data, 2000, 11, 0);
	r = asio_get(&q);
	CHECK_PTR("buffer after recycling", own, r->buffer);
	CHECK(((uintptr_t)r->buffer % TL_PAGE) == 0, "buffer not page-aligned");
	asio_put(r);

	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	free(mine);
	free(data);
	munmap(bad, BS);
	close(fd);
	close(rdonly);
	close(wronly);
	close(dir);
	return 0;
}
