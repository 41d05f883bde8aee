/*
 *	ucw-asio -- the engine's ring descriptors, closed in forked children
 *
 *	A child forked without exec inherits every descriptor. One that keeps a
 *	queue's io_uring descriptor keeps the ring alive: the parent, shutting
 *	the ring to collect its requests from another thread, would then wait
 *	for the child's end, and the child would see a descriptor it never
 *	opened. The engine records its rings' descriptors here (engine.RingFds),
 *	and the fork handler closes them in the child.
 */

#ifndef UCWASIO_RINGS_H
#define UCWASIO_RINGS_H

#pragma GCC visibility push(hidden)

void ucwasio_rings_lock(void);
void ucwasio_rings_unlock(void);
void ucwasio_rings_add(int fd);
void ucwasio_rings_close(int fd);
void ucwasio_rings_forget(int fd);

#pragma GCC visibility pop

#endif
