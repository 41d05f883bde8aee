/*
 * t_reinit: asio_init_queue over a queue that is still initialised.
 *
 * - An idle live queue (nothing allocated) is released as asio_cleanup_queue
 *   would release it and initialised anew: 20,000 re-inits of a queue with a
 *   64 KiB buffer, each after a get and put (so that it has a mapped request)
 *   and never cleaned up, leave VmRSS, the mappings and the descriptors flat.
 * - A live queue with requests out (allocated, running, or write-backs not
 *   reaped): the child exits 1 with exactly "asio_init_queue: queue <q> still
 *   has N request(s): call asio_cleanup_queue first" (1 request, 2 requests).
 * - What only looks like a queue is initialised as garbage is: a byte copy
 *   of a live queue's struct (the original keeps working), a struct whose
 *   queue was cleaned up.
 */

#include "testlib.h"

#define BUF (64u << 10)
#define REINITS 20000

static struct asio_queue q;

static int scenario(const char *name)
{
	struct asio_request *r;
	int p[2];
	tl_init_queue(&q, 4096, 4);
	if (!strcmp(name, "allocated")) {
		asio_get(&q);
	} else if (!strcmp(name, "two")) {
		asio_get(&q);
		asio_get(&q);
	} else if (!strcmp(name, "running")) {
		CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
		asio_submit(tl_req(&q, ASIO_READ, p[0], 10));
	} else if (!strcmp(name, "writeback")) {
		CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
		r = tl_req(&q, ASIO_WRITE_BACK, p[1], 10);
		memset(r->buffer, 'x', 10);
		asio_submit(r);
	} else {
		return 2;
	}
	asio_init_queue(&q);
	printf("asio_init_queue returned\n");
	return 0;
}

static void want_line(const char *name, const char *count)
{
	struct tl_child c;
	char want[200], *p;
	tl_run_child(name, NULL, 20000, &c);
	CHECK(c.exited && c.code == 1, "re-init with %s out: the child %s; stderr:\n%s", count, tl_child_how(&c),
	      c.err);
	/* The child's queue is at its own address (ASLR): take it from the line. */
	p = strstr(c.err, "0x");
	snprintf(want, sizeof(want), "asio_init_queue: queue %.*s still has %s: call asio_cleanup_queue first\n",
		 p ? (int)strcspn(p, " ") : 0, p ? p : "", count);
	CHECK(p && !strcmp(c.err, want), "re-init with %s out: stderr\n%s\nwant\n%s", count, c.err,
	      "asio_init_queue: queue 0x... still has N request(s): call asio_cleanup_queue first");
}

int main(int argc, char **argv)
{
	struct tl_usage before = { 0, 0, 0, 0 }, after;
	struct asio_queue copy;
	struct asio_request *r;
	int i;

	if (argc > 1)
		return scenario(argv[1]);
	tl_watchdog(240, "t_reinit");

	/* Idle re-inits release the old queue. */
	tl_init_queue(&q, BUF, 2);
	for (i = 0; i < REINITS; i++) {
		if (i == 1000)
			tl_measure(&before);
		asio_put(asio_get(&q));
		asio_init_queue(&q);
		CHECK_COUNTERS(&q, 0, 0, 0);
	}
	tl_measure(&after);
	printf("%d re-inits: VmRSS %ld -> %ld kB, mappings %ld -> %ld, descriptors %ld -> %ld\n", REINITS - 1000,
	       before.rss_kb, after.rss_kb, before.maps, after.maps, before.fds, after.fds);
	CHECK(after.rss_kb - before.rss_kb < 16 * 1024, "VmRSS grew by %ld kB over %d re-inits of an idle queue",
	      after.rss_kb - before.rss_kb, REINITS - 1000);
	CHECK(after.maps - before.maps < 16, "%ld more mappings after %d re-inits of an idle queue",
	      after.maps - before.maps, REINITS - 1000);
	CHECK_EQ("descriptors after the re-inits", before.fds, after.fds);

	/* A copy of a live queue's struct is garbage: initialised anew, and
	 * the original is untouched. */
	r = asio_get(&q);
	memcpy(&copy, &q, sizeof(q));
	asio_init_queue(&copy);
	CHECK_COUNTERS(&copy, 0, 0, 0);
	asio_put(asio_get(&copy));
	asio_cleanup_queue(&copy);
	CHECK_COUNTERS(&q, 1, 0, 0);
	asio_put(r);
	asio_cleanup_queue(&q);
	/* A cleaned-up struct is garbage too. */
	asio_init_queue(&q);
	asio_put(asio_get(&q));
	asio_cleanup_queue(&q);

	want_line("allocated", "1 request");
	want_line("two", "2 requests");
	want_line("running", "1 request");
	want_line("writeback", "1 request");
	printf("re-init with requests out: the line\n");
	return 0;
}
