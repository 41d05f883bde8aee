/*
 * t_layout: the public header's ABI, compiled as plain C99 (-pedantic).
 *
 * Every size, alignment and field offset of struct asio_queue, struct
 * asio_request, struct work, struct work_queue, cnode/clist and enum asio_op
 * must be those of libucw 6.5 on x86-64 (LP64, compiled with gcc), so that
 * programs compiled against libucw's header run on this library unchanged.
 * Built twice: without feature macros (the header's own `uint`) and with
 * _GNU_SOURCE (glibc's `uint`). Does not depend on testlib.h, which needs
 * POSIX extensions.
 */

#include <ucw/asio.h>

#include <stddef.h>
#include <stdio.h>

static int failures;

#define EXPECT(what, expected, got) \
	do { \
		unsigned long e_ = (unsigned long)(expected), g_ = (unsigned long)(got); \
		if (e_ != g_) { \
			printf("FAIL %s:%d: %s: expected %lu, got %lu\n", __FILE__, __LINE__, (what), e_, g_); \
			failures++; \
		} \
	} while (0)

/* C99 has no _Alignof: the offset of a member placed after a char. */
#define ALIGN_OF(T) offsetof(struct { char c; T t; }, t)

#define OFF(S, f, expected) EXPECT(#S "." #f " offset", (expected), offsetof(struct S, f))
#define FSIZE(S, f, expected) EXPECT(#S "." #f " size", (expected), sizeof(((struct S *)0)->f))

int main(void)
{
	enum asio_op op = ASIO_READ;

	/* Basic types */
	EXPECT("sizeof(byte)", 1, sizeof(byte));
	EXPECT("sizeof(uint)", 4, sizeof(uint));
	EXPECT("uint is unsigned", 1, (uint)-1 > 0);

	/* struct asio_queue */
	EXPECT("sizeof(struct asio_queue)", 160, sizeof(struct asio_queue));
	EXPECT("alignof(struct asio_queue)", 8, ALIGN_OF(struct asio_queue));
	OFF(asio_queue, buffer_size, 0);
	OFF(asio_queue, max_writebacks, 4);
	OFF(asio_queue, allocated_requests, 8);
	OFF(asio_queue, running_requests, 12);
	OFF(asio_queue, running_writebacks, 16);
	OFF(asio_queue, idle_list, 24);
	OFF(asio_queue, done_list, 40);
	OFF(asio_queue, queue, 56);
	OFF(asio_queue, use_count, 152);
	FSIZE(asio_queue, buffer_size, 4);
	FSIZE(asio_queue, max_writebacks, 4);
	FSIZE(asio_queue, allocated_requests, 4);
	FSIZE(asio_queue, running_requests, 4);
	FSIZE(asio_queue, running_writebacks, 4);
	FSIZE(asio_queue, idle_list, 16);
	FSIZE(asio_queue, done_list, 16);
	FSIZE(asio_queue, queue, 96);
	FSIZE(asio_queue, use_count, 4);

	/* struct asio_request */
	EXPECT("sizeof(struct asio_request)", 88, sizeof(struct asio_request));
	EXPECT("alignof(struct asio_request)", 8, ALIGN_OF(struct asio_request));
	OFF(asio_request, work, 0);
	OFF(asio_request, queue, 40);
	OFF(asio_request, buffer, 48);
	OFF(asio_request, fd, 56);
	OFF(asio_request, op, 60);
	OFF(asio_request, len, 64);
	OFF(asio_request, status, 68);
	OFF(asio_request, returned_errno, 72);
	OFF(asio_request, submitted, 76);
	OFF(asio_request, user_data, 80);
	FSIZE(asio_request, work, 40);
	FSIZE(asio_request, queue, 8);
	FSIZE(asio_request, buffer, 8);
	FSIZE(asio_request, fd, 4);
	FSIZE(asio_request, op, 4);
	FSIZE(asio_request, len, 4);
	FSIZE(asio_request, status, 4);
	FSIZE(asio_request, returned_errno, 4);
	FSIZE(asio_request, submitted, 4);
	FSIZE(asio_request, user_data, 8);
	{
		struct asio_request r;
		r.fd = -1; r.status = -1; r.returned_errno = -1; r.submitted = -1; r.len = (uint)-1;
		EXPECT("fd holds -1", 1, r.fd < 0);
		EXPECT("status holds -1", 1, r.status < 0);
		EXPECT("returned_errno holds -1", 1, r.returned_errno < 0);
		EXPECT("submitted is signed int", 1, r.submitted < 0);
		EXPECT("len is unsigned", 1, r.len > 0);
	}

	/* struct work (inside a request) */
	EXPECT("sizeof(struct work)", 40, sizeof(struct work));
	EXPECT("alignof(struct work)", 8, ALIGN_OF(struct work));
	OFF(work, n, 0);
	OFF(work, priority, 16);
	OFF(work, reply_to, 24);
	OFF(work, go, 32);
	FSIZE(work, n, 16);
	FSIZE(work, priority, 4);

	/* struct work_queue (inside a queue): only size and alignment are ABI */
	EXPECT("sizeof(struct work_queue)", 96, sizeof(struct work_queue));
	EXPECT("alignof(struct work_queue)", 8, ALIGN_OF(struct work_queue));

	/* Circular lists */
	EXPECT("sizeof(cnode)", 16, sizeof(cnode));
	EXPECT("sizeof(clist)", 16, sizeof(clist));
	EXPECT("alignof(clist)", 8, ALIGN_OF(clist));
	OFF(cnode, next, 0);
	OFF(cnode, prev, 8);
	OFF(clist, head, 0);

	/* enum asio_op */
	EXPECT("sizeof(enum asio_op)", 4, sizeof(enum asio_op));
	EXPECT("sizeof(an enum asio_op value)", 4, sizeof(op));
	EXPECT("ASIO_FREE", 0, ASIO_FREE);
	EXPECT("ASIO_READ", 1, ASIO_READ);
	EXPECT("ASIO_WRITE", 2, ASIO_WRITE);
	EXPECT("ASIO_WRITE_BACK", 3, ASIO_WRITE_BACK);

	/* The prototypes: each function exists with the expected type. */
	{
		void (*init)(struct asio_queue *) = asio_init_queue;
		void (*cleanup)(struct asio_queue *) = asio_cleanup_queue;
		struct asio_request *(*get)(struct asio_queue *) = asio_get;
		void (*submit)(struct asio_request *) = asio_submit;
		struct asio_request *(*wait)(struct asio_queue *) = asio_wait;
		void (*put)(struct asio_request *) = asio_put;
		void (*sync)(struct asio_queue *) = asio_sync;
		void (*uinit)(struct asio_queue *) = ucw_asio_init_queue;
		void (*ucleanup)(struct asio_queue *) = ucw_asio_cleanup_queue;
		struct asio_request *(*uget)(struct asio_queue *) = ucw_asio_get;
		void (*usubmit)(struct asio_request *) = ucw_asio_submit;
		struct asio_request *(*uwait)(struct asio_queue *) = ucw_asio_wait;
		void (*uput)(struct asio_request *) = ucw_asio_put;
		void (*usync)(struct asio_queue *) = ucw_asio_sync;
		EXPECT("all 14 functions resolved", 14,
		       !!init + !!cleanup + !!get + !!submit + !!wait + !!put + !!sync +
		       !!uinit + !!ucleanup + !!uget + !!usubmit + !!uwait + !!uput + !!usync);
	}

	if (failures) {
		printf("%d layout mismatches\n", failures);
		return 1;
	}
	return 0;
}
