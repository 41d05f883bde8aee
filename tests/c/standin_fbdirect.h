/*
 * A miniature of libucw's fb-direct fastbuf back-end, for the LD_PRELOAD
 * tests: a shared library that calls asio from inside itself, through its
 * PLT, with libucw 6.x's names (ucw_asio_*).
 */

#ifndef STANDIN_FBDIRECT_H
#define STANDIN_FBDIRECT_H

#include <ucw/asio.h>
#include <stddef.h>
#include <stdint.h>

struct fbd;

/* Reading fd through q: one read of q->buffer_size always in flight ahead. */
struct fbd *fbd_open_read(int fd, struct asio_queue *q);
/* The next block: *data points to it until the next call; returns its
 * length, 0 at the end of the file, -1 on an error (errno set). */
int fbd_read(struct fbd *f, const unsigned char **data);
void fbd_close_read(struct fbd *f);

/* Writing fd (opened with O_DIRECT) through q with ASIO_WRITE_BACK. */
struct fbd *fbd_open_write(int fd, struct asio_queue *q);
void fbd_write(struct fbd *f, const void *data, size_t len);
/* Writes the tail rounded up to 4096 bytes, waits for every write-back and
 * cuts the file to the bytes written; returns their number, -1 on an error. */
long long fbd_close_write(struct fbd *f);

/* The file of the object that defines ucw_asio_init_queue, as this library's
 * own references resolve it (with the same lookup as its PLT calls). */
const char *fbd_asio_provider(void);

#endif
