/*
 *	ucw-asio -- how the library ends the process
 *
 *	A misuse of the API, or a failed write-back, ends the process with one
 *	line, as libucw's die() does. Both routes (the engine and the synchronous
 *	C implementation) end it here, so that the line goes where the original's
 *	would have gone: through libucw's own die() when the process has libucw
 *	(a program built against libucw and run on this library with LD_PRELOAD),
 *	otherwise on stderr, then exit status 1, or abort() when UCW_DIE_BY_ABORT
 *	is set in the environment.
 *
 *	Private to the library (hidden symbols).
 */

#ifndef UCWASIO_DIE_H
#define UCWASIO_DIE_H

#pragma GCC visibility push(hidden)

/* Ends the process with the line msg (no newline). Never returns. */
void ucwasio_die_line(const char *msg) __attribute__((noreturn));

/* The same with a printf format. */
void ucwasio_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#pragma GCC visibility pop

#endif
