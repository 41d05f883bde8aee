/*
 *	ucw-asio -- how the library ends the process (see die.h)
 */

#define _GNU_SOURCE
#include "die.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef void ucw_die_fn(const char *fmt, ...);

/*
 * libucw's die(): `ucw_die` in libucw 6.x (CONFIG_UCW_CLEAN_ABI), `die` in
 * older builds. `ucw_die` is specific enough to be taken wherever it is;
 * `die` is a common name, so it is taken only from a shared object whose
 * file name starts with "libucw" (and is not this library). A program that
 * links libucw statically exports neither, and gets the line on stderr.
 */
static ucw_die_fn *libucw_die(void)
{
	void *f = dlsym(RTLD_DEFAULT, "ucw_die");
	Dl_info info;
	const char *base;
	if (f)
		return (ucw_die_fn *)f;
	f = dlsym(RTLD_DEFAULT, "die");
	if (!f || !dladdr(f, &info) || !info.dli_fname)
		return NULL;
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	if (strncmp(base, "libucw", 6) || !strncmp(base, "libucw-asio", 11))
		return NULL;
	return (ucw_die_fn *)f;
}

/* The thread ending the process (its kernel thread id), 0 if none. */
static pid_t dying;

void ucwasio_die_line(const char *msg)
{
	ucw_die_fn *die;
	size_t len = strlen(msg), done = 0;
	pid_t me = (pid_t)syscall(SYS_gettid), none = 0;
	/* One line per process: threads that find another thread ending it (two
	 * threads misusing one queue may both notice) wait for the end. */
	if (!__atomic_compare_exchange_n(&dying, &none, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) && none != me)
		for (;;)
			pause();
	die = libucw_die();
	if (die)
		die("%s", msg);	/* never returns; if it did, the line goes on stderr too */
	while (done <= len) {
		/* The line and its newline, without stdio (the caller may hold its locks). */
		ssize_t n = done < len ? write(2, msg + done, len - done) : write(2, "\n", 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (getenv("UCW_DIE_BY_ABORT"))
		abort();
	exit(1);
}

void ucwasio_die(const char *fmt, ...)
{
	char line[512];
	va_list args;
	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	ucwasio_die_line(line);
}
