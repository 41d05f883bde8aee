/*
 * t_misuse: every misuse the library detects ends the process with the
 * agreed line, on every route.
 *
 * One table of scenarios (the mistake and the exact line it must print,
 * every pointer written 0x?). Each scenario runs twice:
 *  - in a re-executed child (this program with the scenario's name): on the
 *    engine's route, or on the synchronous path when the test runs with
 *    UCW_ASIO_ENGINE=sync (ctest runs it both ways: c.t_misuse and
 *    c.t_misuse.sync);
 *  - in a child forked WITHOUT exec after the parent's first asio call,
 *    which the synchronous C implementation serves (capi/stub/sync.c).
 * Each child must, within 10 s, exit with status 1 (be killed by SIGABRT for
 * the rows run with UCW_DIE_BY_ABORT=1), never hang, crash or go on, and
 * print exactly one line on stderr: the table's, once every 0x<hex> of it is
 * replaced by 0x?.
 * Scenarios: ASIO_FREE (both names), unknown op, submit twice (pending,
 * after asio_sync), submit after put, put of a submitted request (pending,
 * after asio_sync), put twice, cleanup of a queue with 1 or 2 requests
 * allocated, 1 running, 1 finished, asio_init_queue over a live queue with
 * 1 request allocated, 2 allocated, 1 running, 1 write-back not reaped,
 * buffer_size 0 (init and get), max_writebacks 0 with a write-back, a
 * write-back longer than its buffer, NULL queue or request for every
 * function, requests asio_get never returned (stack, malloc, a byte copy of
 * a real one, one of a cleaned-up queue), queues never initialised (zeroed,
 * garbage) or cleaned up, a byte copy of a live queue, a buffer that cannot
 * be allocated.
 */

#include "forklib.h"

static struct asio_queue q;

static void init(void)
{
	tl_init_queue(&q, 4096, 2);
}

static struct asio_request *read_req(void)
{
	return tl_req(&q, ASIO_READ, open("/dev/zero", O_RDONLY), 10);
}

/* A request surely not finished on any route: a read from an empty pipe. */
static struct asio_request *blocked_read(void)
{
	static int p[2];
	struct asio_request *r;
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	r = tl_req(&q, ASIO_READ, p[0], 10);
	asio_submit(r);
	return r;
}

/* A fake request: plausible contents, but not from asio_get. */
static void fake_request(struct asio_request *f)
{
	static byte buf[4096];
	memset(f, 0, sizeof(*f));
	f->queue = &q;
	f->buffer = buf;
	f->fd = open("/dev/zero", O_RDONLY);
	f->op = ASIO_READ;
	f->len = 10;
	f->status = f->returned_errno = -1;
}

/* Runs the scenario; returns only if the library let the misuse pass. */
static int run_scenario(const char *s)
{
	struct asio_request *r, fake, copy, *mal;
	static struct asio_queue other;

	tl_no_core();
	if (!strcmp(s, "submit_free")) {
		init();
		asio_submit(asio_get(&q));
	} else if (!strcmp(s, "ucw_submit_free")) {
		memset(&q, 0, sizeof(q));
		q.buffer_size = 4096;
		q.max_writebacks = 2;
		ucw_asio_init_queue(&q);
		ucw_asio_submit(ucw_asio_get(&q));
	} else if (!strcmp(s, "submit_unknown_op")) {
		init();
		r = read_req();
		r->op = (enum asio_op)7;
		asio_submit(r);
	} else if (!strcmp(s, "submit_twice")) {
		init();
		r = blocked_read();
		asio_submit(r);
	} else if (!strcmp(s, "submit_twice_after_sync")) {
		init();
		r = read_req();
		asio_submit(r);
		asio_sync(&q);
		asio_submit(r);
	} else if (!strcmp(s, "submit_after_put")) {
		init();
		r = read_req();
		asio_put(r);
		asio_submit(r);
	} else if (!strcmp(s, "put_submitted")) {
		init();
		asio_put(blocked_read());
	} else if (!strcmp(s, "put_after_sync")) {
		init();
		r = read_req();
		asio_submit(r);
		asio_sync(&q);
		asio_put(r);
	} else if (!strcmp(s, "put_twice")) {
		init();
		r = asio_get(&q);
		asio_put(r);
		asio_put(r);
	} else if (!strcmp(s, "cleanup_allocated")) {
		init();
		asio_get(&q);
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "cleanup_allocated_2")) {
		init();
		asio_get(&q);
		asio_get(&q);
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "cleanup_running")) {
		init();
		blocked_read();
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "cleanup_finished")) {
		init();
		asio_submit(read_req());
		asio_sync(&q);
		asio_cleanup_queue(&q);
	} else if (!strncmp(s, "reinit_", 7)) {
		init();
		if (!strcmp(s, "reinit_allocated")) {
			asio_get(&q);
		} else if (!strcmp(s, "reinit_allocated_2")) {
			asio_get(&q);
			asio_get(&q);
		} else if (!strcmp(s, "reinit_running")) {
			blocked_read();
		} else {	/* reinit_writeback: one write-back submitted, not reaped */
			r = tl_req(&q, ASIO_WRITE_BACK, open("/dev/null", O_WRONLY), 10);
			asio_submit(r);
		}
		asio_init_queue(&q);
	} else if (!strcmp(s, "init_zero_buffer_size")) {
		memset(&q, 0, sizeof(q));
		q.max_writebacks = 2;
		asio_init_queue(&q);
	} else if (!strcmp(s, "get_zero_buffer_size")) {
		init();
		q.buffer_size = 0;
		asio_get(&q);
	} else if (!strcmp(s, "writeback_max0")) {
		init();
		q.max_writebacks = 0;
		r = tl_req(&q, ASIO_WRITE_BACK, open("/dev/null", O_WRONLY), 10);
		asio_submit(r);
	} else if (!strcmp(s, "writeback_too_long")) {
		init();
		r = tl_req(&q, ASIO_WRITE_BACK, open("/dev/null", O_WRONLY), 4096 + 512);
		asio_submit(r);
	} else if (!strcmp(s, "null_init")) {
		asio_init_queue(NULL);
	} else if (!strcmp(s, "null_get")) {
		asio_get(NULL);
	} else if (!strcmp(s, "null_wait")) {
		asio_wait(NULL);
	} else if (!strcmp(s, "null_sync")) {
		asio_sync(NULL);
	} else if (!strcmp(s, "null_cleanup")) {
		asio_cleanup_queue(NULL);
	} else if (!strcmp(s, "null_submit")) {
		init();
		asio_submit(NULL);
	} else if (!strcmp(s, "null_put")) {
		init();
		ucw_asio_put(NULL);
	} else if (!strcmp(s, "stack_submit") || !strcmp(s, "stack_put")) {
		init();
		fake_request(&fake);
		if (s[6] == 's')
			asio_submit(&fake);
		else
			asio_put(&fake);
	} else if (!strcmp(s, "malloc_submit") || !strcmp(s, "malloc_put")) {
		init();
		mal = tl_malloc(sizeof(*mal));
		fake_request(mal);
		if (s[7] == 's')
			asio_submit(mal);
		else
			asio_put(mal);
	} else if (!strcmp(s, "copy_submit") || !strcmp(s, "copy_put")) {
		init();
		r = read_req();
		memcpy(&copy, r, sizeof(copy));
		if (s[5] == 's')
			asio_submit(&copy);
		else
			asio_put(&copy);
	} else if (!strcmp(s, "put_after_cleanup") || !strcmp(s, "submit_after_cleanup")) {
		init();
		r = read_req();
		asio_put(r);
		asio_cleanup_queue(&q);
		if (s[0] == 'p')
			asio_put(r);
		else
			asio_submit(r);
	} else if (!strncmp(s, "uninit_", 7)) {
		/* uninit_{zero,garbage}_{get,wait,sync,cleanup} */
		memset(&q, strstr(s, "garbage") ? 0xA5 : 0, sizeof(q));
		q.buffer_size = 4096;
		q.max_writebacks = 2;
		if (strstr(s, "_get"))
			asio_get(&q);
		else if (strstr(s, "_wait"))
			asio_wait(&q);
		else if (strstr(s, "_sync"))
			asio_sync(&q);
		else
			asio_cleanup_queue(&q);
	} else if (!strcmp(s, "after_cleanup_get") || !strcmp(s, "after_cleanup_wait")) {
		init();
		asio_put(asio_get(&q));
		asio_cleanup_queue(&q);
		if (strstr(s, "_get"))
			ucw_asio_get(&q);
		else
			asio_wait(&q);
	} else if (!strcmp(s, "copied_queue_get") || !strcmp(s, "copied_queue_sync")) {
		init();
		memcpy(&other, &q, sizeof(q));
		if (strstr(s, "_get"))
			asio_get(&other);
		else
			asio_sync(&other);
	} else if (!strcmp(s, "huge_buffer")) {
		init();		/* the route starts before the limit */
		asio_cleanup_queue(&q);
		/* 2 GiB of room: enough for the runtime to grow, not for 4 GiB. */
		tl_limit_address_space(2048);
		memset(&q, 0, sizeof(q));
		q.buffer_size = 0xFFFFF000u;
		q.max_writebacks = 2;
		asio_init_queue(&q);
		asio_get(&q);
	} else {
		fprintf(stderr, "unknown scenario %s\n", s);
		return 2;
	}
	fprintf(stderr, "scenario %s: the process went on after the misuse\n", s);
	return 0;
}

#define NOT_A_REQUEST " 0x? is not a request returned by asio_get (or its queue was cleaned up)"
#define NOT_INITIALISED " queue 0x? is not initialised (asio_init_queue was not called on it, or asio_cleanup_queue was)"
#define ASIO_FREE_LINE "asio_submit: request 0x? has op ASIO_FREE: set op to ASIO_READ, ASIO_WRITE or ASIO_WRITE_BACK"
#define SUBMITTED_TWICE "asio_submit: request 0x? was already submitted (it is running or waiting for asio_wait)"
#define PUT_SUBMITTED "asio_put: request 0x? is still submitted: collect it with asio_wait first"
#define ALLOCATED(n) "asio_cleanup_queue: queue 0x? still has " n " allocated (return them with asio_put)"
#define RUNNING(n) "asio_cleanup_queue: queue 0x? still has " n " running (wait for them with asio_sync)"
#define REINIT(n) "asio_init_queue: queue 0x? still has " n ": call asio_cleanup_queue first"

static const struct scenario {
	const char *name;
	const char *line;	/* exactly what stderr must hold, pointers as 0x? */
	int abort;		/* run with UCW_DIE_BY_ABORT=1: SIGABRT expected */
} scenarios[] = {
	{ "submit_free", ASIO_FREE_LINE, 0 },
	{ "submit_free", ASIO_FREE_LINE, 1 },
	{ "ucw_submit_free", ASIO_FREE_LINE, 0 },
	{ "submit_unknown_op", "asio_submit: request 0x? has unknown op 7", 0 },
	{ "submit_twice", SUBMITTED_TWICE, 0 },
	{ "submit_twice_after_sync", SUBMITTED_TWICE, 0 },
	{ "submit_after_put", "asio_submit: request 0x? is not allocated (it was returned with asio_put or recycled)", 0 },
	{ "put_submitted", PUT_SUBMITTED, 0 },
	{ "put_after_sync", PUT_SUBMITTED, 0 },
	{ "put_twice", "asio_put: request 0x? is not allocated (put twice?)", 0 },
	{ "cleanup_allocated", ALLOCATED("1 request"), 0 },
	{ "cleanup_allocated_2", ALLOCATED("2 requests"), 0 },
	{ "cleanup_running", RUNNING("1 request"), 0 },
	{ "cleanup_running", RUNNING("1 request"), 1 },
	{ "cleanup_finished", ALLOCATED("1 request"), 0 },
	{ "reinit_allocated", REINIT("1 request"), 0 },
	{ "reinit_allocated_2", REINIT("2 requests"), 0 },
	{ "reinit_running", REINIT("1 request"), 0 },
	{ "reinit_writeback", REINIT("1 request"), 0 },
	{ "init_zero_buffer_size",
	  "asio_init_queue: buffer_size is 0: set it to the size of the requests' buffers before asio_init_queue", 0 },
	{ "get_zero_buffer_size", "asio_get: buffer_size is 0: requests need a buffer", 0 },
	{ "writeback_max0", "asio_submit: write-back with max_writebacks == 0 would wait forever", 0 },
	{ "writeback_too_long", "asio_submit: write-back of 4608 bytes is larger than the request's buffer of 4096 bytes", 0 },
	{ "null_init", "asio_init_queue: NULL queue", 0 },
	{ "null_get", "asio_get: NULL queue", 0 },
	{ "null_wait", "asio_wait: NULL queue", 0 },
	{ "null_sync", "asio_sync: NULL queue", 0 },
	{ "null_cleanup", "asio_cleanup_queue: NULL queue", 0 },
	{ "null_submit", "asio_submit: NULL request", 0 },
	{ "null_put", "asio_put: NULL request", 0 },
	{ "null_put", "asio_put: NULL request", 1 },
	{ "stack_submit", "asio_submit:" NOT_A_REQUEST, 0 },
	{ "stack_put", "asio_put:" NOT_A_REQUEST, 0 },
	{ "malloc_submit", "asio_submit:" NOT_A_REQUEST, 0 },
	{ "malloc_put", "asio_put:" NOT_A_REQUEST, 0 },
	{ "copy_submit", "asio_submit:" NOT_A_REQUEST, 0 },
	{ "copy_put", "asio_put:" NOT_A_REQUEST, 0 },
	{ "put_after_cleanup", "asio_put:" NOT_A_REQUEST, 0 },
	{ "submit_after_cleanup", "asio_submit:" NOT_A_REQUEST, 0 },
	{ "uninit_zero_get", "asio_get:" NOT_INITIALISED, 0 },
	{ "uninit_zero_wait", "asio_wait:" NOT_INITIALISED, 0 },
	{ "uninit_zero_sync", "asio_sync:" NOT_INITIALISED, 0 },
	{ "uninit_zero_cleanup", "asio_cleanup_queue:" NOT_INITIALISED, 0 },
	{ "uninit_garbage_get", "asio_get:" NOT_INITIALISED, 0 },
	{ "uninit_garbage_wait", "asio_wait:" NOT_INITIALISED, 0 },
	{ "uninit_garbage_sync", "asio_sync:" NOT_INITIALISED, 0 },
	{ "uninit_garbage_cleanup", "asio_cleanup_queue:" NOT_INITIALISED, 0 },
	{ "after_cleanup_get", "asio_get:" NOT_INITIALISED, 0 },
	{ "after_cleanup_wait", "asio_wait:" NOT_INITIALISED, 0 },
	{ "copied_queue_get", "asio_get:" NOT_INITIALISED, 0 },
	{ "copied_queue_sync", "asio_sync:" NOT_INITIALISED, 0 },
	{ "huge_buffer", "asio_get: cannot allocate a request with a buffer of 4294963200 bytes: Cannot allocate memory", 0 },
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

/* Replaces every 0x<hex digits> of s by 0x? (pointers differ between runs). */
static void mask_pointers(const char *s, char *out, size_t size)
{
	size_t o = 0;
	while (*s && o + 4 < size) {
		if (s[0] == '0' && s[1] == 'x') {
			out[o++] = '0', out[o++] = 'x', out[o++] = '?';
			s += 2;
			while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))
				s++;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = 0;
}

static int forked_scenario(void *name)
{
	return run_scenario((const char *)name);
}

/* Returns 1 (after saying why) if the child c, on route `route`, did not end as s says. */
static int check(const struct scenario *s, const char *route, const struct tl_child *c)
{
	char want[600], got[sizeof(c->err)];
	const char *why = tf_died_with(c, s->abort, "", NULL);
	snprintf(want, sizeof(want), "%s\n", s->line);
	mask_pointers(c->err, got, sizeof(got));
	if (!why && strcmp(got, want))
		why = "not the line expected";
	if (!why)
		return 0;
	printf("FAIL %s%s (%s): %s\n  want: %s  got:  %s", s->name, s->abort ? " (UCW_DIE_BY_ABORT)" : "", route, why,
	       want, c->errlen ? got : "(nothing)\n");
	return 1;
}

int main(int argc, char **argv)
{
	static const char *const abort_env[] = { "UCW_DIE_BY_ABORT=1", NULL };
	static struct tl_child c;
	const char *route = tl_sync_route() ? "UCW_ASIO_ENGINE=sync, re-executed child" : "engine, re-executed child";
	unsigned i, failed = 0, runs = 0, skipped = 0, forks_skipped = 0;

	if (argc > 1)
		return run_scenario(argv[1]);
	tl_watchdog(240, "t_misuse");
	tf_load_engine();	/* the children forked from now on take the synchronous path */
	for (i = 0; i < NSCEN; i++) {
		const struct scenario *s = &scenarios[i];
		if (!strcmp(s->name, "huge_buffer") && TF_UNDER_ASAN) {
			skipped++;	/* AddressSanitizer's shadow does not fit under RLIMIT_AS */
			continue;
		}
		tl_run_child(s->name, s->abort ? abort_env : NULL, 10000, &c);
		failed += check(s, route, &c);
		runs++;
		/* AddressSanitizer's allocator lock, held by an engine thread at
		 * the fork, stays held in the child (forklib.h): not with an engine. */
		if (TF_UNDER_ASAN && !tl_sync_route()) {
			forks_skipped++;
			continue;
		}
		tf_fork(forked_scenario, (void *)s->name, s->abort, 10000, &c);
		failed += check(s, "forked child, synchronous path", &c);
		runs++;
	}
	if (skipped)
		printf("huge_buffer skipped under AddressSanitizer (its shadow memory does not fit under RLIMIT_AS)\n");
	if (forks_skipped)
		printf("the forked children skipped under AddressSanitizer beside an engine (c.t_misuse.sync runs them)\n");
	if (failed) {
		printf("%u of %u runs of %u misuse scenarios failed\n", failed, runs, (unsigned)NSCEN);
		return 1;
	}
	printf("%u misuse scenarios, %u runs, each with its exact line (%s%s)\n", (unsigned)NSCEN - skipped, runs, route,
	       forks_skipped ? "" : "; forked child");
	return 0;
}
