package engine

import (
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
