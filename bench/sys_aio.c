/*
 *	ucw-asio benchmarks: glibc's POSIX AIO (aio_read, aio_write,
 *	aio_suspend), executed by glibc's helper threads at explicit offsets.
 */

#define _GNU_SOURCE
#include "common.h"
#include "sys.h"

#include <aio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char sys_name[] = "POSIX AIO";

/* Waits until cb has finished and returns its aio_return(). */
static ssize_t finish(struct aiocb *cb, const char *what)
{
	const struct aiocb *list[1] = { cb };
	int err;
	while ((err = aio_error(cb)) == EINPROGRESS)
		if (aio_suspend(list, 1, NULL) < 0 && errno != EINTR && errno != EAGAIN)
			die_errno("POSIX AIO: aio_suspend");
	ssize_t n = aio_return(cb);
	if (err) {
		errno = err;
		die_errno("POSIX AIO: %s", what);
	}
	return n;
}

static void start(struct aiocb *cb, int write, const char *what)
{
	if ((write ? aio_write(cb) : aio_read(cb)) < 0)
		die_errno("POSIX AIO: %s", what);
}

static void prep(struct aiocb *cb, int fd, void *buf, size_t len, uint64_t off)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = fd;
	cb->aio_buf = buf;
	cb->aio_nbytes = len;
	cb->aio_offset = off;
	cb->aio_sigevent.sigev_notify = SIGEV_NONE;
}

/* Waits until at least one of the n requests of list (NULLs allowed) has finished. */
static void suspend(const struct aiocb *const *list, int n)
{
	if (aio_suspend(list, n, NULL) < 0 && errno != EINTR && errno != EAGAIN)
		die_errno("POSIX AIO: aio_suspend");
}

struct reader {
	struct aiocb cb;
	unsigned char *buf;
};

struct reader *reader_open(size_t bufsize)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	rd->buf = alloc_aligned(bufsize);
	return rd;
}

/* aio_read, aio_suspend, aio_return. */
void reader_read(struct reader *rd, int fd, uint64_t off, size_t len, uint64_t seed)
{
	prep(&rd->cb, fd, rd->buf, len, off);
	start(&rd->cb, 0, "aio_read");
	ssize_t n = finish(&rd->cb, "read");
	verify_read(rd->buf, n, len, off, seed, sys_name);
}

void reader_close(struct reader *rd)
{
	free(rd->buf);
	free(rd);
}

struct blocker {
	struct aiocb cb;
	char c;
};

struct blocker *blocker_start(int fd)
{
	struct blocker *b = calloc(1, sizeof(*b));
	prep(&b->cb, fd, &b->c, 1, 0);
	start(&b->cb, 0, "aio_read of the pipe");
	return b;
}

void blocker_finish(struct blocker *b)
{
	ssize_t n = finish(&b->cb, "read of the pipe");
	if (n != 1)
		die("POSIX AIO: the blocked read returned %zd", n);
	free(b);
}

void sys_stream(int in, int out, uint64_t size, size_t bufsize, unsigned writebacks)
{
	unsigned nbuf = writebacks + 2, nfree = nbuf, writes = 0;
	unsigned char **buf = calloc(nbuf, sizeof(*buf));
	struct aiocb *cb = calloc(nbuf, sizeof(*cb));
	const struct aiocb **wlist = calloc(nbuf, sizeof(*wlist));	/* writes in flight, by slot */
	unsigned *freelist = calloc(nbuf, sizeof(*freelist));
	for (unsigned i = 0; i < nbuf; i++) {
		buf[i] = alloc_aligned(bufsize);
		freelist[i] = i;
	}
	uint64_t roff = 0, total = 0;

	/* Collects every finished write; with wait, first waits for one. */
#define COLLECT_WRITES(wait) do {						\
		if (wait)							\
			suspend(wlist, nbuf);					\
		for (unsigned s_ = 0; s_ < nbuf; s_++)				\
			if (wlist[s_] && aio_error(&cb[s_]) != EINPROGRESS) {	\
				ssize_t w_ = finish(&cb[s_], "write");		\
				if ((size_t)w_ != cb[s_].aio_nbytes)		\
					die("POSIX AIO: write of %zu bytes returned %zd", cb[s_].aio_nbytes, w_); \
				wlist[s_] = NULL;				\
				writes--;					\
				freelist[nfree++] = s_;				\
			}							\
	} while (0)

	unsigned reading = freelist[--nfree];
	prep(&cb[reading], in, buf[reading], bufsize, roff);
	start(&cb[reading], 0, "aio_read");
	roff += bufsize;
	for (;;) {
		ssize_t n = finish(&cb[reading], "read");
		unsigned slot = reading;
		uint64_t data_off = roff - bufsize;
		if (!n) {
			freelist[nfree++] = slot;
			break;
		}
		COLLECT_WRITES(0);
		if ((size_t)n == bufsize) {
			while (!nfree)
				COLLECT_WRITES(1);
			reading = freelist[--nfree];
			prep(&cb[reading], in, buf[reading], bufsize, roff);
			start(&cb[reading], 0, "aio_read");
			roff += bufsize;
		}
		while (writes >= writebacks)
			COLLECT_WRITES(1);
		prep(&cb[slot], out, buf[slot], (n + BLOCK - 1) / BLOCK * BLOCK, data_off);
		start(&cb[slot], 1, "aio_write");
		wlist[slot] = &cb[slot];
		writes++;
		total += n;
		if ((size_t)n < bufsize)
			break;
	}
	while (writes)
		COLLECT_WRITES(1);
#undef COLLECT_WRITES
	for (unsigned i = 0; i < nbuf; i++)
		free(buf[i]);
	free(buf);
	free(cb);
	free(wlist);
	free(freelist);
	if (total != size)
		die("POSIX AIO: copied %llu bytes of %llu", (unsigned long long)total, (unsigned long long)size);
}

void sys_writeback(int out, uint64_t size, size_t bs, unsigned inflight)
{
	unsigned char **buf = calloc(inflight, sizeof(*buf));
	struct aiocb *cb = calloc(inflight, sizeof(*cb));
	const struct aiocb **list = calloc(inflight, sizeof(*list));
	for (unsigned i = 0; i < inflight; i++)
		buf[i] = alloc_aligned(bs);
	uint64_t off = 0;
	unsigned busy = 0;
	for (;;) {
		for (unsigned s = 0; s < inflight && off < size; s++)
			if (!list[s]) {
				prep(&cb[s], out, buf[s], bs, off);
				start(&cb[s], 1, "aio_write");
				list[s] = &cb[s];
				off += bs;
				busy++;
			}
		if (!busy)
			break;
		suspend(list, inflight);
		for (unsigned s = 0; s < inflight; s++)
			if (list[s] && aio_error(&cb[s]) != EINPROGRESS) {
				ssize_t n = finish(&cb[s], "write");
				if ((size_t)n != bs)
					die("POSIX AIO: write of %zu bytes returned %zd", bs, n);
				list[s] = NULL;
				busy--;
			}
	}
	for (unsigned i = 0; i < inflight; i++)
		free(buf[i]);
	free(buf);
	free(cb);
	free(list);
}
