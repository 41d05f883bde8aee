/*
 *	ucw-asio -- the C interface of the engine library, libucw-asio-go.so.1
 *
 *	The Go exports of main.go, one per function of <ucw/asio.h>. The public
 *	library (libucw-asio.so.1, capi/stub/) loads the engine library on first
 *	use and finds these with dlsym. main.go includes this header in its cgo
 *	preamble, so the C compiler checks the generated definitions against it.
 */

#ifndef UCWASIO_GOASIO_H
#define UCWASIO_GOASIO_H

#include <ucw/asio.h>

void goasio_init_queue(struct asio_queue *q);
void goasio_cleanup_queue(struct asio_queue *q);
struct asio_request *goasio_get(struct asio_queue *q);
void goasio_submit(struct asio_request *r);
struct asio_request *goasio_wait(struct asio_queue *q);
void goasio_put(struct asio_request *r);
void goasio_sync(struct asio_queue *q);

/* How the engine ends the process: ucwasio_die_line of the C library (never
 * returns), given once when the engine is loaded, before any other call. */
typedef void goasio_die_fn(const char *line);
void goasio_set_die(goasio_die_fn *die);

#endif
