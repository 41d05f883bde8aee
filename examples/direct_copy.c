/*
 *	ucw-asio demo: copy a file with O_DIRECT through the asio API, the way
 *	libucw's fb-direct fastbuf back-end streams: one read ahead of the
 *	consumer, each buffer written back with ASIO_WRITE_BACK (at most
 *	max_writebacks in flight), the tail rounded up to a block and cut with
 *	ftruncate(). Then the copy is verified byte for byte and timed against
 *	a plain read()/write() copy of the same file.
 *
 *	Usage: direct_copy [SIZE_MIB [DIR]]   (default 256 MiB in $TMPDIR or /tmp)
 */

#define _GNU_SOURCE
#include <ucw/asio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUFFER_SIZE (1 << 20)
#define BLOCK 4096

static void die(const char *what)
{
	fprintf(stderr, "direct_copy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Opens with O_DIRECT where the filesystem allows it. */
static int open_direct(const char *name, int flags, int *direct)
{
	int fd = open(name, flags | O_DIRECT, 0644);
	if (fd >= 0) {
		*direct = 1;
		return fd;
	}
	if (errno != EINVAL)
		die(name);
	*direct = 0;
	fd = open(name, flags, 0644);
	if (fd < 0)
		die(name);
	return fd;
}

static void generate(const char *name, long long size)
{
	static unsigned char buf[BUFFER_SIZE];
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(name);
	unsigned long long x = 0x9E3779B97F4A7C15ULL;
	for (long long done = 0; done < size; ) {
		for (size_t i = 0; i < sizeof(buf); i += 8) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		size_t n = size - done < (long long)sizeof(buf) ? (size_t)(size - done) : sizeof(buf);
		if (write(fd, buf, n) != (ssize_t)n)
			die("write");
		done += n;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		die("fsync");
}

/* The asio copy; returns the number of bytes copied. */
static long long asio_copy(const char *from, const char *to, int *direct)
{
	int din, dout;
	int in = open_direct(from, O_RDONLY, &din);
	int out = open_direct(to, O_WRONLY | O_CREAT | O_TRUNC, &dout);
	*direct = din && dout;

	struct asio_queue q;
	q.buffer_size = BUFFER_SIZE;
	q.max_writebacks = 4;
	asio_init_queue(&q);

	struct asio_request *r = asio_get(&q);
	r->op = ASIO_READ;
	r->fd = in;
	r->len = BUFFER_SIZE;
	asio_submit(r);

	long long total = 0;
	for (;;) {
		r = asio_wait(&q);
		if (r->status < 0) {
			errno = r->returned_errno;
			die("read");
		}
		uint n = r->status;
		if (!n) {
			asio_put(r);
			break;
		}
		if (n == BUFFER_SIZE) {
			/* Read ahead while this buffer is written. */
			struct asio_request *next = asio_get(&q);
			next->op = ASIO_READ;
			next->fd = in;
			next->len = BUFFER_SIZE;
			asio_submit(next);
		}
		/* The buffer just read is written back as it is: a request that
		 * asio_wait returned may be submitted again with a new op. */
		r->op = ASIO_WRITE_BACK;
		r->fd = out;
		r->len = (n + BLOCK - 1) / BLOCK * BLOCK;
		asio_submit(r);
		total += n;
		if (n < BUFFER_SIZE)
			break;
	}
	asio_sync(&q);
	while ((r = asio_wait(&q)))
		asio_put(r);
	asio_cleanup_queue(&q);
	if (ftruncate(out, total) < 0)
		die("ftruncate");
	close(in);
	close(out);
	return total;
}

static long long plain_copy(const char *from, const char *to)
{
	static unsigned char buf[BUFFER_SIZE] __attribute__((aligned(BLOCK)));
	int d;
	int in = open_direct(from, O_RDONLY, &d);
	int out = open_direct(to, O_WRONLY | O_CREAT | O_TRUNC, &d);
	long long total = 0;
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		size_t len = (n + BLOCK - 1) / BLOCK * BLOCK;
		if (write(out, buf, len) != (ssize_t)len)
			die("write");
		total += n;
	}
	if (n < 0)
		die("read");
	if (ftruncate(out, total) < 0)
		die("ftruncate");
	close(in);
	close(out);
	return total;
}

static int same(const char *a, const char *b)
{
	static unsigned char x[BUFFER_SIZE], y[BUFFER_SIZE];
	FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
	if (!f || !g)
		die("fopen");
	size_t n, m;
	int eq = 1;
	do {
		n = fread(x, 1, sizeof(x), f);
		m = fread(y, 1, sizeof(y), g);
		if (n != m || memcmp(x, y, n))
			eq = 0;
	} while (eq && n);
	fclose(f);
	fclose(g);
	return eq;
}

int main(int argc, char **argv)
{
	long long mib = argc > 1 ? atoll(argv[1]) : 256;
	const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	long long size = mib * 1024 * 1024 + 1234;	/* a partial last block, like a real file */
	char src[4096], dst[4096];
	snprintf(src, sizeof(src), "%s/ucw-asio-demo-src.%d", dir, (int)getpid());
	snprintf(dst, sizeof(dst), "%s/ucw-asio-demo-dst.%d", dir, (int)getpid());

	printf("Generating %lld MiB in %s ...\n", mib, dir);
	generate(src, size);

	int direct;
	double t0 = now();
	long long copied = asio_copy(src, dst, &direct);
	double t1 = now();
	int ok = copied == size && same(src, dst);
	double t2 = now();
	long long plain = plain_copy(src, dst);
	double t3 = now();
	unlink(src);
	unlink(dst);

	double mb = size / 1e6;
	printf("ucw-asio copy (%s, 1 MiB buffers, read-ahead 1, max_writebacks 4): %.2f s, %.0f MB/s, %s\n",
	       direct ? "O_DIRECT" : "no O_DIRECT on this filesystem", t1 - t0, mb / (t1 - t0),
	       ok ? "verified byte for byte" : "COPY DIFFERS");
	printf("plain read()/write() copy of the same file:                    %.2f s, %.0f MB/s\n",
	       t3 - t2, mb / (t3 - t2));
	if (!ok || plain != size) {
		fprintf(stderr, "direct_copy: the copy is wrong (copied %lld of %lld bytes)\n", copied, size);
		return 1;
	}
	return 0;
}
