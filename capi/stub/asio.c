/*
 *	ucw-asio -- the public functions of <ucw/asio.h>
 *
 *	This file and sync.c are libucw-asio.so.1, a small C library. The engine
 *	is a separate Go library, libucw-asio-go.so.1 (built from capi/), in the
 *	same directory; it is loaded when the process first calls asio, not
 *	before: a Go runtime starts with it (threads, memory, time), and a
 *	program that merely has this library loaded -- under LD_PRELOAD, every
 *	program of a process tree -- should not pay for one.
 *
 *	Each function takes one of two routes:
 *	- the engine, through its goasio_* functions (found with dlsym);
 *	- the synchronous C implementation (sync.c): in a child forked without
 *	  exec from a process that had loaded the engine (the Go runtime's
 *	  threads did not survive the fork), in a process where the engine
 *	  cannot be loaded, and in one run with UCW_ASIO_ENGINE=sync.
 *	A child forked before the first asio call loads an engine of its own.
 *
 *	The ucw_asio_* names are aliases of these functions (same addresses);
 *	including <ucw/asio.h> makes the compiler check every definition against
 *	the published prototype, and ../goasio.h the engine's functions.
 */

#define _GNU_SOURCE
#include <ucw/asio.h>

#include "../goasio.h"
#include "die.h"
#include "sync.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_NAME "libucw-asio-go.so.1"

enum route {
	NOT_LOADED,	/* no asio call yet in this process */
	ENGINE,		/* the engine is loaded: call it */
	SYNCHRONOUS,	/* sync.c: a child of a process with the engine, or the engine failed to load */
};

/* Read without the lock (acquire), written under load_lock (release). */
static int route = NOT_LOADED;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	__typeof__(goasio_init_queue) *init_queue;
	__typeof__(goasio_cleanup_queue) *cleanup_queue;
	__typeof__(goasio_get) *get;
	__typeof__(goasio_submit) *submit;
	__typeof__(goasio_wait) *wait;
	__typeof__(goasio_put) *put;
	__typeof__(goasio_sync) *sync;
} engine;

/* The file this library was loaded from, as dladdr() names it; made
 * absolute at load time if it is relative (the program may change directory
 * before its first asio call). NULL if unknown. */
static const char *self_path;
static char self_absolute[PATH_MAX];

__attribute__((constructor)) static void find_self(void)
{
	Dl_info info;
	if (!dladdr((void *)find_self, &info) || !info.dli_fname || !info.dli_fname[0])
		return;
	self_path = info.dli_fname;
	if (self_path[0] != '/')
		self_path = realpath(self_path, self_absolute) ? self_absolute : NULL;
}

/* The engine is ENGINE_NAME beside this library (symbolic links resolved);
 * without a path, dlopen() searches the usual places. */
static void engine_path(char *path, size_t size)
{
	char real[PATH_MAX], *slash;
	if (self_path && realpath(self_path, real) && (slash = strrchr(real, '/')))
		snprintf(path, size, "%.*s%s", (int)(slash + 1 - real), real, ENGINE_NAME);
	else
		snprintf(path, size, "%s", ENGINE_NAME);
}

/*
 * dlopen() with the program's asynchronous signals kept off the Go runtime's
 * threads.
 *
 * The runtime starts when the engine library is loaded (its constructor
 * starts it in a new thread), and its threads take the signal mask of the
 * thread that loaded the library, minus the few signals Go needs itself (the
 * synchronous ones and SIGURG). A signal sent to the process goes to any
 * thread that does not block it: without care a SIGTERM, SIGINT or SIGCHLD
 * lands on a Go thread, which the program does not know about. A daemon that
 * blocks SIGTERM in its threads and takes it with sigwait() or a signalfd is
 * then killed by it, and handlers run in foreign threads, outside the
 * program's own blocking of signals around critical sections.
 *
 * So every signal is blocked in the calling thread just before dlopen() and
 * the thread's mask is restored right after it. The runtime's threads then
 * block every signal but their own; the program's threads keep their masks.
 * t_signals_engine checks it. (glibc never blocks its internal signals, e.g.
 * the one for setuid(), so those still reach every thread.)
 */
static void *open_engine(const char *path)
{
	sigset_t all, saved;
	void *lib;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return lib;
}

#define BIND(f) (engine.f = (__typeof__(engine.f))dlsym(lib, "goasio_" #f))

/* Loads the engine and finds its functions; returns the route to take. */
static int load_engine(void)
{
	char path[PATH_MAX + sizeof(ENGINE_NAME)];
	const char *err;
	void *lib;
	engine_path(path, sizeof(path));
	lib = open_engine(path);
	__typeof__(goasio_set_die) *set_die;
	if (lib && BIND(init_queue) && BIND(cleanup_queue) && BIND(get) && BIND(submit) && BIND(wait) &&
	    BIND(put) && BIND(sync) && (set_die = (__typeof__(set_die))dlsym(lib, "goasio_set_die"))) {
		/* The engine ends the process the way this library does (die.c). */
		set_die(ucwasio_die_line);
		return ENGINE;
	}
	/* A Go library needs a little static TLS when opened with dlopen(),
	 * which earlier libraries may have used up; or it is not installed. */
	err = dlerror();
	fprintf(stderr, "ucw-asio: cannot load the engine %s: %s; running synchronously\n", path,
		err ? err : "unknown error");
	return SYNCHRONOUS;
}

/* UCW_ASIO_ENGINE=sync: the whole process on the synchronous route, from
 * its first call (the engine is never loaded, no thread is ever started);
 * any other value, or none, loads the engine. */
static int engine_wanted(void)
{
	const char *v = getenv("UCW_ASIO_ENGINE");
	return !v || strcmp(v, "sync");
}

/* The first call of the process (or of several threads at once). */
__attribute__((noinline, cold)) static int first_use(void)
{
	int r;
	pthread_mutex_lock(&load_lock);
	r = route;
	if (r == NOT_LOADED) {
		r = engine_wanted() ? load_engine() : SYNCHRONOUS;
		__atomic_store_n(&route, r, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&load_lock);
	return r;
}

/* Whether to call the engine; the first call loads it. */
static inline int use_engine(void)
{
	int r = __atomic_load_n(&route, __ATOMIC_ACQUIRE);
	if (__builtin_expect(r == NOT_LOADED, 0))
		r = first_use();
	return r == ENGINE;
}

/*
 * Forks. A child of a process that had loaded the engine takes the
 * synchronous route from the fork on; a child forked before the first asio
 * call loads its own engine when it needs one. A fork waits for a load in
 * progress (the lock), so that no child inherits a half-done one.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&load_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&load_lock);
}

static void fork_child(void)
{
	if (route == ENGINE)
		route = SYNCHRONOUS;
	pthread_mutex_unlock(&load_lock);
}

__attribute__((constructor)) static void register_fork_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/*** The API ***/

void asio_init_queue(struct asio_queue *q)
{
	if (use_engine())
		engine.init_queue(q);
	else
		ucwasio_sync_init_queue(q);
}

void asio_cleanup_queue(struct asio_queue *q)
{
	if (use_engine())
		engine.cleanup_queue(q);
	else
		ucwasio_sync_cleanup_queue(q);
}

struct asio_request *asio_get(struct asio_queue *q)
{
	if (use_engine())
		return (struct asio_request *)engine.get(q);
	return ucwasio_sync_get(q);
}

void asio_submit(struct asio_request *r)
{
	if (use_engine())
		engine.submit(r);
	else
		ucwasio_sync_submit(r);
}

struct asio_request *asio_wait(struct asio_queue *q)
{
	if (use_engine())
		return (struct asio_request *)engine.wait(q);
	return ucwasio_sync_wait(q);
}

void asio_put(struct asio_request *r)
{
	if (use_engine())
		engine.put(r);
	else
		ucwasio_sync_put(r);
}

void asio_sync(struct asio_queue *q)
{
	if (use_engine())
		engine.sync(q);
	else
		ucwasio_sync_sync(q);
}

/* libucw 6.x's names (CONFIG_UCW_CLEAN_ABI). */
#define ALIAS(f) __typeof__(asio_##f) ucw_asio_##f __attribute__((alias("asio_" #f)))
ALIAS(init_queue);
ALIAS(cleanup_queue);
ALIAS(get);
ALIAS(submit);
ALIAS(wait);
ALIAS(put);
ALIAS(sync);
