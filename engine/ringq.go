package engine

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// Requests through io_uring.
//
// A request on a regular file opened with O_DIRECT that may start at once
// is handed to the kernel from the thread that submits it, through the
// queue's io_uring, instead of to a background task: the transfer
// proceeds in the kernel, and no thread of ours wakes up for it. Reads and
// writes use the file position, as read(2) and write(2) do (nothing else
// of the queue uses the descriptor meanwhile: see mayStart), at the
// offset lseek gives when they start, and move it by what they transferred
// when they are reaped (the kernel's own "current position" offset, -1, is
// not kept up to date by asynchronous O_DIRECT transfers); write-backs in
// a chain of positioned ones (see schedule.go) use their offsets. A
// completion is reaped by whoever needs it next: the caller waiting for a
// result or for a write-back slot (it sleeps in io_uring_enter, not on a
// channel), or a background task whose next request waits for the ring.
// Only one goroutine waits for completions at a time (ringState.reaping);
// the others park as for any request. Page-cache files, pipes and the rest
// keep the ordinary way, where a read may be done at once (readNow) and a
// signal is answered as read(2) answers it.

const (
	ringEntries = 64 // requests of a queue in its ring at once
	maxRings    = 64 // rings of an Engine: each takes a descriptor
)

// ringState is a queue's io_uring. Under q.mu.
type ringState struct {
	u       *uring
	off     bool       // no ring for this queue: setup failed, or too many
	slots   []*request // the requests in the ring, by tag
	free    []uint64   // unused tags
	reaping bool       // a goroutine waits in the ring for completions
}

// inFlight is the number of requests in the ring.
func (rs *ringState) inFlight() int { return len(rs.slots) - len(rs.free) }

// ringStart starts the oldest pending request through the ring if it may
// start now and goes the ring's way (a read or write of an O_DIRECT file,
// a positioned write-back), and tells whether it did. Called under q.mu.
func (q *Queue) ringStart() bool {
	rs := &q.ring
	r := q.pending.peek()
	if r == nil || !q.eng.ring || rs.off || q.failed || !r.usable() {
		return false
	}
	f := r.lookup()
	switch {
	case r.op == OpWriteBack:
		if q.pos.valid && q.pos.fd != r.fd || !f.positionable() {
			return false
		}
	case !f.regular || !f.direct || r.op == OpWrite && f.append:
		return false
	}
	if !q.mayStart(r) || rs.u == nil && !q.setupRing() || len(rs.free) == 0 {
		return false
	}
	var cur int64
	if r.op != OpWriteBack {
		var err error
		if cur, err = unix.Seek(r.fd, 0, unix.SEEK_CUR); err != nil {
			return false // read(2) or write(2) will say what is wrong
		}
	}
	q.start(r, true)
	if r.op != OpWriteBack {
		r.off, r.atPosition = cur, true
	} else if !r.positioned {
		// lseek failed: a plain write(2) reports what is wrong.
		q.mu.Unlock()
		r.execute()
		q.mu.Lock()
		q.finish(r)
		return true
	}
	tag := rs.free[len(rs.free)-1]
	rs.free = rs.free[:len(rs.free)-1]
	rs.slots[tag] = r
	r.inRing = true
	q.ringQueue(r, tag)
	if err := rs.u.submit(); err != nil {
		q.mu.Unlock()
		q.eng.fatal(fmt.Errorf("asio_submit: io_uring_enter failed: %v", err))
	}
	return true
}

// ringQueue puts r's transfer into the submission ring.
func (q *Queue) ringQueue(r *request, tag uint64) {
	op := uint8(ioringOpWrite)
	if r.op == OpRead {
		op = ioringOpRead
	}
	q.ring.u.queue(op, r.fd, r.buf, r.n, r.off, tag)
}

// setupRing gives the queue its ring, and tells whether it got one.
func (q *Queue) setupRing() bool {
	rs := &q.ring
	if q.eng.rings.Add(1) > maxRings {
		q.eng.rings.Add(-1)
		rs.off = true
		return false
	}
	u, err := newUring(ringEntries)
	if err != nil {
		q.eng.rings.Add(-1)
		rs.off = true // no io_uring here (ENOSYS, EPERM), or no descriptor left
		return false
	}
	rs.u = u
	n := min(int(u.entries), ringEntries)
	rs.slots = make([]*request, n)
	rs.free = make([]uint64, n)
	for i := range rs.free {
		rs.free[i] = uint64(n - 1 - i)
	}
	return true
}

// waitRing waits until requests in the ring complete and finishes them.
// Called under q.mu, with requests in the ring and nobody else waiting for
// them; returns under q.mu.
func (q *Queue) waitRing() {
	rs := &q.ring
	rs.reaping = true
	q.mu.Unlock()
	keepP := false
	if h := q.eng.holder; h != nil {
		keepP = h.Holding(1)
		defer h.Holding(-1) // after the return, under q.mu: h takes only its own lock
	}
	err := rs.u.wait(keepP)
	q.mu.Lock()
	rs.reaping = false
	if err != nil {
		q.mu.Unlock()
		q.eng.fatal(fmt.Errorf("asio: waiting in io_uring_enter failed: %v", err))
	}
	q.reapRing()
	if q.waiting {
		// The caller parked while this goroutine waited in the ring; it
		// may need to take the waiting over.
		q.waiting = false
		q.wake <- struct{}{}
	}
}

// reapRing finishes the requests the ring has completed. Under q.mu.
func (q *Queue) reapRing() {
	rs := &q.ring
	resubmit := false
	rs.u.reap(func(tag uint64, res int32) {
		r := rs.slots[tag]
		if res == -int32(syscall.EINTR) || res == -int32(syscall.EAGAIN) {
			q.ringQueue(r, tag) // as an interrupted read(2) or write(2) is repeated
			resubmit = true
			return
		}
		rs.slots[tag] = nil
		rs.free = append(rs.free, tag)
		r.inRing = false
		if res >= 0 {
			r.status, r.errno = int(res), 0
			if r.atPosition && res > 0 {
				unix.Seek(r.fd, r.off+int64(res), unix.SEEK_SET) // where read(2) or write(2) leaves it
			}
		} else {
			r.status, r.errno = -1, int(-res)
		}
		r.publish()
		q.finish(r)
	})
	if resubmit {
		if err := rs.u.submit(); err != nil {
			q.mu.Unlock()
			q.eng.fatal(fmt.Errorf("asio: io_uring_enter failed: %v", err))
		}
	}
}

// closeRing tears the queue's ring down; nothing is in it.
func (q *Queue) closeRing() {
	if q.ring.u != nil {
		q.ring.u.close()
		q.eng.rings.Add(-1)
		q.ring = ringState{}
	}
}
