/*
 * t_preload_prog: a program built against the stand-in libucw (it never
 * links ucw-asio), run by t_preload.sh with and without
 * LD_PRELOAD=libucw-asio.so.
 *
 * It prints which object defines the asio functions, as seen by itself and
 * by the fb-direct miniature (standin_fbdirect.c, which calls ucw_asio_*
 * through its PLT), and whether the engine (libucw-asio-go.so.1) is mapped
 * ("engine mapped before the first call: yes|no"), then copies an 8 MiB + 12345 bytes file with O_DIRECT:
 * the queues are initialised and finally synced, checked and cleaned up by
 * direct calls (asio_* and ucw_asio_* names), the streaming in between
 * (read-ahead, write-backs, the tail rounded up and cut) is done by the
 * miniature. The copy is checked byte for byte: "copy verified: N bytes",
 * then "engine mapped after the copy: yes|no".
 * Served by the stand-in, the first asio call ends the process with status
 * 42. Skipped (77) without O_DIRECT.
 *
 * `t_preload_prog die`: a write-back that fails (a descriptor open for
 * reading only); the process ends in asio_sync with the original's message.
 */

#include "forklib.h"
#include "standin_fbdirect.h"

#include <dlfcn.h>

#define SIZE ((8u << 20) + 12345u)
#define BS (256u << 10)
#define SEED 81

static const char *provider(const char *name)
{
	Dl_info info;
	void *addr = dlsym(RTLD_DEFAULT, name);
	if (addr && dladdr(addr, &info) && info.dli_fname)
		return info.dli_fname;
	return "(unknown)";
}

/* A failed write-back: the process ends in asio_sync. */
static int die_on_writeback(void)
{
	struct asio_queue q;
	struct asio_request *r;
	int fd = open("/dev/null", O_RDONLY);
	CHECK(fd >= 0, "open(/dev/null): %s", strerror(errno));
	memset(&q, 0, sizeof(q));
	q.buffer_size = 4096;
	q.max_writebacks = 1;
	asio_init_queue(&q);
	r = asio_get(&q);
	r->op = ASIO_WRITE_BACK;
	r->fd = fd;
	r->len = 10;
	asio_submit(r);
	asio_sync(&q);
	printf("asio_sync returned after a failed write-back\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct asio_queue rq, wq;
	struct fbd *in, *out;
	const unsigned char *data;
	unsigned char *buf;
	int src, dst, n;
	long long total;
	uint64_t off;

	tl_watchdog(60, "t_preload_prog");
	if (argc > 1 && !strcmp(argv[1], "die"))
		return die_on_writeback();
	printf("asio_submit is defined by: %s\n", provider("asio_submit"));
	printf("ucw_asio_submit is defined by: %s\n", provider("ucw_asio_submit"));
	printf("ucw_asio_init_queue as standin_fbdirect binds it is defined by: %s\n", fbd_asio_provider());
	printf("engine mapped before the first call: %s\n", tf_engine_mapped() ? "yes" : "no");
	fflush(stdout);

	if (!tf_have_o_direct())
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	tf_make_source("src", SIZE, SEED);
	src = tl_tmpopen("src", O_RDONLY | O_DIRECT);
	CHECK(src >= 0, "open(src, O_DIRECT): %s", strerror(errno));
	dst = tl_tmpfile("dst", O_RDWR | O_DIRECT);

	/* Direct calls, with both name sets. */
	memset(&rq, 0xA5, sizeof(rq));
	rq.buffer_size = BS;
	rq.max_writebacks = 1;
	asio_init_queue(&rq);
	memset(&wq, 0xA5, sizeof(wq));
	wq.buffer_size = BS;
	wq.max_writebacks = 3;
	ucw_asio_init_queue(&wq);

	/* Calls from inside the fb-direct miniature. */
	in = fbd_open_read(src, &rq);
	out = fbd_open_write(dst, &wq);
	while ((n = fbd_read(in, &data)) > 0) {
		fbd_write(out, data, (size_t)n);
		CHECK(wq.running_writebacks <= 3, "running_writebacks %u > max_writebacks 3", wq.running_writebacks);
	}
	CHECK(n == 0, "fbd_read: %s", strerror(errno));
	fbd_close_read(in);
	total = fbd_close_write(out);
	CHECK(total >= 0, "fbd_close_write: %s", strerror(errno));
	CHECK_EQ("bytes copied", SIZE, total);

	/* Direct calls again. */
	asio_sync(&rq);
	CHECK_PTR("asio_wait on the drained read queue", NULL, asio_wait(&rq));
	CHECK_COUNTERS(&rq, 0, 0, 0);
	CHECK_COUNTERS(&wq, 0, 0, 0);
	asio_cleanup_queue(&rq);
	ucw_asio_cleanup_queue(&wq);
	close(src);
	close(dst);

	dst = tl_tmpopen("dst", O_RDONLY);
	CHECK(dst >= 0, "open(dst): %s", strerror(errno));
	CHECK_EQ("size of the copy", SIZE, tl_size(dst));
	buf = tl_malloc(1 << 20);
	for (off = 0; off < SIZE;) {
		size_t got = tl_pread_all(dst, buf, 1 << 20, (off_t)off);
		CHECK(got > 0, "the copy ends early at %llu", (unsigned long long)off);
		CHECK_FILL("the copy", buf, got, SEED, off);
		off += got;
	}
	close(dst);
	free(buf);
	printf("copy verified: %u bytes\n", SIZE);
	printf("engine mapped after the copy: %s\n", tf_engine_mapped() ? "yes" : "no");
	return 0;
}
