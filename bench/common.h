/*
 *	ucw-asio benchmarks: what the driver and every bench program share.
 *
 *	Every file the suite reads is made of a pattern that is a function of the
 *	byte offset (pattern_word), so each read can be checked where it lands,
 *	and a copy word by word.
 */

#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BLOCK 4096

/* Monotonic wall clock, in seconds. */
double now(void);
/* CPU time of the whole process (all threads, user + system), in seconds. */
double cpu_seconds(void);

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* die() with ": strerror(errno)" appended. */
void die_errno(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The exit status of a bench program whose system cannot run here (the driver shows "–"). */
#define EXIT_UNAVAILABLE 77
/*
 * The system cannot run here (e.g. the kernel or RLIMIT_MEMLOCK refuses what
 * it needs): says why in one line on stderr, and as "UNAVAILABLE why" on
 * stdout for the driver, then exits with EXIT_UNAVAILABLE.
 */
void unavailable(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The 8-byte word stored at byte offset off (a multiple of 8) of a file made with seed. */
uint64_t pattern_word(uint64_t seed, uint64_t off);
/* The byte at any offset of such a file (little-endian words). */
unsigned char pattern_byte(uint64_t seed, uint64_t off);
/* Fills buf (len a multiple of 8) with the pattern from offset off (a multiple of 8). */
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed, uint64_t off);

/*
 * Checks a finished read of want bytes at offset off of a pattern file: the
 * byte count, and the first and last words (every byte below 8 bytes). Dies
 * loudly, naming who, when anything differs.
 */
void verify_read(const unsigned char *data, ssize_t got, size_t want, uint64_t off,
		 uint64_t seed, const char *who);

/* A zero-filled, page-aligned allocation, usable for O_DIRECT. */
void *alloc_aligned(size_t len);
/* open(2) or die; with direct, O_DIRECT is added. */
int open_or_die(const char *name, int flags, int direct);
/* read(2)/write(2) of exactly len bytes (EINTR retried), or die. */
void read_full(int fd, void *buf, size_t len, const char *what);
void write_full(int fd, const void *buf, size_t len, const char *what);
/* Parses a size like 64M, 1G, 4096, 4k. */
long long parse_size(const char *s);

#endif
