/*
 * t_both_names: the library exports both name sets, and they are the same
 * functions.
 *
 *  - a full cycle (init, get, submit READ/WRITE/WRITE_BACK, wait, put, sync,
 *    cleanup) through the ucw_asio_* names (libucw 6.x's clean ABI), with the
 *    same counters and data as through asio_*;
 *  - the names can be mixed on one queue (init with one, use with the other);
 *  - all 14 symbols resolve at run time with dlsym(RTLD_DEFAULT), non-NULL.
 */

#include "testlib.h"
#include <dlfcn.h>

static const char *const names[] = {
	"asio_init_queue", "asio_cleanup_queue", "asio_get", "asio_submit", "asio_wait", "asio_put", "asio_sync",
	"ucw_asio_init_queue", "ucw_asio_cleanup_queue", "ucw_asio_get", "ucw_asio_submit", "ucw_asio_wait",
	"ucw_asio_put", "ucw_asio_sync",
};

int main(void)
{
	struct asio_queue q;
	struct asio_request *w, *wb, *r, *rd;
	unsigned char buf[8192];
	int fd = tl_tmpfile("data", O_RDWR);
	unsigned i;

	tl_watchdog(20, "t_both_names");
	{
		/* Taken through volatile pointers, so that the compiler cannot assume them. */
		void (*volatile fns[])(void) = {
			(void (*)(void))asio_init_queue, (void (*)(void))asio_cleanup_queue, (void (*)(void))asio_get,
			(void (*)(void))asio_submit, (void (*)(void))asio_wait, (void (*)(void))asio_put,
			(void (*)(void))asio_sync, (void (*)(void))ucw_asio_init_queue,
			(void (*)(void))ucw_asio_cleanup_queue, (void (*)(void))ucw_asio_get,
			(void (*)(void))ucw_asio_submit, (void (*)(void))ucw_asio_wait, (void (*)(void))ucw_asio_put,
			(void (*)(void))ucw_asio_sync,
		};
		for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
			CHECK(fns[i] != NULL, "the address of %s is NULL", names[i]);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(dlsym(RTLD_DEFAULT, names[i]) != NULL, "dlsym(%s): not found", names[i]);

	/* A full cycle through the ucw_ names. */
	memset(&q, 0xA5, sizeof(q));
	q.buffer_size = 4096;
	q.max_writebacks = 1;
	ucw_asio_init_queue(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_EQ("use_count", 0, q.use_count);

	w = ucw_asio_get(&q);
	CHECK(w != NULL, "ucw_asio_get returned NULL");
	CHECK_EQ("op", ASIO_FREE, w->op);
	CHECK_EQ("fd", -1, w->fd);
	CHECK_EQ("status", -1, w->status);
	CHECK_PTR("queue", &q, w->queue);
	CHECK_COUNTERS(&q, 1, 0, 0);
	w->op = ASIO_WRITE;
	w->fd = fd;
	w->len = 4096;
	tl_fill(w->buffer, 4096, 91, 0);
	ucw_asio_submit(w);
	CHECK_EQ("submitted", 1, w->submitted);
	CHECK_COUNTERS(&q, 1, 1, 0);

	wb = ucw_asio_get(&q);
	wb->op = ASIO_WRITE_BACK;
	wb->fd = fd;
	wb->len = 4096;
	tl_fill(wb->buffer, 4096, 91, 4096);
	ucw_asio_submit(wb);
	CHECK_COUNTERS(&q, 2, 2, 1);

	r = ucw_asio_wait(&q);
	CHECK_PTR("ucw_asio_wait", w, r);
	CHECK_DONE(r, 4096, 0);
	ucw_asio_sync(&q);
	CHECK_COUNTERS(&q, 1, 0, 0);
	CHECK_PTR("ucw_asio_wait with nothing left", NULL, ucw_asio_wait(&q));
	ucw_asio_put(r);
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_EQ("pread", 8192, tl_pread_all(fd, buf, sizeof(buf), 0));
	CHECK_FILL("file written through ucw_ names", buf, 8192, 91, 0);

	/* Mixed names on the same queue. */
	lseek(fd, 0, SEEK_SET);
	rd = asio_get(&q);
	CHECK(rd == w || rd == wb, "asio_get after ucw_asio_put did not recycle a request");
	rd->op = ASIO_READ;
	rd->fd = fd;
	rd->len = 4096;
	ucw_asio_submit(rd);
	r = asio_wait(&q);
	CHECK_PTR("asio_wait of a ucw_asio_submit", rd, r);
	CHECK_DONE(r, 4096, 0);
	CHECK_FILL("read through mixed names", r->buffer, 4096, 91, 0);
	asio_put(r);
	ucw_asio_cleanup_queue(&q);

	q.buffer_size = 4096;
	q.max_writebacks = 1;
	asio_init_queue(&q);
	r = ucw_asio_get(&q);
	ucw_asio_put(r);
	asio_sync(&q);
	CHECK_COUNTERS(&q, 0, 0, 0);
	ucw_asio_cleanup_queue(&q);
	close(fd);
	return 0;
}
