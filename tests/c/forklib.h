/*
 *	ucw-asio C test suite -- helpers for children forked WITHOUT exec
 *
 *	testlib.h runs scenarios in re-executed children, because the Go runtime
 *	does not survive a fork without exec. The t_fork_* tests fork without
 *	exec on purpose. A child of a process that had loaded the engine
 *	(libucw-asio-go.so.1, loaded by the first asio call) is served by the
 *	library's synchronous C implementation (capi/stub/sync.c), and that is
 *	what most of them test: their parents call tf_load_engine() first. A
 *	child forked before the first asio call loads an engine of its own
 *	(t_fork_fresh).
 */

#ifndef UCW_ASIO_FORKLIB_H
#define UCW_ASIO_FORKLIB_H

#include "testlib.h"
#include "stream.h"

/*
 * AddressSanitizer (gcc 12's) does not survive every fork() without exec of
 * a process with other threads: the child keeps the shadow of the stacks of
 * the threads that vanished (poisoned where their frames were live), so
 * memory mapped there later (after the child's own threads come and go) is
 * reported as a bad access; and an allocator lock that another thread held
 * at the fork stays held in the child. The scenarios that run into it skip
 * under AddressSanitizer (the library's C code is not instrumented anyway).
 */
#if defined(__SANITIZE_ADDRESS__)
#define TF_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TF_UNDER_ASAN 1
#endif
#endif
#ifndef TF_UNDER_ASAN
#define TF_UNDER_ASAN 0
#endif

/* The number of threads of this process. */
static inline int tf_threads(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f, "/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = atoi(line + 8);
	fclose(f);
	CHECK(n > 0, "no Threads line in /proc/self/status");
	return n;
}

/* Is the engine library (libucw-asio-go.so.1) mapped into this process? */
static inline int tf_engine_mapped(void)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f, "/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "libucw-asio-go.so"))
			found = 1;
	fclose(f);
	return found;
}

/* Makes this process load the engine (an asio call does), so that the
 * children it forks from now on take the synchronous path. With
 * UCW_ASIO_ENGINE=sync the call takes that path already: no engine, no
 * thread started. */
static inline void tf_load_engine(void)
{
	struct asio_queue q;
	int threads = tf_threads();
	tl_init_queue(&q, 4096, 1);
	asio_cleanup_queue(&q);
	if (tl_sync_route()) {
		CHECK(!tf_engine_mapped(), "UCW_ASIO_ENGINE=sync, yet an asio call loaded the engine");
		CHECK_EQ("threads after an asio call with UCW_ASIO_ENGINE=sync", threads, tf_threads());
	} else {
		CHECK(tf_engine_mapped(), "the engine (libucw-asio-go.so.1) is not mapped after an asio call");
	}
}

/*
 * Fork (no exec) and run fn(arg) in the child, whose exit status is fn's
 * return value (through exit(), so stdio is flushed and atexit handlers run).
 * The child's stderr is captured; it gets UCW_DIE_BY_ABORT=1 if die_by_abort,
 * else no UCW_DIE_BY_ABORT at all. Returns after the child ended, or was
 * killed after timeout_ms.
 */
static inline void tf_fork(int (*fn)(void *), void *arg, int die_by_abort, int timeout_ms, struct tl_child *c)
{
	int pfd[2];
	pid_t pid;
	memset(c, 0, sizeof(*c));
	tl_tmpdir();				/* created by the parent, shared with the child */
	if (pipe2(pfd, O_CLOEXEC) < 0)
		tl_fail(__FILE__, __LINE__, "pipe2: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		tl_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (!pid) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		close(pfd[1]);
		if (die_by_abort)
			setenv("UCW_DIE_BY_ABORT", "1", 1);
		else
			unsetenv("UCW_DIE_BY_ABORT");
		exit(fn(arg));
	}
	close(pfd[1]);
	tl_collect(pid, pfd[0], tl_now() + timeout_ms / 1000.0, c);
}

/* CHECK_CHILD_OK(what, c): the child exited with status 0. */
#define CHECK_CHILD_OK(what, c) \
	CHECK((c)->exited && (c)->code == 0, "%s: the forked child %s; its stderr: %s", (what), \
	      tl_child_how(c), (c)->errlen ? (c)->err : "(empty)")

/*
 * The child died of a message: exactly one line on stderr that starts with
 * `start` and contains `phrase`, then exit status 1 (or SIGABRT when
 * want_abort). Returns NULL if so, else a description of what differed.
 */
static inline const char *tf_died_with(const struct tl_child *c, int want_abort, const char *start, const char *phrase)
{
	static char why[256];
	const char *nl = strchr(c->err, '\n');
	if (want_abort && !(c->signaled && c->sig == SIGABRT))
		snprintf(why, sizeof(why), "expected death by SIGABRT (UCW_DIE_BY_ABORT=1), the child %s", tl_child_how(c));
	else if (!want_abort && !(c->exited && c->code == 1))
		snprintf(why, sizeof(why), "expected exit status 1, the child %s", tl_child_how(c));
	else if (!nl || nl[1])
		snprintf(why, sizeof(why), "expected exactly one line on stderr");
	else if (strncmp(c->err, start, strlen(start)))
		snprintf(why, sizeof(why), "the line does not start with \"%s\"", start);
	else if (phrase && !strstr(c->err, phrase))
		snprintf(why, sizeof(why), "the line does not contain \"%s\"", phrase);
	else
		return NULL;
	return why;
}

/*** The fb-direct streaming copy, checked ***/

/* Write `size` bytes of pattern `seed` to the file `name` with plain I/O. */
static inline void tf_make_source(const char *name, uint64_t size, uint64_t seed)
{
	size_t chunk = 1 << 20;
	unsigned char *buf = tl_malloc(chunk);
	int fd = tl_tmpfile(name, O_WRONLY);
	uint64_t off;
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
		tl_fill(buf, n, seed, off);
		tl_write_all(fd, buf, n);
	}
	close(fd);
	free(buf);
}

/* Is O_DIRECT usable in the temporary directory? */
static inline int tf_have_o_direct(void)
{
	int fd = tl_tmpfile("o_direct_probe", O_RDWR);
	close(fd);
	fd = tl_tmpopen("o_direct_probe", O_RDONLY | O_DIRECT);
	if (fd < 0 && errno == EINVAL)
		return 0;
	CHECK(fd >= 0, "open(O_DIRECT): %s", strerror(errno));
	close(fd);
	return 1;
}

/*
 * Copy the file `from` (size bytes of pattern seed) to `to` through one queue,
 * both opened with O_DIRECT, with the fb-direct stream of stream.h: one
 * ASIO_READ ahead of the consumer, every buffer written with
 * ASIO_WRITE_BACK, the tail rounded up to 4096 and cut with ftruncate after
 * asio_sync. Checks the statuses, the limits of the counters and the copy,
 * byte for byte.
 */
static inline void tf_direct_copy(const char *from, const char *to, uint bs, uint max_wb, uint64_t size, uint64_t seed)
{
	struct asio_queue q;
	struct ts_reader rd;
	struct ts_writer wr;
	const unsigned char *data;
	uint64_t total = 0;
	int src = tl_tmpopen(from, O_RDONLY | O_DIRECT), dst = tl_tmpfile(to, O_RDWR | O_DIRECT), n;
	unsigned char *buf;

	CHECK(src >= 0, "open(%s, O_DIRECT): %s", from, strerror(errno));
	tl_init_queue(&q, bs, max_wb);
	ts_read_open(&rd, src, &q);
	ts_write_open(&wr, dst, &q);
	while ((n = ts_read(&rd, &data)) > 0) {
		CHECK_EQ("read size", size - total < bs ? size - total : bs, n);
		ts_write(&wr, data, (size_t)n);
		total += (uint)n;
		CHECK(q.running_writebacks <= max_wb, "running_writebacks %u after %llu bytes, expected at most %u",
		      q.running_writebacks, (unsigned long long)total, max_wb);
		CHECK(q.allocated_requests <= max_wb + 3,
		      "allocated_requests %u > max_writebacks + the blocks read, read ahead and written", q.allocated_requests);
	}
	CHECK(n == 0, "read #%ld at %llu: status %d errno %d (%s)", rd.reads, (unsigned long long)total, n, errno,
	      strerror(errno));
	ts_read_close(&rd);
	CHECK_EQ("bytes written, the file cut", size, ts_write_close(&wr));
	CHECK_COUNTERS(&q, 0, 0, 0);
	CHECK_PTR("asio_wait after asio_sync", NULL, asio_wait(&q));
	asio_cleanup_queue(&q);
	CHECK_EQ("bytes copied", size, total);
	close(dst);
	close(src);

	dst = tl_tmpopen(to, O_RDONLY);
	CHECK(dst >= 0, "open(%s): %s", to, strerror(errno));
	CHECK_EQ("size of the copy", size, tl_size(dst));
	buf = tl_malloc(1 << 20);
	for (total = 0; total < size;) {
		size_t n = tl_pread_all(dst, buf, 1 << 20, (off_t)total);
		CHECK(n > 0, "the copy ends early at %llu", (unsigned long long)total);
		CHECK_FILL("the copy", buf, n, seed, total);
		total += n;
	}
	free(buf);
	close(dst);
}

#endif
