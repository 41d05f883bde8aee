/*
 *	ucw-asio -- the synchronous C implementation, used in forked children
 *	and when the engine cannot be loaded
 *
 *	Private to the library (hidden symbols). See sync.c.
 */

#ifndef UCWASIO_SYNC_H
#define UCWASIO_SYNC_H

#include <ucw/asio.h>

#pragma GCC visibility push(hidden)

void ucwasio_sync_init_queue(struct asio_queue *q);
void ucwasio_sync_cleanup_queue(struct asio_queue *q);
struct asio_request *ucwasio_sync_get(struct asio_queue *q);
void ucwasio_sync_submit(struct asio_request *r);
struct asio_request *ucwasio_sync_wait(struct asio_queue *q);
void ucwasio_sync_put(struct asio_request *r);
void ucwasio_sync_sync(struct asio_queue *q);

/* For a test harness whose ucwasio_die returns (with longjmp) instead of
 * ending the process: a call that died inside still marks its queue busy
 * (calls that overlap are reported, see sync.c); this clears the mark of
 * the queue q, or of request r's queue (r is looked up, never read). The
 * library never calls it. */
void ucwasio_sync_revive(struct asio_queue *q, struct asio_request *r);

#pragma GCC visibility pop

#endif
