/*
 *	crossing THREADS SECONDS [ptr]: K C threads (pthreads, not Go's) call an
 *	empty exported Go function in a loop; prints ns per call (wall time per
 *	call per thread) and CPU ns per call (all threads). With "ptr" the
 *	function takes and returns a pointer, as goasio_get and goasio_wait do.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

extern void cross_nop(void);
extern void *cross_ptr(void *);

static double seconds, deadline;
static int ptr;
static pthread_barrier_t ready;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static void *run(void *arg)
{
	long long *calls = arg, n = 0;
	void *p = &n;
	cross_nop();	/* binds this thread's M before the clock starts */
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&ready);
	do {
		for (int i = 0; i < 256; i++)
			if (ptr)
				p = cross_ptr(p);
			else
				cross_nop();
		n += 256;
	} while (now() < deadline);
	*calls = n;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: crossing THREADS SECONDS [ptr]\n");
		return 2;
	}
	int k = atoi(argv[1]);
	seconds = atof(argv[2]);
	ptr = argc > 3 && !strcmp(argv[3], "ptr");
	pthread_t t[64];
	long long calls[64], total = 0;
	pthread_barrier_init(&ready, NULL, k + 1);
	for (int i = 0; i < k; i++)
		pthread_create(&t[i], NULL, run, &calls[i]);
	pthread_barrier_wait(&ready);
	double c0 = cpu(), t0 = now();
	deadline = t0 + seconds;
	pthread_barrier_wait(&ready);
	for (int i = 0; i < k; i++) {
		pthread_join(t[i], NULL);
		total += calls[i];
	}
	double t1 = now(), c1 = cpu();
	printf("threads=%d calls=%lld ns_per_call=%.1f cpu_ns_per_call=%.1f calls_per_s=%.3g\n", k, total,
	       (t1 - t0) * 1e9 * k / total, (c1 - c0) * 1e9 / total, total / (t1 - t0));
	return 0;
}
