package engine

import (
	"fmt"
	"regexp"
	"sync"
	"unsafe"

	"github.com/ucw-asio/ucw-asio/internal/syncimpl"
)

// asioImpl is one implementation of <ucw/asio.h> under test: the engine, or
// the synchronous C path (capi/stub/sync.c, through internal/syncimpl).
// Each call returns the error with which the implementation would have
// ended the process (nil if it returned): for the engine what it reported
// through Options.Fatal, for the C path a *syncimpl.Died with the line.
type asioImpl interface {
	newQueue() *QueueHeader // memory for a struct asio_queue
	init(pub *QueueHeader) error
	get(pub *QueueHeader) (*RequestHeader, error)
	submit(hd *RequestHeader) error
	wait(pub *QueueHeader) (*RequestHeader, error)
	put(hd *RequestHeader) error
	sync(pub *QueueHeader) error
	cleanup(pub *QueueHeader) error
	// live tells whether pub is initialised (its magic number).
	live(pub *QueueHeader) bool
	// abandon forgets what the process lost when it died (failed
	// write-backs are never recycled), after the queue has been drained,
	// so that it can be cleaned up.
	abandon(pub *QueueHeader)
	// mem returns n bytes of the caller's memory that a request may point at.
	mem(n int) []byte
	// token returns a user_data value (a pointer) for v; nil for 0.
	token(v int) unsafe.Pointer
	// release frees the memory of newQueue and mem, once nothing uses it.
	release()
}

// engineImpl is the engine.
type engineImpl struct{ e *Engine }

func (x engineImpl) newQueue() *QueueHeader { return &QueueHeader{} }
func (x engineImpl) init(pub *QueueHeader) error {
	return fatalOf(func() { x.e.Init(pub) })
}
func (x engineImpl) get(pub *QueueHeader) (hd *RequestHeader, err error) {
	err = fatalOf(func() { hd = x.e.Queue("asio_get", pub).Get() })
	return
}
func (x engineImpl) submit(hd *RequestHeader) error { return fatalOf(func() { x.e.Submit(hd) }) }
func (x engineImpl) wait(pub *QueueHeader) (hd *RequestHeader, err error) {
	err = fatalOf(func() { hd = x.e.Queue("asio_wait", pub).Wait() })
	return
}
func (x engineImpl) put(hd *RequestHeader) error { return fatalOf(func() { x.e.Put(hd) }) }
func (x engineImpl) sync(pub *QueueHeader) error {
	return fatalOf(func() { x.e.Queue("asio_sync", pub).Sync() })
}
func (x engineImpl) cleanup(pub *QueueHeader) error {
	return fatalOf(func() { x.e.Queue("asio_cleanup_queue", pub).Cleanup() })
}
func (x engineImpl) live(pub *QueueHeader) bool { return pub.Magic == QueueMagic }

// abandon is the only use of the engine's internals by the fuzz harness.
func (x engineImpl) abandon(pub *QueueHeader) {
	var eq *Queue
	if fatalOf(func() { eq = x.e.Queue("teardown", pub) }) == nil {
		eq.running, eq.runningWB, eq.allocated = 0, 0, 0
	}
}
func (x engineImpl) mem(n int) []byte           { return make([]byte, n) }
func (x engineImpl) token(v int) unsafe.Pointer { return token(v) }
func (x engineImpl) release()                   {}

// cImpl is the synchronous C implementation. Everything it may keep a
// pointer to is C memory (the cgo rules): the queues, the caller's buffers
// and the user_data tokens.
type cImpl struct {
	queues []unsafe.Pointer
	allocs []unsafe.Pointer
}

var cTokens struct {
	once sync.Once
	base unsafe.Pointer
}

func (x *cImpl) newQueue() *QueueHeader {
	p := syncimpl.AllocQueue()
	x.queues = append(x.queues, p)
	return (*QueueHeader)(p)
}
func (x *cImpl) init(pub *QueueHeader) error { return syncimpl.Init(unsafe.Pointer(pub)) }
func (x *cImpl) get(pub *QueueHeader) (*RequestHeader, error) {
	p, err := syncimpl.Get(unsafe.Pointer(pub))
	return (*RequestHeader)(p), err
}
func (x *cImpl) submit(hd *RequestHeader) error { return syncimpl.Submit(unsafe.Pointer(hd)) }
func (x *cImpl) wait(pub *QueueHeader) (*RequestHeader, error) {
	p, err := syncimpl.Wait(unsafe.Pointer(pub))
	return (*RequestHeader)(p), err
}
func (x *cImpl) put(hd *RequestHeader) error    { return syncimpl.Put(unsafe.Pointer(hd)) }
func (x *cImpl) sync(pub *QueueHeader) error    { return syncimpl.Sync(unsafe.Pointer(pub)) }
func (x *cImpl) cleanup(pub *QueueHeader) error { return syncimpl.Cleanup(unsafe.Pointer(pub)) }
func (x *cImpl) live(pub *QueueHeader) bool     { return pub.Magic == syncimpl.SyncQueueMagic }
func (x *cImpl) abandon(pub *QueueHeader)       { syncimpl.Abandon(unsafe.Pointer(pub)) }
func (x *cImpl) token(v int) unsafe.Pointer {
	cTokens.once.Do(func() { cTokens.base = syncimpl.Alloc(256) })
	if v == 0 {
		return nil
	}
	return unsafe.Add(cTokens.base, v)
}
func (x *cImpl) mem(n int) []byte {
	p := syncimpl.Alloc(n)
	x.allocs = append(x.allocs, p)
	return unsafe.Slice((*byte)(p), n)
}

// release frees the queues that are not initialised any more (one that is,
// because its teardown failed, stays in sync.c's registry) and the memory.
func (x *cImpl) release() {
	for _, p := range x.queues {
		if !x.live((*QueueHeader)(p)) {
			syncimpl.Free(p)
		}
	}
	for _, p := range x.allocs {
		syncimpl.Free(p)
	}
	x.queues, x.allocs = nil, nil
}

// side is one implementation in a fuzzed sequence and what it works on:
// its queues and requests (tied to the model's), and its own copy of the
// files, pipe and descriptors.
type side struct {
	name   string // "the engine", "the C path"
	impl   asioImpl
	pubs   [fuzzSlots]*QueueHeader
	hdr    map[*mRequest]*RequestHeader
	req    map[*RequestHeader]*mRequest
	ownPtr map[*mRequest]unsafe.Pointer
	ext    map[*mRequest][]byte // the caller's memory a request points at
	fds    [selCount]int
	files  [3]string
}

func newSide(name string, impl asioImpl) *side {
	s := &side{name: name, impl: impl, hdr: map[*mRequest]*RequestHeader{}, req: map[*RequestHeader]*mRequest{},
		ownPtr: map[*mRequest]unsafe.Pointer{}, ext: map[*mRequest][]byte{}}
	for i := range s.fds {
		s.fds[i] = -1
	}
	for slot := range s.pubs {
		s.pubs[slot] = impl.newQueue()
	}
	return s
}

// forget drops the requests of a queue that was cleaned up.
func (s *side) forget(reqs []*mRequest) {
	for _, r := range reqs {
		delete(s.req, s.hdr[r])
		delete(s.hdr, r)
		delete(s.ownPtr, r)
		delete(s.ext, r)
	}
}

var hexPointer = regexp.MustCompile(`0x[0-9a-f]+|\(nil\)`)

// named replaces the pointers in a report by what they are on this side:
// q0..q2 for the queues, r1, r2... for the requests (the model's numbers),
// so that the reports of two implementations compare equal.
func (s *side) named(line string) string {
	return hexPointer.ReplaceAllStringFunc(line, func(p string) string {
		var v uintptr
		if p != "(nil)" {
			fmt.Sscanf(p, "0x%x", &v)
		}
		for slot, pub := range s.pubs {
			if uintptr(unsafe.Pointer(pub)) == v {
				return fmt.Sprintf("<q%d>", slot)
			}
		}
		for hd, r := range s.req {
			if uintptr(unsafe.Pointer(hd)) == v {
				return fmt.Sprintf("<r%d>", r.id)
			}
		}
		if v == 0 {
			return "<NULL>"
		}
		return "<unknown pointer>"
	})
}
