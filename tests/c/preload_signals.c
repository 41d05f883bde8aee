/*
 * preload_signals: a program with signal handling of its own, which never
 * asked for ucw-asio (t_preload.sh runs it with LD_PRELOAD=libucw-asio.so).
 *
 * Built with -DUSE_ASIO it is t_signals_engine, linked with ucw-asio: its
 * main thread's first asio call loads the engine, whose Go runtime starts
 * its threads (the library blocks every signal around the load, so that
 * they block the program's signals), after the program installed its
 * handlers, which must stay. A read blocked on an empty pipe keeps
 * an engine thread in read(2) during the checks below; the engine must be
 * mapped and have threads.
 *
 *  - handlers for SIGINT and SIGALRM, installed with plain sigaction (no
 *    SA_ONSTACK), stay installed and fire: raise(SIGINT), 20 times
 *    kill(getpid(), SIGINT), 5 SIGALRMs of an interval timer;
 *  - a signal sent to the process runs the handler in the program's own
 *    thread, never in a thread of the library;
 *  - the sigwait() daemon pattern: SIGTERM, SIGUSR1 and SIGHUP blocked in
 *    every thread of the program and taken by a sigwait() thread: 60 signals
 *    sent to the process, one at a time, all arrive, none kills the process.
 * Prints "libucw-asio mapped: yes|no", "engine mapped: yes|no", "threads at
 * start: N", then "signals: ok".
 */

#include "preload_common.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#ifdef USE_ASIO
#include <ucw/asio.h>
#endif

static int sigint_count, sigalrm_count, wrong_sig, foreign_thread;
static pid_t main_tid;

static void on_signal(int sig)
{
	if ((pid_t)syscall(SYS_gettid) != main_tid)
		__atomic_add_fetch(&foreign_thread, 1, __ATOMIC_SEQ_CST);
	if (sig == SIGINT)
		__atomic_add_fetch(&sigint_count, 1, __ATOMIC_SEQ_CST);
	else if (sig == SIGALRM)
		__atomic_add_fetch(&sigalrm_count, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_add_fetch(&wrong_sig, 1, __ATOMIC_SEQ_CST);
}

#ifdef USE_ASIO
static struct asio_queue q;
static struct asio_request *blocked;
static int pipefd[2];

/* The first asio call, then a read that blocks in the engine. */
static void start_engine(void)
{
	memset(&q, 0, sizeof(q));
	q.buffer_size = 4096;
	q.max_writebacks = 1;
	asio_init_queue(&q);
	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	blocked = asio_get(&q);
	blocked->op = ASIO_READ;
	blocked->fd = pipefd[0];
	blocked->len = 2;
	asio_submit(blocked);
	if (getenv("UCW_ASIO_ENGINE") && !strcmp(getenv("UCW_ASIO_ENGINE"), "sync")) {
		/* The synchronous path for the whole process: no engine, no thread. */
		CHECK(!pc_engine_mapped(), "UCW_ASIO_ENGINE=sync, yet the engine is mapped after the first asio call");
		CHECK(pc_threads() == 1, "UCW_ASIO_ENGINE=sync, yet the asio calls started threads");
		return;
	}
	CHECK(pc_engine_mapped(), "the engine is not mapped after the first asio call");
	CHECK(pc_threads() > 1, "the engine has no threads");
}

static void stop_engine(void)
{
	struct asio_request *r;
	CHECK(write(pipefd[1], "ok", 2) == 2, "write: %s", strerror(errno));
	r = asio_wait(&q);
	CHECK(r == blocked && r->status == 2 && !memcmp(r->buffer, "ok", 2), "the blocked read did not complete");
	asio_put(r);
	asio_cleanup_queue(&q);
}
#endif

static const int waited[] = { SIGTERM, SIGUSR1, SIGHUP };
static int waited_count[3];
static int waited_total;

static void *waiter(void *arg)
{
	sigset_t *set = arg;
	int sig, i;
	while (__atomic_load_n(&waited_total, __ATOMIC_SEQ_CST) < 60) {
		CHECK(sigwait(set, &sig) == 0, "sigwait failed");
		for (i = 0; i < 3; i++)
			if (sig == waited[i])
				__atomic_add_fetch(&waited_count[i], 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&waited_total, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

int main(void)
{
	struct sigaction sa, now;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	sigset_t set;
	pthread_t t;
	int i;

	main_tid = (pid_t)syscall(SYS_gettid);
	pc_report("");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGINT, &sa, NULL) == 0, "sigaction(SIGINT): %s", strerror(errno));
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction(SIGALRM): %s", strerror(errno));
#ifdef USE_ASIO
	start_engine();		/* after the program's handlers: the runtime must leave them alone */
#endif

	raise(SIGINT);
	CHECK(sigint_count == 1, "raise(SIGINT): the handler ran %d times", sigint_count);
	for (i = 2; i <= 21; i++) {
		kill(getpid(), SIGINT);
		PC_WAIT_FOR(sigint_count, i, "SIGINT handler runs after kill(getpid())");
	}
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer: %s", strerror(errno));
	PC_WAIT_FOR(sigalrm_count, 5, "SIGALRM handler runs (interval timer)");
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(!wrong_sig, "the handler got %d unexpected signals", wrong_sig);
	CHECK(!foreign_thread, "%d signals sent to the process ran the handler in a thread the program never made",
	      foreign_thread);
	CHECK(sigaction(SIGINT, NULL, &now) == 0 && now.sa_handler == on_signal, "the SIGINT handler was replaced");
	CHECK(sigaction(SIGALRM, NULL, &now) == 0 && now.sa_handler == on_signal, "the SIGALRM handler was replaced");

	/* The sigwait() daemon. */
	sigemptyset(&set);
	for (i = 0; i < 3; i++)
		sigaddset(&set, waited[i]);
	CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, "pthread_sigmask failed");
	CHECK(pthread_create(&t, NULL, waiter, &set) == 0, "pthread_create failed");
	for (i = 0; i < 60; i++) {
		kill(getpid(), waited[i % 3]);
		PC_WAIT_FOR(waited_total, i + 1, "signals taken by sigwait()");
	}
	pthread_join(t, NULL);
	for (i = 0; i < 3; i++)
		CHECK(waited_count[i] == 20, "sigwait() got signal %d %d times, expected 20", waited[i], waited_count[i]);
#ifdef USE_ASIO
	stop_engine();
#endif
	printf("signals: ok\n");
	return 0;
}
