package engine

import "sync/atomic"

// Calls on one queue that overlap.
//
// A queue is for one thread at a time (the C contract), which may change
// between calls. A call that starts while another call on the same queue,
// or on one of its requests, is still running is a mistake of the caller:
// it is reported in one line naming both functions, before the second call
// touches anything of the queue. Each call marks the queue busy with an
// atomic swap of its code into Queue.busy at entry, which also returns the
// code of a call still inside, and clears the mark at exit.
//
// The clearing is a plain store, not an atomic one. Go's atomic store is
// an XCHG on amd64, a second locked instruction per call: measured with
// BenchmarkGetPut (two calls, no I/O) on a 2-core Xeon it made 33.4 ns of
// what the plain store makes 24.5 ns (17.9 ns without the guard), about
// 4.5 ns more per call. The plain store needs no ordering of its own: a
// queue handed from thread to thread is handed with the caller's own
// synchronisation (a mutex, a queue, a join), which orders everything the
// previous call wrote, this store included, before the next call's swap;
// and the compiler emits stores in program order, so on amd64 (stores are
// seen in order) a thread that finds the mark cleared also sees what the
// call wrote before it. What it gives up: where nothing orders two calls
// the overlap is a race the detector (go test -race) reports, as it should
// (the tests of overlaps order their calls), and on weakly ordered CPUs an
// overlap right at the end of a call may go unreported.

// call names a function of the API in Queue.busy; 0 is none.
type call uint32

const (
	callNone call = iota
	callInit
	callCleanup
	callGet
	callSubmit
	callWait
	callPut
	callSync
)

var callNames = [...]string{
	callNone:    "?",
	callInit:    "asio_init_queue",
	callCleanup: "asio_cleanup_queue",
	callGet:     "asio_get",
	callSubmit:  "asio_submit",
	callWait:    "asio_wait",
	callPut:     "asio_put",
	callSync:    "asio_sync",
}

func (c call) String() string {
	if int(c) < len(callNames) {
		return callNames[c]
	}
	return callNames[callNone]
}

// enter marks q busy with the call c, and reports the caller's mistake if
// another call on q is still running. Then it checks that q is still
// initialised: a call that started while another thread cleaned q up may
// come in only now.
func (q *Queue) enter(c call) {
	if old := call(atomic.SwapUint32(&q.busy, uint32(c))); old != callNone {
		q.eng.misuse(c.String(), "queue %p is in use by another thread (in %s): a queue is for one thread at a time", q.pub, old)
	}
	if q.closed {
		q.leave()
		q.eng.misuse(c.String(), "queue %p is not initialised (asio_init_queue was not called on it, or asio_cleanup_queue was)", q.pub)
	}
}

// leave clears the mark enter set (a plain store: see above).
func (q *Queue) leave() { q.busy = 0 }
