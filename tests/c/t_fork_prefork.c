/*
 * t_fork_prefork: a child forked WITHOUT exec that touches a queue or a
 * request created before the fork gets one line on stderr and exit status
 * 1, within 2 s, never a hang; the parent keeps working.
 *
 * Before the forks the parent has a queue with a request allocated and a
 * read running (blocked on an empty pipe, in the engine), and a request
 * whose queue it cleaned up. Scenarios, each in its own forked child:
 *  - asio_get / asio_wait / asio_sync / asio_cleanup_queue on the queue, and
 *    ucw_asio_get: "<function>: queue 0x... was created before fork(): a
 *    forked child must create its own queues";
 *  - asio_submit / asio_put of the allocated request, asio_put of the running
 *    one: "<function>: request 0x... was created before fork() ...";
 *  - with UCW_DIE_BY_ABORT=1: the same line, then SIGABRT;
 *  - the request of the cleaned-up queue (unmapped memory): "asio_put: ... is
 *    not a request returned by asio_get", not a crash;
 *  - asio_init_queue on the struct of the pre-fork queue makes a new queue
 *    of the child's own, which works (exit 0);
 *  - a grandchild touching a queue or a request its parent (a forked child)
 *    created before the second fork: the same message.
 * Then the parent completes its running read (data checked), recycles its
 * requests, cleans up, and uses a new queue.
 */

#include "forklib.h"
#include <sys/mman.h>

static struct asio_queue pq, gone;
static struct asio_request *allocated, *running, *stale;
static int pipefd[2];

static int s_get(void *a) { (void)a; asio_get(&pq); return 0; }
static int s_ucw_get(void *a) { (void)a; ucw_asio_get(&pq); return 0; }
static int s_wait(void *a) { (void)a; asio_wait(&pq); return 0; }
static int s_sync(void *a) { (void)a; asio_sync(&pq); return 0; }
static int s_cleanup(void *a) { (void)a; asio_cleanup_queue(&pq); return 0; }
static int s_put(void *a) { (void)a; asio_put(allocated); return 0; }
static int s_put_running(void *a) { (void)a; asio_put(running); return 0; }
/* If the parent reused the address of the stale request for another mapping,
 * the scenario means nothing: 77. */
static int s_put_stale(void *a)
{
	unsigned char vec;
	(void)a;
	if (mincore((void *)((uintptr_t)stale & ~(uintptr_t)4095), 4096, &vec) == 0)
		return TL_SKIP;
	asio_put(stale);
	return 0;
}

static int s_submit(void *a)
{
	(void)a;
	allocated->op = ASIO_READ;
	allocated->fd = open("/dev/zero", O_RDONLY);
	allocated->len = 10;
	asio_submit(allocated);
	return 0;
}

/* asio_init_queue on the pre-fork struct: a new queue of the child's own. */
static int s_reinit(void *a)
{
	struct asio_request *r;
	(void)a;
	tl_init_queue(&pq, 4096, 2);
	CHECK_COUNTERS(&pq, 0, 0, 0);
	r = tl_req(&pq, ASIO_READ, open("/dev/zero", O_RDONLY), 100);
	CHECK(r != allocated && r != running, "asio_get in the child returned a request made before the fork");
	memset(r->buffer, 'x', 100);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&pq));
	CHECK_DONE(r, 100, 0);
	CHECK(r->buffer[0] == 0 && r->buffer[99] == 0, "the read from /dev/zero did not land in the buffer");
	asio_put(r);
	asio_cleanup_queue(&pq);
	return 0;
}

/* In a forked child: a queue and a request, then a grandchild touches them. */
static struct asio_queue cq;
static struct asio_request *creq;

static int g_get(void *a) { (void)a; asio_get(&cq); return 0; }
static int g_put(void *a) { (void)a; asio_put(creq); return 0; }

static int s_grandchild(void *a)
{
	struct tl_child g;
	const char *why;
	(void)a;
	tl_init_queue(&cq, 4096, 2);
	creq = asio_get(&cq);
	tf_fork(g_get, NULL, 0, 2000, &g);
	why = tf_died_with(&g, 0, "asio_get: queue 0x", "was created before fork(): a forked child must create its own queues");
	CHECK(!why, "grandchild using its parent's queue: %s; its stderr: %s", why, g.errlen ? g.err : "(empty)");
	tf_fork(g_put, NULL, 0, 2000, &g);
	why = tf_died_with(&g, 0, "asio_put: request 0x", "was created before fork()");
	CHECK(!why, "grandchild using its parent's request: %s; its stderr: %s", why, g.errlen ? g.err : "(empty)");
	/* The child's own queue still works in the child. */
	asio_put(creq);
	asio_cleanup_queue(&cq);
	return 0;
}

struct scenario {
	const char *name;
	int (*fn)(void *);
	int die_by_abort;
	const char *start;	/* NULL: the child must exit 0 */
	const char *phrase;
};

static const struct scenario scenarios[] = {
	{ "asio_get", s_get, 0, "asio_get: queue 0x", "was created before fork(): a forked child must create its own queues" },
	{ "ucw_asio_get", s_ucw_get, 0, "asio_get: queue 0x", "was created before fork()" },
	{ "asio_wait", s_wait, 0, "asio_wait: queue 0x", "was created before fork()" },
	{ "asio_sync", s_sync, 0, "asio_sync: queue 0x", "was created before fork()" },
	{ "asio_cleanup_queue", s_cleanup, 0, "asio_cleanup_queue: queue 0x", "was created before fork()" },
	{ "asio_submit", s_submit, 0, "asio_submit: request 0x", "was created before fork()" },
	{ "asio_put", s_put, 0, "asio_put: request 0x", "was created before fork()" },
	{ "asio_put of a running request", s_put_running, 0, "asio_put: request 0x", "was created before fork()" },
	{ "asio_get, UCW_DIE_BY_ABORT", s_get, 1, "asio_get: queue 0x", "was created before fork()" },
	{ "asio_submit, UCW_DIE_BY_ABORT", s_submit, 1, "asio_submit: request 0x", "was created before fork()" },
	{ "asio_put of a request of a cleaned-up queue", s_put_stale, 0, "asio_put: 0x", "is not a request returned by asio_get" },
	{ "asio_init_queue on the pre-fork struct", s_reinit, 0, NULL, NULL },
	{ "grandchild", s_grandchild, 0, NULL, NULL },
};

int main(void)
{
	struct tl_child c;
	struct asio_request *r;
	unsigned i, failed = 0;

	tl_watchdog(60, "t_fork_prefork");
	tl_no_core();

	tl_init_queue(&pq, 4096, 2);
	allocated = asio_get(&pq);
	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	running = tl_req(&pq, ASIO_READ, pipefd[0], 5);
	asio_submit(running);
	tl_sleep_ms(50);		/* most likely blocked in read(2) on an engine worker now */

	/* Last, so that no later request reuses its memory. */
	tl_init_queue(&gone, 4096, 1);
	stale = asio_get(&gone);
	asio_put(stale);
	asio_cleanup_queue(&gone);

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		const char *why = NULL;
		tf_fork(s->fn, NULL, s->die_by_abort, 2000, &c);
		if (c.exited && c.code == TL_SKIP) {
			printf("skipped %s: its memory was mapped again\n", s->name);
			continue;
		}
		if (!s->start) {
			if (!c.exited || c.code)
				why = tl_child_how(&c);
		} else {
			why = tf_died_with(&c, s->die_by_abort, s->start, s->phrase);
		}
		if (why) {
			printf("FAIL %s: %s\n  stderr: %s\n", s->name, why, c.errlen ? c.err : "(empty)");
			failed++;
		}
	}

	/* The parent goes on with the same queue and requests. */
	CHECK_COUNTERS(&pq, 2, 1, 0);
	tl_write_all(pipefd[1], "hello", 5);
	r = asio_wait(&pq);
	CHECK_PTR("asio_wait in the parent after the forks", running, r);
	CHECK_DONE(r, 5, 0);
	CHECK(!memcmp(r->buffer, "hello", 5), "the parent's read got the wrong data");
	asio_put(r);
	asio_put(allocated);
	asio_cleanup_queue(&pq);
	tl_init_queue(&pq, 4096, 2);
	r = tl_req(&pq, ASIO_READ, open("/dev/zero", O_RDONLY), 4096);
	asio_submit(r);
	CHECK_PTR("asio_wait on a new queue in the parent", r, asio_wait(&pq));
	CHECK_DONE(r, 4096, 0);
	asio_put(r);
	asio_cleanup_queue(&pq);

	if (failed) {
		printf("%u of %u scenarios failed\n", failed, (unsigned)(sizeof(scenarios) / sizeof(scenarios[0])));
		return 1;
	}
	return 0;
}
