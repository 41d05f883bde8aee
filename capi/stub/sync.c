/*
 *	ucw-asio -- the synchronous C implementation, used in forked children
 *	and when the engine cannot be loaded
 *
 *	Two kinds of process cannot run the Go engine. A child forked without
 *	exec from a process that had loaded it: a Go runtime does not survive
 *	fork(), the child has only the forking thread, and anything that needs
 *	the runtime's scheduler hangs. Yet a UCW daemon forks to go to the
 *	background and only then creates its queues and opens its files, and
 *	libucw serves such a child. And a process where the engine library
 *	cannot be loaded (asio.c says why, once, on stderr). Their calls come
 *	here (see asio.c): a small implementation of the same contract that does
 *	everything in the caller's thread.
 *
 *	- Execution is deferred, as in the engine when no worker has started a
 *	  request: asio_submit only queues the request (except a write-back
 *	  submit at the limit, which executes and collects the oldest requests
 *	  until the queue is below it); asio_wait and asio_sync execute pending
 *	  requests, in submit order, when they need results. So a submit never
 *	  waits for I/O: a process may submit a read from a pipe and then write
 *	  to that pipe itself.
 *	- Counters, messages for misuse and failed write-backs, EINTR retried,
 *	  EPIPE instead of SIGPIPE, EINVAL for a len larger than the buffer: as
 *	  the engine does them (engine/queue.go, engine/engine.go).
 *	- Queues and requests made before a fork belong to the parent (to its
 *	  engine, which cannot run here, or to its own copy of this
 *	  implementation): a child that touches one gets one line on stderr and
 *	  exit status 1, never a hang. The engine marks its queues and requests
 *	  with magic numbers (engine/layout.go); this implementation's have their
 *	  own, and a registry with the fork generation of each, so that a copy of
 *	  a struct is never taken for the real one and a foreign pointer is never
 *	  dereferenced beyond its first 8 bytes (and those only through the
 *	  kernel, see peek()).
 */

#define _GNU_SOURCE
#include "sync.h"
#include "die.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The engine's marks (engine/layout.go): "ucwasioQ" in queue.private_magic,
 * "ucwasioR" in the first 8 bytes of a request's work. */
#define ENGINE_QUEUE_MAGIC	0x7563776173696f51ULL
#define ENGINE_REQUEST_MAGIC	0x7563776173696f52ULL
/* This implementation's: "ucwchldQ", "ucwchldR" (first made for children). */
#define SYNC_QUEUE_MAGIC	0x75637763686c6451ULL
#define SYNC_REQUEST_MAGIC	0x75637763686c6452ULL

#define PAGE 4096		/* x86-64; the buffer only needs to be 4096-aligned */

enum state { IDLE, ALLOCATED, SUBMITTED };

struct sync_queue;

/* A request lives at the start of its own mapping; its buffer is the rest,
 * from the second page on (page-aligned, usable with O_DIRECT). */
struct sync_request {
	struct asio_request pub;	/* what the caller sees (work holds the magic) */
	struct sync_queue *q;
	struct sync_request *next;	/* in the queue's idle, pending or collected list */
	struct sync_request *all_next;	/* in the registry */
	unsigned generation;		/* the process's generation when it was made */
	enum state state;		/* the caller's view */
	byte *own;			/* the request's own buffer */
	size_t size, map_len;
	enum asio_op op;		/* what asio_submit was asked to do */
	int fd;
	byte *buf;
	size_t len;
	ssize_t status;			/* the result */
	int err;
};

_Static_assert(sizeof(struct sync_request) <= PAGE, "a request must fit in its first page");

/* A FIFO through sync_request.next. */
struct fifo {
	struct sync_request *head, *tail;
};

struct sync_queue {
	struct asio_queue *pub;
	struct sync_queue *all_next;	/* in the registry */
	unsigned generation;
	unsigned allocated, running, running_wb;	/* the truth behind the public counters */
	struct sync_request *idle;	/* recycled requests, a stack */
	struct fifo pending;		/* submitted, not executed yet, oldest first */
	struct fifo collected;		/* executed reads and writes, for asio_wait */
};

/* The registry of the queues and requests made with this implementation,
 * also those a parent made before the fork (their generation tells); a
 * process may use several threads, one per queue. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sync_queue *all_queues;
static struct sync_request *all_requests;
/* Forks since the library was loaded: 1 in a child, 2 in a grandchild, ... */
static unsigned generation;

/*** Fork handlers ***/

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&registry_lock);
}

static void fork_child(void)
{
	generation++;
	pthread_mutex_unlock(&registry_lock);
}

__attribute__((constructor)) static void register_fork_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Misuse and failed write-backs end the process as on the engine's route (die.h). */
#define die ucwasio_die

#define MADE_BEFORE_FORK "was created before fork(): a forked child must create its own queues"

/*** Finding the queue or request behind the caller's pointer ***/

/* Reads the 8 bytes at p, which may be any address, without faulting: the
 * kernel copies them into a pipe and answers EFAULT if they are not readable. */
static int peek(const void *p, uint64_t *out)
{
	int fds[2], ok;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return 0;
	ok = write(fds[1], p, 8) == 8 && read(fds[0], out, 8) == 8;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

static struct sync_queue *queue_of(const char *fn, struct asio_queue *pub)
{
	struct sync_queue *q;
	if (!pub)
		die("%s: NULL queue", fn);
	if (pub->queue.private_magic == ENGINE_QUEUE_MAGIC)
		die("%s: queue %p " MADE_BEFORE_FORK, fn, (void *)pub);
	if (pub->queue.private_magic == SYNC_QUEUE_MAGIC) {
		pthread_mutex_lock(&registry_lock);
		for (q = all_queues; q && q != pub->queue.private_handle; q = q->all_next)
			;
		pthread_mutex_unlock(&registry_lock);
		if (q && q->pub == pub) {
			if (q->generation != generation)
				die("%s: queue %p " MADE_BEFORE_FORK, fn, (void *)pub);
			return q;
		}
	}
	die("%s: queue %p is not initialised (asio_init_queue was not called on it, or asio_cleanup_queue was)",
	    fn, (void *)pub);
}

static struct sync_request *request_of(const char *fn, struct asio_request *pub)
{
	struct sync_request *r;
	uint64_t magic;
	if (!pub)
		die("%s: NULL request", fn);
	pthread_mutex_lock(&registry_lock);
	for (r = all_requests; r && &r->pub != pub; r = r->all_next)
		;
	pthread_mutex_unlock(&registry_lock);
	if (r && r->generation == generation)
		return r;
	if (r || (peek(pub, &magic) && magic == ENGINE_REQUEST_MAGIC))
		die("%s: request %p " MADE_BEFORE_FORK " and requests", fn, (void *)pub);
	die("%s: %p is not a request returned by asio_get (or its queue was cleaned up)", fn, (void *)pub);
}

/*** Lists and counters ***/

static void fifo_push(struct fifo *f, struct sync_request *r)
{
	r->next = NULL;
	if (f->tail)
		f->tail->next = r;
	else
		f->head = r;
	f->tail = r;
}

static struct sync_request *fifo_pop(struct fifo *f)
{
	struct sync_request *r = f->head;
	if (r) {
		f->head = r->next;
		if (!f->head)
			f->tail = NULL;
	}
	return r;
}

static void recycle(struct sync_queue *q, struct sync_request *r)
{
	r->state = IDLE;
	r->next = q->idle;
	q->idle = r;
	q->allocated--;
}

/* Copies the counters to the caller's struct. */
static void publish(struct sync_queue *q)
{
	q->pub->allocated_requests = q->allocated;
	q->pub->running_requests = q->running;
	q->pub->running_writebacks = q->running_wb;
}

/*** Execution ***/

/* write(2) with SIGPIPE blocked, so that a broken pipe gives EPIPE instead of
 * killing the process, as in the engine; a SIGPIPE the write raised is
 * consumed, one that was pending before is left alone. */
static ssize_t write_no_sigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	ssize_t n;
	int err, was_pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, buf, len);
	err = errno;
	if (n < 0 && err == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

/* Performs the request's read(2) or write(2) at the current file position;
 * EINTR (a signal before anything was transferred) is retried. */
static void execute(struct sync_request *r)
{
	ssize_t n;
	int err = 0;
	if (r->buf == r->own && r->len > r->size) {
		n = -1;
		err = EINVAL;		/* would run past the request's buffer */
	} else if (!r->buf && r->len > 0) {
		n = -1;
		err = EFAULT;
	} else {
		for (;;) {
			n = r->op == ASIO_READ ? read(r->fd, r->buf, r->len) : write_no_sigpipe(r->fd, r->buf, r->len);
			if (n >= 0)
				break;
			if (errno != EINTR) {
				err = errno;
				break;
			}
		}
	}
	r->status = n;
	r->err = err;
	r->pub.status = (int)n;
	r->pub.returned_errno = err;
}

/* Executes the oldest pending request; the caller has one running. */
static struct sync_request *run_next(struct sync_queue *q)
{
	struct sync_request *r = fifo_pop(&q->pending);
	if (!r)
		die("ucw-asio: internal error: queue %p has a request running but none pending", (void *)q->pub);
	execute(r);
	return r;
}

/* Bookkeeping of an executed request: a write-back is checked and recycled
 * (there is no one to tell of its failure: the process ends), a read or
 * write waits for asio_wait. */
static void collect(struct sync_queue *q, struct sync_request *r)
{
	q->running--;
	if (r->op == ASIO_WRITE_BACK) {
		if (r->status != (ssize_t)r->len) {
			publish(q);
			if (r->status < 0)
				die("Asynchronous write to fd %d failed: %s", r->fd, strerror(r->err));
			die("Asynchronous write to fd %d wrote only %zd bytes out of %zu", r->fd, r->status, r->len);
		}
		q->running_wb--;
		recycle(q, r);
	} else {
		fifo_push(&q->collected, r);
	}
	publish(q);
}

/*** The API ***/

void ucwasio_sync_init_queue(struct asio_queue *pub)
{
	const char *fn = "asio_init_queue";
	struct sync_queue *q;
	if (!pub)
		die("%s: NULL queue", fn);
	if (!pub->buffer_size)
		die("%s: buffer_size is 0: set it to the size of the requests' buffers before asio_init_queue", fn);
	q = calloc(1, sizeof(*q));
	if (!q)
		die("%s: cannot allocate a queue: %s", fn, strerror(ENOMEM));
	q->pub = pub;
	q->generation = generation;
	pthread_mutex_lock(&registry_lock);
	q->all_next = all_queues;
	all_queues = q;
	pthread_mutex_unlock(&registry_lock);
	publish(q);
	pub->use_count = 0;
	pub->queue.private_magic = SYNC_QUEUE_MAGIC;
	pub->queue.private_handle = q;
}

void ucwasio_sync_cleanup_queue(struct asio_queue *pub)
{
	const char *fn = "asio_cleanup_queue";
	struct sync_queue *q = queue_of(fn, pub), **qp;
	struct sync_request *r, **rp;
	if (q->running)
		die("%s: queue %p still has %u request%s running (wait for them with asio_sync)", fn, (void *)pub,
		    q->running, q->running == 1 ? "" : "s");
	if (q->allocated)
		die("%s: queue %p still has %u request%s allocated (return them with asio_put)", fn, (void *)pub,
		    q->allocated, q->allocated == 1 ? "" : "s");
	/* Nothing allocated or running: every request of q is on its idle list. */
	pthread_mutex_lock(&registry_lock);
	for (rp = &all_requests; *rp;)
		if ((*rp)->q == q)
			*rp = (*rp)->all_next;
		else
			rp = &(*rp)->all_next;
	for (qp = &all_queues; *qp != q; qp = &(*qp)->all_next)
		;
	*qp = q->all_next;
	pthread_mutex_unlock(&registry_lock);
	while ((r = q->idle)) {
		q->idle = r->next;
		munmap(r, r->map_len);
	}
	pub->queue.private_magic = 0;
	pub->queue.private_handle = NULL;
	free(q);
}

static struct sync_request *new_request(struct sync_queue *q)
{
	size_t size = q->pub->buffer_size, map_len;
	uint64_t magic = SYNC_REQUEST_MAGIC;
	struct sync_request *r;
	void *m;
	if (!size)
		die("asio_get: buffer_size is 0: requests need a buffer");
	map_len = PAGE + ((size + PAGE - 1) & ~(size_t)(PAGE - 1));
	m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("asio_get: cannot allocate a request with a buffer of %zu bytes: %s", size, strerror(errno));
	r = m;				/* zeroed by mmap: user_data is NULL */
	memcpy(&r->pub.work, &magic, sizeof(magic));
	r->q = q;
	r->generation = generation;
	r->own = (byte *)m + PAGE;
	r->size = size;
	r->map_len = map_len;
	pthread_mutex_lock(&registry_lock);
	r->all_next = all_requests;
	all_requests = r;
	pthread_mutex_unlock(&registry_lock);
	return r;
}

struct asio_request *ucwasio_sync_get(struct asio_queue *pub)
{
	struct sync_queue *q = queue_of("asio_get", pub);
	struct sync_request *r = q->idle;
	if (r)
		q->idle = r->next;
	else
		r = new_request(q);
	r->next = NULL;
	r->pub.queue = pub;
	r->pub.buffer = r->own;
	r->pub.fd = -1;
	r->pub.op = ASIO_FREE;
	r->pub.len = 0;
	r->pub.status = -1;
	r->pub.returned_errno = -1;
	r->pub.submitted = 0;
	r->state = ALLOCATED;
	q->allocated++;
	publish(q);
	return &r->pub;
}

void ucwasio_sync_submit(struct asio_request *pub)
{
	const char *fn = "asio_submit";
	struct sync_request *r = request_of(fn, pub);
	struct sync_queue *q = r->q;
	if (r->state == IDLE)
		die("%s: request %p is not allocated (it was returned with asio_put or recycled)", fn, (void *)pub);
	if (r->state == SUBMITTED)
		die("%s: request %p was already submitted (it is running or waiting for asio_wait)", fn, (void *)pub);
	switch (pub->op) {
	case ASIO_READ:
	case ASIO_WRITE:
		break;
	case ASIO_WRITE_BACK:
		if (!q->pub->max_writebacks)
			die("%s: write-back with max_writebacks == 0 would wait forever", fn);
		if (pub->buffer == r->own && pub->len > r->size)
			die("%s: write-back of %u bytes is larger than the request's buffer of %zu bytes", fn, pub->len, r->size);
		while (q->running_wb >= q->pub->max_writebacks)
			collect(q, run_next(q));
		q->running_wb++;
		break;
	case ASIO_FREE:
		die("%s: request %p has op ASIO_FREE: set op to ASIO_READ, ASIO_WRITE or ASIO_WRITE_BACK", fn, (void *)pub);
	default:
		die("%s: request %p has unknown op %d", fn, (void *)pub, (int)pub->op);
	}
	r->op = pub->op;
	r->fd = pub->fd;
	r->buf = pub->buffer;
	r->len = pub->len;
	r->state = SUBMITTED;
	pub->submitted = 1;
	q->running++;
	publish(q);
	fifo_push(&q->pending, r);
}

struct asio_request *ucwasio_sync_wait(struct asio_queue *pub)
{
	struct sync_queue *q = queue_of("asio_wait", pub);
	for (;;) {
		struct sync_request *r = fifo_pop(&q->collected);
		if (r) {
			r->state = ALLOCATED;
			r->pub.submitted = 0;
			return &r->pub;
		}
		if (!q->running)
			return NULL;
		collect(q, run_next(q));
	}
}

void ucwasio_sync_put(struct asio_request *pub)
{
	const char *fn = "asio_put";
	struct sync_request *r = request_of(fn, pub);
	if (r->state == IDLE)
		die("%s: request %p is not allocated (put twice?)", fn, (void *)pub);
	if (r->state == SUBMITTED)
		die("%s: request %p is still submitted: collect it with asio_wait first", fn, (void *)pub);
	recycle(r->q, r);
	publish(r->q);
}

void ucwasio_sync_sync(struct asio_queue *pub)
{
	struct sync_queue *q = queue_of("asio_sync", pub);
	while (q->running)
		collect(q, run_next(q));
}
