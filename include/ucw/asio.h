/*
 *	UCW Library -- Asynchronous I/O (ucw-asio: a drop-in reimplementation)
 *
 *	This header is self-contained: it needs nothing from libucw. The layout of
 *	every structure below is the layout of libucw 6.5 on x86-64, so programs
 *	compiled against libucw's <ucw/asio.h> run on this library unchanged.
 *
 *	This software may be freely distributed and used according to the terms
 *	of the GNU Lesser General Public License.
 */

#ifndef _UCW_ASIO_H
#define _UCW_ASIO_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * This module schedules and executes asynchronous I/O requests, typically on
 * files opened with O_DIRECT. libucw's fb-direct fastbuf back-end is built on
 * it, but you can use it directly, too.
 *
 * You create one or more queues, each used by one thread at a time. Requests of
 * one queue are executed in the order of their submits, with read(2) and
 * write(2) at the descriptor's current file position. Requests of different
 * queues run in parallel, and a request that blocks (a read from an empty pipe)
 * never delays another queue.
 *
 * Normal read and write requests come back through asio_wait() when they are
 * done. Write-back requests are recycled automatically when done; the number of
 * them in flight is limited by max_writebacks, so submitting a write-back can
 * block.
 *
 * Misuse (submitting a free request, submitting twice, putting a running
 * request, cleaning up a busy queue, ...) prints one line on stderr naming the
 * function and the mistake and ends the process with exit status 1 (abort()
 * instead when UCW_DIE_BY_ABORT is set in the environment).
 *
 * With UCW_ASIO_ENGINE=sync in the environment at the first call, the whole
 * process runs on the library's synchronous implementation: the engine is
 * never loaded and no thread is ever started; each request runs in the
 * calling thread, when a later call needs its result (asio_wait, asio_sync,
 * a write-back submit at the limit), so queues do not run in parallel and a
 * blocked request blocks its caller. Same results, same messages. Any other
 * value, or none, keeps the engine.
 */

/*** Basic types, as libucw defines them ***/

#if !defined(_UCW_CONFIG_H) && !defined(UCW_ASIO_HAVE_BASIC_TYPES)
#define UCW_ASIO_HAVE_BASIC_TYPES
typedef uint8_t byte;		/* Exactly 8 bits, unsigned */
#if !defined(__USE_MISC)
typedef unsigned int uint;	/* glibc's <sys/types.h> defines it in its default mode */
#endif
#endif

/*** Circular lists (ucw/clists.h), used only inside the library ***/

#ifndef _UCW_CLISTS_H
typedef struct cnode {
	struct cnode *next, *prev;
} cnode;

typedef struct clist {
	cnode head;
} clist;
#endif

/*** Work nodes and work queues (ucw/workqueue.h) ***/

/*
 * Only their size and alignment are part of the ABI: the caller never touches
 * their contents, which belong to the library.
 */
#ifndef _UCW_WORKQUEUE_H
struct worker_thread;
struct work_queue;

struct work {
	cnode n;
	uint priority;
	struct work_queue *reply_to;
	void (*go)(struct worker_thread *t, struct work *w);
};

struct work_queue {
	uint64_t private_magic;		/* Marks an initialised queue */
	void *private_handle;		/* The library's own queue object */
	void *private_reserved[10];
};
#endif

/*** Queues ***/

struct asio_queue {
	uint buffer_size;		/* How large buffers do we use [user-settable] */
	uint max_writebacks;		/* Maximum number of write-back requests in flight [user-settable] */
	uint allocated_requests;	/* Requests given out by asio_get() and not yet recycled */
	uint running_requests;		/* Submitted requests not yet collected (write-backs included) */
	uint running_writebacks;	/* How many of the running requests are write-backs */
	clist idle_list;		/* Private */
	clist done_list;		/* Private */
	struct work_queue queue;	/* Private */
	uint use_count;			/* For use by the caller */
};

enum asio_op {
	ASIO_FREE,			/* A request that has not been given an operation yet */
	ASIO_READ,			/* read(2) into the buffer */
	ASIO_WRITE,			/* write(2) from the buffer */
	ASIO_WRITE_BACK			/* Background write with no success notification */
};

struct asio_request {
	struct work work;		/* Private */
	struct asio_queue *queue;	/* The queue the request belongs to */
	byte *buffer;			/* Page-aligned, buffer_size bytes; may be pointed elsewhere */
	int fd;				/* Descriptor to read from or write to */
	enum asio_op op;		/* What to do */
	uint len;			/* How many bytes to transfer */
	int status;			/* Result of the read(2)/write(2): bytes, 0 at EOF, -1 on error */
	int returned_errno;		/* errno after the call (0 on success) */
	int submitted;			/* Non-zero between asio_submit() and asio_wait() */
	void *user_data;		/* For use by the caller */
};

/*** Functions ***/

/*
 * Initialise a new queue. Set buffer_size (non-zero) and max_writebacks first;
 * everything else may be garbage. Resets the counters and use_count to 0.
 */
void asio_init_queue(struct asio_queue *q);

/*
 * Free the queue and every recycled request and buffer. Every request must have
 * been returned with asio_put() (or, for write-backs, recycled) before: cleanup
 * of a queue with requests allocated, running or unread is an error.
 */
void asio_cleanup_queue(struct asio_queue *q);

/*
 * Get an empty request: recycled if possible, else new, with a page-aligned
 * buffer of buffer_size bytes. Sets op = ASIO_FREE, fd = -1, len = 0,
 * status = returned_errno = -1, submitted = 0, queue = q and buffer to the
 * request's own buffer; keeps user_data. allocated_requests++.
 * Never returns NULL: when no buffer can be allocated, it ends the process
 * with one line on stderr, like any misuse.
 */
struct asio_request *asio_get(struct asio_queue *q);

/*
 * Submit a request: set op, fd and len first (and fill the buffer to write).
 * Does not wait for the I/O, except that a write-back submit blocks while
 * max_writebacks write-backs are in flight, collecting finished requests on the
 * way. running_requests++ (and running_writebacks++ for a write-back).
 * A len larger than the request's own buffer completes with status -1 and
 * returned_errno EINVAL (a write-back with such a len is an error).
 * On a descriptor opened with O_DIRECT, len and the file position must be
 * multiples of the file's logical block size (usually 512 or 4096 bytes), as
 * for read(2) and write(2): the request's own buffer is page-aligned, the rest
 * is the caller's (otherwise the request fails with EINVAL, a write-back ends
 * the process).
 */
void asio_submit(struct asio_request *r);

/*
 * Return the oldest finished ASIO_READ or ASIO_WRITE request, waiting for it if
 * needed; NULL when nothing is running and nothing is finished. Finished
 * write-backs met on the way are recycled. Sets submitted = 0 and lowers
 * running_requests by one for the request returned. A signal never ends the
 * wait early.
 */
struct asio_request *asio_wait(struct asio_queue *q);

/*
 * Return a finished (or never submitted) request for recycling.
 * allocated_requests--.
 */
void asio_put(struct asio_request *r);

/*
 * Wait until every submitted request has finished (running_requests == 0).
 * Finished reads and writes stay for asio_wait(); write-backs are recycled.
 * A failed write-back ends the process here, as anywhere it is collected
 * (the original's message, exit status 1). Nothing of its queue starts after
 * the failure, and the file is left as one write at a time leaves it: every
 * write-back before the failed one done, none after it.
 */
void asio_sync(struct asio_queue *q);

/*
 * The same functions under the names that libucw 6.x exports
 * (CONFIG_UCW_CLEAN_ABI). Both sets are exported by the library.
 */
void ucw_asio_init_queue(struct asio_queue *q);
void ucw_asio_cleanup_queue(struct asio_queue *q);
struct asio_request *ucw_asio_get(struct asio_queue *q);
void ucw_asio_submit(struct asio_request *r);
struct asio_request *ucw_asio_wait(struct asio_queue *q);
void ucw_asio_put(struct asio_request *r);
void ucw_asio_sync(struct asio_queue *q);

#ifdef __cplusplus
}
#endif

#endif /* !_UCW_ASIO_H */
