/*
 * t_writeback_fail: a failed or short write-back ends the process (in a
 * child, re-executed from /proc/self/exe).
 *
 *  - a write-back to an O_RDONLY descriptor: stderr has "Asynchronous write
 *    to fd N failed: Bad file descriptor", exit status 1 (not a signal);
 *    the process ends where the failure is reaped, in the caller's thread:
 *    it is still alive 200 ms after the submit, and dies in asio_sync, in
 *    asio_wait, or in a write-back submit that hits the limit;
 *  - a short write-back (RLIMIT_FSIZE 1000, SIGXFSZ ignored, 4096 bytes):
 *    "wrote only 1000 bytes out of 4096", exit status 1;
 *  - a write-back with len > buffer_size: exit status 1 with a message;
 *  - with UCW_DIE_BY_ABORT=1: killed by SIGABRT, message still printed;
 *  - the process ends with exit(1) like libucw's die(): atexit handlers run.
 */

#include "testlib.h"

#define BADFD 100
#define SHORTFD 101

static struct asio_queue q;

static void submit_wb(int fd, uint len)
{
	struct asio_request *r = tl_req(&q, ASIO_WRITE_BACK, fd, len);
	memset(r->buffer, 'w', q.buffer_size);
	asio_submit(r);
}

static void rdonly_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);
	CHECK(fd >= 0 && dup2(fd, BADFD) == BADFD, "open/dup2: %s", strerror(errno));
	close(fd);
}

static void alive(void)
{
	tl_sleep_ms(200);		/* the write has surely failed by now */
	fprintf(stderr, "still alive\n");
	fflush(stderr);
}

static void at_exit_marker(void)
{
	fprintf(stderr, "atexit handler ran\n");
}

static int child(const char *name)
{
	tl_no_core();
	tl_init_queue(&q, 4096, 2);
	if (!strcmp(name, "rdonly_sync")) {
		rdonly_fd();
		submit_wb(BADFD, 4096);
		alive();
		asio_sync(&q);
	} else if (!strcmp(name, "rdonly_atexit")) {
		atexit(at_exit_marker);
		rdonly_fd();
		submit_wb(BADFD, 4096);
		alive();
		asio_sync(&q);
	} else if (!strcmp(name, "rdonly_wait")) {
		rdonly_fd();
		submit_wb(BADFD, 4096);
		alive();
		asio_wait(&q);
	} else if (!strcmp(name, "rdonly_submit")) {
		int null = open("/dev/null", O_WRONLY);
		rdonly_fd();
		q.max_writebacks = 1;
		submit_wb(BADFD, 4096);
		alive();
		submit_wb(null, 4096);		/* the limit is reached: reaps the failed one */
	} else if (!strcmp(name, "short")) {
		struct rlimit rl = { 1000, 1000 };
		int fd = tl_tmpfile("short", O_RDWR);
		CHECK(dup2(fd, SHORTFD) == SHORTFD, "dup2: %s", strerror(errno));
		signal(SIGXFSZ, SIG_IGN);
		CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit: %s", strerror(errno));
		submit_wb(SHORTFD, 4096);
		alive();
		asio_sync(&q);
	} else if (!strcmp(name, "toolong")) {
		int null = open("/dev/null", O_WRONLY);
		submit_wb(null, 4096 + 512);
		asio_sync(&q);
	} else {
		fprintf(stderr, "unknown scenario %s\n", name);
		return 2;
	}
	fprintf(stderr, "survived\n");
	return 0;
}

static void expect(const char *scenario, const char *const *env, int want_abort, const char *msg)
{
	struct tl_child c;
	const char *alive_at, *msg_at;
	tl_run_child(scenario, env, 5000, &c);
	if (want_abort)
		CHECK(c.signaled && c.sig == SIGABRT, "%s: expected the child to be killed by SIGABRT, it %s; stderr: %s",
		      scenario, tl_child_how(&c), c.err);
	else
		CHECK(c.exited && c.code == 1, "%s: expected exit status 1, the child %s; stderr: %s",
		      scenario, tl_child_how(&c), c.err);
	CHECK(!strstr(c.err, "survived"), "%s: the process went on after the failure; stderr: %s", scenario, c.err);
	if (!msg)
		return;
	msg_at = strstr(c.err, msg);
	CHECK(msg_at, "%s: stderr does not contain \"%s\"; stderr: %s", scenario, msg, c.err);
	alive_at = strstr(c.err, "still alive");
	CHECK(alive_at && alive_at < msg_at,
	      "%s: the process did not end at the reaping point (\"still alive\" should come before the message); stderr: %s",
	      scenario, c.err);
}

int main(int argc, char **argv)
{
	static const char *const abort_env[] = { "UCW_DIE_BY_ABORT=1", NULL };
	struct tl_child c;
	char msg[128];

	if (argc > 1)
		return child(argv[1]);

	snprintf(msg, sizeof(msg), "Asynchronous write to fd %d failed: Bad file descriptor", BADFD);
	expect("rdonly_sync", NULL, 0, msg);
	expect("rdonly_wait", NULL, 0, msg);
	expect("rdonly_submit", NULL, 0, msg);
	expect("rdonly_sync", abort_env, 1, msg);

	/* Like libucw's die(): exit(1), so atexit handlers run (after the message). */
	tl_run_child("rdonly_atexit", NULL, 5000, &c);
	CHECK(c.exited && c.code == 1, "rdonly_atexit: expected exit status 1, the child %s; stderr: %s", tl_child_how(&c), c.err);
	CHECK(strstr(c.err, msg) && strstr(c.err, "atexit handler ran") && strstr(c.err, "atexit handler ran") > strstr(c.err, msg),
	      "rdonly_atexit: expected the message, then the atexit handler's output (exit(1), not _exit(1)); stderr: %s", c.err);

	snprintf(msg, sizeof(msg), "Asynchronous write to fd %d wrote only 1000 bytes out of 4096", SHORTFD);
	tl_run_child("short", NULL, 5000, &c);
	CHECK(c.exited && c.code == 1, "short: expected exit status 1, the child %s; stderr: %s", tl_child_how(&c), c.err);
	CHECK(strstr(c.err, "wrote only") && strstr(c.err, "bytes out of"),
	      "short: stderr does not contain \"wrote only\" and \"bytes out of\"; stderr: %s", c.err);
	CHECK(strstr(c.err, msg), "short: stderr does not contain \"%s\"; stderr: %s", msg, c.err);
	CHECK(strstr(c.err, "still alive") && strstr(c.err, "still alive") < strstr(c.err, msg),
	      "short: the process did not end at the reaping point; stderr: %s", c.err);

	tl_run_child("toolong", NULL, 5000, &c);
	CHECK(c.exited && c.code == 1, "toolong: expected exit status 1, the child %s; stderr: %s", tl_child_how(&c), c.err);
	CHECK(!strstr(c.err, "survived"), "toolong: the process went on; stderr: %s", c.err);
	CHECK(c.errlen > 0, "toolong: the process ended without a message");
	return 0;
}
