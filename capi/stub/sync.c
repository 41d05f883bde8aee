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
 *	- A queue is for one thread at a time: a call that overlaps another
 *	  call on the same queue is reported in one line naming both (enter()).
 *	- asio_init_queue over a live queue of this process releases it if it
 *	  is idle and refuses it if it has requests out, as the engine does.
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

/* A queue's own object. Never freed: a slot whose queue was cleaned up goes
 * on a free list (pub NULL) for the next asio_init_queue, so that the handle
 * in a stale or copied struct always points at readable memory. */
struct sync_queue {
	struct asio_queue *pub;		/* the struct it serves (back pointer); NULL when free */
	const char *busy;		/* the call running on it, or NULL (see enter()) */
	struct sync_queue *free_next;	/* on the free list */
	unsigned generation;
	unsigned allocated, running, running_wb;	/* the truth behind the public counters */
	struct sync_request *idle;	/* recycled requests, a stack */
	struct fifo pending;		/* submitted, not executed yet, oldest first */
	struct fifo collected;		/* executed reads and writes, for asio_wait */
};

/*
 * The registry, also of what a parent made before the fork (the generation
 * tells). A process may use several threads, one per queue.
 * - A queue is found from its struct in O(1): private_handle points at its
 *   sync_queue, private_reserved[0] holds the handle mixed with QUEUE_CHECK
 *   (garbage that has our magic is still not taken for a queue), and the
 *   sync_queue points back at the struct (a byte copy of a queue's struct,
 *   or one whose queue was cleaned up, is not the queue).
 * - A request is found by its address, which is the start of its mapping,
 *   in a hash set of the live requests (open addressing, linear probing),
 *   without reading the caller's pointer: a pointer that is not ours is
 *   read only through peek(), once, to tell the engine's requests apart.
 * registry_lock guards the set and the free list; the lookups of a request
 * take it for a few probes.
 */
#define QUEUE_CHECK	0x5a17c0de9e3779b9ULL
#define TOMBSTONE	((struct sync_request *)1)

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sync_queue *free_queues;
static struct sync_request **req_slots;	/* NULL, TOMBSTONE or a live request */
static size_t req_cap, req_used, req_live;	/* slots; live + tombstones; live */
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

/* "1 request", "N requests" into buf. */
static const char *count_requests(char *buf, size_t size, unsigned n)
{
	snprintf(buf, size, "%u request%s", n, n == 1 ? "" : "s");
	return buf;
}

/*** Calls that overlap (a queue is for one thread at a time) ***/

/*
 * Every call on a queue, or on one of its requests, marks the queue busy
 * with its name for its duration: one atomic exchange at entry (which also
 * returns the name of a call still inside), one release store at exit. A
 * call that finds another inside is the caller's mistake, told in one line
 * naming both. A queue handed from thread to thread one call at a time is
 * never flagged: the hand-off orders the store of one call before the
 * exchange of the next.
 */
static void enter(struct sync_queue *q, const char *fn)
{
	const char *other = __atomic_exchange_n(&q->busy, fn, __ATOMIC_ACQUIRE);
	if (other)
		die("%s: queue %p is in use by another thread (in %s): a queue is for one thread at a time", fn,
		    (void *)q->pub, other);
}

static void leave(struct sync_queue *q)
{
	__atomic_store_n(&q->busy, (const char *)NULL, __ATOMIC_RELEASE);
}


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

/* The sync_queue of pub if pub is a queue of this implementation, live, in
 * this process or a parent (see q->generation); else NULL. */
static struct sync_queue *live_queue(struct asio_queue *pub)
{
	struct sync_queue *q = pub->queue.private_handle;
	if (pub->queue.private_magic != SYNC_QUEUE_MAGIC ||
	    (uintptr_t)pub->queue.private_reserved[0] != ((uintptr_t)q ^ (uintptr_t)QUEUE_CHECK) || !q)
		return NULL;
	return __atomic_load_n(&q->pub, __ATOMIC_ACQUIRE) == pub ? q : NULL;
}

static void not_initialised(const char *fn, struct asio_queue *pub) __attribute__((noreturn));
static void not_initialised(const char *fn, struct asio_queue *pub)
{
	die("%s: queue %p is not initialised (asio_init_queue was not called on it, or asio_cleanup_queue was)",
	    fn, (void *)pub);
}

/* The queue of pub, entered (see enter()) by the call fn. */
static struct sync_queue *queue_of(const char *fn, struct asio_queue *pub)
{
	struct sync_queue *q;
	if (!pub)
		die("%s: NULL queue", fn);
	if (pub->queue.private_magic == ENGINE_QUEUE_MAGIC)
		die("%s: queue %p " MADE_BEFORE_FORK, fn, (void *)pub);
	q = live_queue(pub);
	if (!q)
		not_initialised(fn, pub);
	if (q->generation != generation)
		die("%s: queue %p " MADE_BEFORE_FORK, fn, (void *)pub);
	enter(q, fn);
	if (q->pub != pub) {		/* cleaned up by another thread since */
		leave(q);
		not_initialised(fn, pub);
	}
	return q;
}

static size_t req_index(const struct sync_request *r, size_t cap)
{
	uint64_t x = (uint64_t)(uintptr_t)r >> 12;	/* requests are page-aligned */
	x *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(x ^ (x >> 32)) & (cap - 1);
}

/* The slot of r in the set, or of the NULL that ends its probe sequence. */
static struct sync_request **req_find(const struct sync_request *r)
{
	size_t i = req_index(r, req_cap);
	while (req_slots[i] && req_slots[i] != r)
		i = (i + 1) & (req_cap - 1);
	return &req_slots[i];
}

/* Adds r to the set (registry_lock held); 0 if memory ran out. */
static int req_add(struct sync_request *r)
{
	if ((req_used + 1) * 2 > req_cap) {
		/* Grow (or only drop the tombstones): at most a quarter full after. */
		size_t cap = 64, i, old_cap = req_cap;
		struct sync_request **old = req_slots;
		while (cap < (req_live + 1) * 4)
			cap *= 2;
		req_slots = calloc(cap, sizeof(*req_slots));
		if (!req_slots) {
			req_slots = old;
			return 0;
		}
		req_cap = cap;
		req_used = req_live;
		for (i = 0; i < old_cap; i++)
			if (old[i] && old[i] != TOMBSTONE)
				*req_find(old[i]) = old[i];
		free(old);
	}
	*req_find(r) = r;
	req_used++;
	req_live++;
	return 1;
}

/* Removes r from the set (registry_lock held). */
static void req_remove(struct sync_request *r)
{
	struct sync_request **slot = req_find(r);
	if (*slot == r) {
		*slot = TOMBSTONE;
		req_live--;
	}
}

/* The request at pub, entered (see enter()) by the call fn. */
static struct sync_request *request_of(const char *fn, struct asio_request *pub)
{
	struct sync_request *r = (struct sync_request *)pub, *found = NULL;
	uint64_t magic;
	if (!pub)
		die("%s: NULL request", fn);
	pthread_mutex_lock(&registry_lock);
	if (req_cap && !((uintptr_t)pub & (PAGE - 1)))
		found = *req_find(r);
	pthread_mutex_unlock(&registry_lock);
	if (found == r) {
		if (r->generation != generation)
			die("%s: request %p " MADE_BEFORE_FORK " and requests", fn, (void *)pub);
		enter(r->q, fn);
		return r;
	}
	if (peek(pub, &magic) && magic == ENGINE_REQUEST_MAGIC)
		die("%s: request %p " MADE_BEFORE_FORK " and requests", fn, (void *)pub);
	die("%s: %p is not a request returned by asio_get (or its queue was cleaned up)", fn, (void *)pub);
}

/* For a test harness whose ucwasio_die returns (with longjmp) instead of
 * ending the process (see sync.h). The library never calls it. */
void ucwasio_sync_revive(struct asio_queue *pub, struct asio_request *rpub)
{
	struct sync_request *r = (struct sync_request *)rpub, *found = NULL;
	struct sync_queue *q = NULL;
	if (rpub) {
		pthread_mutex_lock(&registry_lock);
		if (req_cap && !((uintptr_t)rpub & (PAGE - 1)))
			found = *req_find(r);
		pthread_mutex_unlock(&registry_lock);
		if (found == r)
			q = r->q;
	} else if (pub) {
		q = live_queue(pub);
	}
	if (q)
		leave(q);
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

/* Executes the oldest pending request; the caller (fn) has one running. */
static struct sync_request *run_next(struct sync_queue *q, const char *fn)
{
	struct sync_request *r = fifo_pop(&q->pending);
	if (!r)
		die("ucw-asio: internal error in %s: queue %p has a request running but none pending; "
		    "please report it with the program that shows it", fn, (void *)q->pub);
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

/* Frees what the idle queue q (entered) holds and unties it from its
 * struct: the requests' mappings, its registry entries, its slot. */
static void release(struct sync_queue *q)
{
	struct asio_queue *pub = q->pub;
	struct sync_request *r;
	pthread_mutex_lock(&registry_lock);
	for (r = q->idle; r; r = r->next)
		req_remove(r);
	pthread_mutex_unlock(&registry_lock);
	while ((r = q->idle)) {
		q->idle = r->next;
		munmap(r, r->map_len);
	}
	pub->queue.private_magic = 0;
	pub->queue.private_handle = NULL;
	pub->queue.private_reserved[0] = NULL;
	__atomic_store_n(&q->pub, (struct asio_queue *)NULL, __ATOMIC_RELEASE);
	leave(q);
	pthread_mutex_lock(&registry_lock);
	q->free_next = free_queues;
	free_queues = q;
	pthread_mutex_unlock(&registry_lock);
}

void ucwasio_sync_init_queue(struct asio_queue *pub)
{
	const char *fn = "asio_init_queue";
	struct sync_queue *q;
	char n[32];
	if (!pub)
		die("%s: NULL queue", fn);
	if (!pub->buffer_size)
		die("%s: buffer_size is 0: set it to the size of the requests' buffers before asio_init_queue", fn);
	/* Over a live queue of this process: released if idle. Anything else
	 * that looks like a queue (a copy, a parent's) is garbage. */
	q = live_queue(pub);
	if (q && q->generation == generation) {
		enter(q, fn);
		if (q->pub == pub) {
			if (q->allocated)
				die("%s: queue %p still has %s: call asio_cleanup_queue first", fn, (void *)pub,
				    count_requests(n, sizeof(n), q->allocated));
			release(q);
		} else {
			leave(q);
		}
	}
	pthread_mutex_lock(&registry_lock);
	q = free_queues;
	if (q)
		free_queues = q->free_next;
	pthread_mutex_unlock(&registry_lock);
	if (q)
		memset(q, 0, sizeof(*q));
	else if (!(q = calloc(1, sizeof(*q))))
		die("%s: cannot allocate a queue: %s", fn, strerror(ENOMEM));
	q->generation = generation;
	__atomic_store_n(&q->pub, pub, __ATOMIC_RELEASE);
	publish(q);
	pub->use_count = 0;
	pub->queue.private_magic = SYNC_QUEUE_MAGIC;
	pub->queue.private_handle = q;
	pub->queue.private_reserved[0] = (void *)((uintptr_t)q ^ (uintptr_t)QUEUE_CHECK);
}

void ucwasio_sync_cleanup_queue(struct asio_queue *pub)
{
	const char *fn = "asio_cleanup_queue";
	struct sync_queue *q = queue_of(fn, pub);
	char n[32];
	if (q->running)
		die("%s: queue %p still has %s running (wait for them with asio_sync)", fn, (void *)pub,
		    count_requests(n, sizeof(n), q->running));
	if (q->allocated)
		die("%s: queue %p still has %s allocated (return them with asio_put)", fn, (void *)pub,
		    count_requests(n, sizeof(n), q->allocated));
	/* Nothing allocated or running: every request of q is on its idle list. */
	release(q);
}

static struct sync_request *new_request(struct sync_queue *q)
{
	size_t size = q->pub->buffer_size, map_len;
	uint64_t magic = SYNC_REQUEST_MAGIC;
	struct sync_request *r;
	int added;
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
	added = req_add(r);
	pthread_mutex_unlock(&registry_lock);
	if (!added) {
		munmap(m, map_len);
		die("asio_get: cannot allocate a request with a buffer of %zu bytes: %s", size, strerror(ENOMEM));
	}
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
	leave(q);
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
			die("%s: write-back of %u bytes is larger than the request's buffer of %zu bytes", fn, pub->len,
			    r->size);
		while (q->running_wb >= q->pub->max_writebacks)
			collect(q, run_next(q, fn));
		q->running_wb++;
		break;
	case ASIO_FREE:
		die("%s: request %p has op ASIO_FREE: set op to ASIO_READ, ASIO_WRITE or ASIO_WRITE_BACK", fn,
		    (void *)pub);
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
	leave(q);
}

struct asio_request *ucwasio_sync_wait(struct asio_queue *pub)
{
	const char *fn = "asio_wait";
	struct sync_queue *q = queue_of(fn, pub);
	for (;;) {
		struct sync_request *r = fifo_pop(&q->collected);
		if (r) {
			r->state = ALLOCATED;
			r->pub.submitted = 0;
			leave(q);
			return &r->pub;
		}
		if (!q->running) {
			leave(q);
			return NULL;
		}
		collect(q, run_next(q, fn));
	}
}

void ucwasio_sync_put(struct asio_request *pub)
{
	const char *fn = "asio_put";
	struct sync_request *r = request_of(fn, pub);
	struct sync_queue *q = r->q;
	if (r->state == IDLE)
		die("%s: request %p is not allocated (put twice?)", fn, (void *)pub);
	if (r->state == SUBMITTED)
		die("%s: request %p is still submitted: collect it with asio_wait first", fn, (void *)pub);
	recycle(q, r);
	publish(q);
	leave(q);
}

void ucwasio_sync_sync(struct asio_queue *pub)
{
	const char *fn = "asio_sync";
	struct sync_queue *q = queue_of(fn, pub);
	while (q->running)
		collect(q, run_next(q, fn));
	leave(q);
}
