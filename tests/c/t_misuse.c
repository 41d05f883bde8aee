/*
 * t_misuse: every misuse the library detects ends the process cleanly.
 *
 * Each scenario runs in a child (this program re-executed with the
 * scenario's name) that must, within 2 s: exit with status 1 (not be killed
 * by a signal, not hang, not go on), and print exactly one line on stderr
 * that starts with the function's name and contains the key phrase.
 * With UCW_DIE_BY_ABORT=1 the child must be killed by SIGABRT instead.
 * Scenarios: ASIO_FREE / unknown op / double submit (running, finished,
 * after asio_sync) / submit after put / put of a running or finished
 * request / double put / cleanup of a busy queue (allocated, running,
 * finished) / buffer_size 0 / max_writebacks 0 / NULL queue or request to
 * every function / a request asio_get never returned (stack, malloc, copy of
 * a real one, a request of a queue already cleaned up) / a queue never
 * initialised (zeroed, garbage, a byte copy of an initialised one) or
 * already cleaned up / a buffer that cannot be allocated.
 */

#include "testlib.h"

static struct asio_queue q;

static void init(void)
{
	tl_init_queue(&q, 4096, 2);
}

/* A request that is surely running: a read from an empty pipe. */
static struct asio_request *blocked_read(void)
{
	static int p[2];
	struct asio_request *r;
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	r = tl_req(&q, ASIO_READ, p[0], 10);
	asio_submit(r);
	return r;
}

/* A request that is surely finished (but not collected by asio_wait). */
static struct asio_request *finished_read(void)
{
	int fd = open("/dev/zero", O_RDONLY);
	struct asio_request *r;
	CHECK(fd >= 0, "open(/dev/zero): %s", strerror(errno));
	r = tl_req(&q, ASIO_READ, fd, 10);
	asio_submit(r);
	tl_sleep_ms(100);
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

static int run_scenario(const char *s)
{
	struct asio_request *r, fake, copy, *mal;

	tl_no_core();
	if (!strcmp(s, "submit_free") || !strcmp(s, "submit_free_abort")) {
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
		r = tl_req(&q, (enum asio_op)7, open("/dev/zero", O_RDONLY), 10);
		asio_submit(r);
	} else if (!strcmp(s, "submit_twice_running")) {
		init();
		r = blocked_read();
		asio_submit(r);
	} else if (!strcmp(s, "submit_twice_finished")) {
		init();
		r = finished_read();
		asio_submit(r);
	} else if (!strcmp(s, "submit_twice_after_sync")) {
		init();
		r = finished_read();
		asio_sync(&q);
		asio_submit(r);
	} else if (!strcmp(s, "submit_after_put")) {
		init();
		r = tl_req(&q, ASIO_READ, open("/dev/zero", O_RDONLY), 10);
		asio_put(r);
		asio_submit(r);
	} else if (!strcmp(s, "put_running")) {
		init();
		asio_put(blocked_read());
	} else if (!strcmp(s, "put_finished")) {
		init();
		asio_put(finished_read());
	} else if (!strcmp(s, "put_after_sync")) {
		init();
		r = finished_read();
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
	} else if (!strcmp(s, "cleanup_running")) {
		init();
		blocked_read();
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "cleanup_finished")) {
		init();
		finished_read();
		asio_sync(&q);
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "init_zero_buffer_size")) {
		memset(&q, 0, sizeof(q));
		q.max_writebacks = 2;
		asio_init_queue(&q);
	} else if (!strcmp(s, "writeback_max0")) {
		init();
		q.max_writebacks = 0;
		r = tl_req(&q, ASIO_WRITE_BACK, open("/dev/null", O_WRONLY), 10);
		asio_submit(r);
	} else if (!strcmp(s, "null_get")) {
		asio_get(NULL);
	} else if (!strcmp(s, "null_wait")) {
		asio_wait(NULL);
	} else if (!strcmp(s, "null_sync")) {
		asio_sync(NULL);
	} else if (!strcmp(s, "null_cleanup")) {
		asio_cleanup_queue(NULL);
	} else if (!strcmp(s, "null_init")) {
		asio_init_queue(NULL);
	} else if (!strcmp(s, "null_submit")) {
		init();
		asio_submit(NULL);
	} else if (!strcmp(s, "null_put")) {
		init();
		asio_put(NULL);
	} else if (!strcmp(s, "stack_submit")) {
		init();
		fake_request(&fake);
		asio_submit(&fake);
	} else if (!strcmp(s, "stack_put")) {
		init();
		fake_request(&fake);
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
		r = tl_req(&q, ASIO_READ, open("/dev/zero", O_RDONLY), 10);
		memcpy(&copy, r, sizeof(copy));
		if (s[5] == 's')
			asio_submit(&copy);
		else
			asio_put(&copy);
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
	} else if (!strcmp(s, "after_cleanup_get")) {
		init();
		asio_put(asio_get(&q));
		asio_cleanup_queue(&q);
		asio_get(&q);
	} else if (!strcmp(s, "after_cleanup_wait")) {
		init();
		asio_cleanup_queue(&q);
		asio_wait(&q);
	} else if (!strcmp(s, "copied_queue_get")) {
		static struct asio_queue copy_q;
		init();
		memcpy(&copy_q, &q, sizeof(q));
		asio_get(&copy_q);
	} else if (!strcmp(s, "put_after_cleanup") || !strcmp(s, "submit_after_cleanup")) {
		init();
		r = tl_req(&q, ASIO_READ, open("/dev/zero", O_RDONLY), 10);
		asio_put(r);
		asio_cleanup_queue(&q);
		if (s[0] == 'p')
			asio_put(r);
		else
			asio_submit(r);
	} else if (!strcmp(s, "huge_buffer")) {
		/* Start the engine first, so that the limit counts from what a
		 * running engine has mapped. */
		init();
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

struct scenario {
	const char *name;
	const char *func;	/* stderr's single line starts with this */
	const char *phrase;	/* and contains this (NULL: anything) */
	int abort;		/* run with UCW_DIE_BY_ABORT=1, expect SIGABRT */
};

static const struct scenario scenarios[] = {
	{ "submit_free", "asio_submit", "ASIO_FREE", 0 },
	{ "submit_free_abort", "asio_submit", "ASIO_FREE", 1 },
	{ "ucw_submit_free", NULL, "ASIO_FREE", 0 },
	{ "submit_unknown_op", "asio_submit", "unknown op", 0 },
	{ "submit_twice_running", "asio_submit", "already submitted", 0 },
	{ "submit_twice_finished", "asio_submit", "already submitted", 0 },
	{ "submit_twice_after_sync", "asio_submit", NULL, 0 },
	{ "submit_after_put", "asio_submit", "not allocated", 0 },
	{ "put_running", "asio_put", "still submitted", 0 },
	{ "put_finished", "asio_put", "still submitted", 0 },
	{ "put_after_sync", "asio_put", NULL, 0 },
	{ "put_twice", "asio_put", "not allocated", 0 },
	{ "cleanup_allocated", "asio_cleanup_queue", "allocated", 0 },
	{ "cleanup_running", "asio_cleanup_queue", "running", 0 },
	{ "cleanup_finished", "asio_cleanup_queue", NULL, 0 },
	{ "init_zero_buffer_size", "asio_init_queue", "buffer_size", 0 },
	{ "writeback_max0", "asio_submit", "max_writebacks", 0 },
	{ "null_get", "asio_get", "NULL", 0 },
	{ "null_wait", "asio_wait", "NULL", 0 },
	{ "null_sync", "asio_sync", "NULL", 0 },
	{ "null_cleanup", "asio_cleanup_queue", "NULL", 0 },
	{ "null_init", "asio_init_queue", "NULL", 0 },
	{ "null_submit", "asio_submit", "NULL", 0 },
	{ "null_put", "asio_put", "NULL", 0 },
	{ "stack_submit", "asio_submit", "not a request", 0 },
	{ "stack_put", "asio_put", "not a request", 0 },
	{ "malloc_submit", "asio_submit", "not a request", 0 },
	{ "malloc_put", "asio_put", "not a request", 0 },
	{ "copy_submit", "asio_submit", "not a request", 0 },
	{ "copy_put", "asio_put", "not a request", 0 },
	{ "uninit_zero_get", "asio_get", "not initialised", 0 },
	{ "uninit_zero_wait", "asio_wait", "not initialised", 0 },
	{ "uninit_zero_sync", "asio_sync", "not initialised", 0 },
	{ "uninit_zero_cleanup", "asio_cleanup_queue", "not initialised", 0 },
	{ "uninit_garbage_get", "asio_get", "not initialised", 0 },
	{ "uninit_garbage_wait", "asio_wait", "not initialised", 0 },
	{ "after_cleanup_get", "asio_get", "not initialised", 0 },
	{ "after_cleanup_wait", "asio_wait", "not initialised", 0 },
	{ "copied_queue_get", "asio_get", NULL, 0 },
	{ "put_after_cleanup", "asio_put", "not a request", 0 },
	{ "submit_after_cleanup", "asio_submit", "not a request", 0 },
	{ "huge_buffer", "asio_get", "cannot allocate", 0 },
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

/* Returns 0 if the scenario behaved, else prints why and returns 1. */
static int check_scenario(const struct scenario *s)
{
	static const char *const abort_env[] = { "UCW_DIE_BY_ABORT=1", NULL };
	struct tl_child c;
	const char *nl;

	tl_run_child(s->name, s->abort ? abort_env : NULL, 2000, &c);
#define BAD(...) do { printf("FAIL %s: ", s->name); printf(__VA_ARGS__); printf("\n  stderr: %s\n", c.errlen ? c.err : "(empty)"); return 1; } while (0)
	if (s->abort) {
		if (!c.signaled || c.sig != SIGABRT)
			BAD("expected the child to be killed by SIGABRT (UCW_DIE_BY_ABORT=1), it %s", tl_child_how(&c));
	} else if (!c.exited || c.code != 1) {
		BAD("expected exit status 1, the child %s", tl_child_how(&c));
	}
	if (!c.errlen)
		BAD("nothing on stderr");
	nl = strchr(c.err, '\n');
	if (!nl || nl[1])
		BAD("expected exactly one line on stderr");
	if (s->func && strncmp(c.err, s->func, strlen(s->func)))
		BAD("the line does not start with \"%s\"", s->func);
	if (!s->func && !strstr(c.err, "asio_submit"))
		BAD("the line does not name asio_submit");
	if (s->phrase && !strstr(c.err, s->phrase))
		BAD("the line does not contain \"%s\"", s->phrase);
#undef BAD
	return 0;
}

int main(int argc, char **argv)
{
	unsigned i, failed = 0;

	if (argc > 1)
		return run_scenario(argv[1]);
	tl_watchdog(55, "t_misuse");
	for (i = 0; i < NSCEN; i++)
		failed += check_scenario(&scenarios[i]);
	if (failed) {
		printf("%u of %u misuse scenarios failed\n", failed, (unsigned)NSCEN);
		return 1;
	}
	return 0;
}
