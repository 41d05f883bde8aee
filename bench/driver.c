/*
 *	ucw-asio benchmarks: the driver behind `make bench`.
 *
 *	Makes the data files, then for each round runs every workload for every
 *	system (ucw-asio, plain read/write, liburing, liburing with registered
 *	buffers, POSIX AIO, the floor), each run a
 *	fresh process, the systems interleaved (the order rotates by round), and
 *	prints one Markdown report: medians with min-max over rounds, ratios
 *	ucw-asio / peer computed per round, and the performance targets with a
 *	verdict. The report is also written to BIN/results.md, the raw figures to
 *	BIN/raw.tsv.
 *
 *	Usage: driver [--quick] [--rounds N] [--dir DIR] [--bin DIR] [--lib PATH]
 *	              [--size BYTES] [--seconds T] [--only W,W,...] [--keep]
 *	  --quick    small files and short runs: the whole suite in under a minute
 *	  --dir      where the data files go (default build/bench-data; a real disk)
 *	  --bin      where the bench programs are (default build/bench)
 *	  --lib      the library for the start-up measurement (default build/libucw-asio.so)
 *	  --only     some of pingpong, stream, writeback, multiqueue, fairness, startup
 *	  --keep     do not delete the data files at the end
 *	BENCH_DIR in the environment sets the default of --dir.
 *
 *	The floor (bench-floor, bench/floor/) is the design's lower bound: the
 *	same program and public library on an engine that does nothing but the
 *	system call. It runs the pingpong and page-cached multiqueue cases, where
 *	ucw-asio / floor is what the engine's own work costs.
 *
 *	bench-uring-fixed, "liburing (registered buffers)" in the report, is
 *	the liburing peer as a careful user writes it: buffers registered with
 *	the ring, READ_FIXED and WRITE_FIXED. It runs the O_DIRECT cases
 *	(stream, writeback, O_DIRECT multiqueue), where registration spares the
 *	kernel pinning the user's pages at every request; page-cached reads
 *	copy into the buffer either way (4 KiB pingpong 3-4% faster, 1 byte the
 *	same: not worth the bench's time). Where it cannot register them
 *	(RLIMIT_MEMLOCK, an old kernel) it exits EXIT_UNAVAILABLE saying why:
 *	its cells show "–" and the report quotes the reason.
 */

#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSYS 6
#define MAXROUNDS 50
#define MAXCASES 40
#define MAXARGS 32
#define UCW 0
#define PLAIN 1
#define URING 2
#define AIO 3
#define FLOOR 4
#define URING_FIXED 5

static const char *const sys_id[NSYS] = { "ucw", "plain", "uring", "aio", "floor", "uring-fixed" };
static const char *const sys_label[NSYS] = { "ucw-asio", "plain", "liburing", "POSIX AIO", "floor",
					     "liburing (registered buffers)" };
/* The order of the systems in the tables: the floor beside ucw-asio, liburing's two peers together. */
static const int shown[NSYS] = { UCW, FLOOR, PLAIN, URING, URING_FIXED, AIO };

#define SRC_SEED 0x5eed0001ULL
#define PING_SEED 0x5eed0002ULL

static struct {
	int quick, rounds, keep;
	const char *dir, *bin, *lib, *only;
	long long size, ping_size;
	double pp_seconds, mq_seconds, fair_seconds;
	int startup_execs;
	int direct_ok;
} cfg;

static char src_file[4096], ping_file[4096], wb_file[4096], dst_file[4096], probe_file[4096];
static int made_dir;

enum kind { LAT, TPUT, FAIR };

struct casedef {
	char id[32];
	const char *workload;
	char title[200];
	char short_title[64];	/* for the summary table */
	const char *plain_label;
	enum kind kind;
	int pinned, threads, direct;
	int floor;		/* the floor runs it too */
	int base;		/* multiqueue: the one-thread case of the same family */
	int nargs;
	char *args[MAXARGS];
};

struct meas {
	int have;
	double v;		/* LAT: µs/request; TPUT: GB/s; FAIR: blocked/alone */
	double cpu;		/* LAT: CPU µs/request; TPUT: CPU s/GiB */
	double alone_us, blocked_us;
	int stalled;
};

static struct casedef cases[MAXCASES];
static int ncases;
static struct meas res[MAXCASES][NSYS][MAXROUNDS];
/* Why a system is unavailable in a case (its program exited EXIT_UNAVAILABLE), or NULL. */
static char *unavail[MAXCASES][NSYS];

static struct {
	int have;
	double ms_without, ms_with, mb_without, mb_with;
} startup[MAXROUNDS];
static int startup_state;	/* 0 not run, 1 measured, -1 preload check failed */
static FILE *raw;

/*** Small helpers ***/

static int wanted(const char *workload)
{
	if (!cfg.only)
		return 1;
	size_t n = strlen(workload);
	for (const char *p = cfg.only; (p = strstr(p, workload)); p += n)
		if ((p == cfg.only || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stat3 {
	int n;
	double med, min, max;
};

static struct stat3 stats(const double *v, int n)
{
	struct stat3 s = { .n = n };
	if (!n)
		return s;
	double *c = malloc(n * sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	s.med = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	s.min = c[0];
	s.max = c[n - 1];
	free(c);
	return s;
}

static const char *num(double v)
{
	static char ring[16][32];
	static int k;
	char *b = ring[k++ % 16];
	double a = v < 0 ? -v : v;
	if (a >= 100)
		snprintf(b, 32, "%.0f", v);
	else if (a >= 10)
		snprintf(b, 32, "%.1f", v);
	else if (a >= 1)
		snprintf(b, 32, "%.2f", v);
	else
		snprintf(b, 32, "%.3f", v);
	return b;
}

static const char *range(struct stat3 s)
{
	static char ring[8][64];
	static int k;
	char *b = ring[k++ % 8];
	if (!s.n)
		snprintf(b, 64, "–");
	else
		snprintf(b, 64, "%s–%s", num(s.min), num(s.max));
	return b;
}

static const char *medrange(struct stat3 s)
{
	static char ring[8][96];
	static int k;
	char *b = ring[k++ % 8];
	if (!s.n)
		snprintf(b, 96, "–");
	else
		snprintf(b, 96, "%s (%s)", num(s.med), range(s));
	return b;
}

/*** Cases ***/

static struct casedef *add_case(const char *id, const char *workload, enum kind kind)
{
	if (ncases == MAXCASES)
		die("too many cases");
	struct casedef *c = &cases[ncases++];
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->workload = workload;
	c->kind = kind;
	c->base = -1;
	c->plain_label = "plain read(2)";
	c->args[c->nargs++] = (char *)workload;
	return c;
}

static void arg(struct casedef *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct casedef *c, const char *fmt, ...)
{
	if (c->nargs >= MAXARGS - 1)
		die("too many arguments");
	va_list a;
	va_start(a, fmt);
	if (vasprintf(&c->args[c->nargs], fmt, a) < 0)
		die("out of memory");
	va_end(a);
	c->nargs++;
}

static int find_case(const char *id)
{
	for (int i = 0; i < ncases; i++)
		if (!strcmp(cases[i].id, id))
			return i;
	return -1;
}

static void make_cases(void)
{
	char sec[32];
	struct casedef *c;

	if (wanted("pingpong")) {
		static const struct { const char *id; int len, pinned; } pp[] = {
			{ "pingpong-4k", 4096, 0 }, { "pingpong-4k-pinned", 4096, 1 },
			{ "pingpong-1b", 1, 0 }, { "pingpong-1b-pinned", 1, 1 },
		};
		snprintf(sec, sizeof(sec), "%g", cfg.pp_seconds);
		for (unsigned i = 0; i < sizeof(pp) / sizeof(pp[0]); i++) {
			c = add_case(pp[i].id, "pingpong", LAT);
			c->pinned = pp[i].pinned;
			c->floor = 1;
			snprintf(c->title, sizeof(c->title),
				 "pingpong: %s reads from a page-cached file, one at a time (get, submit, wait, put)%s",
				 pp[i].len == 1 ? "1-byte" : "4 KiB",
				 pp[i].pinned ? ", pinned to CPU 0 (`taskset -c 0`)" : ", unpinned");
			snprintf(c->short_title, sizeof(c->short_title), "pingpong %s%s",
				 pp[i].len == 1 ? "1 byte" : "4 KiB", pp[i].pinned ? ", pinned" : "");
			arg(c, "--file"); arg(c, "%s", ping_file);
			arg(c, "--len"); arg(c, "%d", pp[i].len);
			arg(c, "--seconds"); arg(c, "%s", sec);
			arg(c, "--seed"); arg(c, "%llu", PING_SEED);
		}
	}
	if (wanted("stream") && cfg.direct_ok) {
		c = add_case("stream", "stream", TPUT);
		c->direct = 1;
		c->plain_label = "plain read/write copy";
		snprintf(c->title, sizeof(c->title),
			 "stream: `O_DIRECT` copy of %lld MiB, 1 MiB buffers, one read ahead, 4 writes in flight "
			 "(ucw-asio: write-backs, `max_writebacks` 4), verified word by word", cfg.size >> 20);
		snprintf(c->short_title, sizeof(c->short_title), "stream (`O_DIRECT` copy)");
		arg(c, "--file"); arg(c, "%s", src_file);
		arg(c, "--out"); arg(c, "%s", dst_file);
		arg(c, "--size"); arg(c, "%lld", cfg.size);
		arg(c, "--bufsize"); arg(c, "1M");
		arg(c, "--inflight"); arg(c, "4");
		arg(c, "--seed"); arg(c, "%llu", SRC_SEED);
	}
	if (wanted("writeback") && cfg.direct_ok) {
		static const int n[] = { 1, 4, 16 };
		for (unsigned i = 0; i < 3; i++) {
			char id[32];
			snprintf(id, sizeof(id), "writeback-%d", n[i]);
			c = add_case(id, "writeback", TPUT);
			c->direct = 1;
			c->plain_label = "plain write(2), sequential";
			snprintf(c->title, sizeof(c->title),
				 "writeback: %lld MiB of 64 KiB `O_DIRECT` writes over an existing file, %d in flight "
				 "(ucw-asio: `ASIO_WRITE_BACK`, `max_writebacks` %d)", cfg.size >> 20, n[i], n[i]);
			snprintf(c->short_title, sizeof(c->short_title), "writeback, %d in flight", n[i]);
			arg(c, "--out"); arg(c, "%s", wb_file);
			arg(c, "--size"); arg(c, "%lld", cfg.size);
			arg(c, "--len"); arg(c, "64K");
			arg(c, "--inflight"); arg(c, "%d", n[i]);
		}
	}
	if (wanted("multiqueue")) {
		snprintf(sec, sizeof(sec), "%g", cfg.mq_seconds);
		for (int direct = 0; direct < 2; direct++) {
			if (direct && !cfg.direct_ok)
				continue;
			int base = -1;
			static const int th[] = { 1, 2, 4 };
			for (unsigned i = 0; i < 3; i++) {
				char id[32];
				snprintf(id, sizeof(id), "multiqueue-%s-%d", direct ? "direct" : "cached", th[i]);
				c = add_case(id, "multiqueue", TPUT);
				c->threads = th[i];
				c->direct = direct;
				c->floor = !direct;
				c->plain_label = "plain read(2)";
				if (base < 0)
					base = ncases - 1;
				c->base = base;
				snprintf(c->title, sizeof(c->title),
					 direct ? "multiqueue: threads each with its own queue (ring), one 4 KiB `O_DIRECT` read at a time (latency-bound: shows whether queues overlap)"
						: "multiqueue: threads each with its own queue (ring), one 4 KiB page-cached read at a time");
				snprintf(c->short_title, sizeof(c->short_title), "multiqueue %s, %d thread%s",
					 direct ? "`O_DIRECT` 4 KiB" : "cached 4 KiB", th[i], th[i] > 1 ? "s" : "");
				arg(c, "--file"); arg(c, "%s", direct ? src_file : ping_file);
				arg(c, "--len"); arg(c, "4096");
				arg(c, "--threads"); arg(c, "%d", th[i]);
				arg(c, "--seconds"); arg(c, "%s", sec);
				arg(c, "--seed"); arg(c, "%llu", direct ? SRC_SEED : PING_SEED);
				if (direct)
					arg(c, "--direct");
			}
		}
	}
	if (wanted("fairness")) {
		c = add_case("fairness", "fairness", FAIR);
		snprintf(c->title, sizeof(c->title),
			 "fairness: 4 KiB page-cached reads one at a time, alone and while another queue "
			 "(ring, thread) is blocked reading an empty pipe");
		snprintf(c->short_title, sizeof(c->short_title), "fairness: slowdown beside a blocked queue");
		snprintf(sec, sizeof(sec), "%g", cfg.fair_seconds);
		arg(c, "--file"); arg(c, "%s", ping_file);
		arg(c, "--len"); arg(c, "4096");
		arg(c, "--seconds"); arg(c, "%s", sec);
		arg(c, "--seed"); arg(c, "%llu", PING_SEED);
	}
	for (int i = 0; i < ncases; i++)
		arg(&cases[i], "--timeout"), arg(&cases[i], "%d", cfg.quick ? 60 : 300);
}

/*** Running a bench program ***/

/*
 * Whether system s runs case ci: every system runs every case, but the floor
 * only those marked for it, and liburing with registered buffers the O_DIRECT ones.
 */
static int runs(int ci, int s)
{
	if (s == FLOOR)
		return cases[ci].floor;
	if (s == URING_FIXED)
		return cases[ci].direct;
	return 1;
}

/*
 * A bench program's stderr goes to a scratch file, copied to ours once it has
 * ended: all of it, but for the one line of a system unavailable here, which
 * the progress line and the report quote instead.
 */
static int child_stderr(void)
{
	static int fd = -1;
	if (fd < 0) {
		FILE *f = tmpfile();
		if (!f)
			die_errno("tmpfile");
		fd = fileno(f);
		fcntl(fd, F_SETFD, FD_CLOEXEC);	/* dup2 onto 2 clears it there */
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		die_errno("the scratch file for the programs' stderr");
	return fd;
}

static void copy_stderr(int fd)
{
	char buf[4096];
	ssize_t n;
	off_t off = 0;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		write_full(2, buf, n, "stderr");
		off += n;
	}
}

static double field(const char *line, const char *key, int *ok)
{
	char k[64];
	snprintf(k, sizeof(k), " %s=", key);
	const char *p = strstr(line, k);
	if (!p) {
		*ok = 0;
		return 0;
	}
	return strtod(p + strlen(k), NULL);
}

static void run_case(int ci, int s, int round)
{
	struct casedef *c = &cases[ci];
	char prog[4200];
	snprintf(prog, sizeof(prog), "%s/bench-%s", cfg.bin, sys_id[s]);
	char *argv[MAXARGS + 1];
	argv[0] = prog;
	for (int i = 0; i < c->nargs; i++)
		argv[i + 1] = c->args[i];
	argv[c->nargs + 1] = NULL;

	int p[2];
	if (pipe(p) < 0)
		die_errno("pipe");
	int err = child_stderr();
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (!pid) {
		dup2(p[1], 1);
		dup2(err, 2);
		close(p[0]);
		close(p[1]);
		if (c->pinned) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(0, &set);
			if (sched_setaffinity(0, sizeof(set), &set) < 0)
				die_errno("sched_setaffinity (taskset -c 0)");
		}
		execv(prog, argv);
		die_errno("exec %s", prog);
	}
	close(p[1]);
	char out[4096];
	size_t len = 0;
	ssize_t n;
	while ((n = read(p[0], out + len, sizeof(out) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read from %s", prog);
		len += n;
		if (len == sizeof(out) - 1)
			break;
	}
	out[len] = 0;
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	char *line = strstr(out, "UNAVAILABLE ");
	if (s != UCW && WIFEXITED(st) && WEXITSTATUS(st) == EXIT_UNAVAILABLE && line) {
		line += strlen("UNAVAILABLE ");
		line[strcspn(line, "\n")] = 0;
		unavail[ci][s] = strdup(line);
		if (!unavail[ci][s])
			die("out of memory");
		if (raw)
			fprintf(raw, "%d\t%s\t%s\t\t\tunavailable: %s\n", round + 1, c->id, sys_id[s], line);
		return;
	}
	copy_stderr(err);
	line = strstr(out, "RESULT ");
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !line) {
		char how[64];
		if (WIFSIGNALED(st))
			snprintf(how, sizeof(how), "killed by signal %d%s", WTERMSIG(st),
				 WTERMSIG(st) == SIGALRM ? " (its timeout: a hang?)" : "");
		else
			snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(st));
		fprintf(stderr, "\nBENCHMARK FAILED: %s, case %s, round %d: %s%s\n", sys_label[s], c->id,
			round + 1, how, line ? "" : " without a RESULT line");
		fprintf(stderr, "command:");
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "\n");
		exit(1);
	}
	line[strcspn(line, "\n")] = 0;
	char *fields = line + 6;	/* " key=value ..." */
	int ok = 1;
	struct meas *m = &res[ci][s][round];
	double cpu = field(fields, "cpu", &ok);
	if (c->kind == FAIR) {
		double as = field(fields, "alone_s", &ok), ar = field(fields, "alone_req", &ok);
		double bs = field(fields, "blocked_s", &ok), br = field(fields, "blocked_req", &ok);
		m->stalled = (int)field(fields, "stalled", &ok);
		if (ok && ar > 0 && br > 0) {
			m->alone_us = as / ar * 1e6;
			m->blocked_us = bs / br * 1e6;
			m->v = m->blocked_us / m->alone_us;
			m->cpu = cpu / (ar + br) * 1e6;
		} else
			ok = 0;
	} else {
		double secs = field(fields, "seconds", &ok), bytes = field(fields, "bytes", &ok);
		double reqs = field(fields, "requests", &ok);
		if (ok && secs > 0 && reqs > 0) {
			if (c->kind == LAT) {
				m->v = secs / reqs * 1e6;
				m->cpu = cpu / reqs * 1e6;
			} else {
				m->v = bytes / secs / 1e9;
				m->cpu = cpu / (bytes / (double)(1 << 30));
			}
		} else
			ok = 0;
	}
	if (!ok)
		die("%s, case %s: cannot read the result line '%s'", sys_label[s], c->id, line);
	m->have = 1;
	if (raw)
		fprintf(raw, "%d\t%s\t%s\t%.6g\t%.6g\t%s\n", round + 1, c->id, sys_id[s], m->v, m->cpu, fields + 1);
}

/*** Start-up cost: a tiny program with and without the library preloaded ***/

static int exec_tiny(int preload, const char *check, double *ms, double *mb)
{
	char prog[4200];
	snprintf(prog, sizeof(prog), "%s/tiny", cfg.bin);
	fflush(stdout);
	fflush(stderr);
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (!pid) {
		if (preload)
			setenv("LD_PRELOAD", cfg.lib, 1);
		else
			unsetenv("LD_PRELOAD");
		execl(prog, prog, check, (char *)NULL);
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			die_errno("wait4");
	double t1 = now();
	if (ms)
		*ms = (t1 - t0) * 1e3;
	if (mb)
		*mb = ru.ru_maxrss / 1024.0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void run_startup(int round)
{
	if (startup_state < 0)
		return;
	if (!startup_state) {
		int with = exec_tiny(1, "libucw-asio", NULL, NULL);
		int without = exec_tiny(0, "libucw-asio", NULL, NULL);
		if (with != 0 || without != 3) {
			fprintf(stderr, "startup: LD_PRELOAD=%s did not load the library into the probe "
				"(exit %d, without %d): skipped\n", cfg.lib, with, without);
			startup_state = -1;
			return;
		}
		startup_state = 1;
	}
	int n = cfg.startup_execs;
	double *ms[2], *mb[2];
	for (int p = 0; p < 2; p++) {
		ms[p] = calloc(n, sizeof(double));
		mb[p] = calloc(n, sizeof(double));
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < 2; j++) {
			int p = (i + j) % 2;	/* alternate which goes first */
			if (exec_tiny(p, NULL, &ms[p][i], &mb[p][i]))
				die("startup: the probe %s failed", p ? "with the library" : "without the library");
		}
	startup[round].have = 1;
	startup[round].ms_without = stats(ms[0], n).med;
	startup[round].ms_with = stats(ms[1], n).med;
	startup[round].mb_without = stats(mb[0], n).med;
	startup[round].mb_with = stats(mb[1], n).med;
	if (raw)
		fprintf(raw, "%d\tstartup\tucw\t%.6g\t%.6g\tms_without=%.4f ms_with=%.4f mb_without=%.3f mb_with=%.3f\n",
			round + 1, startup[round].ms_with - startup[round].ms_without,
			startup[round].mb_with - startup[round].mb_without, startup[round].ms_without,
			startup[round].ms_with, startup[round].mb_without, startup[round].mb_with);
	for (int p = 0; p < 2; p++) {
		free(ms[p]);
		free(mb[p]);
	}
}

/*** Data files ***/

static void generate(const char *name, long long size, uint64_t seed)
{
	int fd = open_or_die(name, O_WRONLY | O_CREAT | O_TRUNC, 0);
	size_t chunk = 1 << 20;
	unsigned char *buf = alloc_aligned(chunk);
	for (long long off = 0; off < size; off += chunk) {
		size_t n = size - off < (long long)chunk ? (size_t)(size - off) : chunk;
		fill_pattern(buf, n, seed, off);
		write_full(fd, buf, n, name);
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		die_errno("fsync %s", name);
	free(buf);
}

static void cleanup(void)
{
	if (cfg.keep)
		return;
	unlink(src_file);
	unlink(ping_file);
	unlink(wb_file);
	unlink(dst_file);
	unlink(probe_file);
	if (made_dir)
		rmdir(cfg.dir);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(tmp, 0755) < 0) {
		if (errno == EEXIST)
			return 0;
		return -1;
	}
	made_dir = 1;
	return 0;
}

static int probe_direct(void)
{
	int fd = open(probe_file, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	if (fd < 0) {
		if (errno == EINVAL)
			return 0;
		die_errno("open %s", probe_file);
	}
	void *buf = alloc_aligned(BLOCK);
	ssize_t n = write(fd, buf, BLOCK);
	close(fd);
	free(buf);
	unlink(probe_file);
	return n == BLOCK;
}

/*** The report ***/

static const char *fs_name(const char *dir)
{
	struct statfs s;
	if (statfs(dir, &s) < 0)
		return "?";
	switch ((unsigned long)s.f_type) {
	case 0xEF53: return "ext4";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x01021994: return "tmpfs";
	case 0x794c7630: return "overlayfs";
	case 0x2FC12FC1: return "zfs";
	case 0xF2F52010: return "f2fs";
	default: return "other";
	}
}

static void cpu_model(char *buf, size_t size)
{
	snprintf(buf, size, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');
			if (p) {
				p += 1 + strspn(p + 1, " \t");
				p[strcspn(p, "\n")] = 0;
				snprintf(buf, size, "%s", p);
			}
			break;
		}
	fclose(f);
}

/* Per-round values of one system in one case: v (which 0) or cpu (which 1). */
static int series(int ci, int s, int which, double *out)
{
	int n = 0;
	for (int r = 0; r < cfg.rounds; r++) {
		struct meas *m = &res[ci][s][r];
		if (m->have)
			out[n++] = which ? m->cpu : m->v;
	}
	return n;
}

static struct stat3 value_stats(int ci, int s, int which)
{
	double v[MAXROUNDS];
	return stats(v, series(ci, s, which, v));
}

/* ucw-asio / system (or the given case of ucw-asio / of system), round by round. */
static struct stat3 ratio_stats(int ci_a, int sa, int ci_b, int sb, int which)
{
	double v[MAXROUNDS];
	int n = 0;
	for (int r = 0; r < cfg.rounds; r++) {
		struct meas *a = &res[ci_a][sa][r], *b = &res[ci_b][sb][r];
		double x = which ? a->cpu : a->v, y = which ? b->cpu : b->v;
		if (a->have && b->have && y > 0)
			v[n++] = x / y;
	}
	return stats(v, n);
}

static const char *label(int ci, int s)
{
	return s == PLAIN ? cases[ci].plain_label : sys_label[s];
}

/*
 * For cases first to last: each system unavailable in some, with the cases
 * and its program's reason, one line per system and reason, each after lead.
 */
static void unavailable_notes(FILE *f, int first, int last, const char *lead)
{
	for (int s = 0; s < NSYS; s++)
		for (int ci = first; ci <= last; ci++) {
			const char *why = unavail[ci][s];
			int dup = 0;
			for (int cj = first; why && cj < ci && !dup; cj++)
				dup = unavail[cj][s] && !strcmp(unavail[cj][s], why);
			if (!why || dup)
				continue;
			fprintf(f, "%s%s could not run in", lead, sys_label[s]);
			for (int cj = ci, n = 0; cj <= last; cj++)
				if (unavail[cj][s] && !strcmp(unavail[cj][s], why))
					fprintf(f, "%s %s", n++ ? "," : "", cases[cj].id);
			fprintf(f, " (shown as –): `%s`\n", why);
		}
}

static void table_simple(FILE *f, int ci)
{
	struct casedef *c = &cases[ci];
	int lat = c->kind == LAT;
	fprintf(f, "\n### %s\n\n", c->title);
	fprintf(f, "%s Ratio = ucw-asio / system, per round: %s.\n\n",
		lat ? "Time per request in µs, lower is better." : "Throughput in GB/s (10^9 bytes/s), higher is better.",
		lat ? "below 1 means ucw-asio is faster" : "above 1 means ucw-asio is faster");
	fprintf(f, "| system | %s median | min–max | ratio ucw-asio / system: median (min–max) | CPU %s (median) |\n",
		lat ? "µs/request" : "GB/s", lat ? "µs/request" : "s/GiB");
	fprintf(f, "|---|---:|---:|---:|---:|\n");
	for (int k = 0; k < NSYS; k++) {
		int s = shown[k];
		if (!runs(ci, s))
			continue;
		struct stat3 v = value_stats(ci, s, 0), cpu = value_stats(ci, s, 1);
		fprintf(f, "| %s | %s | %s | %s | %s |\n", label(ci, s), v.n ? num(v.med) : "–", range(v),
			s == UCW ? "—" : medrange(ratio_stats(ci, UCW, ci, s, 0)), cpu.n ? num(cpu.med) : "–");
	}
	unavailable_notes(f, ci, ci, "\n");
}

static void table_multiqueue(FILE *f, int first)
{
	struct casedef *c = &cases[first];
	fprintf(f, "\n### %s\n\n", c->title);
	fprintf(f, "Aggregate throughput in GB/s, higher is better; × one thread = this many threads / one thread "
		"of the same system, per round; ratio = ucw-asio / system with as many threads, per round "
		"(above 1: ucw-asio is faster).\n\n");
	fprintf(f, "| system | threads | GB/s median | min–max | × one thread: median (min–max) | "
		"ratio ucw-asio / system: median (min–max) | CPU s/GiB (median) |\n");
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|\n");
	for (int k = 0; k < NSYS; k++)
		for (int ci = first; ci < ncases && cases[ci].base == first; ci++) {
			int s = shown[k];
			if (!runs(ci, s))
				continue;
			struct stat3 v = value_stats(ci, s, 0), cpu = value_stats(ci, s, 1);
			fprintf(f, "| %s | %d | %s | %s | %s | %s | %s |\n", label(ci, s), cases[ci].threads,
				v.n ? num(v.med) : "–", range(v),
				ci == first ? "1" : medrange(ratio_stats(ci, s, first, s, 0)),
				s == UCW ? "—" : medrange(ratio_stats(ci, UCW, ci, s, 0)), cpu.n ? num(cpu.med) : "–");
		}
	int last = first;
	while (last + 1 < ncases && cases[last + 1].base == first)
		last++;
	unavailable_notes(f, first, last, "\n");
}

static void table_fairness(FILE *f, int ci)
{
	fprintf(f, "\n### %s\n\n", cases[ci].title);
	fprintf(f, "Slowdown = µs per request while the other queue is blocked / µs per request alone, "
		"per round: 1 means not slowed at all. A stall (the working queue made no progress until a "
		"watchdog fed the pipe) shows as a huge slowdown.\n\n");
	fprintf(f, "| system | µs/request alone (median) | µs/request beside a blocked queue (median) | "
		"slowdown: median (min–max) | rounds that stalled |\n");
	fprintf(f, "|---|---:|---:|---:|---:|\n");
	for (int s = 0; s < NSYS; s++) {
		if (!runs(ci, s))
			continue;
		double a[MAXROUNDS], b[MAXROUNDS];
		int n = 0, stalled = 0;
		for (int r = 0; r < cfg.rounds; r++) {
			struct meas *m = &res[ci][s][r];
			if (!m->have)
				continue;
			a[n] = m->alone_us;
			b[n] = m->blocked_us;
			stalled += m->stalled;
			n++;
		}
		fprintf(f, "| %s | %s | %s | %s | %d of %d |\n", label(ci, s), n ? num(stats(a, n).med) : "–",
			n ? num(stats(b, n).med) : "–", medrange(value_stats(ci, s, 0)), stalled, n);
	}
}

static void table_startup(FILE *f)
{
	double v[4][MAXROUNDS], d[2][MAXROUNDS];
	int n = 0;
	for (int r = 0; r < cfg.rounds; r++) {
		if (!startup[r].have)
			continue;
		v[0][n] = startup[r].ms_without;
		v[1][n] = startup[r].ms_with;
		v[2][n] = startup[r].mb_without;
		v[3][n] = startup[r].mb_with;
		d[0][n] = startup[r].ms_with - startup[r].ms_without;
		d[1][n] = startup[r].mb_with - startup[r].mb_without;
		n++;
	}
	fprintf(f, "\n### start-up: a program that never calls the library, with and without "
		"`LD_PRELOAD=libucw-asio.so`\n\n");
	if (!n) {
		fprintf(f, "Not measured%s.\n", startup_state < 0 ? ": the preload did not take" : "");
		return;
	}
	fprintf(f, "%d executions of each per round, alternating; per round the median of each, then the "
		"difference. Lower is better.\n\n", cfg.startup_execs);
	fprintf(f, "| | without (median) | with the library (median) | added by the library: median (min–max) |\n");
	fprintf(f, "|---|---:|---:|---:|\n");
	fprintf(f, "| fork + exec + exit + wait, ms | %s | %s | %s |\n", num(stats(v[0], n).med),
		num(stats(v[1], n).med), medrange(stats(d[0], n)));
	fprintf(f, "| max RSS, MB (MiB) | %s | %s | %s |\n", num(stats(v[2], n).med), num(stats(v[3], n).med),
		medrange(stats(d[1], n)));
}

static void target(FILE *f, const char *what, struct stat3 s, int ok, const char *extra)
{
	if (!s.n) {
		fprintf(f, "| %s | not measured | – |\n", what);
		return;
	}
	fprintf(f, "| %s | %s%s | %s |\n", what, medrange(s), extra ? extra : "", ok ? "met" : "**MISSED**");
}

static void targets(FILE *f)
{
	fprintf(f, "\n### Targets\n\n");
	fprintf(f, "Median over rounds of the per-round figure, (min–max) beside it; the verdict uses the median "
		"except where the target says otherwise.\n\n");
	fprintf(f, "| target | measured: median (min–max) | verdict |\n|---|---:|---|\n");
	int pin = find_case("pingpong-4k-pinned"), unpin = find_case("pingpong-4k");
	struct stat3 s;
	if (pin >= 0) {
		s = ratio_stats(pin, UCW, pin, PLAIN, 0);
		target(f, "pinned 4 KiB pingpong: ucw-asio / plain `read` ≤ 1.5", s, s.med <= 1.5, NULL);
		s = ratio_stats(pin, UCW, pin, URING, 0);
		target(f, "pinned 4 KiB pingpong: ucw-asio / liburing < 1 (faster one at a time)", s, s.med < 1, NULL);
	}
	if (pin >= 0 && unpin >= 0) {
		s = ratio_stats(unpin, UCW, pin, UCW, 0);
		target(f, "unpinned / pinned 4 KiB pingpong of ucw-asio ≤ 2 in every round (no bimodal swing)",
		       s, s.max <= 2, NULL);
	}
	if (pin >= 0) {
		s = ratio_stats(pin, UCW, pin, FLOOR, 0);
		target(f, "pinned 4 KiB pingpong: ucw-asio / floor ≤ 1.15 (the engine's own work)", s, s.med <= 1.15,
		       NULL);
	}
	int c1 = find_case("multiqueue-cached-1"), c4 = find_case("multiqueue-cached-4");
	if (c1 >= 0 && c4 >= 0) {
		s = ratio_stats(c4, UCW, c1, UCW, 0);
		target(f, "4 queues of page-cached reads ≥ 2.0 × one queue", s, s.med >= 2.0, NULL);
		s = ratio_stats(c4, FLOOR, c1, FLOOR, 0);
		if (s.n)
			fprintf(f, "| (the floor, for the above: 4 queues / one queue, what the Go runtime allows) | "
				"%s | for reference |\n", medrange(s));
	}
	int wb;
	if ((wb = find_case("writeback-16")) >= 0) {
		s = ratio_stats(wb, UCW, wb, URING, 0);
		target(f, "writeback, 16 in flight: ucw-asio / liburing ≥ 0.9", s, s.med >= 0.9, NULL);
	}
	if ((wb = find_case("writeback-4")) >= 0) {
		s = ratio_stats(wb, UCW, wb, URING, 0);
		target(f, "writeback, 4 in flight: ucw-asio / liburing ≥ 0.9", s, s.med >= 0.9, NULL);
	}
	int st = find_case("stream");
	if (st >= 0) {
		double v[MAXROUNDS];
		int n = 0;
		for (int r = 0; r < cfg.rounds; r++) {
			double best = 0;
			for (int p = 1; p < NSYS; p++)
				if (res[st][p][r].have && res[st][p][r].v > best)
					best = res[st][p][r].v;
			if (res[st][UCW][r].have && best > 0)
				v[n++] = res[st][UCW][r].v / best;
		}
		s = stats(v, n);
		target(f, "stream: ucw-asio / best peer of the same round ≥ 1.0", s, s.med >= 1.0, NULL);
		s = ratio_stats(st, UCW, st, PLAIN, 1);
		target(f, "stream: CPU per GiB, ucw-asio / plain copy ≤ 1", s, s.med <= 1.0, NULL);
	}
	int one = find_case("multiqueue-direct-1"), two = find_case("multiqueue-direct-2"),
	    four = find_case("multiqueue-direct-4");
	if (one >= 0) {
		s = ratio_stats(two, UCW, one, UCW, 0);
		target(f, "2 queues of `O_DIRECT` reads ≥ 1.6 × one queue", s, s.med >= 1.6, NULL);
		s = ratio_stats(four, UCW, one, UCW, 0);
		target(f, "4 queues of `O_DIRECT` reads ≥ 2.0 × one queue", s, s.med >= 2.0, NULL);
	}
	int fa = find_case("fairness");
	if (fa >= 0) {
		s = value_stats(fa, UCW, 0);
		int stalled = 0;
		for (int r = 0; r < cfg.rounds; r++)
			stalled += res[fa][UCW][r].stalled;
		char extra[64];
		snprintf(extra, sizeof(extra), ", %d stalled", stalled);
		target(f, "fairness: working queue not slowed by a blocked one (slowdown ≤ 1.1, noise allowance; no stall)",
		       s, s.med <= 1.1 && !stalled, extra);
	}
	if (startup_state > 0) {
		double a[MAXROUNDS], b[MAXROUNDS];
		int n = 0;
		for (int r = 0; r < cfg.rounds; r++)
			if (startup[r].have) {
				a[n] = startup[r].mb_with - startup[r].mb_without;
				b[n] = startup[r].ms_with - startup[r].ms_without;
				n++;
			}
		s = stats(a, n);
		target(f, "loaded, never called: added RSS ≤ 1 MB", s, s.med <= 1.0, " MB");
		s = stats(b, n);
		target(f, "loaded, never called: added start-up ≤ 0.5 ms", s, s.med <= 0.5, " ms");
	}
}

static void summary(FILE *f)
{
	fprintf(f, "\n### Summary (medians over rounds)\n\n");
	fprintf(f, "| workload | unit |");
	for (int k = 0; k < NSYS; k++)
		fprintf(f, " %s |", sys_label[shown[k]]);
	fprintf(f, "\n|---|---|");
	for (int k = 0; k < NSYS; k++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	for (int ci = 0; ci < ncases; ci++) {
		struct casedef *c = &cases[ci];
		const char *unit = c->kind == LAT ? "µs/request, lower is better" :
				   c->kind == TPUT ? "GB/s, higher is better" : "× alone, 1 is best";
		fprintf(f, "| %s | %s |", c->short_title, unit);
		for (int k = 0; k < NSYS; k++) {
			struct stat3 v = value_stats(ci, shown[k], 0);
			fprintf(f, " %s |", v.n ? num(v.med) : "–");
		}
		fprintf(f, "\n");
	}
	for (int ci = 0; ci < ncases; ci++) {
		struct casedef *c = &cases[ci];
		if (c->kind == FAIR)
			continue;
		fprintf(f, "| %s | CPU %s |", c->short_title, c->kind == LAT ? "µs/request" : "s/GiB");
		for (int k = 0; k < NSYS; k++) {
			struct stat3 v = value_stats(ci, shown[k], 1);
			fprintf(f, " %s |", v.n ? num(v.med) : "–");
		}
		fprintf(f, "\n");
	}
	double a[MAXROUNDS], b[MAXROUNDS];
	int n = 0;
	for (int r = 0; r < cfg.rounds; r++)
		if (startup[r].have) {
			a[n] = startup[r].ms_with - startup[r].ms_without;
			b[n] = startup[r].mb_with - startup[r].mb_without;
			n++;
		}
	for (int row = 0; n && row < 2; row++) {
		fprintf(f, "| loaded, never called: %s | %s |", row ? "max RSS added" : "start-up added",
			row ? "MB, lower is better" : "ms, lower is better");
		fprintf(f, " %s |", num(stats(row ? b : a, n).med));
		for (int k = 1; k < NSYS; k++)
			fprintf(f, " |");
		fprintf(f, "\n");
	}
}

/*
 * ucw-asio / floor, / plain, / liburing, / liburing with registered buffers
 * per case: medians of the per-round ratios; for the stream, CPU per GiB too.
 */
static void ratios(FILE *f)
{
	static const int peer[] = { FLOOR, PLAIN, URING, URING_FIXED };
	const unsigned npeer = sizeof(peer) / sizeof(peer[0]);
	fprintf(f, "\n### Ratios ucw-asio / peer (median of the per-round ratios, min–max)\n\n");
	fprintf(f, "Time per request and CPU: below 1 means ucw-asio is faster (uses less); GB/s: above 1 means "
		"ucw-asio is faster. The floor runs the pingpong and page-cached multiqueue cases only, liburing "
		"with registered buffers the `O_DIRECT` ones.\n\n");
	fprintf(f, "| workload |");
	for (unsigned k = 0; k < npeer; k++)
		fprintf(f, " ucw-asio / %s |", sys_label[peer[k]]);
	fprintf(f, "\n|---|");
	for (unsigned k = 0; k < npeer; k++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	for (int ci = 0; ci < ncases; ci++) {
		if (cases[ci].kind == FAIR)
			continue;
		for (int which = 0; which < 2; which++) {
			if (which && strcmp(cases[ci].id, "stream"))
				break;
			fprintf(f, "| %s%s |", cases[ci].short_title, which ? ", CPU s/GiB" : "");
			for (unsigned k = 0; k < npeer; k++)
				fprintf(f, " %s |", medrange(ratio_stats(ci, UCW, ci, peer[k], which)));
			fprintf(f, "\n");
		}
	}
}

/* The source tree's version, when the suite runs inside a git work tree. */
static void version(char *buf, size_t size)
{
	snprintf(buf, size, "unknown");
	FILE *p = popen("git describe --always --dirty 2>/dev/null", "r");
	if (!p)
		return;
	if (fgets(buf, size, p))
		buf[strcspn(buf, "\n")] = 0;
	else
		snprintf(buf, size, "unknown");
	pclose(p);
}

static void report(FILE *f, const char *date)
{
	struct utsname u;
	uname(&u);
	char cpu[256];
	cpu_model(cpu, sizeof(cpu));
	char ver[128];
	version(ver, sizeof(ver));
	fprintf(f, "## ucw-asio benchmark%s, %s\n\n", cfg.quick ? " (quick mode)" : "", date);
	fprintf(f, "- machine: %s, %ld cores online, Linux %s, %.1f GiB memory\n", cpu,
		sysconf(_SC_NPROCESSORS_ONLN), u.release,
		(double)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / (1 << 30));
	fprintf(f, "- ucw-asio: %s, source tree `%s`\n", cfg.lib, ver);
	fprintf(f, "- data: %s on %s%s; stream/writeback/`O_DIRECT` files %lld MiB, page-cached file %lld MiB\n",
		cfg.dir, fs_name(cfg.dir), cfg.direct_ok ? "" : " (no `O_DIRECT`: those workloads skipped)",
		cfg.size >> 20, cfg.ping_size >> 20);
	fprintf(f, "- %d rounds; in each round every system runs each workload once, a fresh process each, "
		"interleaved (the order of the systems rotates by round); timed runs of %g s (pingpong), "
		"%g s (multiqueue), %g s (fairness)\n", cfg.rounds, cfg.pp_seconds, cfg.mq_seconds, cfg.fair_seconds);
	fprintf(f, "- floor: the design's lower bound, in the pingpong and page-cached multiqueue cases only: "
		"the same program and public library on a Go engine whose functions do nothing but the system "
		"call (`bench/floor/`), so a request pays the C library's indirect call and four C-to-Go "
		"crossings; ucw-asio / floor is what the engine's own work costs\n");
	fprintf(f, "- peers: plain synchronous `read`/`write` (no library), liburing one SQE per "
		"`io_uring_submit` at explicit offsets, the same with registered buffers "
		"(`io_uring_register_buffers`, `READ_FIXED`/`WRITE_FIXED`) in the `O_DIRECT` cases, "
		"glibc POSIX AIO (`aio_read`/`aio_write` + `aio_suspend`); "
		"CPU = `getrusage(RUSAGE_SELF)` user + system of all threads over the timed part\n");
	unavailable_notes(f, 0, ncases - 1, "- ");
	fprintf(f, "- reproduce: `make bench` (`make bench-quick` for the quick mode); this report is also in "
		"`%s/results.md`, raw figures in `%s/raw.tsv`\n", cfg.bin, cfg.bin);
	targets(f);
	summary(f);
	ratios(f);
	for (int ci = 0; ci < ncases; ci++) {
		if (cases[ci].kind == FAIR)
			table_fairness(f, ci);
		else if (cases[ci].base >= 0) {
			if (cases[ci].base == ci)
				table_multiqueue(f, ci);
		} else
			table_simple(f, ci);
	}
	if (wanted("startup"))
		table_startup(f);
}

/*** main ***/

static void usage(void)
{
	fprintf(stderr, "usage: driver [--quick] [--rounds N] [--dir DIR] [--bin DIR] [--lib PATH] "
		"[--size BYTES] [--seconds T] [--only W,W,...] [--keep]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *env_dir = getenv("BENCH_DIR");
	cfg.dir = env_dir && *env_dir ? env_dir : "build/bench-data";
	cfg.bin = "build/bench";
	cfg.lib = "build/libucw-asio.so";
	long long size = 0;
	double seconds = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--quick"))
			cfg.quick = 1;
		else if (!strcmp(a, "--keep"))
			cfg.keep = 1;
		else if (i + 1 >= argc)
			usage();
		else if (!strcmp(a, "--rounds"))
			cfg.rounds = atoi(argv[++i]);
		else if (!strcmp(a, "--dir"))
			cfg.dir = argv[++i];
		else if (!strcmp(a, "--bin"))
			cfg.bin = argv[++i];
		else if (!strcmp(a, "--lib"))
			cfg.lib = argv[++i];
		else if (!strcmp(a, "--size"))
			size = parse_size(argv[++i]);
		else if (!strcmp(a, "--seconds"))
			seconds = atof(argv[++i]);
		else if (!strcmp(a, "--only"))
			cfg.only = argv[++i];
		else
			usage();
	}
	if (!cfg.rounds)
		cfg.rounds = 5;
	if (cfg.rounds < 1 || cfg.rounds > MAXROUNDS)
		die("--rounds must be between 1 and %d", MAXROUNDS);
	cfg.size = size ? size : cfg.quick ? 64LL << 20 : 1LL << 30;
	cfg.size = cfg.size >> 20 << 20;
	if (cfg.size < 4LL << 20)
		die("--size must be at least 4 MiB");
	cfg.ping_size = 16LL << 20;
	cfg.pp_seconds = seconds ? seconds : cfg.quick ? 0.1 : 1.0;
	cfg.mq_seconds = seconds ? seconds : cfg.quick ? 0.1 : 0.5;
	cfg.fair_seconds = seconds ? seconds : cfg.quick ? 0.2 : 1.0;
	cfg.startup_execs = cfg.quick ? 40 : 200;

	char *lib = realpath(cfg.lib, NULL);
	if (!lib)
		die_errno("the library %s", cfg.lib);
	cfg.lib = lib;
	for (int s = 0; s < NSYS; s++) {
		char prog[4200];
		snprintf(prog, sizeof(prog), "%s/bench-%s", cfg.bin, sys_id[s]);
		if (access(prog, X_OK) < 0)
			die_errno("%s (build the suite with make bench)", prog);
	}
	if (mkdirs(cfg.dir) < 0)
		die_errno("mkdir %s", cfg.dir);
	snprintf(src_file, sizeof(src_file), "%s/src.dat", cfg.dir);
	snprintf(ping_file, sizeof(ping_file), "%s/ping.dat", cfg.dir);
	snprintf(wb_file, sizeof(wb_file), "%s/writeback.dat", cfg.dir);
	snprintf(dst_file, sizeof(dst_file), "%s/dst.dat", cfg.dir);
	snprintf(probe_file, sizeof(probe_file), "%s/direct-probe.dat", cfg.dir);
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	cfg.direct_ok = probe_direct();
	if (!cfg.direct_ok)
		fprintf(stderr, "%s does not support O_DIRECT: stream, writeback and O_DIRECT multiqueue are skipped\n",
			cfg.dir);
	make_cases();

	time_t t = time(NULL);
	char date[64];
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	double t0 = now();
	fprintf(stderr, "ucw-asio bench%s: %d rounds, data in %s\n", cfg.quick ? " --quick" : "", cfg.rounds, cfg.dir);
	fprintf(stderr, "generating data files ...\n");
	generate(ping_file, cfg.ping_size, PING_SEED);
	if (cfg.direct_ok && (wanted("stream") || wanted("multiqueue")))
		generate(src_file, cfg.size, SRC_SEED);
	if (cfg.direct_ok && wanted("writeback"))
		generate(wb_file, cfg.size, SRC_SEED ^ 1);

	char path[4200];
	snprintf(path, sizeof(path), "%s/raw.tsv", cfg.bin);
	raw = fopen(path, "w");
	if (raw)
		fprintf(raw, "round\tcase\tsystem\tvalue\tcpu\tresult\n");

	for (int r = 0; r < cfg.rounds; r++) {
		for (int ci = 0; ci < ncases; ci++) {
			fprintf(stderr, "[round %d/%d] %-22s", r + 1, cfg.rounds, cases[ci].id);
			int gone = 0;
			for (int k = 0; k < NSYS; k++) {
				int s = (k + r) % NSYS;
				if (!runs(ci, s) || unavail[ci][s])
					continue;
				run_case(ci, s, r);
				if (unavail[ci][s]) {
					fprintf(stderr, " %s unavailable", sys_id[s]);
					gone |= 1 << s;
				} else
					fprintf(stderr, " %s %s", sys_id[s], num(res[ci][s][r].v));
			}
			fprintf(stderr, "\n");
			for (int s = 0; s < NSYS; s++)
				if (gone & 1 << s)
					fprintf(stderr, "    %s is unavailable here, not run again in %s: %s\n",
						sys_label[s], cases[ci].id, unavail[ci][s]);
		}
		if (wanted("startup")) {
			run_startup(r);
			if (startup[r].have)
				fprintf(stderr, "[round %d/%d] startup                added %s ms, %s MB\n", r + 1,
					cfg.rounds, num(startup[r].ms_with - startup[r].ms_without),
					num(startup[r].mb_with - startup[r].mb_without));
		}
	}
	if (raw)
		fclose(raw);
	fprintf(stderr, "done in %.0f s\n\n", now() - t0);

	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	report(m, date);
	fclose(m);
	fputs(text, stdout);
	snprintf(path, sizeof(path), "%s/results.md", cfg.bin);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(text);
	return 0;
}
