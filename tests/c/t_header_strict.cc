/*
 * t_header_strict: <ucw/asio.h> compiles in the strictest old dialects
 * (built as C89 and as C++98, both with -pedantic -Werror), and the layout
 * there is the same as everywhere: the header gives old code no surprise.
 */

#include <ucw/asio.h>
#include <stddef.h>
#include <stdio.h>

int main(void)
{
	int bad = 0;
	if (sizeof(struct asio_queue) != 160 || offsetof(struct asio_queue, use_count) != 152) {
		fprintf(stderr, "FAIL: struct asio_queue is %u bytes, use_count at %u; want 160 and 152\n",
			(unsigned)sizeof(struct asio_queue), (unsigned)offsetof(struct asio_queue, use_count));
		bad = 1;
	}
	if (sizeof(struct asio_request) != 88 || offsetof(struct asio_request, user_data) != 80) {
		fprintf(stderr, "FAIL: struct asio_request is %u bytes, user_data at %u; want 88 and 80\n",
			(unsigned)sizeof(struct asio_request), (unsigned)offsetof(struct asio_request, user_data));
		bad = 1;
	}
	if (ASIO_WRITE_BACK != 3) {
		fprintf(stderr, "FAIL: ASIO_WRITE_BACK is %d, want 3\n", (int)ASIO_WRITE_BACK);
		bad = 1;
	}
	return bad;
}
