/*
 * A miniature of libucw's fb-direct fastbuf back-end (see standin_fbdirect.h):
 * the tests' fb-direct stream (stream.h) with libucw 6.x's names. Its asio
 * calls go through the PLT to whatever the dynamic linker binds ucw_asio_*
 * to: the stand-in libucw, or ucw-asio when it is preloaded.
 */

#define _GNU_SOURCE
#define TS_ASIO(f) ucw_asio_##f
#include "stream.h"
#include "standin_fbdirect.h"

#include <dlfcn.h>
#include <stdlib.h>

struct fbd {
	struct ts_reader rd;
	struct ts_writer wr;
};

static struct fbd *fbd_new(void)
{
	struct fbd *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	return f;
}

struct fbd *fbd_open_read(int fd, struct asio_queue *q)
{
	struct fbd *f = fbd_new();
	ts_read_open(&f->rd, fd, q);
	return f;
}

int fbd_read(struct fbd *f, const unsigned char **data)
{
	return ts_read(&f->rd, data);
}

void fbd_close_read(struct fbd *f)
{
	ts_read_close(&f->rd);
	free(f);
}

struct fbd *fbd_open_write(int fd, struct asio_queue *q)
{
	struct fbd *f = fbd_new();
	ts_write_open(&f->wr, fd, q);
	return f;
}

void fbd_write(struct fbd *f, const void *data, size_t len)
{
	ts_write(&f->wr, data, len);
}

long long fbd_close_write(struct fbd *f)
{
	long long total = ts_write_close(&f->wr);
	free(f);
	return total;
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
