/*
 * Helpers of the programs that never asked for ucw-asio (preload_*.c): they
 * neither include <ucw/asio.h> nor link the library; t_preload.sh runs them
 * with LD_PRELOAD=libucw-asio.so. They never call asio, so the engine
 * (libucw-asio-go.so.1, loaded on first use) must stay out of them: they
 * print "engine mapped: no" and "threads at start: 1".
 */

#ifndef PRELOAD_COMMON_H
#define PRELOAD_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			exit(1); \
		} \
	} while (0)

/* Is a file whose name contains `name` mapped into this process? */
static inline int pc_mapped(const char *name)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f, "/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name))
			found = 1;
	fclose(f);
	return found;
}

/* Is libucw-asio mapped into this process? */
static inline int pc_preloaded(void)
{
	return pc_mapped("libucw-asio.so");
}

/* Is the engine, libucw-asio-go.so.1, mapped into this process? */
static inline int pc_engine_mapped(void)
{
	return pc_mapped("libucw-asio-go.so");
}

/* The number of threads of this process. */
static inline int pc_threads(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f, "/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Threads:", 8))
			n = atoi(line + 8);
	fclose(f);
	return n;
}

/* The lines t_preload.sh checks, printed at the start of main(). */
static inline void pc_report(const char *prefix)
{
	printf("%slibucw-asio mapped: %s\n", prefix, pc_preloaded() ? "yes" : "no");
	printf("%sengine mapped: %s\n", prefix, pc_engine_mapped() ? "yes" : "no");
	printf("%sthreads at start: %d\n", prefix, pc_threads());
}

static inline double pc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void pc_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits (up to 10 s, a hang bound) until *counter >= n. */
#define PC_WAIT_FOR(counter, n, what) \
	do { \
		double pc_end_ = pc_now() + 10; \
		while (__atomic_load_n(&(counter), __ATOMIC_SEQ_CST) < (n) && pc_now() < pc_end_) \
			pc_sleep_ms(1); \
		CHECK(__atomic_load_n(&(counter), __ATOMIC_SEQ_CST) >= (n), "%s: expected %d, got %d after 10 s", \
		      (what), (int)(n), (int)__atomic_load_n(&(counter), __ATOMIC_SEQ_CST)); \
	} while (0)

#endif
