/*
 *	ucw-asio benchmarks: helpers shared by the driver and the bench programs.
 */

#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

double cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die_errno("getrusage");
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static void vreport(const char *fmt, va_list args, int err)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, args);
	if (err)
		fprintf(stderr, "bench: %s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "bench: %s\n", msg);
}

void die(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vreport(fmt, args, 0);
	va_end(args);
	exit(1);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list args;
	va_start(args, fmt);
	vreport(fmt, args, err);
	va_end(args);
	exit(1);
}

void unavailable(const char *fmt, ...)
{
	char msg[1024];
	va_list args;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	fprintf(stderr, "bench: %s\n", msg);
	printf("UNAVAILABLE %s\n", msg);
	exit(EXIT_UNAVAILABLE);
}

/* splitmix64 of the word index: any word of a file can be computed alone. */
uint64_t pattern_word(uint64_t seed, uint64_t off)
{
	uint64_t z = seed + (off / 8 + 1) * 0x9E3779B97F4A7C15ULL;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

unsigned char pattern_byte(uint64_t seed, uint64_t off)
{
	return (unsigned char)(pattern_word(seed, off & ~(uint64_t)7) >> (8 * (off & 7)));
}

void fill_pattern(unsigned char *buf, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = pattern_word(seed, off + i);
		memcpy(buf + i, &w, 8);
	}
}

void verify_read(const unsigned char *data, ssize_t got, size_t want, uint64_t off,
		 uint64_t seed, const char *who)
{
	if (got != (ssize_t)want)
		die("%s: read of %zu bytes at offset %llu returned %zd: the benchmark is wrong or the library is",
		    who, want, (unsigned long long)off, got);
	if (want >= 8 && off % 8 == 0 && want % 8 == 0) {
		uint64_t first, last;
		memcpy(&first, data, 8);
		memcpy(&last, data + want - 8, 8);
		if (first != pattern_word(seed, off) || last != pattern_word(seed, off + want - 8))
			die("%s: the %zu bytes read at offset %llu are not the file's bytes there",
			    who, want, (unsigned long long)off);
		return;
	}
	for (size_t i = 0; i < want; i++)
		if (data[i] != pattern_byte(seed, off + i))
			die("%s: byte %llu read as 0x%02x, the file has 0x%02x",
			    who, (unsigned long long)(off + i), data[i], pattern_byte(seed, off + i));
}

void *alloc_aligned(size_t len)
{
	void *p;
	int err = posix_memalign(&p, BLOCK, len ? len : BLOCK);
	if (err) {
		errno = err;
		die_errno("posix_memalign of %zu bytes", len);
	}
	memset(p, 0, len);
	return p;
}

int open_or_die(const char *name, int flags, int direct)
{
	int fd = open(name, flags | (direct ? O_DIRECT : 0), 0644);
	if (fd < 0)
		die_errno("open %s%s", name, direct ? " with O_DIRECT" : "");
	return fd;
}

void read_full(int fd, void *buf, size_t len, const char *what)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_errno("read %s", what);
		if (n == 0)
			die("read %s: unexpected end of file after %zu of %zu bytes", what, done, len);
		done += n;
	}
}

void write_full(int fd, const void *buf, size_t len, const char *what)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die_errno("write %s", what);
		done += n;
	}
}

long long parse_size(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		die("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end)
		die("bad size '%s'", s);
	return v;
}
