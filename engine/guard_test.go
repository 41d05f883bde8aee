package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"
)

// blockedReads holds every read(2) until release is closed; reads without
// waiting find no data.
type blockedReads struct {
	unixSyscalls
	release chan struct{}
}

func (b *blockedReads) Read(fd int, p []byte) (int, error) {
	<-b.release
	return len(p), nil
}

func (b *blockedReads) ReadNowait(fd int, p []byte) (int, error) { return -1, syscall.EAGAIN }

// A call on a queue that starts while another call on it (or on one of its
// requests) runs is reported in one line naming both, and changes nothing.
func TestOverlappingCallsAreReported(t *testing.T) {
	type second func(e *Engine, q *Queue, pub *QueueHeader, spare *RequestHeader)
	tests := []struct {
		fn string
		do second
	}{
		{"asio_get", func(_ *Engine, q *Queue, _ *QueueHeader, _ *RequestHeader) { q.Get() }},
		{"asio_submit", func(e *Engine, _ *Queue, _ *QueueHeader, r *RequestHeader) { e.Submit(r) }},
		{"asio_wait", func(_ *Engine, q *Queue, _ *QueueHeader, _ *RequestHeader) { q.Wait() }},
		{"asio_put", func(e *Engine, _ *Queue, _ *QueueHeader, r *RequestHeader) { e.Put(r) }},
		{"asio_sync", func(_ *Engine, q *Queue, _ *QueueHeader, _ *RequestHeader) { q.Sync() }},
		{"asio_cleanup_queue", func(_ *Engine, q *Queue, _ *QueueHeader, _ *RequestHeader) { q.Cleanup() }},
		{"asio_init_queue", func(e *Engine, _ *Queue, pub *QueueHeader, _ *RequestHeader) { e.Init(pub) }},
	}
	// The first call is inside the queue, waiting for a read: asio_wait,
	// asio_sync, or asio_submit of a write-back at the limit.
	firsts := []struct {
		fn   string
		code call
		do   func(e *Engine, q *Queue, wb *RequestHeader)
	}{
		{"asio_wait", callWait, func(_ *Engine, q *Queue, _ *RequestHeader) { q.Wait() }},
		{"asio_sync", callSync, func(_ *Engine, q *Queue, _ *RequestHeader) { q.Sync() }},
		{"asio_submit", callSubmit, func(e *Engine, _ *Queue, wb *RequestHeader) { e.Submit(wb) }},
	}
	for _, first := range firsts {
		for _, tt := range tests {
			t.Run(first.fn+"/"+tt.fn, func(t *testing.T) {
				sys := &blockedReads{release: make(chan struct{})}
				e := newEngine(t, Options{Syscalls: sys})
				q, pub := newQueue(t, e, 4096, 1)
				pr, pw := pipe(t)
				wfd := tempFile(t, nil)
				e.Submit(prepare(q, OpRead, int(pr.Fd()), 8))
				if first.code == callSubmit {
					// The slot's write-back waits behind the read.
					e.Submit(prepare(q, OpWriteBack, int(pw.Fd()), 1))
				}
				spare := q.Get()
				wb := prepare(q, OpWriteBack, wfd, 1)
				done := make(chan error)
				go func() { done <- fatalOf(func() { first.do(e, q, wb) }) }()
				for call(atomic.LoadUint32(&q.busy)) != first.code {
					select {
					case err := <-done:
						t.Fatalf("%s returned (%v) before the reads were released", first.fn, err)
					default:
					}
				}
				before := *pub
				got := fatalOf(func() { tt.do(e, q, pub, spare) })
				want := fmt.Sprintf("%s: queue %p is in use by another thread (in %s): a queue is for one thread at a time", tt.fn, pub, first.fn)
				if got == nil || got.Error() != want {
					t.Errorf("got %v\nwant %s", got, want)
				}
				if *pub != before {
					t.Errorf("the second call changed the queue: %+v, was %+v", *pub, before)
				}
				close(sys.release)
				if err := <-done; err != nil {
					t.Fatalf("%s: %v", first.fn, err)
				}
				q.Sync()
				for q.Wait() != nil {
				}
				for _, h := range hdrsAllocated(q) {
					e.Put(h)
				}
			})
		}
	}
}

// hdrsAllocated returns the requests of q the caller holds after a Wait.
func hdrsAllocated(q *Queue) []*RequestHeader {
	var hs []*RequestHeader
	q.eng.requests.Range(func(k, v any) bool {
		if r := v.(*request); r.q == q && r.state == stateAllocated {
			hs = append(hs, r.hdr)
		}
		return true
	})
	return hs
}

// A queue handed from goroutine to goroutine, one at a time, with
// requests in flight across the hand-offs, is never reported.
func TestQueueHandedOverIsNotReported(t *testing.T) {
	e := newEngine(t, Options{})
	q, pub := newQueue(t, e, 512, 2)
	zero := tempFile(t, make([]byte, 1<<16))
	pr, pw := pipe(t)
	const workers, rounds = 4, 400
	token := make(chan int, 1)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := <-token
				if !ok {
					return
				}
				err := fatalOf(func() {
					// Leave a read of the pipe in flight for the next one,
					// and take the previous one's.
					if i > 0 {
						if h := q.Wait(); h == nil || h.Status != 1 {
							panic(fmt.Sprintf("round %d: no read of the pipe came back", i))
						} else {
							e.Put(h)
						}
					}
					e.Submit(prepare(q, OpRead, zero, 512))
					if h := q.Wait(); h == nil {
						panic("no read came back")
					} else {
						e.Put(h)
					}
					e.Submit(prepare(q, OpWriteBack, int(pw.Fd()), 1))
					e.Submit(prepare(q, OpRead, int(pr.Fd()), 1))
				})
				if err != nil {
					failed.Store(err)
				}
				if i+1 == rounds || err != nil {
					close(token)
					return
				}
				token <- i + 1
			}
		}()
	}
	token <- 0
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
	q.Sync()
	for h := q.Wait(); h != nil; h = q.Wait() {
		e.Put(h)
	}
	if pub.AllocatedRequests != 0 {
		t.Fatalf("%d requests allocated at the end", pub.AllocatedRequests)
	}
}

// A broken invariant of the engine is reported as the engine's error, in
// one line, not as a panic.
func TestInternalErrorIsOneLine(t *testing.T) {
	e := newEngine(t, Options{})
	q, _ := newQueue(t, e, 512, 1)
	q.running = 1 // what no call of the caller can do
	err := fatalOf(func() { q.Wait() })
	q.running = 0
	want := "ucw-asio: internal error in asio_wait: a request is running but none is pending or started; please report it with the program that shows it"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// A call that comes in after another thread cleaned the queue up is told
// that the queue is not initialised.
func TestCallAfterConcurrentCleanup(t *testing.T) {
	e := newEngine(t, Options{})
	pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
	q := e.Init(pub) // as a call that looked the queue up before cleanup
	q.Cleanup()
	wantFatal(t, fatalOf(func() { q.Get() }), "asio_get: ", "not initialised")
}

var _ = unsafe.Pointer(nil)
