/*
 * t_signals: a signal handler installed without SA_RESTART never breaks a
 * request or a wait.
 *
 * SIGALRM has a handler (SA_ONSTACK, no SA_RESTART) and fires every 1 ms
 * (setitimer); a helper thread also sends SIGALRM to every thread of the
 * process every 2 ms, so the library's own threads get it too while they sit
 * in read(2)/write(2). Meanwhile:
 *  - files: 3 rounds of 4 MiB written with ASIO_WRITE_BACK and ASIO_WRITE
 *    (64 KiB each), drained, read back with read-ahead and verified;
 *  - a slow pipe: another thread writes 128 KiB in 100-byte pieces with
 *    pauses; the main thread reads it through ASIO_READ, blocking in
 *    asio_wait or in asio_sync, and verifies every byte.
 * No request may end with status -1 (EINTR or anything else), all data must
 * be right, and the handler must have run (counter > 0).
 */

#include "testlib.h"
#include <sys/syscall.h>
#include <sys/time.h>

#define BS 65536
#define FILE_SIZE (4 << 20)
#define PIPE_TOTAL (128 << 10)
#define PIECE 100

static volatile sig_atomic_t stop_spreader;
static long handled;

static void on_alarm(int sig)
{
	(void)sig;
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
}

/* Sends SIGALRM to every other thread of the process every 2 ms. */
static void *spreader(void *arg)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	sigset_t set;
	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!stop_spreader) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *e;
		if (d) {
			while ((e = readdir(d))) {
				pid_t tid = (pid_t)atoi(e->d_name);
				if (tid > 0 && tid != self)
					syscall(SYS_tgkill, getpid(), tid, SIGALRM);
			}
			closedir(d);
		}
		tl_sleep_ms(2);
	}
	return NULL;
}

/* The slow pipe writer. */
static void *pipe_writer(void *arg)
{
	int fd = *(int *)arg;
	unsigned char piece[PIECE];
	int off;
	for (off = 0; off < PIPE_TOTAL; off += PIECE) {
		int n = PIPE_TOTAL - off < PIECE ? PIPE_TOTAL - off : PIECE;
		tl_fill(piece, (size_t)n, 81, (uint64_t)off);
		tl_write_all(fd, piece, (size_t)n);
		if (off % (50 * PIECE) == 0)
			tl_sleep_ms(10);	/* asio_wait blocks through several signals */
		else {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);	/* EINTR just ends the pause early */
		}
	}
	close(fd);
	return NULL;
}

static struct asio_queue q;

static void check_ok(struct asio_request *r, int expected, const char *what)
{
	CHECK(r != NULL, "%s: asio_wait returned NULL", what);
	CHECK(r->status == expected && r->returned_errno == 0,
	      "%s: expected status %d errno 0, got status %d errno %d (%s)",
	      what, expected, r->status, r->returned_errno, strerror(r->returned_errno));
}

static void file_round(int fd, uint64_t seed)
{
	struct asio_request *r, *ahead;
	int i, nwrites = 0;
	long off = 0;

	lseek(fd, 0, SEEK_SET);
	for (i = 0; i < FILE_SIZE / BS; i++) {
		r = tl_req(&q, (i & 1) ? ASIO_WRITE : ASIO_WRITE_BACK, fd, BS);
		tl_fill(r->buffer, BS, seed, (uint64_t)i * BS);
		asio_submit(r);
		nwrites += i & 1;
	}
	asio_sync(&q);
	CHECK_EQ("running_requests after asio_sync", 0, q.running_requests);
	for (i = 0; i < nwrites; i++) {
		r = asio_wait(&q);
		check_ok(r, BS, "ASIO_WRITE");
		asio_put(r);
	}
	CHECK_COUNTERS(&q, 0, 0, 0);

	lseek(fd, 0, SEEK_SET);
	ahead = tl_req(&q, ASIO_READ, fd, BS);
	asio_submit(ahead);
	for (;;) {
		r = asio_wait(&q);
		CHECK_PTR("asio_wait", ahead, r);
		check_ok(r, off < FILE_SIZE ? BS : 0, "file read");
		if (!r->status) {
			asio_put(r);
			break;
		}
		ahead = tl_req(&q, ASIO_READ, fd, BS);
		asio_submit(ahead);
		CHECK_FILL("file data", r->buffer, BS, seed, (uint64_t)off);
		off += BS;
		asio_put(r);
	}
	CHECK_EQ("bytes read back", FILE_SIZE, off);
	CHECK_COUNTERS(&q, 0, 0, 0);
}

int main(void)
{
	pthread_t spread, writer;
	struct asio_request *r;
	int fd = tl_tmpfile("data", O_RDWR), p[2], n;
	size_t got = 0;

	tl_watchdog(25, "t_signals");
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));

	tl_alarm_every(1000, on_alarm);
	CHECK(!pthread_create(&spread, NULL, spreader, NULL), "pthread_create failed");

	tl_init_queue(&q, BS, 2);
	file_round(fd, 82);

	/* The slow pipe, read while the writer trickles. */
	CHECK(!pthread_create(&writer, NULL, pipe_writer, &p[1]), "pthread_create failed");
	for (n = 0; got < PIPE_TOTAL; n++) {
		r = tl_req(&q, ASIO_READ, p[0], 4096);
		asio_submit(r);
		if (n % 4 == 0) {
			asio_sync(&q);
			CHECK_EQ("running_requests after asio_sync", 0, q.running_requests);
		}
		CHECK_PTR("asio_wait", r, asio_wait(&q));
		CHECK(r->status > 0 && r->returned_errno == 0,
		      "pipe read after %zu bytes: status %d errno %d (%s)", got, r->status, r->returned_errno,
		      strerror(r->returned_errno));
		CHECK_FILL("pipe data", r->buffer, (size_t)r->status, 81, got);
		got += (size_t)r->status;
		asio_put(r);
	}
	CHECK_EQ("bytes through the pipe", PIPE_TOTAL, got);
	pthread_join(writer, NULL);
	r = tl_req(&q, ASIO_READ, p[0], 4096);
	asio_submit(r);
	CHECK_PTR("asio_wait", r, asio_wait(&q));
	check_ok(r, 0, "pipe read at EOF");
	asio_put(r);

	file_round(fd, 83);
	file_round(fd, 84);

	tl_alarm_stop();
	stop_spreader = 1;
	pthread_join(spread, NULL);
	CHECK_COUNTERS(&q, 0, 0, 0);
	asio_cleanup_queue(&q);
	printf("SIGALRM handled %ld times; %d pipe reads\n", __atomic_load_n(&handled, __ATOMIC_RELAXED), n);
	CHECK(__atomic_load_n(&handled, __ATOMIC_RELAXED) > 0, "the SIGALRM handler never ran");
	close(p[0]);
	close(fd);
	return 0;
}
