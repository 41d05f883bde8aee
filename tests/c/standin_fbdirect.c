/*
 * A miniature of libucw's fb-direct fastbuf back-end (see standin_fbdirect.h).
 * Its asio calls go through the PLT to whatever the dynamic linker binds
 * ucw_asio_* to: the stand-in libucw, or ucw-asio when it is preloaded.
 */

#define _GNU_SOURCE
#include "standin_fbdirect.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fbd {
	int fd;
	struct asio_queue *q;
	struct asio_request *ahead;	/* reading: the read in flight */
	struct asio_request *cur;	/* reading: the block given out; writing: the block being filled */
	uint pos;			/* writing: bytes in cur */
	long long total;		/* writing: bytes written */
};

static struct fbd *fbd_new(int fd, struct asio_queue *q)
{
	struct fbd *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->fd = fd;
	f->q = q;
	return f;
}

static void read_ahead(struct fbd *f)
{
	f->ahead = ucw_asio_get(f->q);
	f->ahead->op = ASIO_READ;
	f->ahead->fd = f->fd;
	f->ahead->len = f->q->buffer_size;
	ucw_asio_submit(f->ahead);
}

struct fbd *fbd_open_read(int fd, struct asio_queue *q)
{
	struct fbd *f = fbd_new(fd, q);
	read_ahead(f);
	return f;
}

int fbd_read(struct fbd *f, const unsigned char **data)
{
	struct asio_request *r;
	if (f->cur) {
		ucw_asio_put(f->cur);
		f->cur = NULL;
	}
	if (!f->ahead)
		return 0;
	r = ucw_asio_wait(f->q);
	if (r != f->ahead) {
		errno = EPROTO;
		return -1;
	}
	f->ahead = NULL;
	if (r->status <= 0) {
		int status = r->status;
		errno = r->returned_errno;
		ucw_asio_put(r);
		return status;
	}
	read_ahead(f);
	f->cur = r;
	*data = r->buffer;
	return r->status;
}

void fbd_close_read(struct fbd *f)
{
	if (f->cur)
		ucw_asio_put(f->cur);
	if (f->ahead) {
		ucw_asio_sync(f->q);
		ucw_asio_put(ucw_asio_wait(f->q));
	}
	free(f);
}

struct fbd *fbd_open_write(int fd, struct asio_queue *q)
{
	struct fbd *f = fbd_new(fd, q);
	f->cur = ucw_asio_get(q);
	return f;
}

static void write_back(struct fbd *f, uint len)
{
	f->cur->op = ASIO_WRITE_BACK;
	f->cur->fd = f->fd;
	f->cur->len = len;
	ucw_asio_submit(f->cur);
	f->cur = NULL;
}

void fbd_write(struct fbd *f, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len) {
		uint n = f->q->buffer_size - f->pos;
		if (n > len)
			n = (uint)len;
		if (!f->cur)
			f->cur = ucw_asio_get(f->q);
		memcpy(f->cur->buffer + f->pos, p, n);
		f->pos += n;
		f->total += n;
		p += n;
		len -= n;
		if (f->pos == f->q->buffer_size) {
			write_back(f, f->pos);
			f->pos = 0;
		}
	}
}

long long fbd_close_write(struct fbd *f)
{
	long long total = f->total;
	int fd = f->fd;
	if (f->pos) {
		uint len = (f->pos + 4095u) & ~4095u;
		memset(f->cur->buffer + f->pos, 0, len - f->pos);
		write_back(f, len);
	} else if (f->cur) {
		ucw_asio_put(f->cur);
	}
	ucw_asio_sync(f->q);
	free(f);
	return ftruncate(fd, total) < 0 ? -1 : total;
}

const char *fbd_asio_provider(void)
{
	Dl_info info;
	/* A function the library never calls: taking its address goes through
	 * the GOT, and the calls to the others stay PLT calls. */
	void (*fn)(struct asio_queue *) = ucw_asio_init_queue;
	void *addr;
	memcpy(&addr, &fn, sizeof(addr));
	if (dladdr(addr, &info) && info.dli_fname)
		return info.dli_fname;
	return "(unknown)";
}
