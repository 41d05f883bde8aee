/*
 *	ucw-asio -- the engine's ring descriptors, closed in forked children
 *	(see rings.h)
 */

#include "rings.h"

#include <pthread.h>
#include <unistd.h>

/* Each queue holds at most one ring, and the engine at most 64 at once. */
#define MAX_RINGS 128

/* Under lock: the rings' descriptors plus one; 0 is a free slot. The lock is
 * held across a fork (prepare to parent/child), so that no descriptor is
 * half added or half closed in the child. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fds[MAX_RINGS];

void ucwasio_rings_lock(void)
{
	pthread_mutex_lock(&lock);
}

void ucwasio_rings_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void ucwasio_rings_add(int fd)
{
	int i;
	for (i = 0; i < MAX_RINGS; i++)
		if (!fds[i]) {
			fds[i] = fd + 1;
			return;
		}
	/* More rings than the engine makes: this one stays open in a child. */
}

static void drop(int fd)
{
	int i;
	for (i = 0; i < MAX_RINGS; i++)
		if (fds[i] == fd + 1) {
			fds[i] = 0;
			return;
		}
}

void ucwasio_rings_close(int fd)
{
	pthread_mutex_lock(&lock);
	drop(fd);
	close(fd);
	pthread_mutex_unlock(&lock);
}

void ucwasio_rings_forget(int fd)
{
	pthread_mutex_lock(&lock);
	drop(fd);
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	int i;
	for (i = 0; i < MAX_RINGS; i++)
		if (fds[i]) {
			close(fds[i] - 1);
			fds[i] = 0;
		}
	pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void register_fork_handlers(void)
{
	pthread_atfork(ucwasio_rings_lock, ucwasio_rings_unlock, fork_child);
}
