/*
 *	ucw-asio C test suite -- the fb-direct stream, once
 *
 *	libucw's fb-direct fastbuf back-end streams a file opened with O_DIRECT
 *	through one asio queue, and this is what it does, in miniature:
 *	- reading: one ASIO_READ of buffer_size bytes always in flight ahead of
 *	  the consumer; the block given out is returned with asio_put at the
 *	  next call;
 *	- writing: the data is copied into a request's buffer; a full buffer is
 *	  submitted as ASIO_WRITE_BACK (nobody waits for it: max_writebacks
 *	  bounds how many are in flight); at the end the tail is written rounded
 *	  up to 4096 bytes, asio_sync waits for every write-back and ftruncate
 *	  cuts the file to the bytes written.
 *	Used by t_direct_copy, t_fork_stream (forklib.h) and the stand-in
 *	fb-direct library of the LD_PRELOAD tests (standin_fbdirect.c), which
 *	defines TS_ASIO(f) as ucw_asio_##f to call libucw 6.x's names. The
 *	example, examples/direct_copy.c, is the readable standalone copy.
 */

#ifndef UCW_ASIO_STREAM_H
#define UCW_ASIO_STREAM_H

#include <ucw/asio.h>

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* The name of an API function: asio_##f, or ucw_asio_##f when defined so. */
#ifndef TS_ASIO
#define TS_ASIO(f) asio_##f
#endif

struct ts_reader {
	int fd;
	struct asio_queue *q;
	struct asio_request *ahead;	/* the read in flight */
	struct asio_request *cur;	/* the block given out */
	long reads;			/* reads collected, the one at the end of the file included */
};

struct ts_writer {
	int fd;
	struct asio_queue *q;
	struct asio_request *cur;	/* the block being filled */
	uint pos;			/* bytes in cur */
	long long total;		/* bytes written */
};

static inline void ts_read_ahead(struct ts_reader *f)
{
	f->ahead = TS_ASIO(get)(f->q);
	f->ahead->op = ASIO_READ;
	f->ahead->fd = f->fd;
	f->ahead->len = f->q->buffer_size;
	TS_ASIO(submit)(f->ahead);
}

/* Reading fd through q: one read of q->buffer_size always in flight ahead. */
static inline void ts_read_open(struct ts_reader *f, int fd, struct asio_queue *q)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->q = q;
	ts_read_ahead(f);
}

/* The next block: *data points to it until the next call; returns its
 * length, 0 at the end of the file, -1 on an error (errno set; EPROTO if
 * asio_wait returned another request than the read ahead). */
static inline int ts_read(struct ts_reader *f, const unsigned char **data)
{
	struct asio_request *r;
	if (f->cur) {
		TS_ASIO(put)(f->cur);
		f->cur = NULL;
	}
	if (!f->ahead)
		return 0;
	r = TS_ASIO(wait)(f->q);
	if (r != f->ahead) {
		errno = EPROTO;
		return -1;
	}
	f->ahead = NULL;
	f->reads++;
	if (r->status <= 0) {
		int status = r->status;
		errno = r->returned_errno;
		TS_ASIO(put)(r);
		return status;
	}
	ts_read_ahead(f);
	f->cur = r;
	*data = r->buffer;
	return r->status;
}

/* Returns every request of the reader to its queue. */
static inline void ts_read_close(struct ts_reader *f)
{
	if (f->cur)
		TS_ASIO(put)(f->cur);
	if (f->ahead) {
		TS_ASIO(sync)(f->q);
		TS_ASIO(put)(TS_ASIO(wait)(f->q));
	}
	f->cur = f->ahead = NULL;
}

/* Writing fd (opened with O_DIRECT) through q with ASIO_WRITE_BACK. */
static inline void ts_write_open(struct ts_writer *f, int fd, struct asio_queue *q)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->q = q;
	f->cur = TS_ASIO(get)(q);
}

static inline void ts_write_back(struct ts_writer *f, uint len)
{
	f->cur->op = ASIO_WRITE_BACK;
	f->cur->fd = f->fd;
	f->cur->len = len;
	TS_ASIO(submit)(f->cur);
	f->cur = NULL;
}

static inline void ts_write(struct ts_writer *f, const void *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	while (len) {
		uint n = f->q->buffer_size - f->pos;
		if (n > len)
			n = (uint)len;
		if (!f->cur)
			f->cur = TS_ASIO(get)(f->q);
		memcpy(f->cur->buffer + f->pos, p, n);
		f->pos += n;
		f->total += n;
		p += n;
		len -= n;
		if (f->pos == f->q->buffer_size) {
			ts_write_back(f, f->pos);
			f->pos = 0;
		}
	}
}

/* Writes the tail rounded up to 4096 bytes, waits for every write-back and
 * cuts the file to the bytes written; returns their number, -1 on an error
 * of ftruncate (errno set). */
static inline long long ts_write_close(struct ts_writer *f)
{
	if (f->pos) {
		uint len = (f->pos + 4095u) & ~4095u;
		memset(f->cur->buffer + f->pos, 0, len - f->pos);
		ts_write_back(f, len);
	} else if (f->cur) {
		TS_ASIO(put)(f->cur);
		f->cur = NULL;
	}
	TS_ASIO(sync)(f->q);
	return ftruncate(f->fd, (off_t)f->total) < 0 ? -1 : f->total;
}

#endif
