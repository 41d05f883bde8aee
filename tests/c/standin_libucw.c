/*
 * A stand-in for the original libucw, for the LD_PRELOAD tests only (it is
 * not ucw-asio): it exports the fourteen asio names, and each of them says on
 * stderr that the stand-in was called and ends the process with status 42,
 * which ucw-asio never does. A program linked against it is served by
 * ucw-asio only if LD_PRELOAD takes over every call, also the calls made
 * from inside other libraries (see standin_fbdirect.c).
 *
 * It also has libucw 6.x's die(), ucw_die, which prints its message after
 * "! stand-in ucw_die: " on stderr and exits with status 1, as libucw's
 * logging would with its own prefix: ucw-asio must end the process through
 * it when the process has it.
 */

#include <ucw/asio.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void ucw_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void ucw_die(const char *fmt, ...)
{
	va_list args;
	fputs("! stand-in ucw_die: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	exit(1);
}

#define STANDIN_EXIT 42

static void called(const char *name) __attribute__((noreturn));

static void called(const char *name)
{
	fprintf(stderr, "stand-in libucw: %s called\n", name);
	exit(STANDIN_EXIT);
}

#define STANDIN_VOID(name, type, arg) void name(type arg) { (void)arg; called(#name); }
#define STANDIN_PTR(name, type, arg) struct asio_request *name(type arg) { (void)arg; called(#name); }

STANDIN_VOID(asio_init_queue, struct asio_queue *, q)
STANDIN_VOID(asio_cleanup_queue, struct asio_queue *, q)
STANDIN_PTR(asio_get, struct asio_queue *, q)
STANDIN_VOID(asio_submit, struct asio_request *, r)
STANDIN_PTR(asio_wait, struct asio_queue *, q)
STANDIN_VOID(asio_put, struct asio_request *, r)
STANDIN_VOID(asio_sync, struct asio_queue *, q)
STANDIN_VOID(ucw_asio_init_queue, struct asio_queue *, q)
STANDIN_VOID(ucw_asio_cleanup_queue, struct asio_queue *, q)
STANDIN_PTR(ucw_asio_get, struct asio_queue *, q)
STANDIN_VOID(ucw_asio_submit, struct asio_request *, r)
STANDIN_PTR(ucw_asio_wait, struct asio_queue *, q)
STANDIN_VOID(ucw_asio_put, struct asio_request *, r)
STANDIN_VOID(ucw_asio_sync, struct asio_queue *, q)
