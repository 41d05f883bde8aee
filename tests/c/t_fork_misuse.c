/*
 * t_fork_misuse: in a child forked WITHOUT exec, misuse is reported exactly
 * as the engine reports it.
 *
 * Every scenario runs twice: in a re-executed child (/proc/self/exe, served
 * by the Go engine) and in a child forked after the parent loaded the engine
 * (served by the synchronous C implementation). Both must
 * exit with status 1 within 2 s after exactly one line on stderr, and the
 * two lines must be equal once every pointer (0x...) is replaced by "0x?".
 * A few scenarios also run with UCW_DIE_BY_ABORT=1 (SIGABRT expected in both).
 * Scenarios: ASIO_FREE, unknown op, submit twice (pending, after asio_sync),
 * submit after put, put of a submitted request, put twice, cleanup of a queue
 * with requests allocated, running or finished, buffer_size 0 (init and
 * get), max_writebacks 0 with a write-back, a write-back longer than its
 * buffer, NULL queue or request for every function, requests asio_get never
 * returned (stack, malloc, a byte copy of a real one, one of a cleaned-up
 * queue), queues never initialised (zeroed, garbage, a byte copy of a real
 * one, cleaned up), a buffer that cannot be allocated.
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

static void fake_request(struct asio_request *f)
{
	static byte buf[4096];
	memset(f, 0, sizeof(*f));
	f->queue = &q;
	f->buffer = buf;
	f->fd = open("/dev/zero", O_RDONLY);
	f->op = ASIO_READ;
	f->len = 10;
}

/* Runs the scenario; returns only if the library let the misuse pass. */
static int run_scenario(const char *s)
{
	struct asio_request *r, fake, copy, *mal;
	struct asio_queue other;

	tl_no_core();
	if (!strcmp(s, "submit_free")) {
		init();
		asio_submit(asio_get(&q));
	} else if (!strcmp(s, "submit_unknown_op")) {
		init();
		r = read_req();
		r->op = (enum asio_op)7;
		asio_submit(r);
	} else if (!strcmp(s, "submit_twice")) {
		init();
		r = read_req();
		asio_submit(r);
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
		r = read_req();
		asio_submit(r);
		asio_put(r);
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
		asio_get(&q);
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "cleanup_running")) {
		init();
		asio_submit(read_req());
		asio_cleanup_queue(&q);
	} else if (!strcmp(s, "cleanup_finished")) {
		init();
		asio_submit(read_req());
		asio_sync(&q);
		asio_cleanup_queue(&q);
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
	} else if (!strcmp(s, "stack_submit")) {
		init();
		fake_request(&fake);
		asio_submit(&fake);
	} else if (!strcmp(s, "malloc_put")) {
		init();
		mal = tl_malloc(sizeof(*mal));
		fake_request(mal);
		asio_put(mal);
	} else if (!strcmp(s, "copy_submit")) {
		init();
		r = read_req();
		memcpy(&copy, r, sizeof(copy));
		asio_submit(&copy);
	} else if (!strcmp(s, "submit_after_cleanup")) {
		init();
		r = read_req();
		asio_put(r);
		asio_cleanup_queue(&q);
		asio_submit(r);
	} else if (!strcmp(s, "uninit_zero_get")) {
		memset(&q, 0, sizeof(q));
		q.buffer_size = 4096;
		asio_get(&q);
	} else if (!strcmp(s, "uninit_garbage_wait")) {
		memset(&q, 0xA5, sizeof(q));
		asio_wait(&q);
	} else if (!strcmp(s, "copied_queue_sync")) {
		init();
		memcpy(&other, &q, sizeof(q));
		asio_sync(&other);
	} else if (!strcmp(s, "after_cleanup_get")) {
		init();
		asio_cleanup_queue(&q);
		ucw_asio_get(&q);
	} else if (!strcmp(s, "huge_buffer")) {
		init(); /* the engine (or the fallback) starts before the limit */
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

static int forked_scenario(void *name)
{
	return run_scenario((const char *)name);
}

static const char *const names[] = {
	"submit_free", "submit_unknown_op", "submit_twice", "submit_twice_after_sync", "submit_after_put",
	"put_submitted", "put_after_sync", "put_twice", "cleanup_allocated", "cleanup_running",
	"cleanup_finished", "init_zero_buffer_size", "get_zero_buffer_size", "writeback_max0",
	"writeback_too_long", "null_init", "null_get", "null_wait", "null_sync", "null_cleanup",
	"null_submit", "null_put", "stack_submit", "malloc_put", "copy_submit", "submit_after_cleanup",
	"uninit_zero_get", "uninit_garbage_wait", "copied_queue_sync", "after_cleanup_get", "huge_buffer",
};

/* The scenarios also run with UCW_DIE_BY_ABORT=1. */
static const char *const abort_names[] = { "submit_free", "cleanup_running", "null_put" };

/* Replaces every 0x<hex digits> of s by 0x? (pointers differ between runs). */
static void normalise(const char *s, char *out, size_t size)
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

/* Returns 1 (after saying why) if the two runs of the scenario differ. */
static int compare(const char *name, int die_by_abort)
{
	static const char *const abort_env[] = { "UCW_DIE_BY_ABORT=1", NULL };
	static struct tl_child engine, child;
	char a[1024], b[1024];
	const char *why, *nl;

	tl_run_child(name, die_by_abort ? abort_env : NULL, 2000, &engine);
	tf_fork(forked_scenario, (void *)name, die_by_abort, 2000, &child);
	why = tf_died_with(&engine, die_by_abort, "", NULL);
	if (why) {
		printf("FAIL %s (engine, re-executed child): %s\n  stderr: %s\n", name, why, engine.errlen ? engine.err : "(empty)");
		return 1;
	}
	why = tf_died_with(&child, die_by_abort, "", NULL);
	if (why) {
		printf("FAIL %s (forked child): %s\n  stderr: %s\n", name, why, child.errlen ? child.err : "(empty)");
		return 1;
	}
	nl = strchr(engine.err, ':');
	if (!nl || strncmp(engine.err, "asio_", 5)) {
		printf("FAIL %s: the engine's line does not start with a function name: %s", name, engine.err);
		return 1;
	}
	normalise(engine.err, a, sizeof(a));
	normalise(child.err, b, sizeof(b));
	if (strcmp(a, b)) {
		printf("FAIL %s%s: the forked child's message differs from the engine's\n  engine: %s  child:  %s",
		       name, die_by_abort ? " (UCW_DIE_BY_ABORT)" : "", engine.err, child.err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned i, failed = 0, n = 0;

	if (argc > 1)
		return run_scenario(argv[1]);
	tl_watchdog(100, "t_fork_misuse");
	tf_load_engine();		/* so that the forked children take the synchronous path */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++, n++)
		failed += compare(names[i], 0);
	for (i = 0; i < sizeof(abort_names) / sizeof(abort_names[0]); i++, n++)
		failed += compare(abort_names[i], 1);
	if (failed) {
		printf("%u of %u scenarios failed\n", failed, n);
		return 1;
	}
	return 0;
}
