package engine

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/internal/uring"
)

// Requests through io_uring.
//
// A request on a regular file opened with O_DIRECT that may start at once
// is handed to the kernel from the caller's thread, through the queue's
// io_uring, instead of to a background task: the transfer proceeds in the
// kernel, and no thread of ours wakes up for it. Reads and writes use the
// file position, as read(2) and write(2) do (nothing else of the queue
// uses the descriptor meanwhile: see mayStart), at the offset lseek gives
// when they start, and move it by what they transferred when they are
// reaped (the kernel's own "current position" offset, -1, is not kept up
// to date by asynchronous O_DIRECT transfers); write-backs in a chain of
// positioned ones (see schedule.go) use their offsets.
//
// The ring must be invisible to the program's own system calls. So:
//
//   - It is set up with IORING_SETUP_DEFER_TASKRUN (and SINGLE_ISSUER, which
//     that needs): completions are posted only when the ring's creator
//     waits in it. Without it, every completion notifies the submitting
//     thread as a signal would (TIF_NOTIFY_SIGNAL), and the program's own
//     read of a pipe, a socket or /dev/zero on that thread comes back
//     short; COOP_TASKRUN does not stop that.
//   - Every transfer is submitted with RWF_NOWAIT: one the kernel cannot
//     do without blocking (an extending or unaligned O_DIRECT write, a read
//     of a file with dirty cached pages) comes back at once with EAGAIN
//     instead of going to io-wq, the kernel's workers. Those are the
//     submitting thread's, and the kernel asks that thread for more of them
//     with the same signal-like notification, DEFER_TASKRUN or not; a
//     worker that cannot be made while a signal is pending cancels the
//     request (ECANCELED). Such a request is done with the plain system
//     call by a background task instead (q.redo), as is any that comes
//     back with ECANCELED, EINTR, EAGAIN or EOPNOTSUPP (a file system
//     without RWF_NOWAIT): no request fails with an error of the ring that
//     the plain system call would not give, and none is resubmitted.
//   - It is set up with IORING_SETUP_NO_MMAP: its memory is the engine's,
//     not a mapping of its descriptor (see "another thread" below).
//
// Only the ring's creator thread may submit to it or wait in it; so only
// the caller's calls (Submit, Wait, Sync) submit and reap, never a
// background task. A request behind requests in the ring waits for the
// caller's next call that reaps, but not for ever: the program may be
// waiting for it elsewhere (reading a pipe that request feeds), and the
// original's requests progress whether or not the program calls again. A
// background task that finds its next request waiting only for the ring
// gives the caller ringGrace, then collects the ring itself (waitCaller).
// A queue may be handed from thread to
// thread (one at a time): the ring then answers the new thread with
// EEXIST, which is how the engine notices (no gettid on the hot path).
// An empty ring is closed and the next request gets a new one, the new
// thread's. A ring with requests in flight is shut (its descriptor
// closed): the kernel finishes or cancels them whether or not the old
// thread ever calls again, and posts their completions to the ring's
// memory, which the new thread reads; a request that comes back failed
// may not have run, and is done again with the plain system call (each
// is a transfer at a fixed offset from a buffer nobody else uses, so
// doing it twice leaves what doing it once does). The same happens when
// the ring breaks (its descriptor closed by the program, say): the
// queue then does without a ring.

const (
	ringEntries = 64 // requests of a queue in its ring at once
	maxRings    = 64 // rings of an Engine: each takes a descriptor

	// ringFlags: see above; CLAMP for kernels with a lower limit.
	ringFlags = uring.SetupClamp | uring.SetupSingleIssuer | uring.SetupDeferTaskrun | uring.SetupNoMmap
)

// ringState is a queue's io_uring. Under q.mu; the ring itself is used
// only by the caller's calls.
type ringState struct {
	u     *uring.Ring
	off   bool       // no ring for this queue: set-up failed, too many, or it broke
	slots []*request // the requests in the ring, by tag
	free  []uint64   // unused tags
	redo  fifo       // started requests to be done the plain way by a background task

	waiting  bool   // the caller waits in the ring (q.mu released)
	shutting bool   // a background task is collecting the ring (q.mu released)
	reaped   uint64 // times the caller reaped: a task waiting for it sees it come
	kick     wakeup // wakes a task waiting for the caller (see waitCaller)

	// refused is the file whose extending writes the ring refused (see
	// ringStart): on ext4, an O_DIRECT write past the end of the file
	// needs the inode's exclusive lock, which RWF_NOWAIT never waits for.
	refused struct {
		dev, ino uint64
		ok       bool
	}

	// The ring's buffer table (see pin.go).
	gen   uint32 // the ring's number among the queue's rings
	table uint16 // slots in the table; 0: none
	used  uint16 // slots given out

	fault      func(res int32) int32 // tests: changes the results the ring gives
	offered    int                   // tests: transfers submitted to the ring
	fixedOps   uint64                // tests: transfers submitted naming a slot
	fixedFails uint64                // tests: ... that came back with EFAULT
}

// inFlight is the number of requests in the ring.
func (rs *ringState) inFlight() int { return len(rs.slots) - len(rs.free) }

// ringStart starts the oldest pending request through the ring if it may
// start now and goes the ring's way (a read or write of an O_DIRECT file,
// a positioned write-back), and tells whether it did. Called under q.mu,
// in a call of the caller's (never from a background task).
func (q *Queue) ringStart() bool {
	rs := &q.ring
	r := q.pending.peek()
	if r == nil || !q.eng.ring || rs.off || rs.shutting || q.failed || !r.usable() || r.partial > 0 {
		// A read that got part of its data without waiting (readNow, with
		// a kind cache that did not know the file is O_DIRECT now) is
		// finished by read(2), which appends to what it got.
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
		q.redoPlain(r) // lseek failed: a plain write(2) reports what is wrong
		return true
	} else {
		// A write-back past what the file held is not offered to the ring
		// once the ring refused one of those for this file: the answer
		// would be EAGAIN again, after a system call, each write of a
		// stream. (Where the file system takes them, as XFS may, none is
		// refused and all go to the ring.)
		r.extending = q.pos.size >= 0 && r.off+int64(r.n) > max(q.pos.size, q.pos.furthest)
		if rf := &rs.refused; r.extending && rf.ok && rf.dev == r.file.dev && rf.ino == r.file.ino {
			q.redoPlain(r)
			return true
		}
	}
	q.ringSubmit(r)
	return true
}

// ringSubmit passes r, started, to the ring. Under q.mu.
func (q *Queue) ringSubmit(r *request) {
	rs := &q.ring
	for attempt := 0; ; attempt++ {
		tag := rs.free[len(rs.free)-1]
		rs.free = rs.free[:len(rs.free)-1]
		rs.slots[tag] = r
		r.inRing = true
		op := uring.Op{Code: uring.OpWrite, RWFlags: unix.RWF_NOWAIT, Fd: r.fd, Buf: r.buf, Len: r.n, Off: r.off, Tag: tag}
		op.BufIndex, r.reg.fixed = q.fixedSlot(r)
		switch {
		case r.op == OpRead && r.reg.fixed:
			op.Code = uring.OpReadFixed
		case r.op == OpRead:
			op.Code = uring.OpRead
		case r.reg.fixed:
			op.Code = uring.OpWriteFixed
		}
		rs.offered++
		if r.reg.fixed {
			rs.fixedOps++
		}
		rs.u.Prep(op)
		_, err := rs.u.Submit()
		if err == nil {
			// What the kernel could not do without blocking is posted
			// already: give it to a background task now.
			if rs.u.Ready() > 0 {
				q.reapRing()
			}
			return
		}
		// The kernel took nothing: r is queued still. Take it back.
		rs.u.Retract(func(tag uint64) { q.unslot(tag) })
		if err == uring.ErrNotOwner && attempt == 0 {
			// The caller's thread is not the ring's creator: the queue
			// was handed to this thread. Give it a ring of its own.
			q.replaceRing(err)
			if rs.u != nil || q.setupRing() {
				continue
			}
		} else if err != syscall.EAGAIN && err != syscall.EBUSY && err != uring.ErrNotOwner {
			q.replaceRing(err) // the ring is broken
		}
		// Short of kernel memory, or no ring: the plain way, without
		// waiting for the ring to have room.
		q.redoPlain(r)
		return
	}
}

// unslot frees the ring slot tag; its request is no longer in the ring.
func (q *Queue) unslot(tag uint64) *request {
	rs := &q.ring
	r := rs.slots[tag]
	rs.slots[tag] = nil
	rs.free = append(rs.free, tag)
	r.inRing = false
	return r
}

// setupRing gives the queue a ring of the caller's thread, and tells
// whether it got one.
func (q *Queue) setupRing() bool {
	rs := &q.ring
	if q.eng.rings.Add(1) > maxRings {
		q.eng.rings.Add(-1)
		rs.off = true
		return false
	}
	fds := q.eng.ringFds
	if fds != nil {
		fds.Lock()
	}
	u, err := uring.New(ringEntries, ringFlags)
	if fds != nil {
		if err == nil {
			fds.Add(u.Fd())
		}
		fds.Unlock()
	}
	if err != nil {
		q.eng.rings.Add(-1)
		// No io_uring here (ENOSYS, EPERM), none with these flags (EINVAL:
		// before Linux 6.5), or no descriptor left.
		rs.off = true
		return false
	}
	rs.u = u
	q.registerTable(u)
	n := min(int(u.Entries()), ringEntries)
	rs.slots = make([]*request, n)
	rs.free = make([]uint64, n)
	for i := range rs.free {
		rs.free[i] = uint64(n - 1 - i)
	}
	return true
}

// rawWait is how long waitRing, and Queue.sleep, keep their thread's P
// while they wait: longer than most O_DIRECT transfers take, well short of
// the 10 ms after which the Go scheduler would preempt the goroutine
// anyway. A garbage collection's stop of the world waits for such a wait.
const rawWait = 5 * time.Millisecond

// waitRing waits until requests in the ring complete and finishes them.
// Called under q.mu in a call of the caller's, with requests in the ring;
// returns under q.mu.
//
// With the executor's leave (see Executor), it first waits up to rawWait
// without telling the Go scheduler, as a system call that does not block
// would: a blocking system call makes the runtime's monitor wake up every
// 20 µs and hand the goroutine's P to another thread, which cost as much
// CPU as the I/O itself. Only a longer wait goes the ordinary way. The
// engine runs without asynchronous preemption (see scripts/build-lib.sh),
// so a garbage collection's stop of the world waits for such a wait to
// end: up to rawWait, for the engine's own goroutines only.
func (q *Queue) waitRing() {
	u := q.ring.u
	q.ring.waiting = true
	q.unlock()
	keepP := false
	if h := q.eng.holder; h != nil {
		keepP = h.Holding(1)
	}
	var err error = uring.ErrTimeout
	if keepP {
		err = u.Wait(1, rawWait, true)
	}
	if err == uring.ErrTimeout {
		err = u.Wait(1, -1, false)
	}
	if q.eng.holder != nil {
		q.eng.holder.Holding(-1) // whatever Holding(1) reported; h takes only its own lock
	}
	q.mu.Lock()
	q.ring.waiting = false
	switch err {
	case nil, syscall.EINTR, uring.ErrTimeout:
		q.reapRing()
	default:
		q.replaceRing(err) // the queue was handed to this thread, or the ring broke
	}
	q.ring.reaped++
	q.kickTask()
}

// kickTask wakes a background task waiting for the caller (waitCaller), if
// any. Under q.mu.
func (q *Queue) kickTask() {
	q.ring.kick.wake()
}

// ringGrace is how long a background task whose next request waits only
// for requests in the ring waits for the caller to reap them before it
// collects them itself (see waitCaller): longer than a caller that streams
// takes between its calls, short enough for a program that waits for that
// request elsewhere (a pipe it feeds, read by the program itself).
const ringGrace = 2 * time.Millisecond

// waitCaller is called by a background task whose next request waits only
// for requests in the ring, which only the caller's thread can reap. The
// original's requests make progress whether or not the program calls
// again, and a program may wait for one of them outside the library. So
// the task waits up to ringGrace for the caller to reap; if the caller
// does not, the task collects the ring's requests itself: it shuts the
// ring (the caller's next request gets a new one) and reads their
// completions from memory, as replaceRing does. Under q.mu, which it
// releases meanwhile; the caller then sleeps rather than use the ring.
func (q *Queue) waitCaller() {
	rs := &q.ring
	rs.kick.reset()
	seen := rs.reaped
	q.unlock()
	rs.kick.wait(ringGrace)
	q.mu.Lock()
	if rs.reaped != seen || rs.waiting || rs.shutting || rs.inFlight() == 0 || rs.redo.len() > 0 {
		return // the caller is at it, or there is other work: look again
	}
	rs.shutting = true
	q.collectRing(rs.u)
	q.closeRing()
	rs.shutting = false
	if q.waiting {
		// The caller went to sleep because the ring was being collected.
		q.waiting = false
		if q.wake.mark() {
			q.toWake |= wakeCaller
		}
	}
}

// redoResults are the results of a transfer in the ring that the plain
// system call would not give (or not give on a blocking descriptor): the
// transfer is done again the plain way.
func redoResult(res int32) bool {
	switch syscall.Errno(-res) {
	case syscall.EAGAIN, syscall.ECANCELED, syscall.EINTR, syscall.EOPNOTSUPP:
		return true
	}
	return false
}

// reapRing finishes the requests whose completions the ring has posted.
// Under q.mu.
func (q *Queue) reapRing() {
	q.ring.u.Reap(func(tag uint64, res int32) {
		if f := q.ring.fault; f != nil {
			res = f(res)
		}
		r := q.unslot(tag)
		redo := redoResult(res)
		if fixedFault(r, res) {
			q.ring.fixedFails++
			redo = true
		}
		q.ringDone(r, res, redo)
	})
}

// ringDone finishes r, back from the ring with result res, or has it done
// again the plain way (redo).
func (q *Queue) ringDone(r *request, res int32, redo bool) {
	if redo {
		if r.extending && res == -int32(syscall.EAGAIN) {
			q.ring.refused.dev, q.ring.refused.ino, q.ring.refused.ok = r.file.dev, r.file.ino, true
		}
		q.redoPlain(r)
		return
	}
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
}

// redoPlain has a background task do r, started and not in the ring, with
// its plain system call: read(2) or write(2) at the file position (where
// the ring would have done it), pwrite(2) for a positioned write-back.
// Under q.mu.
func (q *Queue) redoPlain(r *request) {
	r.atPosition = false
	q.ring.redo.push(r)
	q.kickTask()
	q.moreWork()
	if q.tasksBusy() && q.tasks < maxTasks {
		q.tasks++
		q.eng.exec.Run(q.drainTask)
	}
}

// replaceRing gives up the queue's ring after it refused an operation
// with err: ErrNotOwner when it belongs to another thread; otherwise it is
// broken (EBADF or EOPNOTSUPP: the program closed its descriptor, whose
// number is no longer ours). Requests in it are collected: the ring is
// shut, and the kernel finishes or cancels them and posts their
// completions to the ring's memory (see above); one that comes back
// failed is done again the plain way. A broken ring is not replaced.
// Under q.mu, which it releases while it waits.
func (q *Queue) replaceRing(err error) {
	rs := &q.ring
	u := rs.u
	if u == nil {
		return
	}
	if err != uring.ErrNotOwner {
		rs.off = true
	}
	if err == syscall.EBADF || err == syscall.EOPNOTSUPP {
		q.eng.forgetRing(u)
	}
	if rs.inFlight() > 0 {
		rs.shutting = true
		q.collectRing(u)
		rs.shutting = false
	}
	q.closeRing()
}

// collectRing shuts the ring u and finishes the requests in it as their
// completions come to its memory; one that comes back failed is done again
// the plain way. Under q.mu, which it releases while it waits, with
// rs.shutting set: nobody else touches the ring meanwhile.
func (q *Queue) collectRing(u *uring.Ring) {
	rs := &q.ring
	q.eng.shutRing(u)
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 2*time.Millisecond) {
		u.Reap(func(tag uint64, res int32) {
			q.ringDone(q.unslot(tag), res, res < 0)
		})
		if rs.inFlight() == 0 {
			return
		}
		// The kernel gives no wake-up to anyone but the ring's creator:
		// look again in a while.
		q.unlock()
		nap(pause)
		q.mu.Lock()
	}
}

// cleanupRing tears the queue's ring down for Cleanup: nothing is in it
// (the caller has no request running), and no background task is left.
func (q *Queue) cleanupRing() {
	q.mu.Lock()
	q.closeRing()
	q.unlock()
}

// closeRing tears the queue's ring down; nothing is in it. Under q.mu.
func (q *Queue) closeRing() {
	rs := &q.ring
	if rs.u != nil {
		q.eng.shutRing(rs.u)
		rs.u.Close()
		q.eng.rings.Add(-1)
		rs.u, rs.slots, rs.free = nil, nil, nil
	}
}

// shutRing closes u's descriptor (see uring.Ring.Shut), through
// Options.RingFds where it keeps it.
func (e *Engine) shutRing(u *uring.Ring) {
	if fd := u.Fd(); fd >= 0 && e.ringFds != nil {
		u.Forget()
		e.ringFds.Close(fd)
	}
	u.Shut()
}

// forgetRing makes u forget its descriptor, no longer the ring's (see
// uring.Ring.Forget), and Options.RingFds with it.
func (e *Engine) forgetRing(u *uring.Ring) {
	if fd := u.Fd(); fd >= 0 && e.ringFds != nil {
		e.ringFds.Forget(fd)
	}
	u.Forget()
}
