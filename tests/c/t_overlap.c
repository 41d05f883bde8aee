/*
 * t_overlap: one queue used by two threads at once is reported in one line.
 *
 * A queue is for one thread at a time. Each scenario runs in a child (this
 * program re-executed) whose threads use one queue so that every serial
 * interleaving of their calls is correct: only calls that overlap in time
 * are a mistake. A child must either be told so, exit status 1 and exactly
 * one line "<fn>: queue <q> is in use by another thread (in <other fn>): a
 * queue is for one thread at a time" on stderr (with UCW_DIE_BY_ABORT=1:
 * SIGABRT and the same line), or, if its calls never overlapped, exit 0 in
 * silence; never a crash, a Go panic dump, another message or a hang.
 * Among all the runs, the overlap must have been reported.
 *   hammer    two threads: get, submit a read of /dev/zero, wait, put
 *   direct    the same on a file opened with O_DIRECT (through the queue's
 *             io_uring where there is one; skipped without O_DIRECT)
 *   sync      one thread as in hammer, the other asio_sync
 *   prodcons  a producer (get, submit) and a consumer (wait, put)
 * The hand-off scenario must never be reported: 4 threads pass the queue
 * from one to the next under a mutex, with reads in flight across the
 * hand-offs, and the child exits 0 in silence.
 * Runs per scenario: argv[1] if given, else 10 (loop it with T_OVERLAP_RUNS).
 * The pairs of functions reported are counted and printed.
 */

#include "testlib.h"

#include <ctype.h>

#define ITER 200000

static struct asio_queue q;
static int zero;	/* what the reads read: /dev/zero, or an O_DIRECT file */
static volatile int stop;

static void one_cycle(void)
{
	struct asio_request *r = tl_req(&q, ASIO_READ, zero, 512);
	asio_submit(r);
	r = asio_wait(&q);
	if (!r) {
		fprintf(stderr, "asio_wait returned NULL with a read submitted\n");
		exit(3);
	}
	asio_put(r);
}

static void *cycles(void *arg)
{
	long i;
	(void)arg;
	for (i = 0; i < ITER && !stop; i++)
		one_cycle();
	stop = 1;
	return NULL;
}

static void *syncs(void *arg)
{
	(void)arg;
	while (!stop)
		asio_sync(&q);
	return NULL;
}

static void *producer(void *arg)
{
	long i;
	(void)arg;
	for (i = 0; i < ITER / 4 && !stop; i++)
		asio_submit(tl_req(&q, ASIO_READ, zero, 512));
	stop = 1;
	return NULL;
}

static void *consumer(void *arg)
{
	struct asio_request *r;
	(void)arg;
	while (!stop || q.running_requests)
		if ((r = asio_wait(&q)))
			asio_put(r);
	return NULL;
}

/* The hand-off: the queue goes round the threads under a mutex. */
#define HANDOFF_THREADS 4
#define HANDOFF_ROUNDS 20000
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *handoff(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct asio_request *r;
	for (;;) {
		pthread_mutex_lock(&lock);
		while (turn != me && rounds < HANDOFF_ROUNDS)
			pthread_cond_wait(&turn_changed, &lock);
		if (rounds >= HANDOFF_ROUNDS) {
			pthread_mutex_unlock(&lock);
			return NULL;
		}
		/* Collect what the previous thread left in flight, leave one. */
		if (rounds > 0) {
			r = asio_wait(&q);
			CHECK(r && r->status == 512, "round %d: the read left in flight did not come back", rounds);
			asio_put(r);
		}
		one_cycle();
		asio_submit(tl_req(&q, ASIO_READ, zero, 512));
		rounds++;
		turn = (turn + 1) % HANDOFF_THREADS;
		pthread_cond_broadcast(&turn_changed);
		pthread_mutex_unlock(&lock);
	}
}

static int scenario(const char *name)
{
	pthread_t t[HANDOFF_THREADS];
	int i;
	tl_no_core();
	zero = open("/dev/zero", O_RDONLY);
	CHECK(zero >= 0, "open(/dev/zero): %s", strerror(errno));
	tl_init_queue(&q, 4096, 2);
	if (!strcmp(name, "direct")) {
		char path[PATH_MAX + 256];
		int fd = tl_tmpfile("direct", O_RDWR | O_CREAT | O_TRUNC);
		static char block[4096];
		for (i = 0; i < 64; i++)
			tl_write_all(fd, block, sizeof(block));
		close(fd);
		tl_tmppath("direct", path, sizeof(path));
		zero = open(path, O_RDONLY | O_DIRECT);
		if (zero < 0)
			return TL_SKIP;
		pthread_create(&t[0], NULL, cycles, NULL);
		pthread_create(&t[1], NULL, cycles, NULL);
	} else if (!strcmp(name, "hammer")) {
		pthread_create(&t[0], NULL, cycles, NULL);
		pthread_create(&t[1], NULL, cycles, NULL);
	} else if (!strcmp(name, "sync")) {
		pthread_create(&t[0], NULL, cycles, NULL);
		pthread_create(&t[1], NULL, syncs, NULL);
	} else if (!strcmp(name, "prodcons")) {
		pthread_create(&t[0], NULL, producer, NULL);
		pthread_create(&t[1], NULL, consumer, NULL);
	} else if (!strcmp(name, "handoff")) {
		for (i = 0; i < HANDOFF_THREADS; i++)
			pthread_create(&t[i], NULL, handoff, (void *)(intptr_t)i);
		for (i = 0; i < HANDOFF_THREADS; i++)
			pthread_join(t[i], NULL);
		for (struct asio_request *r; (r = asio_wait(&q));)
			asio_put(r);
		CHECK_COUNTERS(&q, 0, 0, 0);
		asio_cleanup_queue(&q);
		return 0;
	} else {
		return 2;
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	return 0; /* never overlapped */
}

/* The pairs reported: "fn in other". */
static char pairs[64][160];
static int pair_count[64], npairs;

static void count_pair(const char *fn, const char *other)
{
	char pair[160];
	int i;
	snprintf(pair, sizeof(pair), "%s in %s", fn, other);
	for (i = 0; i < npairs && strcmp(pairs[i], pair); i++)
		;
	if (i == npairs && npairs < 64)
		snprintf(pairs[npairs++], sizeof(pairs[0]), "%s", pair);
	if (i < 64)
		pair_count[i]++;
}

/* Whether err is exactly one overlap line about the queue. */
static int overlap_line(const char *err)
{
	char fn[64], other[64], rest[128];
	void *p;
	int n = 0;
	if (sscanf(err, "%63[a-z_]: queue %p is in use by another thread (in %63[a-z_]): %127[^\n]\n%n", fn, &p, other,
		   rest, &n) != 4 || err[n] != 0)
		return 0;
	if (strncmp(fn, "asio_", 5) || strncmp(other, "asio_", 5) || strcmp(rest, "a queue is for one thread at a time"))
		return 0;
	count_pair(fn, other);
	return 1;
}

int main(int argc, char **argv)
{
	static const char *const abort_env[] = { "UCW_DIE_BY_ABORT=1", NULL };
	static const char *const racy[] = { "hammer", "direct", "sync", "prodcons" };
	struct tl_child c;
	int runs = 10, s, i, reported, silent;
	const char *env = getenv("T_OVERLAP_RUNS");

	if (argc > 1 && !isdigit((unsigned char)argv[1][0]))
		return scenario(argv[1]);
	if (argc > 1)
		runs = atoi(argv[1]);
	else if (env)
		runs = atoi(env);
	tl_watchdog(runs * 40 + 60, "t_overlap");

	for (s = 0; s < 4; s++) {
		reported = silent = 0;
		for (i = 0; i < runs; i++) {
			int by_abort = i % 2;
			tl_run_child(racy[s], by_abort ? abort_env : NULL, 20000, &c);
			if (c.exited && c.code == TL_SKIP)
				break;
			if (c.exited && c.code == 0 && c.errlen == 0) {
				silent++;
				continue;
			}
			CHECK(by_abort ? c.signaled && c.sig == SIGABRT : c.exited && c.code == 1,
			      "%s (run %d%s): the child %s; want %s and the overlap line; stderr:\n%s", racy[s], i,
			      by_abort ? ", UCW_DIE_BY_ABORT=1" : "", tl_child_how(&c),
			      by_abort ? "SIGABRT" : "exit status 1", c.err);
			CHECK(overlap_line(c.err), "%s (run %d): not the one overlap line on stderr:\n%s", racy[s], i,
			      c.err);
			reported++;
		}
		if (i < runs) {
			printf("%s: skipped (no O_DIRECT in %s)\n", racy[s], tl_tmpdir());
			continue;
		}
		printf("%s: %d of %d runs reported the overlap, %d never overlapped\n", racy[s], reported, runs, silent);
		CHECK(reported > 0, "%s: the overlap was never reported in %d runs", racy[s], runs);
	}
	for (i = 0; i < (runs + 4) / 5; i++) {
		tl_run_child("handoff", NULL, 60000, &c);
		CHECK(c.exited && c.code == 0 && c.errlen == 0,
		      "handoff (run %d): a queue handed from thread to thread was reported: the child %s; stderr:\n%s", i,
		      tl_child_how(&c), c.err);
	}
	printf("handoff: never reported\npairs reported:");
	for (i = 0; i < npairs; i++)
		printf(" %s (%d)%s", pairs[i], pair_count[i], i + 1 < npairs ? "," : "\n");
	return 0;
}
