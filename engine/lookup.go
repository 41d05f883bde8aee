package engine

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// How a call finds the Go side of the caller's struct.
//
// A QueueHeader is tied to its Go queue by a key of Options.Handles, kept in
// the header's private area (QueueHeader.Handle). In the library Handles is
// go-pointer, whose Restore takes the read lock of one RWMutex of the
// process (an atomic add on a word every thread shares, so its cache line
// moves between cores whenever several threads run queues) and looks the
// key up in a map: about 12 ns, asked twice per request (asio_get,
// asio_wait). So the engine keeps a small cache of the queues it found and
// asks Handles only when the cache does not have the answer.
//
// The cache never answers other than Handles would. Handles.Restore(key)
// is a queue q with q.pub == pub exactly when key is q.key, the key Init
// saved q under, and q is not released: release marks q closed before it
// unrefs the key, and nothing else unrefs it. A hit is therefore checked
// for all three: the queue's pub is the struct asked about, its key is the
// one in that struct now, and it is not closed. The key alone would not
// do: go-pointer frees an unref'd key, and the next Save may hand out the
// same address again, for another queue at the same struct (cleanup, then
// asio_init_queue) or at another. Each check has its case:
//
//   - a copy of a queue's struct carries its key and magic, but it is
//     another struct: q.pub differs (a copy is never initialised);
//   - a struct copied over another live queue's struct: q.pub matches, the
//     key does not;
//   - a struct cleaned up and initialised again (or initialised over a live
//     idle queue, which releases it first) may get the same key: the old
//     queue is closed;
//   - a stale image of a cleaned-up struct written back (its magic and old
//     key): the old queue is closed, and a new owner of the key is another
//     struct's queue.
//
// The cache is shared by the threads of all queues: each entry is an
// atomic pointer to a Queue whose pub and key never change once it is
// published (Init sets both before it adds the queue), and closed is
// atomic. A thread reads other queues' pub and key only when their
// structs hash to the same entry. Entries are replaced on a miss, so
// structs that collide cost a Restore each time, as before the cache.

// queueCacheBits sets the size of the cache: 1<<queueCacheBits entries of
// 8 bytes. Programs have a queue per thread or per stream, rarely more
// than a few dozen in use at once.
const queueCacheBits = 8

// queueCache holds, for each entry, the queue found last whose struct
// hashes to it.
type queueCache [1 << queueCacheBits]atomic.Pointer[Queue]

// entry returns the entry of the struct pub: a multiplicative hash of its
// address, so that structs in an array (160 bytes apart) spread over all
// entries.
func (c *queueCache) entry(pub *QueueHeader) *atomic.Pointer[Queue] {
	h := uint64(uintptr(unsafe.Pointer(pub))) * 0x9e3779b97f4a7c15
	return &c[h>>(64-queueCacheBits)]
}

// find returns the queue of pub if the cache holds it, else nil (then ask
// Handles). pub's magic must have been checked.
func (c *queueCache) find(pub *QueueHeader) *Queue {
	if q := c.entry(pub).Load(); q != nil && q.pub == pub && q.key == pub.Handle && !q.closed.Load() {
		return q
	}
	return nil
}

// add puts q, initialised and found under its key, in the cache.
func (c *queueCache) add(q *Queue) { c.entry(q.pub).Store(q) }

// remove takes q, being released, out of the cache if it is there, so that
// the cache does not keep it from the collector. (find would not return it
// anyway: it is closed.)
func (c *queueCache) remove(q *Queue) { c.entry(q.pub).CompareAndSwap(q, nil) }

// asio_submit and asio_put are given a RequestHeader, which may be anything
// the caller passed: a request of the engine, a struct on the stack or
// from malloc (a copy of a request, say), or a request of a queue cleaned
// up, whose mapping is gone. So the engine finds the request by the
// header's address alone and reads nothing at that address until it has:
// a request's private area could hold a slot number, but reading it from
// an unmapped address would kill the process with a fault instead of the
// one line that names the mistake.
//
// requestTable is a hash table of the live requests keyed by their
// header's address, with open addressing: look-ups are lock-free (an
// atomic load of the table, then of an entry per probe, against about
// 7.5 ns for a sync.Map keyed by an interface), and the table changes
// only when a request is created or freed, under a mutex.
//
// Invariants (mu held to change them):
//   - an entry is nil (never used), the tombstone (its request was
//     removed) or a live request; a request is in at most one entry, the
//     first entry not nil or the tombstone, from its hash on, at the time
//     it was added;
//   - at most half the entries are not nil, so every probe sequence
//     reaches a nil entry and a look-up of an address that is not there
//     ends;
//   - a published table's entries change only from nil to a request and
//     from a request to the tombstone, so a look-up in progress never
//     misses a request that stays in it; when tombstones fill the table it
//     is rebuilt into a new one, published whole (the old one is no longer
//     written).
type requestTable struct {
	tab  atomic.Pointer[requestSlots]
	mu   sync.Mutex
	used int // entries of tab not nil (requests and tombstones); under mu
	live int // requests in tab; under mu
}

// requestSlots is one table: 1<<bits entries.
type requestSlots struct {
	bits    uint
	entries []atomic.Pointer[request]
}

// tombstone marks an entry whose request was removed. Its hdr is nil,
// which no look-up asks for.
var tombstone = &request{}

// first returns the entry where the probe sequence of hdr starts: a
// multiplicative hash of the address (headers are page-aligned, so their
// low bits say nothing).
func (s *requestSlots) first(hdr *RequestHeader) uint64 {
	return uint64(uintptr(unsafe.Pointer(hdr))) * 0x9e3779b97f4a7c15 >> (64 - s.bits)
}

// find returns the request whose header is hdr, or nil if there is none.
// It never reads the memory at hdr.
func (t *requestTable) find(hdr *RequestHeader) *request {
	s := t.tab.Load()
	if s == nil {
		return nil
	}
	mask := uint64(len(s.entries) - 1)
	for i := s.first(hdr); ; i = (i + 1) & mask {
		r := s.entries[i].Load()
		if r == nil {
			return nil
		}
		if r.hdr == hdr {
			return r
		}
	}
}

// add puts r, a new request, in the table.
func (t *requestTable) add(r *request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.tab.Load()
	if s == nil || 2*(t.used+1) > len(s.entries) {
		s = t.rebuild(s)
	}
	mask := uint64(len(s.entries) - 1)
	for i := s.first(r.hdr); ; i = (i + 1) & mask {
		switch s.entries[i].Load() {
		case nil:
			t.used++
		case tombstone:
		default:
			continue
		}
		s.entries[i].Store(r)
		t.live++
		return
	}
}

// remove takes r, a request being freed, out of the table.
func (t *requestTable) remove(r *request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.tab.Load()
	mask := uint64(len(s.entries) - 1)
	for i := s.first(r.hdr); ; i = (i + 1) & mask {
		switch s.entries[i].Load() {
		case r:
			s.entries[i].Store(tombstone)
			t.live--
			return
		case nil:
			return // not there: nothing to do
		}
	}
}

// rebuild publishes a new table, without tombstones, at most a quarter
// full with the live requests and one more, and returns it. Called with mu
// held.
func (t *requestTable) rebuild(old *requestSlots) *requestSlots {
	bits := uint(4)
	for 1<<bits < 4*(t.live+1) {
		bits++
	}
	s := &requestSlots{bits: bits, entries: make([]atomic.Pointer[request], 1<<bits)}
	mask := uint64(len(s.entries) - 1)
	if old != nil {
		for j := range old.entries {
			r := old.entries[j].Load()
			if r == nil || r == tombstone {
				continue
			}
			i := s.first(r.hdr)
			for s.entries[i].Load() != nil {
				i = (i + 1) & mask
			}
			s.entries[i].Store(r)
		}
	}
	t.used = t.live
	t.tab.Store(s)
	return s
}

// each calls f for each request in the table until f returns false.
func (t *requestTable) each(f func(r *request) bool) {
	s := t.tab.Load()
	if s == nil {
		return
	}
	for i := range s.entries {
		if r := s.entries[i].Load(); r != nil && r != tombstone && !f(r) {
			return
		}
	}
}
