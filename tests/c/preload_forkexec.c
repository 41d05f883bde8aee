/*
 * preload_forkexec: a program that forks and execs, which never asked for
 * ucw-asio (t_preload.sh runs it with LD_PRELOAD=libucw-asio.so, which the
 * programs it starts inherit).
 *
 *  - fork + exec of itself ("child" argument): the child, with the library
 *    loaded again, writes a line into a pipe and exits 7;
 *  - fork + exec of sh -c 'echo from-sh; exit 3' (output through a pipe);
 *  - a forked child that does not exec, computes and exits 5 (_exit);
 *  - posix_spawn of /bin/true, system("exit 4"), popen("echo popen").
 * Prints "libucw-asio mapped: yes|no", "engine mapped: yes|no", "threads at
 * start: N" (and the same lines of the re-executed child, prefixed with
 * "child: "), then "forkexec: ok".
 */

#include "preload_common.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs argv in a forked and exec'd child with stdout into a pipe; returns the
 * exit status, and the output in out. */
static int run(char *const argv[], char *out, size_t size)
{
	int p[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (got < size - 1 && (n = read(p[0], out + got, size - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		CHECK(n > 0, "read: %s", strerror(errno));
		got += (size_t)n;
	}
	out[got] = 0;
	close(p[0]);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status), "%s did not exit normally (status 0x%x)", argv[0], status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	char out[4096];
	char *self[] = { (char *)"/proc/self/exe", (char *)"child", NULL };
	char *sh[] = { (char *)"sh", (char *)"-c", (char *)"echo from-sh; exit 3", NULL };
	char *tru[] = { (char *)"/bin/true", NULL };
	int status, code, i;
	long sum = 0;
	pid_t pid;
	FILE *f;

	if (argc > 1 && !strcmp(argv[1], "child")) {
		pc_report("child: ");
		return 7;
	}
	pc_report("");
	fflush(stdout);

	code = run(self, out, sizeof(out));
	CHECK(code == 7, "the re-executed child exited with %d, expected 7", code);
	CHECK(strstr(out, "child: libucw-asio mapped: "), "the re-executed child wrote: %s", out);
	printf("%s", out);

	code = run(sh, out, sizeof(out));
	CHECK(code == 3 && !strcmp(out, "from-sh\n"), "sh -c: exit %d, output \"%s\"", code, out);

	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		for (i = 1; i <= 1000; i++)
			sum += i;
		_exit(sum == 500500 ? 5 : 6);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5,
	      "the forked child without exec: status 0x%x, expected exit 5", status);

	CHECK(posix_spawn(&pid, "/bin/true", NULL, NULL, tru, environ) == 0, "posix_spawn failed");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "posix_spawn(/bin/true): status 0x%x", status);

	status = system("exit 4");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4, "system(\"exit 4\"): status 0x%x", status);

	f = popen("echo popen", "r");
	CHECK(f, "popen: %s", strerror(errno));
	CHECK(fgets(out, sizeof(out), f) && !strcmp(out, "popen\n"), "popen read \"%s\"", out);
	CHECK(pclose(f) == 0, "pclose: non-zero status");
	printf("forkexec: ok\n");
	return 0;
}
