/*
 * t_sync_path: the synchronous C path (capi/stub/sync.c) as a user meets it,
 * in a child forked after the first asio call and in a process run with
 * UCW_ASIO_ENGINE=sync.
 *
 *  - the switch: a re-executed child with UCW_ASIO_ENGINE=sync streams
 *    through two queues (reads, writes, write-backs past the limit) and
 *    then has exactly the threads (/proc/self/task) it had before its first
 *    call and no engine mapped; with UCW_ASIO_ENGINE unset, empty, "engine"
 *    or "SYNC" the first call loads the engine (mapped, threads started);
 *  - overlapping calls: a thread blocked in asio_wait (a read of an empty
 *    pipe, seen in read(2) through /proc) while another calls asio_get,
 *    asio_submit, asio_put, asio_sync or asio_cleanup_queue on the same
 *    queue: exit 1 and exactly "<fn>: queue <q> is in use by another thread
 *    (in asio_wait): a queue is for one thread at a time"; a producer
 *    (get, submit) beside a consumer (wait, put): exit 0 in silence or
 *    exactly that line for some pair of calls, never an internal error, and
 *    reported in at least one of the runs; a queue handed between two
 *    threads under a mutex, 20,000 times: never reported;
 *  - asio_init_queue over a live queue: 20,000 re-inits of an idle queue
 *    with a 64 KiB request mapped, never cleaned up, leave the mappings
 *    flat (each re-init releases the old queue) and the queue works; a byte
 *    copy of a live queue is initialised as a new queue, the original keeps
 *    working; a struct whose queue was cleaned up is initialised anew.
 * Each scenario runs in a forked child (the parent made its first call) and,
 * on the sync route, also in a re-executed child.
 */

#include "forklib.h"

#include <sys/syscall.h>

#define OVERLAP_LINE "%s: queue %p is in use by another thread (in %s): a queue is for one thread at a time\n"

static struct asio_queue q;

/* Threads of this process, from /proc/self/task. */
static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;
	CHECK(d, "/proc/self/task: %s", strerror(errno));
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*** The switch ***/

/* Two queues: a file written with write-backs past the limit and with
 * writes, read back with read-ahead. */
static void stream_two_queues(void)
{
	struct asio_queue a, b;
	struct asio_request *r;
	int fd = tl_tmpfile("switch", O_RDWR), i;
	tl_init_queue(&a, 4096, 2);
	tl_init_queue(&b, 4096, 2);
	for (i = 0; i < 16; i++) {
		r = tl_req(i % 2 ? &a : &b, i % 4 == 3 ? ASIO_WRITE : ASIO_WRITE_BACK, fd, 4096);
		tl_fill(r->buffer, 4096, 5, (uint64_t)i * 4096);
		asio_submit(r);
		/* Ordered through one descriptor: each queue finishes before the other's turn. */
		asio_sync(i % 2 ? &a : &b);
		while ((r = asio_wait(i % 2 ? &a : &b)))
			asio_put(r);
	}
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	for (i = 0; i < 16; i++) {
		r = tl_req(&a, ASIO_READ, fd, 4096);
		asio_submit(r);
		CHECK_PTR("asio_wait", r, asio_wait(&a));
		CHECK_DONE(r, 4096, 0);
		CHECK_FILL("read back", r->buffer, 4096, 5, (uint64_t)i * 4096);
		asio_put(r);
	}
	CHECK_COUNTERS(&a, 0, 0, 0);
	CHECK_COUNTERS(&b, 0, 0, 0);
	asio_cleanup_queue(&a);
	asio_cleanup_queue(&b);
	close(fd);
}

static int switch_child(int want_sync)
{
	int before = task_count();
	CHECK(!tf_engine_mapped(), "the engine is mapped before the first asio call");
	stream_two_queues();
	if (want_sync) {
		CHECK(!tf_engine_mapped(), "UCW_ASIO_ENGINE=sync, yet the engine is mapped");
		CHECK_EQ("threads (/proc/self/task) after the asio calls with UCW_ASIO_ENGINE=sync", before, task_count());
	} else {
		CHECK(tf_engine_mapped(), "UCW_ASIO_ENGINE=%s: the engine was not loaded", getenv("UCW_ASIO_ENGINE") ?
		      getenv("UCW_ASIO_ENGINE") : "(unset)");
		CHECK(task_count() > before, "the engine started no thread");
	}
	return 0;
}

static void check_switch(void)
{
	static const char *const values[] = { "UCW_ASIO_ENGINE=sync", "UCW_ASIO_ENGINE=", "UCW_ASIO_ENGINE=engine",
					      "UCW_ASIO_ENGINE=SYNC", NULL };
	struct tl_child c;
	int i;
	for (i = 0; values[i]; i++) {
		const char *env[2] = { values[i], NULL };
		tl_run_child(i ? "switch_engine" : "switch_sync", env, 60000, &c);
		CHECK(c.exited && c.code == 0, "%s: the child %s; its stderr: %s", values[i], tl_child_how(&c),
		      c.errlen ? c.err : "(empty)");
		CHECK(!c.errlen, "%s: the child wrote on stderr: %s", values[i], c.err);
	}
}

/*** Overlapping calls ***/

static int pipe_fds[2];
static pid_t waiter_tid;

static void *blocked_waiter(void *arg)
{
	(void)arg;
	__atomic_store_n(&waiter_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	asio_wait(&q);
	fprintf(stderr, "asio_wait returned from an empty pipe\n");
	exit(3);
	return NULL;
}

/* Waits until the thread tid is blocked in read(2) (syscall 0 on x86-64). */
static void wait_in_read(pid_t tid)
{
	char path[64], line[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (;;) {
		FILE *f = fopen(path, "r");
		CHECK(f, "%s: %s", path, strerror(errno));
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
		if (!strncmp(line, "0 ", 2))
			return;
		tl_sleep_ms(1);
	}
}

/* A second call (fn) while a thread is blocked in asio_wait on q. */
static int overlap_blocked(const char *fn)
{
	struct asio_request *r, *held;
	pthread_t t;
	pid_t tid;
	tl_no_core();
	CHECK(pipe(pipe_fds) == 0, "pipe: %s", strerror(errno));
	tl_init_queue(&q, 4096, 2);
	held = asio_get(&q);
	r = tl_req(&q, ASIO_READ, pipe_fds[0], 10);
	asio_submit(r);
	CHECK(!pthread_create(&t, NULL, blocked_waiter, NULL), "pthread_create failed");
	while (!(tid = __atomic_load_n(&waiter_tid, __ATOMIC_ACQUIRE)))
		tl_sleep_ms(1);
	wait_in_read(tid);
	if (!strcmp(fn, "asio_get"))
		asio_get(&q);
	else if (!strcmp(fn, "asio_submit")) {
		held->op = ASIO_READ;
		held->fd = pipe_fds[0];
		held->len = 1;
		asio_submit(held);
	} else if (!strcmp(fn, "asio_put"))
		asio_put(held);
	else if (!strcmp(fn, "asio_sync"))
		asio_sync(&q);
	else if (!strcmp(fn, "asio_cleanup_queue"))
		asio_cleanup_queue(&q);
	else
		asio_init_queue(&q);
	fprintf(stderr, "%s went on beside a thread in asio_wait\n", fn);
	return 0;
}

#define PRODCONS_ITER 100000

static void *consumer(void *arg)
{
	long n = 0;
	(void)arg;
	while (n < PRODCONS_ITER) {
		struct asio_request *r = asio_wait(&q);
		if (r) {
			asio_put(r);
			n++;
		}
	}
	return NULL;
}

/* A producer (get, submit) beside a consumer (wait, put) on one queue. */
static int prodcons(void)
{
	int zero = open("/dev/zero", O_RDONLY);
	pthread_t t;
	long i;
	tl_no_core();
	tl_init_queue(&q, 512, 2);
	CHECK(!pthread_create(&t, NULL, consumer, NULL), "pthread_create failed");
	for (i = 0; i < PRODCONS_ITER; i++)
		asio_submit(tl_req(&q, ASIO_READ, zero, 512));
	pthread_join(t, NULL);
	return 0;
}

static pthread_mutex_t hand_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hand_cond = PTHREAD_COND_INITIALIZER;
static int turn, hand_zero;
#define HANDOFFS 20000

/* Thread `me` (0 or 1) uses the queue on its turns, with a read in flight
 * across each hand-off. */
static void *handoff(void *arg)
{
	int me = (int)(intptr_t)arg, i;
	struct asio_request *r;
	for (i = me; i < HANDOFFS; i += 2) {
		pthread_mutex_lock(&hand_lock);
		while (turn != i)
			pthread_cond_wait(&hand_cond, &hand_lock);
		pthread_mutex_unlock(&hand_lock);
		if ((r = asio_wait(&q))) {
			CHECK_DONE(r, 64, 0);
			asio_put(r);
		}
		asio_submit(tl_req(&q, ASIO_READ, hand_zero, 64));
		pthread_mutex_lock(&hand_lock);
		turn++;
		pthread_cond_broadcast(&hand_cond);
		pthread_mutex_unlock(&hand_lock);
	}
	return NULL;
}

static int handoffs(void)
{
	pthread_t t[2];
	struct asio_request *r;
	int i;
	hand_zero = open("/dev/zero", O_RDONLY);
	CHECK(hand_zero >= 0, "open(/dev/zero): %s", strerror(errno));
	tl_init_queue(&q, 4096, 2);
	for (i = 0; i < 2; i++)
		CHECK(!pthread_create(&t[i], NULL, handoff, (void *)(intptr_t)i), "pthread_create failed");
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	while ((r = asio_wait(&q)))
		asio_put(r);
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	return 0;
}

/*** asio_init_queue over a live queue ***/

#define REINITS 20000
#define REINIT_BS (64u << 10)

static int reinit(void)
{
	static struct asio_queue copy;
	struct asio_request *r;
	long maps_before, maps_after;
	int i, zero = open("/dev/zero", O_RDONLY);
	tl_init_queue(&q, REINIT_BS, 2);
	asio_put(asio_get(&q));
	maps_before = tl_count_maps();
	for (i = 0; i < REINITS; i++) {
		asio_init_queue(&q);			/* over an idle live queue */
		CHECK_COUNTERS(&q, 0, 0, 0);
		r = asio_get(&q);			/* maps a new 64 KiB request */
		memset(r->buffer, 0x5a, REINIT_BS);
		asio_put(r);
	}
	maps_after = tl_count_maps();
	CHECK(maps_after <= maps_before + 2, "%d re-inits of an idle queue: %ld mappings, %ld before (not released?)",
	      REINITS, maps_after, maps_before);
	r = tl_req(&q, ASIO_READ, zero, 100);
	asio_submit(r);
	CHECK_PTR("asio_wait after the re-inits", r, asio_wait(&q));
	CHECK_DONE(r, 100, 0);
	/* A byte copy of a live queue (with a request out) is garbage: it is
	 * initialised as a new queue, and the original keeps its request. */
	memcpy(&copy, &q, sizeof(q));
	asio_init_queue(&copy);
	CHECK_COUNTERS(&copy, 0, 0, 0);
	CHECK_COUNTERS(&q, 1, 0, 0);
	asio_put(r);
	asio_put(asio_get(&copy));
	asio_cleanup_queue(&copy);
	asio_cleanup_queue(&q);
	/* A struct whose queue was cleaned up is initialised anew. */
	asio_init_queue(&q);
	asio_put(asio_get(&q));
	asio_cleanup_queue(&q);
	close(zero);
	return 0;
}

/*** Running the scenarios ***/

static const char *const blocked_fns[] = { "asio_get", "asio_submit", "asio_put", "asio_sync", "asio_cleanup_queue",
					   "asio_init_queue" };
#define NBLOCKED (sizeof(blocked_fns) / sizeof(blocked_fns[0]))

static int run_scenario(const char *s)
{
	unsigned i;
	if (!strcmp(s, "switch_sync"))
		return switch_child(1);
	if (!strcmp(s, "switch_engine"))
		return switch_child(0);
	if (!strcmp(s, "prodcons"))
		return prodcons();
	if (!strcmp(s, "handoffs"))
		return handoffs();
	if (!strcmp(s, "reinit"))
		return reinit();
	for (i = 0; i < NBLOCKED; i++)
		if (!strcmp(s, blocked_fns[i]))
			return overlap_blocked(s);
	fprintf(stderr, "unknown scenario %s\n", s);
	return 2;
}

static int forked_scenario(void *name)
{
	return run_scenario((const char *)name);
}

/* Runs s in a forked child (synchronous path) and, on the sync route, in a
 * re-executed child too. */
static int forks_skipped;

static void run_both(const char *s, int timeout_ms, void (*check)(const char *s, const char *route, struct tl_child *c))
{
	static struct tl_child c;
	/* AddressSanitizer's allocator lock, held by an engine thread at the
	 * fork, stays held in the child (forklib.h): not with an engine. */
	if (TF_UNDER_ASAN && !tl_sync_route())
		forks_skipped++;
	else {
		tf_fork(forked_scenario, (void *)s, 0, timeout_ms, &c);
		check(s, "forked child", &c);
	}
	if (tl_sync_route()) {
		tl_run_child(s, NULL, timeout_ms, &c);
		check(s, "UCW_ASIO_ENGINE=sync", &c);
	}
}

static void check_ok(const char *s, const char *route, struct tl_child *c)
{
	CHECK(c->exited && c->code == 0 && !c->errlen, "%s (%s): expected exit 0 in silence, the child %s; stderr: %s", s,
	      route, tl_child_how(c), c->errlen ? c->err : "(empty)");
}

static void check_blocked(const char *s, const char *route, struct tl_child *c)
{
	const char *why = tf_died_with(c, 0, s, NULL);
	char want[300];
	void *p = NULL;
	CHECK(!why && sscanf(c->err + strlen(s), ": queue %p", &p) == 1, "%s beside asio_wait (%s): %s; stderr: %s", s,
	      route, why ? why : "no queue in the line", c->errlen ? c->err : "(empty)");
	snprintf(want, sizeof(want), OVERLAP_LINE, s, p, "asio_wait");
	CHECK(!strcmp(c->err, want), "%s beside asio_wait (%s):\n  want: %s  got:  %s", s, route, want, c->err);
}

static int prodcons_reported;

static void check_prodcons(const char *s, const char *route, struct tl_child *c)
{
	char fn[32], other[32], want[300];
	void *p = NULL;
	if (c->exited && c->code == 0 && !c->errlen)
		return;
	CHECK(!tf_died_with(c, 0, "asio_", NULL) && sscanf(c->err, "%31[a-z_]: queue %p is in use by another thread (in %31[a-z_])",
								 fn, &p, other) == 3,
	      "%s (%s): expected exit 0 in silence or the overlap line, the child %s; stderr: %s", s, route,
	      tl_child_how(c), c->errlen ? c->err : "(empty)");
	snprintf(want, sizeof(want), OVERLAP_LINE, fn, p, other);
	CHECK(!strcmp(c->err, want), "%s (%s):\n  want: %s  got:  %s", s, route, want, c->err);
	prodcons_reported++;
}

int main(int argc, char **argv)
{
	unsigned i;
	int runs = 10;
	if (argc > 1)
		return run_scenario(argv[1]);
	tl_watchdog(280, "t_sync_path");
	if (getenv("T_SYNC_PATH_RUNS"))
		runs = atoi(getenv("T_SYNC_PATH_RUNS"));
	if (!tl_sync_route())
		check_switch();		/* (the sync route's own children cannot load an engine) */
	tf_load_engine();		/* the children forked from now on take the synchronous path */
	for (i = 0; i < NBLOCKED; i++)
		run_both(blocked_fns[i], 20000, check_blocked);
	for (i = 0; i < (unsigned)runs; i++)
		run_both("prodcons", 60000, check_prodcons);
	if (forks_skipped) {
		printf("SKIP: the forked children beside an engine under AddressSanitizer (%d runs; c.t_sync_path.sync "
		       "covers them)\n", forks_skipped);
		return TL_SKIP;
	}
	CHECK(prodcons_reported > 0, "a producer and a consumer on one queue: %d runs, never reported", runs);
	run_both("handoffs", 60000, check_ok);
	run_both("reinit", 60000, check_ok);
	printf("synchronous path: overlaps reported (%d of the producer/consumer runs), hand-offs never, re-inits released\n",
	       prodcons_reported);
	return 0;
}
