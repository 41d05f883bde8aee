/*
 *	ucw-asio -- the public functions of <ucw/asio.h>
 *
 *	Each one calls the Go engine (the goasio_* exports of main.go), except in
 *	a child forked without exec: there only the forking thread exists and the
 *	Go runtime's threads do not, so anything needing its scheduler would hang.
 *	Such a child is served by the synchronous C implementation in forked.c.
 *
 *	The ucw_asio_* names are linker aliases of these functions (see
 *	scripts/build-lib.sh); including <ucw/asio.h> makes the compiler check
 *	every definition against the published prototype.
 */

#include <ucw/asio.h>

#include "_cgo_export.h"
#include "forked.h"

#define FORKED __builtin_expect(ucwasio_forked, 0)

void asio_init_queue(struct asio_queue *q)
{
	if (FORKED)
		ucwasio_forked_init_queue(q);
	else
		goasio_init_queue(q);
}

void asio_cleanup_queue(struct asio_queue *q)
{
	if (FORKED)
		ucwasio_forked_cleanup_queue(q);
	else
		goasio_cleanup_queue(q);
}

struct asio_request *asio_get(struct asio_queue *q)
{
	if (FORKED)
		return ucwasio_forked_get(q);
	return goasio_get(q);
}

void asio_submit(struct asio_request *r)
{
	if (FORKED)
		ucwasio_forked_submit(r);
	else
		goasio_submit(r);
}

struct asio_request *asio_wait(struct asio_queue *q)
{
	if (FORKED)
		return ucwasio_forked_wait(q);
	return goasio_wait(q);
}

void asio_put(struct asio_request *r)
{
	if (FORKED)
		ucwasio_forked_put(r);
	else
		goasio_put(r);
}

void asio_sync(struct asio_queue *q)
{
	if (FORKED)
		ucwasio_forked_sync(q);
	else
		goasio_sync(q);
}
