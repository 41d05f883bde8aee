/*
 *	ucw-asio -- the C implementation that serves a child forked without exec
 *
 *	Private to the library (hidden symbols). See forked.c.
 */

#ifndef UCWASIO_FORKED_H
#define UCWASIO_FORKED_H

#include <ucw/asio.h>

#pragma GCC visibility push(hidden)

/* Non-zero in a child forked (without exec) from a process that loaded the library. */
extern int ucwasio_forked;

void ucwasio_forked_init_queue(struct asio_queue *q);
void ucwasio_forked_cleanup_queue(struct asio_queue *q);
struct asio_request *ucwasio_forked_get(struct asio_queue *q);
void ucwasio_forked_submit(struct asio_request *r);
struct asio_request *ucwasio_forked_wait(struct asio_queue *q);
void ucwasio_forked_put(struct asio_request *r);
void ucwasio_forked_sync(struct asio_queue *q);

#pragma GCC visibility pop

#endif
