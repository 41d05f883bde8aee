/*
 *	ucw-asio benchmarks: the floor, plain synchronous read(2) and write(2)
 *	at the descriptor's current position, in the caller's thread.
 */

#define _GNU_SOURCE
#include "common.h"
#include "sys.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

const char sys_name[] = "plain";

struct reader {
	unsigned char *buf;
};

struct reader *reader_open(size_t bufsize)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	rd->buf = alloc_aligned(bufsize);
	return rd;
}

void reader_read(struct reader *rd, int fd, uint64_t off, size_t len, uint64_t seed)
{
	ssize_t n;
	do
		n = read(fd, rd->buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die_errno("plain: read");
	verify_read(rd->buf, n, len, off, seed, sys_name);
}

void reader_close(struct reader *rd)
{
	free(rd->buf);
	free(rd);
}

/* A thread blocked in read(2). */
struct blocker {
	pthread_t id;
	int fd;
	ssize_t got;
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	char c;
	do
		b->got = read(b->fd, &c, 1);
	while (b->got < 0 && errno == EINTR);
	return NULL;
}

struct blocker *blocker_start(int fd)
{
	struct blocker *b = calloc(1, sizeof(*b));
	b->fd = fd;
	if (pthread_create(&b->id, NULL, blocker_main, b))
		die("plain: pthread_create");
	return b;
}

void blocker_finish(struct blocker *b)
{
	pthread_join(b->id, NULL);
	if (b->got != 1)
		die("plain: the blocked read returned %zd", b->got);
	free(b);
}

void sys_stream(int in, int out, uint64_t size, size_t bufsize, unsigned writebacks)
{
	(void)writebacks;
	unsigned char *buf = alloc_aligned(bufsize);
	uint64_t total = 0;
	ssize_t n;
	while ((n = read(in, buf, bufsize)) > 0) {
		write_full(out, buf, (n + BLOCK - 1) / BLOCK * BLOCK, "plain: copy");
		total += n;
	}
	if (n < 0)
		die_errno("plain: read");
	free(buf);
	if (total != size)
		die("plain: copied %llu bytes of %llu", (unsigned long long)total, (unsigned long long)size);
}

void sys_writeback(int out, uint64_t size, size_t bs, unsigned inflight)
{
	(void)inflight;
	unsigned char *buf = alloc_aligned(bs);
	if (lseek(out, 0, SEEK_SET) < 0)
		die_errno("lseek");
	for (uint64_t off = 0; off < size; off += bs)
		write_full(out, buf, bs, "plain: writeback");
	free(buf);
}
