/*
 * t_stress: THREADS threads x QUEUES queues x random operations on files and
 * pipes for SECONDS seconds, every byte verified, the counters checked after
 * every call.
 *
 *   t_stress [THREADS QUEUES SECONDS [signals] [seed=N]]   (default 2 3 4)
 *
 * Each queue has its own file of BLOCKS blocks of buffer_size bytes (opened
 * with O_DIRECT on every other queue where the filesystem allows it) and its
 * own pipe, which the next queue of the same thread reads. Every block
 * written carries its offset, a version number, the queue's id and a
 * checksum of its payload; the payload is a pattern derived from all three.
 * The test knows the version each block must hold, so every read checks
 * status and content: a lost, stale, misplaced or corrupted block fails it.
 * Pipe data is one pattern stream per pipe, checked byte for byte.
 *
 * A thread repeatedly picks one of its queues and does one of: a burst of
 * ASIO_WRITE / ASIO_WRITE_BACK blocks at a random place, a burst of
 * read-ahead ASIO_READs, a pipe write (ASIO_WRITE or ASIO_WRITE_BACK), a
 * pipe read, asio_wait, asio_sync, a get/put without submit, a change of
 * max_writebacks. Results come back through asio_wait in submit order and
 * are checked against the queue's list of expected completions. After
 * every call the counters must be consistent:
 *   allocated_requests == requests held + reads/writes not yet returned by
 *                         asio_wait + running_writebacks,
 *   running_writebacks <= max_writebacks (as it was at the last write-back
 *   submit) and <= running_requests <= unreturned + running_writebacks,
 *   0 running after asio_sync, everything 0 when asio_wait returns NULL.
 * At the end every queue is drained, every file is read back with pread(2)
 * and compared block by block, every pipe is read to its end.
 *
 * With "signals", SIGALRM (a handler without SA_RESTART) arrives every
 * millisecond from a timer and every 2 ms at every thread of the process
 * (the library's own threads too): no request may fail and no byte differ.
 *
 * Prints the totals: requests, bytes written, bytes verified.
 */

#include "testlib.h"
#include <sys/syscall.h>
#include <sys/time.h>

#define BLOCKS 32
#define HDR 24
#define PIPE_LIMIT 32768	/* unread bytes in a pipe: writes never block */
#define FIFO_MAX 256

enum kind { K_FILE_WRITE, K_FILE_READ, K_PIPE_WRITE, K_PIPE_READ };

struct expect {
	struct asio_request *r;
	enum kind kind;
	int block;		/* file: block number */
	uint32_t version;	/* file read: the version the block must hold (0: never written) */
	int status;		/* file: the status it must have; pipe write: its length */
	uint64_t off;		/* pipe read: stream offset of its first byte */
};

struct pipe_state {
	int rfd, wfd;
	uint64_t seed;
	uint64_t submitted;	/* bytes in write requests submitted */
	uint64_t read;		/* bytes read by reads collected */
	int reading;		/* a read is in flight */
};

struct squeue {
	struct asio_queue q;
	int id;			/* unique in the process */
	uint bs;
	int fd, direct;
	char name[PATH_MAX + 64];
	uint32_t version[BLOCKS];
	long size;		/* file size after the requests submitted so far */
	struct pipe_state *out;	/* the pipe this queue writes */
	struct pipe_state *in;	/* the pipe this queue reads */
	struct expect fifo[FIFO_MAX];
	int head, count;	/* outstanding reads and writes, oldest first */
	int held;
	uint wb_limit;		/* max_writebacks at the last write-back submit */
};

struct totals {
	long requests, reads, writes, writebacks, waits, syncs;
	uint64_t written, verified_asio, verified_pipe, verified_final;
};

struct thread {
	int id, nq;
	uint64_t rng;
	struct squeue *qs;
	struct pipe_state *pipes;
	struct totals tot;
	pthread_t t;
};

static double deadline;
static int with_signals;
static long alarms;

static uint64_t rnd(struct thread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static uint64_t block_seed(int qid, int block, uint32_t version)
{
	return tl_mix64(((uint64_t)qid << 40) ^ ((uint64_t)block << 20) ^ version);
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static void fill_block(struct squeue *s, int block, uint32_t version, unsigned char *buf)
{
	uint64_t off = (uint64_t)block * s->bs, sum;
	uint32_t qid = (uint32_t)s->id;
	tl_fill(buf + HDR, s->bs - HDR, block_seed(s->id, block, version), 0);
	sum = fnv(buf + HDR, s->bs - HDR);
	memcpy(buf, &off, 8);
	memcpy(buf + 8, &version, 4);
	memcpy(buf + 12, &qid, 4);
	memcpy(buf + 16, &sum, 8);
}

/* Check one block's bytes: its header and payload, or zeros for version 0. */
static void check_block(struct squeue *s, int block, uint32_t version, const unsigned char *buf, const char *how)
{
	uint64_t off, sum;
	uint32_t v, qid;
	if (!version) {
		uint i;
		for (i = 0; i < s->bs; i++)
			CHECK(!buf[i], "%s: queue %d block %d was never written but byte %u is 0x%02x", how, s->id, block, i, buf[i]);
		return;
	}
	memcpy(&off, buf, 8);
	memcpy(&v, buf + 8, 4);
	memcpy(&qid, buf + 12, 4);
	memcpy(&sum, buf + 16, 8);
	CHECK(off == (uint64_t)block * s->bs && qid == (uint32_t)s->id,
	      "%s: queue %d block %d holds the header of queue %u offset %llu (misplaced data)", how, s->id, block, qid,
	      (unsigned long long)off);
	CHECK(v == version, "%s: queue %d block %d holds version %u, want %u (a write lost or stale data)", how, s->id, block,
	      v, version);
	CHECK(sum == fnv(buf + HDR, s->bs - HDR), "%s: queue %d block %d: the checksum does not match the payload", how,
	      s->id, block);
	CHECK_FILL(how, buf + HDR, s->bs - HDR, block_seed(s->id, block, version), 0);
}

/* The counters, against what the thread knows. */
static void check_counters(struct squeue *s, const char *after)
{
	struct asio_queue *q = &s->q;
	CHECK(q->running_writebacks <= s->wb_limit,
	      "after %s: queue %d: running_writebacks %u > max_writebacks %u (at the last write-back submit)", after,
	      s->id, q->running_writebacks, s->wb_limit);
	CHECK(q->allocated_requests == (uint)(s->held + s->count) + q->running_writebacks,
	      "after %s: queue %d: allocated_requests %u, want %d held + %d unreturned + %u write-backs", after, s->id,
	      q->allocated_requests, s->held, s->count, q->running_writebacks);
	CHECK(q->running_requests >= q->running_writebacks && q->running_requests <= (uint)s->count + q->running_writebacks,
	      "after %s: queue %d: running_requests %u outside [%u, %u]", after, s->id, q->running_requests,
	      q->running_writebacks, (uint)s->count + q->running_writebacks);
}

static struct asio_request *get(struct squeue *s)
{
	struct asio_request *r = asio_get(&s->q);
	CHECK(r != NULL, "asio_get returned NULL");
	CHECK(r->op == ASIO_FREE && r->fd == -1 && r->len == 0 && r->status == -1 && r->returned_errno == -1 &&
	      !r->submitted && r->queue == &s->q && ((uintptr_t)r->buffer & (TL_PAGE - 1)) == 0,
	      "asio_get: a request not reset (op %d fd %d len %u status %d errno %d submitted %d)", r->op, r->fd, r->len,
	      r->status, r->returned_errno, r->submitted);
	s->held++;
	check_counters(s, "asio_get");
	return r;
}

static void put(struct squeue *s, struct asio_request *r)
{
	asio_put(r);
	s->held--;
	check_counters(s, "asio_put");
}

static void submit(struct thread *t, struct squeue *s, struct asio_request *r, enum asio_op op, int fd, uint len,
		   struct expect *e)
{
	r->op = op;
	r->fd = fd;
	r->len = len;
	if (e) {
		CHECK(s->count < FIFO_MAX, "too many requests outstanding");
		e->r = r;
		s->fifo[(s->head + s->count) % FIFO_MAX] = *e;
		s->count++;
		r->user_data = &s->fifo[(s->head + s->count - 1) % FIFO_MAX];
	}
	s->held--;
	if (op == ASIO_WRITE_BACK)
		s->wb_limit = s->q.max_writebacks;
	asio_submit(r);
	CHECK(r->submitted || op == ASIO_WRITE_BACK, "asio_submit left submitted at 0");
	t->tot.requests++;
	if (op == ASIO_READ)
		t->tot.reads++;
	else if (op == ASIO_WRITE)
		t->tot.writes++;
	else
		t->tot.writebacks++;
	check_counters(s, op == ASIO_WRITE_BACK ? "asio_submit of a write-back" : "asio_submit");
}

/* asio_wait: the oldest outstanding read or write, checked. 0 if none. */
static int wait_one(struct thread *t, struct squeue *s)
{
	struct asio_request *r = asio_wait(&s->q);
	struct expect *e;
	t->tot.waits++;
	if (!s->count) {
		CHECK(r == NULL, "queue %d: asio_wait returned a request, but none is outstanding", s->id);
		CHECK_COUNTERS(&s->q, (uint)s->held, 0, 0);
		return 0;
	}
	e = &s->fifo[s->head];
	CHECK(r == e->r, "queue %d: asio_wait returned %p, want %p (the oldest outstanding, submit order)", s->id,
	      (void *)r, (void *)e->r);
	CHECK(r->user_data == e, "queue %d: user_data changed", s->id);
	CHECK(!r->submitted, "queue %d: submitted %d after asio_wait", s->id, r->submitted);
	s->head = (s->head + 1) % FIFO_MAX;
	s->count--;
	s->held++;
	switch (e->kind) {
	case K_FILE_WRITE:
		CHECK(r->status == e->status && r->returned_errno == 0,
		      "queue %d: ASIO_WRITE of block %d: status %d errno %d (%s), want %d", s->id, e->block, r->status,
		      r->returned_errno, strerror(r->returned_errno), e->status);
		break;
	case K_FILE_READ:
		CHECK(r->status == e->status && r->returned_errno == 0,
		      "queue %d: ASIO_READ of block %d: status %d errno %d (%s), want %d", s->id, e->block, r->status,
		      r->returned_errno, strerror(r->returned_errno), e->status);
		if (r->status > 0) {
			check_block(s, e->block, e->version, r->buffer, "ASIO_READ of a file block");
			t->tot.verified_asio += (uint64_t)r->status;
		}
		break;
	case K_PIPE_WRITE:
		CHECK(r->status == e->status && r->returned_errno == 0,
		      "queue %d: ASIO_WRITE to the pipe: status %d errno %d (%s), want %d", s->id, r->status,
		      r->returned_errno, strerror(r->returned_errno), e->status);
		break;
	case K_PIPE_READ:
		CHECK(r->status > 0 && (uint)r->status <= r->len && r->returned_errno == 0,
		      "queue %d: ASIO_READ from the pipe at byte %llu: status %d errno %d (%s); data was on the way",
		      s->id, (unsigned long long)e->off, r->status, r->returned_errno, strerror(r->returned_errno));
		CHECK_FILL("ASIO_READ from a pipe", r->buffer, (size_t)r->status, s->in->seed, e->off);
		s->in->read += (uint64_t)r->status;
		s->in->reading = 0;
		t->tot.verified_pipe += (uint64_t)r->status;
		break;
	}
	check_counters(s, "asio_wait");
	put(s, r);
	return 1;
}

static void sync_queue(struct thread *t, struct squeue *s)
{
	asio_sync(&s->q);
	t->tot.syncs++;
	CHECK(s->q.running_requests == 0 && s->q.running_writebacks == 0,
	      "queue %d: after asio_sync running_requests %u running_writebacks %u", s->id, s->q.running_requests,
	      s->q.running_writebacks);
	check_counters(s, "asio_sync");
}

/* Position the file at a block: nothing of the queue may be running. */
static void seek_block(struct thread *t, struct squeue *s, int block)
{
	sync_queue(t, s);
	CHECK(lseek(s->fd, (off_t)block * s->bs, SEEK_SET) == (off_t)block * s->bs, "lseek: %s", strerror(errno));
}

static void write_burst(struct thread *t, struct squeue *s)
{
	int start = (int)(rnd(t) % BLOCKS), n = 1 + (int)(rnd(t) % 8), i;
	seek_block(t, s, start);
	for (i = start; i < start + n && i < BLOCKS; i++) {
		struct asio_request *r = get(s);
		int wb = rnd(t) & 1;
		struct expect e = { NULL, K_FILE_WRITE, i, 0, (int)s->bs, 0 };
		fill_block(s, i, ++s->version[i], r->buffer);
		if ((long)(i + 1) * s->bs > s->size)
			s->size = (long)(i + 1) * s->bs;
		submit(t, s, r, wb ? ASIO_WRITE_BACK : ASIO_WRITE, s->fd, s->bs, wb ? NULL : &e);
		t->tot.written += s->bs;
		if (s->count && rnd(t) % 4 == 0)
			wait_one(t, s);
	}
}

static void read_burst(struct thread *t, struct squeue *s)
{
	int start = (int)(rnd(t) % BLOCKS), n = 1 + (int)(rnd(t) % 10), ahead = 1 + (int)(rnd(t) % 4), i;
	seek_block(t, s, start);
	for (i = start; i < start + n && i < BLOCKS + 1; i++) {
		struct asio_request *r = get(s);
		long boff = (long)i * s->bs;
		struct expect e = { NULL, K_FILE_READ, i, i < BLOCKS ? s->version[i] : 0,
				    boff >= s->size ? 0 : (int)s->bs, 0 };
		submit(t, s, r, ASIO_READ, s->fd, s->bs, &e);
		while (s->count >= ahead)
			wait_one(t, s);
	}
}

static void pipe_write(struct thread *t, struct squeue *s)
{
	struct pipe_state *p = s->out;
	uint n = 1 + (uint)(rnd(t) % s->bs);
	struct asio_request *r;
	int wb = rnd(t) % 3 == 0;
	struct expect e = { NULL, K_PIPE_WRITE, 0, 0, (int)n, 0 };
	if (p->submitted + n - p->read > PIPE_LIMIT)
		return;
	r = get(s);
	tl_fill(r->buffer, n, p->seed, p->submitted);
	p->submitted += n;
	submit(t, s, r, wb ? ASIO_WRITE_BACK : ASIO_WRITE, p->wfd, n, wb ? NULL : &e);
	t->tot.written += n;
}

/* A read is submitted only when data is on its way, so that it cannot wait
 * forever. On the synchronous path (UCW_ASIO_ENGINE=sync) a write runs only
 * when a call of its own queue needs it: the writer's queue (the previous
 * one of the thread) is synced first, so that the data is in the pipe. */
static void pipe_read(struct thread *t, struct squeue *s)
{
	struct pipe_state *p = s->in;
	struct asio_request *r;
	struct expect e = { NULL, K_PIPE_READ, 0, 0, 0, 0 };
	if (p->reading || p->submitted == p->read)
		return;
	if (tl_sync_route())
		sync_queue(t, &t->qs[((s - t->qs) + t->nq - 1) % t->nq]);
	r = get(s);
	e.off = p->read;
	p->reading = 1;
	submit(t, s, r, ASIO_READ, p->rfd, 1 + (uint)(rnd(t) % s->bs), &e);
}

static void step(struct thread *t)
{
	struct squeue *s = &t->qs[rnd(t) % (uint64_t)t->nq];
	switch (rnd(t) % 16) {
	case 0: case 1: case 2:
		write_burst(t, s);
		break;
	case 3: case 4: case 5:
		read_burst(t, s);
		break;
	case 6: case 7: case 8:
		pipe_write(t, s);
		break;
	case 9: case 10: case 11:
		pipe_read(t, s);
		break;
	case 12: case 13:
		wait_one(t, s);
		break;
	case 14:
		sync_queue(t, s);
		break;
	case 15: {
		struct asio_request *a = get(s), *b = get(s);
		s->q.max_writebacks = 1 + (uint)(rnd(t) % 4);
		put(s, a);
		put(s, b);
		break;
	}
	}
}

/* Drain everything, then read every file back and empty every pipe. */
static void finish(struct thread *t)
{
	int i, b;
	for (i = 0; i < t->nq; i++) {
		struct squeue *s = &t->qs[i];
		sync_queue(t, s);
		while (wait_one(t, s))
			;
	}
	/* The pipes: read what is left through the queues. */
	for (;;) {
		int busy = 0;
		for (i = 0; i < t->nq; i++) {
			struct squeue *s = &t->qs[i];
			if (s->in->submitted > s->in->read) {
				busy = 1;
				pipe_read(t, s);
				while (wait_one(t, s))
					;
			}
		}
		if (!busy)
			break;
	}
	for (i = 0; i < t->nq; i++) {
		struct squeue *s = &t->qs[i];
		unsigned char *buf = tl_malloc(s->bs);
		int fd = open(s->name, O_RDONLY);
		CHECK(fd >= 0, "open(%s): %s", s->name, strerror(errno));
		CHECK(tl_size(fd) == s->size, "queue %d: the file has %lld bytes, want %ld", s->id, (long long)tl_size(fd),
		      s->size);
		for (b = 0; b < BLOCKS && (long)b * s->bs < s->size; b++) {
			CHECK(tl_pread_all(fd, buf, s->bs, (off_t)b * s->bs) == s->bs, "queue %d: short pread", s->id);
			check_block(s, b, s->version[b], buf, "the file read back at the end");
			t->tot.verified_final += s->bs;
		}
		close(fd);
		free(buf);
		CHECK_COUNTERS(&s->q, 0, 0, 0);
		asio_cleanup_queue(&s->q);
		close(s->fd);
	}
}

static void *run(void *arg)
{
	struct thread *t = arg;
	int i;
	static const uint sizes[] = { 512, 4096, 16384, 65536, 1536, 8192 };
	t->qs = calloc((size_t)t->nq, sizeof(*t->qs));
	t->pipes = calloc((size_t)t->nq, sizeof(*t->pipes));
	CHECK(t->qs && t->pipes, "calloc failed");
	for (i = 0; i < t->nq; i++) {
		struct squeue *s = &t->qs[i];
		int p[2];
		s->id = t->id * 1000 + i;
		s->bs = sizes[rnd(t) % 6];
		tl_init_queue(&s->q, s->bs, 1 + (uint)(rnd(t) % 4));
		s->wb_limit = s->q.max_writebacks;
		s->q.use_count = (uint)s->id;
		{
			char base[32];
			snprintf(base, sizeof(base), "s%d", s->id);
			tl_tmppath(base, s->name, sizeof(s->name));
		}
		s->fd = -1;
		if (i % 2 && s->bs % 4096 == 0) {
			s->fd = open(s->name, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
			s->direct = s->fd >= 0;
		}
		if (s->fd < 0)
			s->fd = open(s->name, O_RDWR | O_CREAT | O_TRUNC, 0600);
		CHECK(s->fd >= 0, "open(%s): %s", s->name, strerror(errno));
		CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
		t->pipes[i].rfd = p[0];
		t->pipes[i].wfd = p[1];
		t->pipes[i].seed = 7777 + (uint64_t)s->id;
		s->out = &t->pipes[i];
	}
	for (i = 0; i < t->nq; i++)
		t->qs[i].in = &t->pipes[(i + t->nq - 1) % t->nq];
	while (tl_now() < deadline)
		step(t);
	finish(t);
	for (i = 0; i < t->nq; i++) {
		CHECK_EQ("use_count (the caller's)", t->qs[i].id, t->qs[i].q.use_count);
		close(t->pipes[i].rfd);
		close(t->pipes[i].wfd);
	}
	free(t->qs);
	free(t->pipes);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
	__atomic_add_fetch(&alarms, 1, __ATOMIC_RELAXED);
}

static volatile int stop_spreader;

static void *spreader(void *arg)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	sigset_t set;
	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!stop_spreader) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *e;
		if (d) {
			while ((e = readdir(d))) {
				pid_t tid = (pid_t)atoi(e->d_name);
				if (tid > 0 && tid != self)
					syscall(SYS_tgkill, getpid(), tid, SIGALRM);
			}
			closedir(d);
		}
		tl_sleep_ms(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = 2, nqueues = 3, seconds = 4, i;
	uint64_t seed = (uint64_t)time(NULL);
	struct thread *ts;
	struct totals all;
	pthread_t spread;
	double start;

	if (argc >= 4) {
		nthreads = atoi(argv[1]);
		nqueues = atoi(argv[2]);
		seconds = atoi(argv[3]);
	}
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "signals"))
			with_signals = 1;
		else if (!strncmp(argv[i], "seed=", 5))
			seed = strtoull(argv[i] + 5, NULL, 0);
	}
	CHECK(nthreads > 0 && nqueues > 0 && seconds >= 0, "usage: t_stress [THREADS QUEUES SECONDS [signals] [seed=N]]");
	printf("t_stress: %d threads x %d queues, %d s%s, seed=%llu\n", nthreads, nqueues, seconds,
	       with_signals ? ", SIGALRM every 1 ms" : "", (unsigned long long)seed);
	fflush(stdout);
	tl_watchdog(seconds + 120, "t_stress");
	tl_tmpdir();

	if (with_signals) {
		tl_alarm_every(1000, on_alarm);
		CHECK(!pthread_create(&spread, NULL, spreader, NULL), "pthread_create failed");
	}

	ts = calloc((size_t)nthreads, sizeof(*ts));
	CHECK(ts != NULL, "calloc failed");
	start = tl_now();
	deadline = start + seconds;
	for (i = 0; i < nthreads; i++) {
		ts[i].id = i + 1;
		ts[i].nq = nqueues;
		ts[i].rng = tl_mix64(seed * 31 + (uint64_t)i) | 1;
		CHECK(!pthread_create(&ts[i].t, NULL, run, &ts[i]), "pthread_create failed");
	}
	memset(&all, 0, sizeof(all));
	for (i = 0; i < nthreads; i++) {
		struct totals *x = &ts[i].tot;
		pthread_join(ts[i].t, NULL);
		all.requests += x->requests;
		all.reads += x->reads;
		all.writes += x->writes;
		all.writebacks += x->writebacks;
		all.waits += x->waits;
		all.syncs += x->syncs;
		all.written += x->written;
		all.verified_asio += x->verified_asio;
		all.verified_pipe += x->verified_pipe;
		all.verified_final += x->verified_final;
	}
	if (with_signals) {
		tl_alarm_stop();
		stop_spreader = 1;
		pthread_join(spread, NULL);
	}
	printf("t_stress: %.1f s: %ld requests (%ld reads, %ld writes, %ld write-backs), %ld waits, %ld syncs\n",
	       tl_now() - start, all.requests, all.reads, all.writes, all.writebacks, all.waits, all.syncs);
	printf("t_stress: %.1f MiB written; %.1f MiB verified (%.1f read back through asio, %.1f through pipes, %.1f in the files at the end)\n",
	       all.written / 1048576.0, (all.verified_asio + all.verified_pipe + all.verified_final) / 1048576.0,
	       all.verified_asio / 1048576.0, all.verified_pipe / 1048576.0, all.verified_final / 1048576.0);
	if (with_signals) {
		printf("t_stress: SIGALRM handled %ld times\n", __atomic_load_n(&alarms, __ATOMIC_RELAXED));
		CHECK(__atomic_load_n(&alarms, __ATOMIC_RELAXED) > 0, "the SIGALRM handler never ran");
	}
	CHECK(all.verified_asio > 0 && all.verified_pipe > 0 && all.verified_final > 0,
	      "nothing was verified in some category: the test did not run");
	free(ts);
	return 0;
}
