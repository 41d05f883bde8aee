/*
 * t_get_put: asio_init_queue, asio_get, asio_put, asio_cleanup_queue without
 * any I/O.
 *
 *  - init works on a struct full of garbage, keeps buffer_size and
 *    max_writebacks, zeroes the three counters and use_count;
 *  - every field asio_get sets (op ASIO_FREE, fd -1, len 0, status -1,
 *    returned_errno -1, submitted 0, queue), user_data NULL on a new request
 *    and kept on a recycled one;
 *  - buffers are page-aligned, distinct, writable for buffer_size bytes (also
 *    when buffer_size is not a multiple of the page size);
 *  - put then get gives the same request back with its own buffer;
 *  - allocated_requests follows get/put; running counters stay 0;
 *  - the library never writes outside the caller's 160-byte struct and
 *    leaves use_count (the caller's) alone after init;
 *  - a cleaned-up struct can be initialised and used again.
 */

#include "testlib.h"

/* A queue with guard bytes on both sides. */
struct guarded {
	unsigned char before[64];
	struct asio_queue q;
	unsigned char after[64];
};

static void check_guards(const struct guarded *g, const char *when)
{
	size_t i;
	for (i = 0; i < sizeof(g->before); i++)
		CHECK(g->before[i] == 0x5C, "%s: byte %zu before the queue changed to 0x%02x", when, sizeof(g->before) - i, g->before[i]);
	for (i = 0; i < sizeof(g->after); i++)
		CHECK(g->after[i] == 0x5C, "%s: byte %zu after the queue changed to 0x%02x", when, i, g->after[i]);
}

static void check_fresh(struct asio_request *r, struct asio_queue *q, const char *what)
{
	CHECK(r != NULL, "%s: asio_get returned NULL", what);
	CHECK_PTR("queue", q, r->queue);
	CHECK_EQ("op", ASIO_FREE, r->op);
	CHECK_EQ("fd", -1, r->fd);
	CHECK_EQ("len", 0, r->len);
	CHECK_EQ("status", -1, r->status);
	CHECK_EQ("returned_errno", -1, r->returned_errno);
	CHECK_EQ("submitted", 0, r->submitted);
	CHECK(r->buffer != NULL, "%s: buffer is NULL", what);
	CHECK(((uintptr_t)r->buffer % TL_PAGE) == 0, "%s: buffer %p is not page-aligned", what, (void *)r->buffer);
}

/* Write then read back every byte of the buffer. */
static void check_writable(struct asio_request *r, uint size, uint64_t seed)
{
	tl_fill(r->buffer, size, seed, 0);
	CHECK_FILL("buffer contents", r->buffer, size, seed, 0);
}

static void test_queue(uint buffer_size)
{
	static struct guarded g;
	struct asio_queue *q = &g.q;
	struct asio_request *r1, *r2, *r3, *r4;
	byte *buf1;
	int tag1 = 1, tag2 = 2;
	int round;

	memset(&g, 0x5C, sizeof(g));
	memset(q, 0xA5, sizeof(*q));
	q->buffer_size = buffer_size;
	q->max_writebacks = 3;
	asio_init_queue(q);
	check_guards(&g, "after asio_init_queue");
	CHECK_EQ("buffer_size after init", buffer_size, q->buffer_size);
	CHECK_EQ("max_writebacks after init", 3, q->max_writebacks);
	CHECK_COUNTERS(q, 0, 0, 0);
	CHECK_EQ("use_count after init", 0, q->use_count);
	q->use_count = 12345;		/* the caller's from now on */

	for (round = 0; round < 2; round++) {
		r1 = asio_get(q);
		check_fresh(r1, q, "first request");
		CHECK_PTR("user_data of a new request", NULL, r1->user_data);
		CHECK_COUNTERS(q, 1, 0, 0);
		check_writable(r1, buffer_size, 1);

		r2 = asio_get(q);
		check_fresh(r2, q, "second request");
		CHECK_PTR("user_data of a new request", NULL, r2->user_data);
		CHECK(r2 != r1, "second asio_get returned the same request %p", (void *)r1);
		CHECK(r2->buffer + buffer_size <= r1->buffer || r1->buffer + buffer_size <= r2->buffer,
		      "buffers overlap: %p and %p, %u bytes each", (void *)r1->buffer, (void *)r2->buffer, buffer_size);
		CHECK_COUNTERS(q, 2, 0, 0);
		check_writable(r2, buffer_size, 2);
		CHECK_FILL("first buffer after writing the second", r1->buffer, buffer_size, 1, 0);

		/* Dirty every field, then recycle. */
		buf1 = r1->buffer;
		r1->user_data = &tag1;
		r1->op = ASIO_WRITE;
		r1->fd = 7;
		r1->len = 99;
		r1->status = 55;
		r1->returned_errno = 3;
		asio_put(r1);
		CHECK_COUNTERS(q, 1, 0, 0);

		r3 = asio_get(q);
		CHECK_PTR("recycled request", r1, r3);
		check_fresh(r3, q, "recycled request");
		CHECK_PTR("buffer of the recycled request", buf1, r3->buffer);
		CHECK_PTR("user_data kept on recycling", &tag1, r3->user_data);
		CHECK_COUNTERS(q, 2, 0, 0);
		check_writable(r3, buffer_size, 3);

		/* Put both, get both back (in any order), user_data kept. */
		r2->user_data = &tag2;
		asio_put(r2);
		asio_put(r3);
		CHECK_COUNTERS(q, 0, 0, 0);
		r3 = asio_get(q);
		r4 = asio_get(q);
		check_fresh(r3, q, "recycled request");
		check_fresh(r4, q, "recycled request");
		CHECK((r3 == r1 && r4 == r2) || (r3 == r2 && r4 == r1),
		      "after putting %p and %p, asio_get returned %p and %p", (void *)r1, (void *)r2, (void *)r3, (void *)r4);
		CHECK_PTR("user_data kept", r3 == r1 ? (void *)&tag1 : (void *)&tag2, r3->user_data);
		CHECK_PTR("user_data kept", r4 == r1 ? (void *)&tag1 : (void *)&tag2, r4->user_data);
		CHECK_COUNTERS(q, 2, 0, 0);
		r3->user_data = r4->user_data = NULL;
		asio_put(r4);
		asio_put(r3);
		CHECK_COUNTERS(q, 0, 0, 0);
		CHECK_EQ("use_count (the caller's)", 12345, q->use_count);
		CHECK_EQ("buffer_size", buffer_size, q->buffer_size);
		CHECK_EQ("max_writebacks", 3, q->max_writebacks);
		check_guards(&g, "after get/put");

		asio_cleanup_queue(q);
		check_guards(&g, "after asio_cleanup_queue");

		/* The same struct again, initialised over the old contents. */
		q->buffer_size = buffer_size;
		q->max_writebacks = 3;
		q->use_count = 777;
		asio_init_queue(q);
		CHECK_COUNTERS(q, 0, 0, 0);
		CHECK_EQ("use_count after re-init", 0, q->use_count);
		q->use_count = 12345;
	}

	/* Many requests at once: all distinct, all usable. */
	{
		struct asio_request *many[64];
		int i, j;
		for (i = 0; i < 64; i++) {
			many[i] = asio_get(q);
			check_fresh(many[i], q, "one of 64 requests");
			CHECK_EQ("allocated_requests", i + 1, q->allocated_requests);
			tl_fill(many[i]->buffer, buffer_size, 100 + i, 0);
		}
		for (i = 0; i < 64; i++) {
			CHECK_FILL("one of 64 buffers", many[i]->buffer, buffer_size, 100 + i, 0);
			for (j = 0; j < i; j++)
				CHECK(many[i] != many[j], "requests %d and %d are the same", i, j);
		}
		for (i = 0; i < 64; i++)
			asio_put(many[i]);
		CHECK_COUNTERS(q, 0, 0, 0);
	}

	asio_cleanup_queue(q);
	check_guards(&g, "at the end");
}

int main(void)
{
	test_queue(16384);
	test_queue(1000);		/* not a multiple of the page size */
	test_queue(TL_PAGE);
	test_queue(1 << 20);
	return 0;
}
