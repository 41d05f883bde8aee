package engine

import (
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Queue is the Go side of one struct asio_queue.
//
// Its calls come from one thread at a time (the C contract); the fields
// above mu belong to that thread. The fields below mu are shared with the
// queue's background tasks (see schedule.go).
type Queue struct {
	busy uint32 // the call running on the queue, or 0 (see guard.go)
	eng  *Engine
	pub  *QueueHeader
	key  unsafe.Pointer // the Handles key q is saved under (pub.Handle while initialised)

	// Released (cleaned up, or initialised over): its pub may be
	// initialised anew. Atomic because the queue cache (lookup.go) reads
	// it in any thread whose struct shares q's entry.
	closed atomic.Bool

	// The caller's: the truth behind the public counters, which the engine
	// writes but never reads back (the caller could have changed them).
	allocated int        // requests given out by Get and not recycled
	running   int        // submitted requests not yet collected
	runningWB int        // how many of them are write-backs
	idle      []*request // recycled requests, the most recent last
	collected fifo       // finished reads and writes collected, not yet returned by Wait
	ready     fifo       // reads done at once, not yet collected (see below)
	kinds     kindCache  // for readNow, which runs in the caller's thread

	mu         sync.Mutex
	pending    fifo       // submitted, not started, oldest first
	active     fifo       // started, not collected, oldest first
	exec       []*request // executing now (all of them are in active too)
	tasks      int        // background tasks scheduled or running
	callerExec bool       // one of exec is executed by the caller's thread
	pos        position   // the file position that positioned write-backs continue
	waiting    bool       // the caller is (about to be) asleep on wake
	waitingWB  bool       // ... and any write-back done will do
	ring       ringState  // positioned write-backs submitted to io_uring (see ringq.go)
	failed     bool       // a write-back failed: nothing more starts (see finish)
	firstFail  *request   // the failed write-back a chain's failure is reported as (see settle)
	wake       wakeup     // wakes the caller (see next)
	lingering  bool       // a background task waits for more work (see linger)
	more       wakeup     // wakes it
	toWake     uint8      // wake-ups to give when q.mu is released (see unlock)
	released   bool       // the queue was cleaned up (see release)
	drainTask  func()     // q.drain, made once: a method value given to Run allocates each time
}

// request is the Go side of one struct asio_request.
type request struct {
	q     *Queue
	hdr   *RequestHeader // the caller-visible struct, in m
	m     mapping
	own   unsafe.Pointer // the request's own buffer, in m
	size  int            // bytes in the own buffer
	state reqState       // the caller's view; changed only in the caller's calls

	// Snapshot taken at submit: what the executor does.
	op  Op
	fd  int
	buf unsafe.Pointer
	n   int

	// Under q.mu, from the start of the request on.
	file       fileInfo // what fd refers to, looked up when concurrency needs it
	positioned bool     // a write-back done with pwrite at off (see schedule.go)
	off        int64
	partial    int  // bytes a read already got without waiting; the rest is read later
	done       bool // executed; the result is in status and errno
	inRing     bool // submitted to the queue's io_uring, not yet reaped
	settling   bool // a failed positioned write-back waiting for its chain to end (see settle)
	atPosition bool // a read or write in the ring, at off, the file position when it started
	extending  bool // a positioned write-back past the file's end when it started (see ringStart)

	reg regSlot // its own buffer in the buffer table of the queue's ring (see pin.go)

	// Result, written by the executor before done is set.
	status int
	errno  int
}

type reqState uint8

const (
	stateIdle      reqState = iota // on the idle list
	stateAllocated                 // the caller's: got, or returned by Wait
	stateSubmitted                 // between Submit and Wait (or recycling)
)

// publish copies the counters to the caller's struct.
func (q *Queue) publish() {
	q.pub.AllocatedRequests = uint32(q.allocated)
	q.pub.RunningRequests = uint32(q.running)
	q.pub.RunningWritebacks = uint32(q.runningWB)
}

// Get returns an empty request (asio_get): recycled if possible, else new.
func (q *Queue) Get() *RequestHeader {
	q.enter(callGet)
	defer q.leave()
	var r *request
	if n := len(q.idle); n > 0 {
		r = q.idle[n-1]
		q.idle[n-1] = nil
		q.idle = q.idle[:n-1]
	} else {
		r = q.newRequest()
	}
	h := r.hdr
	h.Queue = q.pub
	h.Buffer = r.own
	h.Fd = -1
	h.Op = OpFree
	h.Len = 0
	h.Status = -1
	h.ReturnedErrno = -1
	h.Submitted = 0
	r.state = stateAllocated
	q.allocated++
	q.publish()
	return h
}

func (q *Queue) newRequest() *request {
	size := int(q.pub.BufferSize)
	if size == 0 {
		q.eng.misuse("asio_get", "buffer_size is 0: requests need a buffer")
	}
	m, err := mapRequest(size)
	if err != nil {
		q.eng.fatal(err)
	}
	r := &request{q: q, hdr: m.header(), m: m, own: m.buffer(), size: size}
	r.hdr.Magic = RequestMagic
	q.eng.requests.add(r)
	return r
}

// submit queues r for execution (asio_submit).
func (q *Queue) submit(r *request) {
	const fn = "asio_submit"
	q.enter(callSubmit)
	defer q.leave()
	h := r.hdr
	switch r.state {
	case stateIdle:
		q.eng.misuse(fn, "request %p is not allocated (it was returned with asio_put or recycled)", h)
	case stateSubmitted:
		q.eng.misuse(fn, "request %p was already submitted (it is running or waiting for asio_wait)", h)
	}
	op := h.Op
	switch op {
	case OpRead, OpWrite:
	case OpWriteBack:
		if q.pub.MaxWritebacks == 0 {
			q.eng.misuse(fn, "write-back with max_writebacks == 0 would wait forever")
		}
		if h.Buffer == r.own && int(h.Len) > r.size {
			q.eng.misuse(fn, "write-back of %d bytes is larger than the request's buffer of %d bytes", h.Len, r.size)
		}
		for q.runningWB >= int(q.pub.MaxWritebacks) {
			q.collect(q.next(true))
		}
		q.runningWB++
	case OpFree:
		q.eng.misuse(fn, "request %p has op ASIO_FREE: set op to ASIO_READ, ASIO_WRITE or ASIO_WRITE_BACK", h)
	default:
		q.eng.misuse(fn, "request %p has unknown op %d", h, int32(op))
	}
	r.op, r.fd, r.buf, r.n = op, int(h.Fd), h.Buffer, int(h.Len)
	r.state = stateSubmitted
	h.Submitted = 1
	q.running++
	q.publish()

	q.enqueue(r)
}

// Reads done at once (see enqueue) when nothing else of the queue was
// started and not collected go to ready, which only the caller's thread
// uses, instead of to active: they need no lock, and Wait returns them
// without next. They are running until collected, as any request (the
// public counters do not change). Order: every request in collected was
// submitted before every request in ready, and every request in ready
// before every request in pending or active. enqueue keeps the second
// (a read goes to ready only when pending and active are empty); collect
// and flushReady keep the first (anything collected from active goes
// behind ready's requests, which are collected first).

// flushReady collects the requests of ready.
func (q *Queue) flushReady() {
	if q.ready.len() == 0 {
		return
	}
	for r := q.ready.pop(); r != nil; r = q.ready.pop() {
		q.running--
		q.collected.push(r)
	}
	q.publish()
}

// collect does the bookkeeping of a request that next returned: a
// write-back is checked and recycled, a read or write waits for Wait.
func (q *Queue) collect(r *request) {
	q.flushReady() // they precede r
	q.running--
	if r.op == OpWriteBack {
		if r.status != r.n {
			if r.positioned {
				r = q.firstFail // r's whole chain has ended: report its first failure
			}
			written := r.status
			if written < 0 {
				written = -1
			}
			q.publish()
			q.eng.fatal(&WritebackError{Fd: r.fd, Len: r.n, Written: written, Errno: syscall.Errno(r.errno)})
		}
		q.runningWB--
		q.allocated--
		r.state = stateIdle
		q.idle = append(q.idle, r)
	} else {
		q.collected.push(r)
	}
	q.publish()
}

// Wait returns the oldest finished read or write (asio_wait), or nil when
// nothing is running and nothing is finished.
func (q *Queue) Wait() *RequestHeader {
	q.enter(callWait)
	defer q.leave()
	for {
		r := q.collected.pop()
		if r == nil {
			if r = q.ready.pop(); r != nil {
				q.running-- // collected
				q.publish()
			}
		}
		if r != nil {
			r.state = stateAllocated
			r.hdr.Submitted = 0
			return r.hdr
		}
		if q.running == 0 {
			return nil
		}
		q.collect(q.next(false))
	}
}

// Sync waits until every submitted request has finished (asio_sync).
func (q *Queue) Sync() {
	q.enter(callSync)
	defer q.leave()
	q.flushReady()
	for q.running > 0 {
		q.collect(q.next(false))
	}
}

// put recycles r (asio_put).
func (q *Queue) put(r *request) {
	q.enter(callPut)
	defer q.leave()
	switch r.state {
	case stateIdle:
		q.eng.misuse("asio_put", "request %p is not allocated (put twice?)", r.hdr)
	case stateSubmitted:
		q.eng.misuse("asio_put", "request %p is still submitted: collect it with asio_wait first", r.hdr)
	}
	r.state = stateIdle
	q.allocated--
	q.idle = append(q.idle, r)
	q.publish()
}

// Cleanup frees the queue and its recycled requests (asio_cleanup_queue).
// The queue must have nothing allocated or running.
func (q *Queue) Cleanup() {
	const fn = "asio_cleanup_queue"
	q.enter(callCleanup)
	defer q.leave()
	if q.running > 0 {
		q.eng.misuse(fn, "queue %p still has %s running (wait for them with asio_sync)", q.pub, requests(q.running))
	}
	if q.allocated > 0 {
		q.eng.misuse(fn, "queue %p still has %s allocated (return them with asio_put)", q.pub, requests(q.allocated))
	}
	q.release(fn)
}

// release frees what the queue holds, which has nothing allocated, and
// unties it from its struct: its memory, the requests' mappings, its ring
// and its handle. Called by fn, which entered q.
func (q *Queue) release(fn string) {
	// The ring first: its buffer table pins pages of the requests (see
	// pin.go), which the kernel unpins as it tears the ring down; unmapped
	// first, they would stay pinned, out of the process's reach, until then.
	q.cleanupRing()
	// A task lingering for more work (see linger) leaves now rather than
	// at the end of its wait, beside the next queue's tasks.
	q.mu.Lock()
	q.released = true
	q.moreWork()
	q.unlock()
	for _, r := range q.idle {
		q.eng.requests.remove(r)
		if err := r.m.unmap(); err != nil {
			q.eng.internal(fn, "munmap of a request failed: %v", err)
		}
	}
	q.idle = nil
	// Closed before the key is unref'd: a key Save hands out again must
	// never find q in the queue cache (see lookup.go).
	q.closed.Store(true)
	q.eng.queues.remove(q)
	q.pub.Magic = 0
	q.eng.handles.Unref(q.key)
	q.pub.Handle = nil
}

// requests says "1 request" or "n requests".
func requests(n int) string {
	if n == 1 {
		return "1 request"
	}
	return strconv.Itoa(n) + " requests"
}
