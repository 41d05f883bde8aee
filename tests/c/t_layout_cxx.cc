/*
 * t_layout_cxx: the public header compiles as C++ (-Wall -Wextra -Werror
 * -pedantic, C++11) and gives the libucw 6.5 x86-64 layout there too: every
 * size, alignment and offset is checked at compile time (static_assert) and
 * again at run time, together with the field types and the extern "C"
 * linkage of the 14 functions.
 */

#include <ucw/asio.h>

#include <cstddef>
#include <cstdio>
#include <type_traits>

static int failures;

static void expect(const char *what, unsigned long expected, unsigned long got, int line)
{
	if (expected != got) {
		std::printf("FAIL %s:%d: %s: expected %lu, got %lu\n", __FILE__, line, what, expected, got);
		failures++;
	}
}

/* Compile-time and run-time check of one value. */
#define CHECK_BOTH(what, expected, got) \
	static_assert((got) == (expected), what); \
	expect(what, (expected), (got), __LINE__)

#define OFF(S, f, e) CHECK_BOTH(#S "." #f " offset", e, offsetof(S, f))
#define FSIZE(S, f, e) CHECK_BOTH(#S "." #f " size", e, sizeof(((S *)0)->f))
#define FTYPE(S, f, T) \
	static_assert(std::is_same<decltype(((S *)0)->f), T>::value, #S "." #f " has type " #T)

int main()
{
	CHECK_BOTH("sizeof(byte)", 1, sizeof(byte));
	CHECK_BOTH("sizeof(uint)", 4, sizeof(uint));
	static_assert(std::is_same<byte, unsigned char>::value, "byte is unsigned char");
	static_assert(std::is_same<uint, unsigned int>::value, "uint is unsigned int");

	CHECK_BOTH("sizeof(asio_queue)", 160, sizeof(asio_queue));
	CHECK_BOTH("alignof(asio_queue)", 8, alignof(asio_queue));
	static_assert(std::is_standard_layout<asio_queue>::value, "asio_queue is standard-layout");
	OFF(asio_queue, buffer_size, 0);
	OFF(asio_queue, max_writebacks, 4);
	OFF(asio_queue, allocated_requests, 8);
	OFF(asio_queue, running_requests, 12);
	OFF(asio_queue, running_writebacks, 16);
	OFF(asio_queue, idle_list, 24);
	OFF(asio_queue, done_list, 40);
	OFF(asio_queue, queue, 56);
	OFF(asio_queue, use_count, 152);
	FSIZE(asio_queue, idle_list, 16);
	FSIZE(asio_queue, done_list, 16);
	FSIZE(asio_queue, queue, 96);
	FTYPE(asio_queue, buffer_size, uint);
	FTYPE(asio_queue, max_writebacks, uint);
	FTYPE(asio_queue, allocated_requests, uint);
	FTYPE(asio_queue, running_requests, uint);
	FTYPE(asio_queue, running_writebacks, uint);
	FTYPE(asio_queue, idle_list, clist);
	FTYPE(asio_queue, done_list, clist);
	FTYPE(asio_queue, queue, struct work_queue);
	FTYPE(asio_queue, use_count, uint);

	CHECK_BOTH("sizeof(asio_request)", 88, sizeof(asio_request));
	CHECK_BOTH("alignof(asio_request)", 8, alignof(asio_request));
	static_assert(std::is_standard_layout<asio_request>::value, "asio_request is standard-layout");
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
	FTYPE(asio_request, work, struct work);
	FTYPE(asio_request, queue, struct asio_queue *);
	FTYPE(asio_request, buffer, byte *);
	FTYPE(asio_request, fd, int);
	FTYPE(asio_request, op, enum asio_op);
	FTYPE(asio_request, len, uint);
	FTYPE(asio_request, status, int);
	FTYPE(asio_request, returned_errno, int);
	FTYPE(asio_request, submitted, int);
	FTYPE(asio_request, user_data, void *);

	CHECK_BOTH("sizeof(work)", 40, sizeof(struct work));
	CHECK_BOTH("alignof(work)", 8, alignof(struct work));
	OFF(work, n, 0);
	OFF(work, priority, 16);
	OFF(work, reply_to, 24);
	OFF(work, go, 32);
	FTYPE(work, n, cnode);
	FTYPE(work, priority, uint);

	CHECK_BOTH("sizeof(work_queue)", 96, sizeof(struct work_queue));
	CHECK_BOTH("alignof(work_queue)", 8, alignof(struct work_queue));

	CHECK_BOTH("sizeof(cnode)", 16, sizeof(cnode));
	CHECK_BOTH("sizeof(clist)", 16, sizeof(clist));
	OFF(cnode, next, 0);
	OFF(cnode, prev, 8);
	OFF(clist, head, 0);

	CHECK_BOTH("sizeof(asio_op)", 4, sizeof(asio_op));
	CHECK_BOTH("ASIO_FREE", 0, ASIO_FREE);
	CHECK_BOTH("ASIO_READ", 1, ASIO_READ);
	CHECK_BOTH("ASIO_WRITE", 2, ASIO_WRITE);
	CHECK_BOTH("ASIO_WRITE_BACK", 3, ASIO_WRITE_BACK);

	/* Prototypes (and C linkage: this only links if the names are unmangled). */
	static_assert(std::is_same<decltype(&asio_init_queue), void (*)(asio_queue *)>::value, "asio_init_queue");
	static_assert(std::is_same<decltype(&asio_cleanup_queue), void (*)(asio_queue *)>::value, "asio_cleanup_queue");
	static_assert(std::is_same<decltype(&asio_get), asio_request *(*)(asio_queue *)>::value, "asio_get");
	static_assert(std::is_same<decltype(&asio_submit), void (*)(asio_request *)>::value, "asio_submit");
	static_assert(std::is_same<decltype(&asio_wait), asio_request *(*)(asio_queue *)>::value, "asio_wait");
	static_assert(std::is_same<decltype(&asio_put), void (*)(asio_request *)>::value, "asio_put");
	static_assert(std::is_same<decltype(&asio_sync), void (*)(asio_queue *)>::value, "asio_sync");
	static_assert(std::is_same<decltype(&ucw_asio_init_queue), void (*)(asio_queue *)>::value, "ucw_asio_init_queue");
	static_assert(std::is_same<decltype(&ucw_asio_cleanup_queue), void (*)(asio_queue *)>::value, "ucw_asio_cleanup_queue");
	static_assert(std::is_same<decltype(&ucw_asio_get), asio_request *(*)(asio_queue *)>::value, "ucw_asio_get");
	static_assert(std::is_same<decltype(&ucw_asio_submit), void (*)(asio_request *)>::value, "ucw_asio_submit");
	static_assert(std::is_same<decltype(&ucw_asio_wait), asio_request *(*)(asio_queue *)>::value, "ucw_asio_wait");
	static_assert(std::is_same<decltype(&ucw_asio_put), void (*)(asio_request *)>::value, "ucw_asio_put");
	static_assert(std::is_same<decltype(&ucw_asio_sync), void (*)(asio_queue *)>::value, "ucw_asio_sync");
	void (*volatile fns[])(void) = {
		(void (*)(void))asio_init_queue, (void (*)(void))asio_cleanup_queue,
		(void (*)(void))asio_get, (void (*)(void))asio_submit,
		(void (*)(void))asio_wait, (void (*)(void))asio_put, (void (*)(void))asio_sync,
		(void (*)(void))ucw_asio_init_queue, (void (*)(void))ucw_asio_cleanup_queue,
		(void (*)(void))ucw_asio_get, (void (*)(void))ucw_asio_submit,
		(void (*)(void))ucw_asio_wait, (void (*)(void))ucw_asio_put, (void (*)(void))ucw_asio_sync,
	};
	for (unsigned i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		expect("function address is not NULL", 1, fns[i] != 0, __LINE__);

	if (failures) {
		std::printf("%d layout mismatches\n", failures);
		return 1;
	}
	return 0;
}
