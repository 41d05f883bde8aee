/*
 * A tiny outside consumer of an installed ucw-asio (t_install.sh builds it
 * against the installed tree, with pkg-config and with find_package).
 * Usage: consumer PREFIX DIR. Writes 3 blocks to a file in DIR with
 * ASIO_WRITE_BACK, reads them back with ASIO_READ, compares; checks that the
 * functions come from the library installed under PREFIX, and that the
 * engine it loaded (libucw-asio-go.so.1) is the one installed beside it.
 * Prints "consumer: ok".
 */

#define _GNU_SOURCE
#include <ucw/asio.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BS 4096

static void fail(const char *what)
{
	fprintf(stderr, "consumer: FAIL: %s\n", what);
	exit(1);
}

/* The path of the engine mapped into this process, or NULL. */
static const char *engine_path(void)
{
	static char line[PATH_MAX + 256];
	char *path = NULL;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		fail("cannot read /proc/self/maps");
	while (!path && fgets(line, sizeof(line), f))
		if (strstr(line, "libucw-asio-go.so") && (path = strchr(line, '/')))
			path[strcspn(path, "\n")] = 0;
	fclose(f);
	return path;
}

int main(int argc, char **argv)
{
	struct asio_queue q;
	struct asio_request *r;
	char path[PATH_MAX], lib[PATH_MAX], prefix[PATH_MAX];
	Dl_info info;
	void *fn;
	int fd, i;

	if (argc != 3)
		fail("usage: consumer PREFIX DIR");
	fn = dlsym(RTLD_DEFAULT, "asio_submit");
	if (!fn || !dladdr(fn, &info) || !realpath(info.dli_fname, lib) || !realpath(argv[1], prefix))
		fail("cannot find the library that defines asio_submit");
	if (strncmp(lib, prefix, strlen(prefix)) || lib[strlen(prefix)] != '/')
		fail("asio_submit does not come from the installed tree");
	printf("asio_submit comes from %s\n", lib);

	snprintf(path, sizeof(path), "%s/consumer.data", argv[2]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		fail("open");
	q.buffer_size = BS;
	q.max_writebacks = 2;
	asio_init_queue(&q);
	for (i = 0; i < 3; i++) {
		r = asio_get(&q);
		memset(r->buffer, 'a' + i, BS);
		r->op = ASIO_WRITE_BACK;
		r->fd = fd;
		r->len = BS;
		asio_submit(r);
	}
	asio_sync(&q);
	lseek(fd, 0, SEEK_SET);
	for (i = 0; i < 3; i++) {
		r = asio_get(&q);
		r->op = ASIO_READ;
		r->fd = fd;
		r->len = BS;
		asio_submit(r);
		if (asio_wait(&q) != r || r->status != BS || r->buffer[0] != 'a' + i || r->buffer[BS - 1] != 'a' + i)
			fail("read back wrong data");
		asio_put(r);
	}
	if (q.allocated_requests || q.running_requests || asio_wait(&q))
		fail("counters not 0 at the end");
	asio_cleanup_queue(&q);
	{
		const char *engine = engine_path(), *route = getenv("UCW_ASIO_ENGINE");
		char dir[PATH_MAX];
		if (route && !strcmp(route, "sync")) {
			/* The synchronous path for the whole process: never an engine. */
			if (engine)
				fail("UCW_ASIO_ENGINE=sync, yet an engine is mapped after the asio calls");
			printf("UCW_ASIO_ENGINE=sync: no engine mapped\n");
		} else if (!engine)
			fail("no engine (libucw-asio-go.so.1) mapped after the asio calls");
		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(lib, '/') - lib), lib);
		if (engine && (strncmp(engine, dir, strlen(dir)) || strcmp(engine + strlen(dir), "/libucw-asio-go.so.1")))
			fail("the engine mapped is not the one beside the library");
		if (engine)
			printf("the engine comes from %s\n", engine);
	}
	close(fd);
	unlink(path);
	printf("consumer: ok\n");
	return 0;
}
