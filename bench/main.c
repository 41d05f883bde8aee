/*
 *	ucw-asio benchmarks: one bench program, built once per I/O system.
 *
 *	Usage: bench-SYS WORKLOAD [options]; prints one line
 *	  RESULT seconds=S bytes=B requests=N cpu=C
 *	(fairness: RESULT alone_s=.. alone_req=.. blocked_s=.. blocked_req=.. stalled=0|1 cpu=..)
 *	and exits 0, or says on stderr what went wrong and exits 1; a system that
 *	cannot run here (bench-uring-fixed where buffers cannot be registered)
 *	says why on stderr and in a line "UNAVAILABLE why", and exits 77. The
 *	driver (driver.c) runs these programs; they can be run by hand, too.
 *
 *	Workloads:
 *	  pingpong   --file F --len L --seconds T --seed S
 *	             one read of L bytes at a time from the page-cached pattern file F
 *	  multiqueue --file F --len L --threads K --seconds T --seed S [--direct]
 *	             K threads, each with its own reader (queue, ring), fd and quarter of F
 *	  fairness   --file F --len L --seconds T --seed S
 *	             pingpong alone, then while another queue blocks on an empty pipe, then alone
 *	  stream     --file IN --out OUT --size B --seed S [--bufsize 1M --inflight 4]
 *	             O_DIRECT copy of B bytes of IN into OUT (truncated first), verified
 *	  writeback  --out OUT --size B --len L --inflight N
 *	             B bytes of L-byte O_DIRECT writes over the existing file OUT, N in flight
 *	Common: --timeout SECONDS (default 300): the program kills itself with SIGALRM.
 */

#define _GNU_SOURCE
#include "common.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *file, *out;
	long long size, len, bufsize;
	int threads, inflight, direct, timeout;
	double seconds;
	uint64_t seed;
} opt = { .len = 4096, .bufsize = 1 << 20, .threads = 1, .inflight = 4, .seconds = 1, .timeout = 300 };

static void usage(void)
{
	fprintf(stderr, "usage: bench-%s pingpong|multiqueue|fairness|stream|writeback [--file F] [--out F] "
		"[--size B] [--len B] [--bufsize B] [--threads K] [--inflight N] [--seconds T] [--seed S] "
		"[--direct] [--timeout S]\n", sys_name);
	exit(2);
}

static void parse(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--direct")) {
			opt.direct = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (!strcmp(a, "--file"))
			opt.file = v;
		else if (!strcmp(a, "--out"))
			opt.out = v;
		else if (!strcmp(a, "--size"))
			opt.size = parse_size(v);
		else if (!strcmp(a, "--len"))
			opt.len = parse_size(v);
		else if (!strcmp(a, "--bufsize"))
			opt.bufsize = parse_size(v);
		else if (!strcmp(a, "--threads"))
			opt.threads = atoi(v);
		else if (!strcmp(a, "--inflight"))
			opt.inflight = atoi(v);
		else if (!strcmp(a, "--seconds"))
			opt.seconds = atof(v);
		else if (!strcmp(a, "--seed"))
			opt.seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--timeout"))
			opt.timeout = atoi(v);
		else
			usage();
	}
	if (opt.len <= 0 || opt.threads <= 0 || opt.inflight <= 0 || opt.seconds <= 0 || opt.bufsize <= 0)
		usage();
}

static void need(const char *what, const void *p)
{
	if (!p)
		die("%s is needed", what);
}

static void result(double seconds, long long bytes, long long requests, double cpu)
{
	printf("RESULT seconds=%.9f bytes=%lld requests=%lld cpu=%.6f\n", seconds, bytes, requests, cpu);
}

/* Reads through [start, end) of a pattern file one request at a time, wrapping around. */
struct cursor {
	int fd;
	uint64_t start, end, off, seed;
	size_t len;
};

static void cursor_rewind(struct cursor *c)
{
	c->off = c->start;
	if (lseek(c->fd, c->start, SEEK_SET) < 0)
		die_errno("lseek");
}

static void cursor_init(struct cursor *c, int fd, uint64_t start, uint64_t end, size_t len, uint64_t seed)
{
	c->fd = fd;
	c->start = start;
	c->end = start + (end - start) / len * len;
	c->len = len;
	c->seed = seed;
	if (c->end <= c->start)
		die("the file region is smaller than one request of %zu bytes", len);
	cursor_rewind(c);
}

/* Requests in batches of batch until the deadline; returns how many. */
static long long run_until(struct reader *rd, struct cursor *c, double deadline, int batch)
{
	long long n = 0;
	do {
		for (int i = 0; i < batch; i++) {
			if (c->off + c->len > c->end)
				cursor_rewind(c);
			reader_read(rd, c->fd, c->off, c->len, c->seed);
			c->off += c->len;
		}
		n += batch;
	} while (now() < deadline);
	return n;
}

static void warm(struct reader *rd, struct cursor *c, double seconds)
{
	run_until(rd, c, now() + seconds, 16);
}

/* Reads a whole file once, so that it is in the page cache. */
static uint64_t cache_file(const char *name)
{
	int fd = open_or_die(name, O_RDONLY, 0);
	static unsigned char buf[1 << 20];
	uint64_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		die_errno("read %s", name);
	close(fd);
	return total;
}

static size_t bufsize_for(size_t len)
{
	return (len + BLOCK - 1) / BLOCK * BLOCK;
}

static void pingpong(void)
{
	need("--file", opt.file);
	uint64_t size = cache_file(opt.file);
	int fd = open_or_die(opt.file, O_RDONLY, 0);
	struct reader *rd = reader_open(bufsize_for(opt.len));
	struct cursor c;
	cursor_init(&c, fd, 0, size, opt.len, opt.seed);
	warm(rd, &c, 0.02);

	double c0 = cpu_seconds(), t0 = now();
	long long n = run_until(rd, &c, t0 + opt.seconds, 64);
	double t1 = now(), c1 = cpu_seconds();
	reader_close(rd);
	close(fd);
	result(t1 - t0, n * opt.len, n, c1 - c0);
}

/* multiqueue: each thread has its own reader, descriptor and region. */
struct mq_thread {
	pthread_t id;
	int index;
	uint64_t start, end;
	long long requests;
};
static pthread_barrier_t mq_ready, mq_go;
static double mq_deadline;

static void *mq_main(void *arg)
{
	struct mq_thread *t = arg;
	int fd = open_or_die(opt.file, O_RDONLY, opt.direct);
	struct reader *rd = reader_open(bufsize_for(opt.len));
	struct cursor c;
	cursor_init(&c, fd, t->start, t->end, opt.len, opt.seed);
	warm(rd, &c, 0.01);
	pthread_barrier_wait(&mq_ready);
	pthread_barrier_wait(&mq_go);
	t->requests = run_until(rd, &c, mq_deadline, opt.direct ? 4 : 64);
	reader_close(rd);
	close(fd);
	return NULL;
}

static void multiqueue(void)
{
	need("--file", opt.file);
	uint64_t size = opt.direct ? 0 : cache_file(opt.file);
	if (opt.direct) {
		struct stat st;
		if (stat(opt.file, &st) < 0)
			die_errno("stat %s", opt.file);
		size = st.st_size;
	}
	int k = opt.threads;
	uint64_t region = size / (k > 4 ? k : 4) / BLOCK * BLOCK;
	struct mq_thread *t = calloc(k, sizeof(*t));
	pthread_barrier_init(&mq_ready, NULL, k + 1);
	pthread_barrier_init(&mq_go, NULL, k + 1);
	for (int i = 0; i < k; i++) {
		t[i].index = i;
		t[i].start = i * region;
		t[i].end = (i + 1) * region;
		int err = pthread_create(&t[i].id, NULL, mq_main, &t[i]);
		if (err) {
			errno = err;
			die_errno("pthread_create");
		}
	}
	pthread_barrier_wait(&mq_ready);
	double c0 = cpu_seconds(), t0 = now();
	mq_deadline = t0 + opt.seconds;
	pthread_barrier_wait(&mq_go);
	long long n = 0;
	for (int i = 0; i < k; i++) {
		pthread_join(t[i].id, NULL);
		n += t[i].requests;
	}
	double t1 = now(), c1 = cpu_seconds();
	free(t);
	result(t1 - t0, n * opt.len, n, c1 - c0);
}

/* fairness: a watchdog writes into the pipe if the blocked phase stalls. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int cancelled, fired, fd;
	double seconds;
} dog = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *dog_main(void *arg)
{
	(void)arg;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	double s = dog.seconds;
	until.tv_sec += (time_t)s;
	until.tv_nsec += (long)((s - (time_t)s) * 1e9);
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&dog.lock);
	while (!dog.cancelled) {
		if (pthread_cond_timedwait(&dog.cond, &dog.lock, &until) == ETIMEDOUT && !dog.cancelled) {
			dog.fired = 1;
			write_full(dog.fd, "w", 1, "pipe");
			break;
		}
	}
	pthread_mutex_unlock(&dog.lock);
	return NULL;
}

static void fairness(void)
{
	need("--file", opt.file);
	uint64_t size = cache_file(opt.file);
	int fd = open_or_die(opt.file, O_RDONLY, 0);
	struct reader *rd = reader_open(bufsize_for(opt.len));
	struct cursor c;
	cursor_init(&c, fd, 0, size, opt.len, opt.seed);
	warm(rd, &c, 0.02);
	double half = opt.seconds / 2;

	double c0 = cpu_seconds();
	double t0 = now();
	long long alone = run_until(rd, &c, t0 + half, 64);
	double t1 = now();

	int p[2];
	if (pipe(p) < 0)
		die_errno("pipe");
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dog.cond, &ca);
	dog.fd = p[1];
	dog.seconds = opt.seconds + (opt.seconds * 5 > 2 ? opt.seconds * 5 : 2);
	struct blocker *b = blocker_start(p[0]);
	pthread_t dog_id;
	if (pthread_create(&dog_id, NULL, dog_main, NULL))
		die("pthread_create");
	double t2 = now();
	long long blocked = run_until(rd, &c, t2 + opt.seconds, 64);
	double t3 = now();
	pthread_mutex_lock(&dog.lock);
	dog.cancelled = 1;
	pthread_cond_signal(&dog.cond);
	if (!dog.fired)
		write_full(p[1], "x", 1, "pipe");
	pthread_mutex_unlock(&dog.lock);
	pthread_join(dog_id, NULL);
	blocker_finish(b);

	double t4 = now();
	alone += run_until(rd, &c, t4 + half, 64);
	double t5 = now(), c1 = cpu_seconds();
	reader_close(rd);
	close(fd);
	close(p[0]);
	close(p[1]);
	printf("RESULT alone_s=%.9f alone_req=%lld blocked_s=%.9f blocked_req=%lld stalled=%d cpu=%.6f\n",
	       (t1 - t0) + (t5 - t4), alone, t3 - t2, blocked, dog.fired, c1 - c0);
}

/* Checks every word of a copy against the pattern, reading it with O_DIRECT. */
static void verify_copy(const char *name, uint64_t size, uint64_t seed)
{
	int fd = open_or_die(name, O_RDONLY, 1);
	struct stat st;
	if (fstat(fd, &st) < 0)
		die_errno("fstat %s", name);
	if ((uint64_t)st.st_size != size)
		die("%s: the copy has %lld bytes, the source %llu", sys_name, (long long)st.st_size,
		    (unsigned long long)size);
	size_t chunk = 1 << 20;
	unsigned char *buf = alloc_aligned(chunk);
	for (uint64_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		read_full(fd, buf, n, name);
		for (size_t i = 0; i + 8 <= n; i += 8) {
			uint64_t w;
			memcpy(&w, buf + i, 8);
			if (w != pattern_word(seed, off + i))
				die("%s: the copy differs from the source at offset %llu: COPY IS WRONG",
				    sys_name, (unsigned long long)(off + i));
		}
	}
	free(buf);
	close(fd);
}

static void stream(void)
{
	need("--file", opt.file);
	need("--out", opt.out);
	if (!opt.size || opt.size % opt.bufsize)
		die("--size must be a non-zero multiple of --bufsize");
	int in = open_or_die(opt.file, O_RDONLY, 1);
	int out = open_or_die(opt.out, O_WRONLY | O_CREAT | O_TRUNC, 1);
	if (fsync(out) < 0)	/* the truncation's work is done before the clock starts */
		die_errno("fsync %s", opt.out);
	double c0 = cpu_seconds(), t0 = now();
	sys_stream(in, out, opt.size, opt.bufsize, opt.inflight);
	double t1 = now(), c1 = cpu_seconds();
	close(in);
	close(out);
	verify_copy(opt.out, opt.size, opt.seed);
	result(t1 - t0, opt.size, 2 * opt.size / opt.bufsize, c1 - c0);
}

static void writeback(void)
{
	need("--out", opt.out);
	if (!opt.size || opt.size % opt.len || opt.len % BLOCK)
		die("--size must be a non-zero multiple of --len, a multiple of %d", BLOCK);
	int out = open_or_die(opt.out, O_WRONLY, 1);
	struct stat st;
	if (fstat(out, &st) < 0)
		die_errno("fstat %s", opt.out);
	if (st.st_size < opt.size)
		die("%s has %lld bytes, less than --size: writeback overwrites an existing file",
		    opt.out, (long long)st.st_size);
	double c0 = cpu_seconds(), t0 = now();
	sys_writeback(out, opt.size, opt.len, opt.inflight);
	double t1 = now(), c1 = cpu_seconds();
	if (fstat(out, &st) < 0)
		die_errno("fstat %s", opt.out);
	if (st.st_size < opt.size)
		die("%s shrank to %lld bytes", opt.out, (long long)st.st_size);
	close(out);
	result(t1 - t0, opt.size, opt.size / opt.len, c1 - c0);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	parse(argc, argv);
	alarm(opt.timeout);
	const char *w = argv[1];
	if (!strcmp(w, "pingpong"))
		pingpong();
	else if (!strcmp(w, "multiqueue"))
		multiqueue();
	else if (!strcmp(w, "fairness"))
		fairness();
	else if (!strcmp(w, "stream"))
		stream();
	else if (!strcmp(w, "writeback"))
		writeback();
	else
		usage();
	return fflush(stdout) ? 1 : 0;
}
