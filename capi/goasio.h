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

#include <stdint.h>
#include <ucw/asio.h>

/* goasio_get and goasio_wait return the address of a struct asio_request
 * (0 for NULL) as an integer, which the public library casts back. A
 * request is the engine's mmap'd memory, never Go's heap, and a pointer
 * result would have the Go runtime check at every call that it does not
 * point into Go memory (cgocheck's check of an exported function's
 * results), about 5 ns each. */
void goasio_init_queue(struct asio_queue *q);
void goasio_cleanup_queue(struct asio_queue *q);
uintptr_t goasio_get(struct asio_queue *q);
void goasio_submit(struct asio_request *r);
uintptr_t goasio_wait(struct asio_queue *q);
void goasio_put(struct asio_request *r);
void goasio_sync(struct asio_queue *q);

/* How the engine ends the process: ucwasio_die_line of the C library (never
 * returns), given once when the engine is loaded, before any other call. */
typedef void goasio_die_fn(const char *line);
void goasio_set_die(goasio_die_fn *die);

#endif
