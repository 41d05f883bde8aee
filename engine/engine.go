package engine

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ucw-asio/ucw-asio/workqueue"
)

// Executor runs tasks in the background. Run must not wait for other tasks
// to finish: a queue's task may block in a system call for as long as its
// descriptor makes it.
//
// An Executor that sizes GOMAXPROCS (workqueue.Pool) may also have a
// method Holding(n int) bool: the engine calls Holding(1) before a
// goroutine waits for io_uring completions, and Holding(-1) after. If
// Holding(1) reports that the executor makes room for it (adds a P), the
// goroutine keeps its P while it waits (see waitRing); otherwise it
// waits the ordinary way, so that it never takes a P others need.
type Executor interface {
	Run(task func())
}

// holder is the optional method of an Executor (see Executor).
type holder interface {
	Holding(n int) bool
}

// Handles ties Go queues to the caller's QueueHeader: Save returns a key
// that may be stored in C memory, Restore returns what was saved under a
// key (nil for an unknown key), Unref forgets a key.
// github.com/mattn/go-pointer has exactly this shape.
type Handles interface {
	Save(v any) unsafe.Pointer
	Restore(key unsafe.Pointer) any
	Unref(key unsafe.Pointer)
}

// Options configures an Engine.
type Options struct {
	// Handles keeps the Go queue of each initialised QueueHeader. Required.
	Handles Handles
	// Executor runs the queues' background tasks (default: a workqueue.Pool).
	Executor Executor
	// Fatal reports a misuse or a failed write-back and must not return
	// (default: print the error on stderr and exit with status 1). It is
	// called in the caller's goroutine, inside the call that found the error.
	Fatal func(err error)
	// Syscalls performs the I/O (default: read(2), write(2), pwrite(2)).
	Syscalls Syscalls
	// Ring submits the requests on O_DIRECT files through an io_uring of
	// their queue where the kernel offers one, rather than handing each to
	// a background task (see ringq.go). They then bypass Syscalls.
	Ring bool
	// RingFds, if set, keeps the descriptors of the queues' rings where a
	// child forked without exec can close them (see RingFds).
	RingFds RingFds
}

// RingFds keeps the descriptors of the rings, for the process's fork
// handler: a child forked without exec inherits every descriptor, and one
// that keeps a ring's open keeps the ring alive, so that shutting it in the
// parent (to collect it from another thread, see ringq.go) would wait for
// the child's end. The implementation closes them in the child (capi's
// pthread_atfork handler). Lock and Unlock bracket a ring's set-up, so that
// no fork falls between the descriptor's birth and Add.
type RingFds interface {
	Lock()
	Unlock()
	Add(fd int)    // under Lock: fd is a ring's
	Close(fd int)  // fd, added, is closed and forgotten
	Forget(fd int) // fd, added, is forgotten without being closed (no longer ours)
}

// Syscalls performs one read(2), write(2) or pwrite(2); tests replace it to
// inject faults. The results are those of golang.org/x/sys/unix.
type Syscalls interface {
	Read(fd int, p []byte) (int, error)
	Write(fd int, p []byte) (int, error)
	Pwrite(fd int, p []byte, off int64) (int, error)
	// ReadNowait reads at the current position like Read, but fails with
	// EAGAIN instead of waiting for data (preadv2 with RWF_NOWAIT).
	ReadNowait(fd int, p []byte) (int, error)
}

// Engine holds what the queues of one process share: the executor, the
// registry of requests and the way to report errors.
type Engine struct {
	handles  Handles
	exec     Executor
	fatalFn  func(error)
	sys      Syscalls
	holder   holder       // exec, if it has Holding
	ring     bool         // Options.Ring
	ringFds  RingFds      // Options.RingFds
	rings    atomic.Int32 // rings set up and not closed (at most maxRings)
	requests requestTable // the live requests, by their header's address (see lookup.go)
	queues   queueCache   // the queues found lately (see lookup.go)

	pins      func() bool   // whether rings register buffers (pinsFree; tests change it)
	lingerFor time.Duration // how long an idle task waits for more (lingerFor; tests change it)
}

// New returns an Engine configured by opts.
func New(opts Options) *Engine {
	if opts.Handles == nil {
		panic("engine.New: Options.Handles is required")
	}
	e := &Engine{handles: opts.Handles, exec: opts.Executor, fatalFn: opts.Fatal, sys: opts.Syscalls, ring: opts.Ring, ringFds: opts.RingFds, pins: pinsFree, lingerFor: lingerFor}
	if e.exec == nil {
		e.exec = workqueue.New(0)
	}
	if e.fatalFn == nil {
		e.fatalFn = func(err error) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if e.sys == nil {
		e.sys = unixSyscalls{}
	}
	e.holder, _ = e.exec.(holder)
	return e
}

// fatal reports err; it never returns.
func (e *Engine) fatal(err error) {
	e.fatalFn(err)
	panic("engine: Options.Fatal returned after: " + err.Error())
}

// misuse reports a mistake of the caller in function fn; it never returns.
func (e *Engine) misuse(fn, format string, args ...any) {
	e.fatal(&Misuse{Func: fn, What: fmt.Sprintf(format, args...)})
}

// internal reports an invariant of the engine found broken in the C
// function fn; it never returns.
func (e *Engine) internal(fn, format string, args ...any) {
	e.fatal(&InternalError{Func: fn, What: fmt.Sprintf(format, args...)})
}

// Init initialises the caller's queue pub and returns its Go queue.
// Everything in pub but BufferSize and MaxWritebacks may be garbage.
func (e *Engine) Init(pub *QueueHeader) *Queue {
	const fn = "asio_init_queue"
	if pub == nil {
		e.misuse(fn, "NULL queue")
	}
	if pub.BufferSize == 0 {
		e.misuse(fn, "buffer_size is 0: set it to the size of the requests' buffers before asio_init_queue")
	}
	if pub.Magic == QueueMagic {
		e.reinit(pub)
	}
	q := &Queue{eng: e, pub: pub}
	q.drainTask = q.drain
	q.publish()
	pub.UseCount = 0
	pub.Magic = QueueMagic
	pub.Handle = e.handles.Save(q)
	q.key = pub.Handle
	e.queues.add(q)
	return q
}

// reinit releases the queue pub if it is live: its magic and handle are
// valid, and the handle's queue is pub's, not another struct's (pub may be
// a copy of it). A live queue with requests out is the caller's mistake;
// an idle one is released as asio_cleanup_queue would. Anything else only
// looks like a queue and is initialised as garbage is.
func (e *Engine) reinit(pub *QueueHeader) {
	const fn = "asio_init_queue"
	q, ok := e.handles.Restore(pub.Handle).(*Queue)
	if !ok || q.pub != pub {
		return
	}
	if old := call(atomic.SwapUint32(&q.busy, uint32(callInit))); old != callNone {
		e.misuse(fn, "queue %p is in use by another thread (in %s): a queue is for one thread at a time", pub, old)
	}
	defer q.leave()
	if q.closed.Load() {
		return // cleaned up by another thread since the look-up
	}
	if q.allocated > 0 {
		e.misuse(fn, "queue %p still has %s: call asio_cleanup_queue first", pub, requests(q.allocated))
	}
	q.release(fn)
}

// Queue returns the Go queue of pub, which Init must have initialised;
// fn names the C function for the report if it was not. Handles is asked
// only when the engine's cache of queues does not have it (see lookup.go).
func (e *Engine) Queue(fn string, pub *QueueHeader) *Queue {
	if pub == nil {
		e.misuse(fn, "NULL queue")
	}
	if pub.Magic == QueueMagic {
		if q := e.queues.find(pub); q != nil {
			return q
		}
		if q, ok := e.handles.Restore(pub.Handle).(*Queue); ok && q.pub == pub {
			e.queues.add(q)
			return q
		}
	}
	e.misuse(fn, "queue %p is not initialised (asio_init_queue was not called on it, or asio_cleanup_queue was)", pub)
	return nil
}

// request returns the engine's request behind hdr; fn names the C function
// for the report if hdr is not a request that Get returned.
func (e *Engine) request(fn string, hdr *RequestHeader) *request {
	if hdr == nil {
		e.misuse(fn, "NULL request")
	}
	r := e.requests.find(hdr)
	if r == nil {
		e.misuse(fn, "%p is not a request returned by asio_get (or its queue was cleaned up)", hdr)
	}
	return r
}

// Submit submits the request hdr (asio_submit).
func (e *Engine) Submit(hdr *RequestHeader) {
	r := e.request("asio_submit", hdr)
	r.q.submit(r)
}

// Put returns the request hdr for recycling (asio_put).
func (e *Engine) Put(hdr *RequestHeader) {
	r := e.request("asio_put", hdr)
	r.q.put(r)
}
