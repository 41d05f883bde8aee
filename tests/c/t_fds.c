/*
 * t_fds: the library leaves no descriptor in the process.
 *
 * The descriptors before the first asio call are recorded; while two queues
 * live and have done reads, writes and write-backs (O_DIRECT ones where the
 * filesystem allows, which may take an io_uring), the process has only
 * those, the test's own files and at most one io_uring descriptor per queue
 * (readlink: anon_inode:[io_uring]); after both queues are cleaned up and
 * the test's files closed, exactly the descriptors of the start. (The Go
 * runtime's cgroup files and network poller would show here.)
 *
 * UCW_ASIO_NO_URING: the same run in children with it unset, "" and "0"
 * must take the same number of io_uring descriptors (the ring stays on),
 * with "1" and "yes" none. (Where the first takes none -- no io_uring, or
 * no O_DIRECT -- that part is skipped, saying so.)
 */

#include "testlib.h"

#define MAXFD 1024

struct fdset {
	char what[MAXFD][128];
	int open[MAXFD];
};

static void snapshot(struct fdset *s)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300];
	CHECK(d, "/proc/self/fd: %s", strerror(errno));
	memset(s, 0, sizeof(*s));
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		ssize_t n;
		if (e->d_name[0] == '.' || fd == dirfd(d) || fd >= MAXFD)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, s->what[fd], sizeof(s->what[fd]) - 1);
		s->what[fd][n > 0 ? n : 0] = 0;
		s->open[fd] = 1;
	}
	closedir(d);
}

/* Descriptors of now that start did not have, but for the test's own
 * (mine) and io_uring ones (counted in *rings); fails on the first. */
static void compare(const char *when, const struct fdset *start, const struct fdset *now, const int *mine, int *rings)
{
	int fd;
	if (rings)
		*rings = 0;
	for (fd = 0; fd < MAXFD; fd++) {
		if (start->open[fd] && !now->open[fd])
			tl_fail(__FILE__, __LINE__, "%s: descriptor %d (%s) was closed", when, fd, start->what[fd]);
		if (!now->open[fd] || (start->open[fd] && !strcmp(start->what[fd], now->what[fd])) ||
		    (mine && mine[fd]))
			continue;
		if (rings && !strcmp(now->what[fd], "anon_inode:[io_uring]")) {
			++*rings;
			continue;
		}
		tl_fail(__FILE__, __LINE__, "%s: descriptor %d (%s) is the library's", when, fd, now->what[fd]);
	}
}

static void traffic(struct asio_queue *q, int fd, int direct)
{
	struct asio_request *r;
	int i;
	CHECK_EQ("lseek", 0, lseek(fd, 0, SEEK_SET));
	for (i = 0; i < 8; i++) {
		r = tl_req(q, i % 2 ? ASIO_WRITE_BACK : ASIO_WRITE, fd, 4096);
		memset(r->buffer, 'a' + i, 4096);
		asio_submit(r);
		if (!(i % 2)) {
			r = asio_wait(q);
			CHECK_DONE(r, 4096, 0);
			asio_put(r);
		}
	}
	asio_sync(q);
	CHECK_EQ("lseek", 0, lseek(fd, 0, SEEK_SET));
	for (i = 0; i < 8; i++)
		asio_submit(tl_req(q, ASIO_READ, fd, 4096));
	for (i = 0; i < 8; i++) {
		r = asio_wait(q);
		CHECK_DONE(r, 4096, 0);
		asio_put(r);
	}
	(void)direct;
}

static struct fdset start, now;

/* Runs this program as a child with UCW_ASIO_NO_URING as given (NULL:
 * unset) and returns the io_uring descriptors it counted. */
static int rings_with(const char *value)
{
	static char var[64];
	const char *env[2] = { var, NULL };
	struct tl_child c;
	char *line;
	int n = -1;
	if (value)
		snprintf(var, sizeof(var), "UCW_ASIO_NO_URING=%s", value);
	else
		unsetenv("UCW_ASIO_NO_URING");
	tl_run_child("child", value ? env : NULL, 30000, &c);
	CHECK(c.exited && c.code == 0, "UCW_ASIO_NO_URING=%s: the child %s; stderr:\n%s", value ? value : "(unset)",
	      tl_child_how(&c), c.err);
	line = strstr(c.err, "rings: ");
	CHECK(line && sscanf(line, "rings: %d", &n) == 1, "no count from the child: %s", c.err);
	return n;
}

int main(int argc, char **argv)
{
	struct asio_queue q1, q2;
	int mine[MAXFD] = { 0 }, f1, f2, p[2], rings;
	struct asio_request *r;

	(void)argv; /* argv[1] "child": a run for rings_with */
	tl_tmpdir();
	snapshot(&start);	/* before the first asio call */

	f1 = tl_tmpfile("cached", O_RDWR | O_CREAT | O_TRUNC);
	{
		char path[PATH_MAX + 256];
		tl_tmppath("direct", path, sizeof(path));
		f2 = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	}
	if (f2 < 0)
		f2 = tl_tmpfile("direct", O_RDWR | O_CREAT | O_TRUNC);
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	mine[f1] = mine[f2] = mine[p[0]] = mine[p[1]] = 1;

	tl_init_queue(&q1, 4096, 2);
	tl_init_queue(&q2, 4096, 2);
	traffic(&q1, f1, 0);
	traffic(&q2, f2, 1);
	/* A read that waits in the background for the pipe. */
	asio_submit(tl_req(&q1, ASIO_READ, p[0], 5));
	tl_sleep_ms(20);
	CHECK_EQ("write to the pipe", 5, write(p[1], "hello", 5));
	r = asio_wait(&q1);
	CHECK_DONE(r, 5, 0);
	asio_put(r);

	snapshot(&now);
	compare("while two queues live", &start, &now, mine, &rings);
	CHECK(rings <= 2, "%d io_uring descriptors for 2 queues", rings);
	if (argc > 1)
		fprintf(stderr, "rings: %d\n", rings);
	printf("while two queues live: %d io_uring descriptor(s), nothing else of the library\n", rings);

	asio_cleanup_queue(&q1);
	asio_cleanup_queue(&q2);
	close(f1);
	close(f2);
	close(p[0]);
	close(p[1]);
	snapshot(&now);
	compare("after cleanup", &start, &now, NULL, NULL);
	printf("after cleanup: exactly the descriptors of the start\n");
	if (argc > 1)
		return 0;

	rings = rings_with(NULL);
	if (!rings) {
		printf("no io_uring descriptor here (no io_uring or no O_DIRECT): UCW_ASIO_NO_URING not checked\n");
		return 0;
	}
	CHECK_EQ("io_uring descriptors with UCW_ASIO_NO_URING=\"\" (the ring stays on)", rings, rings_with(""));
	CHECK_EQ("io_uring descriptors with UCW_ASIO_NO_URING=0 (the ring stays on)", rings, rings_with("0"));
	CHECK_EQ("io_uring descriptors with UCW_ASIO_NO_URING=1", 0, rings_with("1"));
	CHECK_EQ("io_uring descriptors with UCW_ASIO_NO_URING=yes", 0, rings_with("yes"));
	printf("UCW_ASIO_NO_URING unset, \"\" or 0: %d ring(s); 1 or yes: none\n", rings);
	return 0;
}
