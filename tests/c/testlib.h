/*
 *	ucw-asio C test suite -- shared helpers (header only, static inline)
 *
 *	Conventions (liburing-like): every test is one small program that exits
 *	0 on success, 1 on failure (after printing "FAIL file:line: ..."), and
 *	TL_SKIP (77) when the environment cannot run it.
 *
 *	The library contains a Go runtime, which does not survive fork() without
 *	exec(), so scenarios that must run "in a child" re-execute the test program
 *	itself (/proc/self/exe) with the scenario's name as argv[1]; see
 *	tl_run_child().
 */

#ifndef UCW_ASIO_TESTLIB_H
#define UCW_ASIO_TESTLIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ucw/asio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TL_SKIP 77
#define TL_PAGE 4096

extern char **environ;

/*** Failing and skipping ***/

static inline void tl_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static inline void tl_fail(const char *file, int line, const char *fmt, ...)
{
	static int failing;
	va_list args;
	/* One failure report per process: a second failing thread waits for exit(). */
	if (__atomic_exchange_n(&failing, 1, __ATOMIC_SEQ_CST))
		for (;;)
			pause();
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	fflush(stderr);
	exit(1);
}

/* CHECK(cond, fmt, ...): on failure, print what differed and exit 1. */
#define CHECK(cond, ...) \
	do { if (!(cond)) tl_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* CHECK_EQ(what, expected, got) for integers and enums. */
#define CHECK_EQ(what, expected, got) \
	do { \
		long long tl_e_ = (long long)(expected), tl_g_ = (long long)(got); \
		if (tl_e_ != tl_g_) \
			tl_fail(__FILE__, __LINE__, "%s: expected %lld, got %lld", (what), tl_e_, tl_g_); \
	} while (0)

/* CHECK_PTR(what, expected, got) for pointers. */
#define CHECK_PTR(what, expected, got) \
	do { \
		const void *tl_e_ = (const void *)(expected), *tl_g_ = (const void *)(got); \
		if (tl_e_ != tl_g_) \
			tl_fail(__FILE__, __LINE__, "%s: expected %p, got %p", (what), tl_e_, tl_g_); \
	} while (0)

/* Check the counters of a queue at once. */
#define CHECK_COUNTERS(q, alloc, run, wb) \
	do { \
		CHECK_EQ("allocated_requests", (alloc), (q)->allocated_requests); \
		CHECK_EQ("running_requests", (run), (q)->running_requests); \
		CHECK_EQ("running_writebacks", (wb), (q)->running_writebacks); \
	} while (0)

/* A finished request: status and errno as expected. */
#define CHECK_DONE(r, st, err) \
	do { \
		CHECK((r) != NULL, "asio_wait returned NULL, expected a finished request"); \
		CHECK_EQ("status", (st), (r)->status); \
		CHECK_EQ("returned_errno", (err), (r)->returned_errno); \
		CHECK_EQ("submitted after asio_wait", 0, (r)->submitted); \
	} while (0)

#define SKIP(...) \
	do { printf("SKIP: "); printf(__VA_ARGS__); printf("\n"); fflush(stdout); exit(TL_SKIP); } while (0)

/*** The route under test ***/

/*
 * ctest runs every test twice: on the engine's route, and with
 * UCW_ASIO_ENGINE=sync, which puts the whole process on the library's
 * synchronous C path (no engine loaded, no thread started: each request runs
 * in the caller's thread when a later call needs its result). A test that
 * checks what only the engine gives asserts there what the synchronous path
 * promises instead.
 */
static inline int tl_sync_route(void)
{
	const char *v = getenv("UCW_ASIO_ENGINE");
	return v && !strcmp(v, "sync");
}

/*** Time ***/

static inline double tl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void tl_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * A watchdog: if the program is still running after `seconds`, report `what`
 * as hanging and exit 1 (clearer than a ctest timeout). Signals are blocked in
 * the watchdog thread so that it never takes a test's signals.
 */
static inline void tl_tmpdir_cleanup(void);

static int tl_watchdog_started;

static inline void *tl_watchdog_thread(void *arg)
{
	const char *what = (const char *)((void **)arg)[0];
	int seconds = (int)(intptr_t)((void **)arg)[1];
	double end = tl_now() + seconds;
	__atomic_store_n(&tl_watchdog_started, 1, __ATOMIC_RELEASE);
	while (tl_now() < end)
		tl_sleep_ms(50);
	fprintf(stderr, "FAIL watchdog: %s did not finish within %d s (hang)\n", what, seconds);
	fflush(stderr);
	tl_tmpdir_cleanup();
	_exit(1);
	return NULL;
}

static inline void tl_watchdog(int seconds, const char *what)
{
	static void *args[2];
	pthread_t t;
	sigset_t all, old;
	args[0] = (void *)what;
	args[1] = (void *)(intptr_t)seconds;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, tl_watchdog_thread, args))
		tl_fail(__FILE__, __LINE__, "pthread_create(watchdog) failed");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(t);
	/* Return once the thread only sleeps: a fork while it was still being
	 * set up could leave a child with a lock of the thread library or of
	 * AddressSanitizer's allocator held for good (a t_fork_fresh child
	 * hung so under ASan). */
	while (!__atomic_load_n(&tl_watchdog_started, __ATOMIC_ACQUIRE))
		tl_sleep_ms(1);
}

/*** Temporary files, in one temporary directory per test ***/

#define TL_TMPDIR_ENV "UCW_ASIO_TEST_TMPDIR"

static inline char *tl_tmpdir_path(void)
{
	static char path[PATH_MAX];
	return path;
}

static inline pid_t *tl_tmpdir_owner(void)
{
	static pid_t owner;
	return &owner;
}

static inline void tl_tmpdir_cleanup(void)
{
	char *path = tl_tmpdir_path();
	char file[PATH_MAX + 256];
	DIR *d;
	struct dirent *e;
	if (!path[0] || *tl_tmpdir_owner() != getpid())
		return;
	d = opendir(path);
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
			unlink(file);
		}
		closedir(d);
	}
	rmdir(path);
}

/*
 * The test's temporary directory: created under $TMPDIR (or /tmp) at the
 * first call and removed at exit. Children started by tl_run_child() inherit
 * it through the environment and do not remove it.
 */
static inline const char *tl_tmpdir(void)
{
	char *path = tl_tmpdir_path();
	const char *env, *base;
	if (path[0])
		return path;
	env = getenv(TL_TMPDIR_ENV);
	if (env && *env) {
		snprintf(path, PATH_MAX, "%s", env);
		return path;
	}
	base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(path, PATH_MAX, "%s/ucw-asio-test.XXXXXX", base);
	if (!mkdtemp(path))
		tl_fail(__FILE__, __LINE__, "mkdtemp(%s): %s", path, strerror(errno));
	*tl_tmpdir_owner() = getpid();
	atexit(tl_tmpdir_cleanup);
	setenv(TL_TMPDIR_ENV, path, 1);
	return path;
}

/* Path of a file named `name` in the temporary directory. */
static inline void tl_tmppath(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", tl_tmpdir(), name);
}

/* Create (truncate) and open a file in the temporary directory. */
static inline int tl_tmpfile(const char *name, int flags)
{
	char path[PATH_MAX + 256];
	int fd;
	tl_tmppath(name, path, sizeof(path));
	fd = open(path, flags | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		tl_fail(__FILE__, __LINE__, "open(%s): %s", path, strerror(errno));
	return fd;
}

/* Open an existing file of the temporary directory; returns -1 with errno on failure. */
static inline int tl_tmpopen(const char *name, int flags)
{
	char path[PATH_MAX + 256];
	tl_tmppath(name, path, sizeof(path));
	return open(path, flags);
}

/*** Memory ***/

static inline void *tl_alloc_aligned(size_t size, size_t align)
{
	void *p = NULL;
	int err = posix_memalign(&p, align, size);
	if (err)
		tl_fail(__FILE__, __LINE__, "posix_memalign(%zu, %zu): %s", size, align, strerror(err));
	return p;
}

static inline void *tl_malloc(size_t size)
{
	void *p = malloc(size);
	if (!p)
		tl_fail(__FILE__, __LINE__, "malloc(%zu) failed", size);
	return p;
}

/*** Data patterns: a deterministic byte for every (seed, offset) ***/

static inline uint64_t tl_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline unsigned char tl_pattern_byte(uint64_t seed, uint64_t off)
{
	return (unsigned char)(tl_mix64(seed * 0x100000001b3ULL + (off >> 3)) >> ((off & 7) * 8));
}

/* Fill buf with the bytes of stream `seed` at offsets off .. off+len-1. */
static inline void tl_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	unsigned char *p = (unsigned char *)buf;
	size_t i = 0;
	while (i < len && ((off + i) & 7))
		p[i] = tl_pattern_byte(seed, off + i), i++;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = tl_mix64(seed * 0x100000001b3ULL + ((off + i) >> 3));
		memcpy(p + i, &w, 8);	/* little endian: byte k of w is offset +k */
	}
	for (; i < len; i++)
		p[i] = tl_pattern_byte(seed, off + i);
}

/* Offset (within buf) of the first byte that is not the pattern, or -1. */
static inline long tl_check_fill(const void *buf, size_t len, uint64_t seed, uint64_t off)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t i;
	for (i = 0; i < len; i++)
		if (p[i] != tl_pattern_byte(seed, off + i))
			return (long)i;
	return -1;
}

/* CHECK_FILL(what, buf, len, seed, off): the buffer holds the pattern. */
#define CHECK_FILL(what, buf, len, seed, off) \
	do { \
		long tl_bad_ = tl_check_fill((buf), (len), (seed), (off)); \
		if (tl_bad_ >= 0) \
			tl_fail(__FILE__, __LINE__, "%s: data differs at byte %ld of %zu: expected 0x%02x, got 0x%02x", \
				(what), tl_bad_, (size_t)(len), \
				tl_pattern_byte((seed), (off) + tl_bad_), ((const unsigned char *)(buf))[tl_bad_]); \
	} while (0)

/* Write a whole buffer with plain write(2) (retrying short writes and EINTR). */
static inline void tl_write_all(int fd, const void *buf, size_t len)
{
	const char *p = (const char *)buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			tl_fail(__FILE__, __LINE__, "write(%d, %zu bytes): %s", fd, len, n < 0 ? strerror(errno) : "returned 0");
		p += n;
		len -= (size_t)n;
	}
}

/* Read exactly len bytes at offset off with pread(2); returns the count read (less at EOF). */
static inline size_t tl_pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = (char *)buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			tl_fail(__FILE__, __LINE__, "pread(%d): %s", fd, strerror(errno));
		if (!n)
			break;
		done += (size_t)n;
	}
	return done;
}

static inline off_t tl_pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

static inline off_t tl_size(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		tl_fail(__FILE__, __LINE__, "fstat(%d): %s", fd, strerror(errno));
	return st.st_size;
}

/* A file `name` in the temporary directory holding size bytes of the
 * pattern of seed (tl_fill), on the disk (fsync: no dirty pages for
 * O_DIRECT reads to wait for), opened anew with O_RDONLY | O_DIRECT.
 * Skips (77) where the filesystem has no O_DIRECT. */
static inline int tl_direct_pattern_file(const char *name, size_t size, uint64_t seed)
{
	void *data = tl_alloc_aligned(size, TL_PAGE);
	int fd = tl_tmpfile(name, O_WRONLY), dfd;
	tl_fill(data, size, seed, 0);
	tl_write_all(fd, data, size);
	CHECK(fsync(fd) == 0, "fsync: %s", strerror(errno));
	close(fd);
	free(data);
	dfd = tl_tmpopen(name, O_RDONLY | O_DIRECT);
	if (dfd < 0 && errno == EINVAL)
		SKIP("the filesystem of %s does not support O_DIRECT", tl_tmpdir());
	CHECK(dfd >= 0, "open(O_DIRECT): %s", strerror(errno));
	return dfd;
}

/*** Signals ***/

/* SIGALRM to the process every usec microseconds, taken by handler on an
 * alternate stack of the calling thread (SA_ONSTACK, as a process with a Go
 * runtime needs) and without SA_RESTART, so that every interruptible
 * system call of the process may see it. */
static inline void tl_alarm_every(long usec, void (*handler)(int))
{
	struct sigaction sa;
	struct itimerval it;
	stack_t ss;
	ss.ss_sp = tl_malloc(1 << 16);
	ss.ss_size = 1 << 16;
	ss.ss_flags = 0;
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
	it.it_interval.tv_sec = it.it_value.tv_sec = 0;
	it.it_interval.tv_usec = it.it_value.tv_usec = usec;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer: %s", strerror(errno));
}

/* Stops what tl_alarm_every started (a SIGALRM already sent still comes). */
static inline void tl_alarm_stop(void)
{
	struct itimerval it;
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/*** Running a scenario in a child (fork + exec of /proc/self/exe) ***/

struct tl_child {
	int exited, code;		/* WIFEXITED, WEXITSTATUS */
	int signaled, sig;		/* WIFSIGNALED, WTERMSIG */
	int timed_out;			/* killed by us after the time limit */
	char err[16384];		/* what the child wrote on stderr (NUL-terminated, truncated) */
	size_t errlen;
};

/* Human-readable description of how a child ended. */
static inline const char *tl_child_how(const struct tl_child *c)
{
	static char buf[128];
	if (c->timed_out)
		snprintf(buf, sizeof(buf), "did not end within the time limit (killed)");
	else if (c->exited)
		snprintf(buf, sizeof(buf), "exited with status %d", c->code);
	else if (c->signaled)
		snprintf(buf, sizeof(buf), "was killed by signal %d (%s)", c->sig, strsignal(c->sig));
	else
		snprintf(buf, sizeof(buf), "ended in an unknown way");
	return buf;
}

/*
 * Collect what a child writes on the pipe `fd` (its stderr) until it closes
 * it, then reap the child; kill it if it is still running at `deadline`
 * (tl_now() time). Fills c (see struct tl_child).
 */
static inline void tl_collect(pid_t pid, int fd, double deadline, struct tl_child *c)
{
	int status;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)((deadline - tl_now()) * 1000);
		char chunk[4096];
		ssize_t got;
		if (left <= 0) {
			c->timed_out = 1;
			break;
		}
		if (poll(&p, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			tl_fail(__FILE__, __LINE__, "poll: %s", strerror(errno));
		}
		if (!p.revents)
			continue;
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (c->errlen < sizeof(c->err) - 1) {
			size_t take = (size_t)got;
			if (take > sizeof(c->err) - 1 - c->errlen)
				take = sizeof(c->err) - 1 - c->errlen;
			memcpy(c->err + c->errlen, chunk, take);
			c->errlen += take;
		}
	}
	close(fd);
	c->err[c->errlen] = 0;
	if (c->timed_out)
		kill(pid, SIGKILL);	/* before waiting for it: a hung child never ends by itself */
	for (;;) {
		pid_t w = waitpid(pid, &status, c->timed_out ? 0 : WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			tl_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
		if (!c->timed_out && tl_now() >= deadline)
			c->timed_out = 1;
		if (c->timed_out) {
			kill(pid, SIGKILL);
			continue;
		}
		tl_sleep_ms(2);
	}
	if (!c->timed_out) {
		if (WIFEXITED(status))
			c->exited = 1, c->code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			c->signaled = 1, c->sig = WTERMSIG(status);
	}
}

/*
 * Run `/proc/self/exe scenario` with stderr captured, within timeout_ms.
 * The child gets our environment without UCW_DIE_BY_ABORT, plus the
 * NAME=VALUE strings of extra_env (NULL-terminated array, or NULL), which
 * replace our variables of the same names.
 */
static inline void tl_run_child(const char *scenario, const char *const *extra_env,
				int timeout_ms, struct tl_child *c)
{
	int pfd[2], n_env = 0, n_extra = 0, i, j;
	char **envp;
	char *argv[3];
	pid_t pid;

	memset(c, 0, sizeof(*c));
	tl_tmpdir();				/* so that the child shares it */
	while (environ[n_env])
		n_env++;
	while (extra_env && extra_env[n_extra])
		n_extra++;
	envp = (char **)tl_malloc((n_env + n_extra + 1) * sizeof(char *));
	for (i = j = 0; i < n_env; i++) {
		int k, replaced = 0;
		/* A variable of extra_env replaces ours (getenv takes the first). */
		for (k = 0; k < n_extra && !replaced; k++) {
			const char *eq = strchr(extra_env[k], '=');
			size_t len = eq ? (size_t)(eq - extra_env[k]) + 1 : strlen(extra_env[k]);
			replaced = !strncmp(environ[i], extra_env[k], len);
		}
		if (!replaced && strncmp(environ[i], "UCW_DIE_BY_ABORT=", 17))
			envp[j++] = environ[i];
	}
	for (i = 0; i < n_extra; i++)
		envp[j++] = (char *)extra_env[i];
	envp[j] = NULL;
	argv[0] = (char *)"/proc/self/exe";
	argv[1] = (char *)scenario;
	argv[2] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		tl_fail(__FILE__, __LINE__, "pipe2: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		tl_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (!pid) {
		dup2(pfd[1], 2);
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(pfd[1]);
	free(envp);

	tl_collect(pid, pfd[0], tl_now() + timeout_ms / 1000.0, c);
}

/* In a child: no core files when a scenario ends with abort(). */
static inline void tl_no_core(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
}

/*** Small wrappers around the API ***/

/* Initialise a queue on a struct full of garbage. */
static inline void tl_init_queue(struct asio_queue *q, uint buffer_size, uint max_writebacks)
{
	memset(q, 0xA5, sizeof(*q));
	q->buffer_size = buffer_size;
	q->max_writebacks = max_writebacks;
	asio_init_queue(q);
}

/* Get a request and set it up (the buffer is left as it is). */
static inline struct asio_request *tl_req(struct asio_queue *q, enum asio_op op, int fd, uint len)
{
	struct asio_request *r = asio_get(q);
	CHECK(r != NULL, "asio_get returned NULL");
	r->op = op;
	r->fd = fd;
	r->len = len;
	return r;
}

/*** What the process uses (for the leak tests) ***/

struct tl_usage {
	long rss_kb, threads, fds, maps;
};

/* A numeric field of /proc/self/status, e.g. "VmRSS" (in kB) or "Threads". */
static inline long tl_status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(name);
	CHECK(f, "/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = atol(line + n + 1);
	fclose(f);
	CHECK(v >= 0, "no %s in /proc/self/status", name);
	return v;
}

/*
 * Limit the address space (RLIMIT_AS) to what the process has mapped now
 * plus extra_mb MiB; returns the MiB mapped now. Call it once the library
 * is loaded (after a first asio call), whose runtime reserves much.
 */
static inline long tl_limit_address_space(long extra_mb)
{
	long kb = tl_status_field("VmSize");
	struct rlimit rl;
	rl.rlim_cur = rl.rlim_max = (rlim_t)(kb + extra_mb * 1024) * 1024;
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit(RLIMIT_AS): %s", strerror(errno));
	return kb / 1024;
}

/*
 * Open descriptors, not counting the Go runtime's own, which it opens lazily
 * (the netpoller's epoll and eventfd, the cgroup CPU limit files it reads
 * for GOMAXPROCS).
 */
static inline long tl_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[512];
	long n = 0;
	CHECK(d, "/proc/self/fd: %s", strerror(errno));
	while ((e = readdir(d))) {
		ssize_t len;
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = 0;
		if (!strncmp(target, "/sys/fs/cgroup/", 15) || !strncmp(target, "anon_inode:[event", 17))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/* Lines of /proc/self/maps: the process's mappings. */
static inline long tl_count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;
	CHECK(f, "/proc/self/maps: %s", strerror(errno));
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static inline void tl_measure(struct tl_usage *u)
{
	u->rss_kb = tl_status_field("VmRSS");
	u->threads = tl_status_field("Threads");
	u->fds = tl_count_fds();
	u->maps = tl_count_maps();
}

#endif
