package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// reusingHandles is a Handles that hands out the lowest free key of a small
// array, as go-pointer's malloc'd keys come back after Unref frees them: a
// queue initialised after another was released gets the released key.
type reusingHandles struct {
	mu       sync.Mutex
	keys     [512]byte
	v        [512]any
	used     [512]bool
	restores atomic.Int64 // calls of Restore
}

func (h *reusingHandles) Save(v any) unsafe.Pointer {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.used {
		if !h.used[i] {
			h.used[i], h.v[i] = true, v
			return unsafe.Pointer(&h.keys[i])
		}
	}
	panic("reusingHandles: out of keys")
}

// index returns the index of key in keys, or -1.
func (h *reusingHandles) index(key unsafe.Pointer) int {
	if i := uintptr(key) - uintptr(unsafe.Pointer(&h.keys[0])); i < uintptr(len(h.keys)) {
		return int(i)
	}
	return -1
}

func (h *reusingHandles) Restore(key unsafe.Pointer) any {
	h.restores.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := h.index(key); i >= 0 && h.used[i] {
		return h.v[i]
	}
	return nil
}

func (h *reusingHandles) Unref(key unsafe.Pointer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := h.index(key); i >= 0 {
		h.used[i], h.v[i] = false, nil
	}
}

func newReusingEngine(t testing.TB) (*Engine, *reusingHandles) {
	h := &reusingHandles{}
	e := New(Options{Handles: h, Fatal: func(err error) { panic(fatalError{err}) }})
	return e, h
}

// use makes the calls that look q's struct up (so that the engine's cache
// of queues has it) and checks they find q.
func use(t *testing.T, e *Engine, pub *QueueHeader, q *Queue) {
	t.Helper()
	for _, fn := range []string{"asio_get", "asio_wait"} {
		if got := e.Queue(fn, pub); got != q {
			t.Fatalf("%s found queue %p for %p; want %p", fn, got, pub, q)
		}
	}
	e.Put(e.Queue("asio_get", pub).Get())
}

// A queue is found by its struct exactly as long as Handles would find it,
// whatever went before: the queue cache never answers with a queue that is
// released, or is another struct's, when keys are handed out again.
func TestQueueLookupAfterReuse(t *testing.T) {
	const notInit = "not initialised"
	tests := []struct {
		name string
		// do returns the struct to look up and the queue it must find,
		// or nil if the look-up must report that it is not initialised.
		do func(t *testing.T, e *Engine) (*QueueHeader, *Queue)
	}{
		{"cleanup, then init at the same address and key", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q1 := e.Init(pub)
			use(t, e, pub, q1)
			key := pub.Handle
			q1.Cleanup()
			q2 := e.Init(pub)
			if pub.Handle != key {
				t.Fatalf("the second queue has key %p, not the released %p: the test needs the same key", pub.Handle, key)
			}
			return pub, q2
		}},
		{"init over a live idle queue, same key", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q1 := e.Init(pub)
			use(t, e, pub, q1)
			key := pub.Handle
			q2 := e.Init(pub)
			if pub.Handle != key || q2 == q1 {
				t.Fatalf("re-init gave key %p (queue %p), want the released key %p and a new queue", pub.Handle, q2, key)
			}
			return pub, q2
		}},
		{"a copy of a live queue's struct", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q := e.Init(pub)
			use(t, e, pub, q)
			c := new(QueueHeader)
			*c = *pub
			t.Cleanup(q.Cleanup)
			return c, nil
		}},
		{"a copy of a live queue's struct that shares its cache entry", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pubs := make([]QueueHeader, len(e.queues)+1) // two of them share an entry
			seen := map[*atomic.Pointer[Queue]]*QueueHeader{}
			var pub, c *QueueHeader
			for i := range pubs {
				if p, ok := seen[e.queues.entry(&pubs[i])]; ok {
					pub, c = p, &pubs[i]
					break
				}
				seen[e.queues.entry(&pubs[i])] = &pubs[i]
			}
			pub.BufferSize, pub.MaxWritebacks = 512, 1
			q := e.Init(pub)
			use(t, e, pub, q)
			*c = *pub
			t.Cleanup(q.Cleanup)
			return c, nil
		}},
		{"a struct copied over another live queue's", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub1 := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			pub2 := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q1, q2 := e.Init(pub1), e.Init(pub2)
			use(t, e, pub1, q1)
			use(t, e, pub2, q2)
			own := *pub2
			*pub2 = *pub1
			t.Cleanup(func() { *pub2 = own; q2.Cleanup(); q1.Cleanup() })
			return pub2, nil
		}},
		{"a stale image of a cleaned-up struct", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q := e.Init(pub)
			use(t, e, pub, q)
			stale := *pub
			q.Cleanup()
			*pub = stale
			return pub, nil
		}},
		{"a stale image of a struct whose queue a racing look-up cached after cleanup", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q := e.Init(pub)
			use(t, e, pub, q)
			stale := *pub
			q.Cleanup()
			e.queues.add(q) // what a look-up in another thread, which found q before the cleanup, does after it
			*pub = stale
			return pub, nil
		}},
		{"a stale image whose key another struct's queue has now", func(t *testing.T, e *Engine) (*QueueHeader, *Queue) {
			pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			q := e.Init(pub)
			use(t, e, pub, q)
			stale := *pub
			q.Cleanup()
			other := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
			o := e.Init(other)
			t.Cleanup(o.Cleanup)
			if other.Handle != stale.Handle {
				t.Fatalf("the other queue has key %p, not the released %p: the test needs the same key", other.Handle, stale.Handle)
			}
			use(t, e, other, o)
			*pub = stale
			return pub, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newReusingEngine(t)
			pub, want := tt.do(t, e)
			var got *Queue
			err := fatalOf(func() { got = e.Queue("asio_get", pub) })
			if want == nil {
				wantFatal(t, err, "asio_get: ", notInit)
				return
			}
			if err != nil || got != want {
				t.Fatalf("found queue %p (error %v); want %p", got, err, want)
			}
			use(t, e, pub, want) // and it works
			want.Cleanup()
		})
	}
}

// Once a queue was found, finding it again does not ask Handles (in the
// library go-pointer, whose lock every thread shares).
func TestQueueLookupAsksHandlesOnMissOnly(t *testing.T) {
	e, h := newReusingEngine(t)
	pub := &QueueHeader{BufferSize: 512, MaxWritebacks: 1}
	q := e.Init(pub)
	defer q.Cleanup()
	before := h.restores.Load()
	for range 1000 {
		use(t, e, pub, q)
	}
	if n := h.restores.Load() - before; n != 0 {
		t.Errorf("1000 rounds of look-ups of one queue asked Handles %d times; want 0", n)
	}
}

// Threads using their own queues share the engine's cache of queues, with
// more structs than it has entries and keys handed from one thread's queue
// to another's: each call finds its own queue (and go test -race sees no
// race).
func TestQueueLookupManyThreads(t *testing.T) {
	e, _ := newReusingEngine(t)
	const threads, perThread, rounds = 4, 80, 1000
	if threads*perThread <= len(e.queues) {
		t.Fatalf("%d structs do not outnumber the cache's %d entries", threads*perThread, len(e.queues))
	}
	var wg sync.WaitGroup
	errs := make(chan error, threads)
	for g := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pubs := make([]QueueHeader, perThread) // neighbours 160 bytes apart
			qs := make([]*Queue, perThread)
			for r := range rounds {
				i := (r*7 + g) % perThread
				pub := &pubs[i]
				if qs[i] != nil && r%3 == 0 {
					qs[i].Cleanup()
					qs[i] = nil
				}
				if qs[i] == nil {
					pub.BufferSize, pub.MaxWritebacks = 512, 1
					qs[i] = e.Init(pub)
				}
				for _, fn := range []string{"asio_get", "asio_wait", "asio_sync"} {
					if got := e.Queue(fn, pub); got != qs[i] {
						errs <- fmt.Errorf("thread %d, round %d: %s found %p for struct %d; want %p", g, r, fn, got, i, qs[i])
						return
					}
				}
				e.Put(qs[i].Get())
			}
			for _, q := range qs {
				if q != nil {
					q.Cleanup()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The request table finds exactly the requests added and not removed, as
// it grows, fills with removed entries and is rebuilt.
func TestRequestTable(t *testing.T) {
	const n = 3000
	hdrs := make([]RequestHeader, n)
	rs := make([]*request, n)
	for i := range rs {
		rs[i] = &request{hdr: &hdrs[i]}
	}
	var tab requestTable
	in := make([]bool, n)
	check := func(step string) {
		t.Helper()
		for i := range rs {
			got := tab.find(&hdrs[i])
			if in[i] && got != rs[i] || !in[i] && got != nil {
				t.Fatalf("%s: find(header %d) = %p, want %p (in the table: %v)", step, i, got, rs[i], in[i])
			}
		}
		live := 0
		tab.each(func(r *request) bool { live++; return true })
		want := 0
		for _, b := range in {
			if b {
				want++
			}
		}
		if live != want {
			t.Fatalf("%s: each visits %d requests, want %d", step, live, want)
		}
	}
	check("empty")
	// Add all, remove two in three, add them back in another order, and
	// churn one slot at a time (tombstones pile up until a rebuild).
	for i := range rs {
		tab.add(rs[i])
		in[i] = true
	}
	check("all added")
	for i := range rs {
		if i%3 != 0 {
			tab.remove(rs[i])
			in[i] = false
		}
	}
	check("two in three removed")
	for i := n - 1; i >= 0; i-- {
		if !in[i] {
			tab.add(rs[i])
			in[i] = true
		}
	}
	check("added back")
	for round := range 5 * n {
		i := (round * 7919) % n
		if in[i] {
			tab.remove(rs[i])
		} else {
			tab.add(rs[i])
		}
		in[i] = !in[i]
	}
	check("churned")
}

// A pointer that is not a request is told in one line by asio_submit and
// asio_put, wherever it points: nothing is read there, so memory that is
// no longer mapped does not end the process with a fault.
func TestForeignRequests(t *testing.T) {
	tests := []struct {
		name string
		hdr  func(t *testing.T, e *Engine) *RequestHeader
	}{
		{"a request of a queue cleaned up (unmapped)", func(t *testing.T, e *Engine) *RequestHeader {
			pub := &QueueHeader{BufferSize: 4096, MaxWritebacks: 1}
			q := e.Init(pub)
			h := q.Get()
			e.Put(h)
			q.Cleanup()
			return h
		}},
		{"a copy of a live request", func(t *testing.T, e *Engine) *RequestHeader {
			_, pub := newQueue(t, e, 4096, 1)
			q := e.Queue("asio_get", pub)
			h := q.Get()
			t.Cleanup(func() { e.Put(h) })
			c := *h
			return &c
		}},
		{"a copy of a live request at the start of a page", func(t *testing.T, e *Engine) *RequestHeader {
			_, pub := newQueue(t, e, 4096, 1)
			h := e.Queue("asio_get", pub).Get()
			t.Cleanup(func() { e.Put(h) })
			m, err := mapRequest(0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { m.unmap() })
			*m.header() = *h
			return m.header()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, call := range []struct {
				fn string
				do func(e *Engine, h *RequestHeader)
			}{{"asio_submit", (*Engine).Submit}, {"asio_put", (*Engine).Put}} {
				e := newEngine(t, Options{})
				h := tt.hdr(t, e)
				wantFatal(t, fatalOf(func() { call.do(e, h) }), call.fn+": ", "is not a request returned by asio_get")
			}
		})
	}
}
