/*
 *	ucw-asio -- keep the program's asynchronous signals off the Go runtime's threads
 *
 *	The Go runtime starts when the library is loaded, also into programs that
 *	never asked for it (LD_PRELOAD), and its threads take the signal mask of
 *	the thread that loaded the library, minus the few signals Go needs itself
 *	(the synchronous ones and SIGURG). A signal sent to the process goes to
 *	any thread that does not block it: without care a SIGTERM, SIGINT or
 *	SIGCHLD lands on a Go thread, which the program does not know about. A
 *	daemon that blocks SIGTERM in its threads and takes it with sigwait() or
 *	a signalfd is then killed by it, and handlers run in foreign threads,
 *	outside the program's own blocking of signals around critical sections.
 *
 *	So every signal is blocked in the loading thread just before the runtime
 *	starts (a constructor with a priority runs before the runtime's, which has
 *	none), and the thread's mask is restored just after it (a constructor
 *	without priority: the linker places the C objects' after the runtime's).
 *	The runtime's threads then block every signal but their own; the
 *	program's threads keep their masks. t_preload (mode signals) checks it.
 *	(glibc never blocks its internal signals, e.g. the one for setuid(), so
 *	those still reach every thread.)
 */

#include <pthread.h>
#include <signal.h>

static sigset_t saved_mask;
static int mask_saved;

__attribute__((constructor(101))) static void block_signals_before_runtime(void)
{
	sigset_t all;
	sigfillset(&all);
	mask_saved = pthread_sigmask(SIG_BLOCK, &all, &saved_mask) == 0;
}

__attribute__((constructor)) static void restore_signals_after_runtime(void)
{
	if (mask_saved)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	mask_saved = 0;
}
