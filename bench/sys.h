/*
 *	ucw-asio benchmarks: what each I/O system under test provides.
 *
 *	One bench program is built per system (bench-ucw, bench-plain,
 *	bench-uring, bench-aio) from main.c, common.c and one sys_*.c, so a peer
 *	never has the Go runtime of ucw-asio loaded beside it.
 */

#ifndef BENCH_SYS_H
#define BENCH_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The system's name in messages. */
extern const char sys_name[];

/* One request at a time, one reader per thread (created and used in that thread). */
struct reader;
struct reader *reader_open(size_t bufsize);
/*
 * Reads len bytes at offset off of fd (the descriptor's position is off, too:
 * systems that read at the current position use it) and checks them with
 * verify_read(..., seed, ...) before the buffer is recycled.
 */
void reader_read(struct reader *rd, int fd, uint64_t off, size_t len, uint64_t seed);
void reader_close(struct reader *rd);

/* A request (of its own queue, ring or thread) that blocks reading 1 byte from fd. */
struct blocker;
struct blocker *blocker_start(int fd);
/* After a byte was written into the pipe: collects the request; dies unless it read 1 byte. */
void blocker_finish(struct blocker *b);

/*
 * Copies size bytes (a multiple of bufsize) from in to out, both O_DIRECT and
 * at position 0: bufsize-byte buffers, one read ahead, at most writebacks
 * writes in flight.
 */
void sys_stream(int in, int out, uint64_t size, size_t bufsize, unsigned writebacks);

/* Writes size bytes to out from position 0 in bs-byte writes, inflight of them in flight. */
void sys_writeback(int out, uint64_t size, size_t bs, unsigned inflight);

#endif
