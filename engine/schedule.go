package engine

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Scheduling of one queue's requests.
//
// Requests start in submit order and are collected in submit order (the
// head of active must be done before anything behind it is returned). What
// may differ from one-at-a-time execution is only what no caller can
// observe: a request may start while earlier ones still execute when
//
//   - every executing request is on a different regular file (both looked
//     up with fstat), so neither data nor file position is shared; or
//   - it is a write-back continuing a chain of positioned write-backs on the
//     same descriptor, a regular file opened with O_DIRECT and without
//     O_APPEND: each is done with pwrite at the offset where sequential
//     write(2)s would have put it, and the descriptor's position is moved
//     past it before it starts, where sequential writes would leave it.
//
// Everything else waits until the queue has nothing executing. Write-backs
// that are not positioned (pipes, O_APPEND, page-cache writes) therefore
// keep the strict order of the original.
//
// The caller's thread executes the next request itself when it needs a
// result and nothing of the queue is executing; background tasks (on the
// Executor) make requests progress while the caller does something else.

// maxTasks bounds a queue's background tasks, and so how many of its
// requests execute at once.
const maxTasks = 32

// enqueue adds a submitted request and makes sure a task will start it.
// A read on a quiet queue whose data is at hand (the page cache, a pipe
// with data) is done at once instead, without a hand-off. If nothing else
// of the queue is running but reads in the caller's ready list (see
// Queue.flushReady), it goes there too, and enqueue takes no lock at all.
func (q *Queue) enqueue(r *request) {
	r.file, r.positioned, r.off, r.partial, r.done, r.atPosition, r.extending = fileInfo{}, false, 0, 0, false, false, false
	alone := r.op == OpRead && q.running == q.ready.len()+1 && !q.failed
	if alone {
		// Every running request but r is in ready: pending and active
		// (and so exec, the ring, the redo list) are empty. Only this
		// thread adds to them, so they stay empty without the lock; a
		// background task may still be about to end, but it has nothing
		// to do and touches neither r, the descriptor nor ready. (The
		// counters are the caller's; what tasks wrote to the requests
		// they did, this thread saw when it collected them, under q.mu.)
		if r.readNow() {
			r.done = true
			q.ready.push(r)
			return
		}
	}
	q.mu.Lock()
	if !alone && r.op == OpRead && q.pending.len() == 0 && len(q.exec) == 0 && q.idleTasks() && !q.failed {
		// Nothing else of the queue is in the engine but requests done
		// and waiting in active: no lock is needed until r is published
		// (a lingering task only looks at pending and redo, under q.mu).
		q.unlock()
		done := r.readNow()
		q.mu.Lock()
		if done {
			q.active.push(r)
			r.done = true
			q.unlock()
			return
		}
	}
	q.pending.push(r)
	// The kind cache tells without system calls what surely is not for
	// the ring (page-cache files, pipes). Where it asked the kernel, its
	// answer is r's look-up, which ringStart would make now.
	if q.pending.len() == 1 && q.eng.ring {
		if kind, f := q.kinds.of(r.fd); kind == kindOther {
			if f.known {
				r.file = f
			}
			if q.ringStart() {
				q.unlock()
				return
			}
		}
	}
	q.moreWork() // r is for the tasks: the lingering one takes it
	// A task between requests will take r. Otherwise start one, unless
	// every task is busy and r cannot run beside them.
	start := q.tasksBusy() && q.tasks < maxTasks && (q.tasks == 0 || q.mayOverlap(r))
	if start {
		q.tasks++
	}
	q.unlock()
	if start {
		q.eng.exec.Run(q.drainTask)
	}
}

// idleTasks tells whether the queue has no background task but one that
// lingers (see linger).
func (q *Queue) idleTasks() bool {
	return q.tasks == 0 || q.tasks == 1 && q.lingering
}

// tasksBusy tells whether every background task is executing a request,
// so none will take the next pending one (true with no task at all).
// busy may count one request too many: one started and on its way to the
// ring while the ring is replaced (ringSubmit), in none of the lists; so
// the comparison is <=, not ==, and errs towards starting a task.
func (q *Queue) tasksBusy() bool {
	busy := len(q.exec) - q.ring.inFlight() - q.ring.redo.len()
	if q.callerExec {
		busy--
	}
	return q.tasks <= busy
}

// mayOverlap is a guess, without system calls, whether r could start while
// the executing requests run: not if it uses the descriptor of one of them,
// unless it would continue a chain of positioned write-backs.
func (q *Queue) mayOverlap(r *request) bool {
	for _, e := range q.exec {
		if e.fd == r.fd && !(r.op == OpWriteBack && e.positioned) {
			return false
		}
	}
	return true
}

// drain is a background task: it does the requests the ring gave back
// (see redoPlain), and starts pending requests for as long as they may
// start, executing one at a time itself. It never submits to the ring or
// waits in it, which only the caller's thread may do (see ringq.go): a
// request that waits for requests in the ring waits for the caller to
// reap them, for a while (see waitCaller). Out of work while the queue
// has started requests, it waits for more for a while (see linger).
func (q *Queue) drain() {
	q.mu.Lock()
	var idleSince time.Time // when the task ran out of work (zero: it has work)
	yielded := time.Now()
	for {
		r := q.ring.redo.pop()
		if r == nil {
			r = q.pending.peek()
			if r == nil || q.failed {
				if q.lingering || q.failed || q.released || q.active.len() == 0 {
					break // another task waits, or nothing is left to wait for
				}
				now := time.Now()
				if idleSince.IsZero() {
					idleSince = now
				}
				left := q.eng.lingerFor - now.Sub(idleSince)
				if left <= 0 {
					break
				}
				q.linger(&yielded, now, left)
				continue
			}
			if !q.mayStart(r) {
				if q.ring.inFlight() > 0 && len(q.exec) == q.ring.inFlight() {
					q.waitCaller() // r waits only for requests in the ring
					continue
				}
				break
			}
			q.start(r, true)
			// If the next request could run beside r, let another task try.
			if next := q.pending.peek(); next != nil && q.tasksBusy() && q.tasks < maxTasks && q.mayOverlap(next) {
				q.tasks++
				q.eng.exec.Run(q.drainTask)
			}
		}
		idleSince = time.Time{}
		q.unlock()
		r.execute()
		q.mu.Lock()
		q.finish(r)
	}
	q.tasks--
	q.unlock()
}

// lingerFor is how long a background task that ran out of work waits for
// more while its queue has requests out: longer than a streaming caller
// takes between submissions (a 1 MiB O_DIRECT read takes about 1 ms on a
// disk of 1 GB/s), short enough to leave nothing behind for long.
const lingerFor = 2 * time.Millisecond

// linger waits up to d for more work for a background task, in futex(2)
// (drain lingers for lingerFor in all, however often it is woken for
// nothing in between): a task that ended at once would park its goroutine and its
// thread, and the next request of a stream (a write-back every read, say)
// would wake both again through the Go scheduler, whose hand-offs and
// idle threads' spinning cost more CPU than the write itself. The task
// keeps its P meanwhile where the executor makes room for it (see
// waitRing for what that means to a garbage collection). One task of
// a queue lingers at a time (q.lingering); whatever gives the tasks work
// wakes it (moreWork). Under q.mu, which it releases meanwhile.
func (q *Queue) linger(yielded *time.Time, now time.Time, d time.Duration) {
	q.lingering = true
	q.more.reset()
	q.unlock()
	if now.Sub(*yielded) > yieldEvery {
		runtime.Gosched()
		*yielded = now
	}
	if h := q.eng.holder; h != nil && h.Holding(0) {
		q.more.waitRaw(d) // the executor counts this task's P among its busy ones
	} else {
		q.more.wait(d)
	}
	q.mu.Lock()
	q.lingering = false
}

// yieldEvery is how often a task that keeps lingering goes through the Go
// scheduler. A goroutine that never does is taken for one that runs too
// long: once the runtime's monitor has seen the same one on a P for 10 ms,
// it takes the P from it in its next system call, and then polls every
// 20 µs for a while, which costs more CPU than all of the task's work. A
// yield costs more than it seems (the scheduler wakes an idle thread,
// which spins and sleeps again): once in 8 ms is enough.
const yieldEvery = 8 * time.Millisecond

// sleep waits until the caller is woken (q.wake). Without q.mu.
func (q *Queue) sleep() {
	h := q.eng.holder
	if h != nil {
		woken := h.Holding(1) && q.wake.waitRaw(rawWait)
		h.Holding(-1)
		if woken {
			return
		}
	}
	q.wake.sleep()
}

// moreWork wakes the lingering task, if any: a request is pending, a
// request is to be redone, one finished with others pending (the next may
// start now), or the queue is released (see Queue.release). Not for
// every request that finishes: a stream's reads, reaped from the ring,
// would wake the task for nothing at each. Under q.mu.
func (q *Queue) moreWork() {
	if q.lingering && q.more.mark() {
		q.toWake |= wakeTask
	}
}

// Wake-ups due to q.mu's holder, given once it released q.mu (see unlock).
const (
	wakeCaller = 1 << iota // q.wake: the caller sleeps (next)
	wakeTask               // q.more: a task lingers (linger)
)

// unlock releases q.mu, then wakes whom its holder marked for waking: a
// goroutine woken before would find q.mu held, and park on it through the
// Go scheduler, which for the caller's goroutine (locked to its C thread)
// means two more thread switches.
func (q *Queue) unlock() {
	w := q.toWake
	q.toWake = 0
	q.mu.Unlock()
	if w&wakeCaller != 0 {
		q.wake.wakeSleepers()
	}
	if w&wakeTask != 0 {
		q.more.wakeSleepers()
	}
}

// next returns the oldest started request not yet collected, once it is
// done. With anyWriteback (a write-back submit at the limit) it may also
// return a done write-back that only write-backs on other descriptors
// precede: write-backs on different files finish in any order, and waiting
// for the oldest would leave the others' slots empty (see
// doneWritebackAhead for why not ahead of one on its own descriptor).
// The counters come out as in-order reaping would leave them; what differs is only which
// write-back's failure, if several fail, ends the process first. Reads and
// writes are always collected in order. When nothing of the queue has
// started, the caller executes the next request itself instead of waiting
// for a hand-off. The caller must have a request running.
func (q *Queue) next(anyWriteback bool) *request {
	q.mu.Lock()
	for {
		if h := q.active.peek(); h != nil {
			if h.done {
				q.active.pop()
				q.unlock()
				return h
			}
			if anyWriteback {
				if r := q.active.removeFirst(doneWritebackAhead()); r != nil {
					q.unlock()
					return r
				}
			}
		} else {
			r := q.pending.peek()
			if r == nil {
				q.unlock()
				q.eng.internal(call(q.busy).String(), "a request is running but none is pending or started")
			}
			q.start(r, false)
			q.callerExec = true
			q.unlock()
			r.execute()
			q.mu.Lock()
			q.callerExec = false
			q.finish(r)
			// Requests behind r progress: in the ring, or in the background.
			for q.ringStart() {
			}
			start := q.pending.len() > 0 && q.tasks == 0
			if start {
				q.tasks++
			}
			// r is done unless it is a failed write-back whose chain
			// still executes (see settle): then it is waited for.
			done := r.done
			if done {
				q.active.pop() // r: nothing was started before it
			}
			q.unlock()
			if start {
				q.eng.exec.Run(q.drainTask)
			}
			if done {
				return r
			}
			q.mu.Lock()
			continue
		}
		if h := q.active.peek(); q.ring.inFlight() > 0 && !q.ring.shutting && (anyWriteback || h.inRing || h.settling) {
			// What the caller waits for is in the ring, or is a failed
			// write-back whose chain is (see settle): reap it here.
			q.waitRing()
			// Requests behind the reaped ones may start now.
			for q.ringStart() {
			}
			if q.pending.len() > 0 && q.tasks == 0 && !q.failed {
				q.tasks++
				q.unlock()
				q.eng.exec.Run(q.drainTask)
				q.mu.Lock()
			}
			continue
		}
		// Asleep in futex(2), not parked on a channel: the caller's
		// goroutine is locked to its C thread, and the runtime hands a
		// locked goroutine woken from a channel to its thread through
		// the scheduler (two thread switches and the idle threads' spin);
		// a futex wakes the thread directly.
		q.waiting, q.waitingWB = true, anyWriteback
		q.wake.reset()
		q.unlock()
		q.sleep()
		q.mu.Lock()
	}
}

// doneWritebackAhead returns what next(true) gives removeFirst: a done
// write-back may be collected ahead of older write-backs still running,
// but not ahead of one on its own descriptor. One write at a time would
// have done that older one first, and had it failed the process would have
// ended before this write-back was written; so a failure in a chain ends
// the process at the same submit as on the synchronous path (differential
// tests found the engine going on to a later call).
func doneWritebackAhead() (match, skip func(*request) bool) {
	var older []int // descriptors of the older write-backs skipped
	match = func(r *request) bool {
		if !r.done || r.op != OpWriteBack {
			return false
		}
		for _, fd := range older {
			if fd == r.fd {
				return false
			}
		}
		return true
	}
	skip = func(r *request) bool {
		if r.op != OpWriteBack {
			return false
		}
		older = append(older, r.fd)
		return true
	}
	return match, skip
}

// mayStart tells whether r, the oldest pending request, may start beside
// the executing ones. It may look r and them up with system calls.
func (q *Queue) mayStart(r *request) bool {
	if len(q.exec) == 0 {
		return true
	}
	if r.op == OpWriteBack && q.pos.valid && q.pos.fd == r.fd {
		if f := r.lookup(); f.positionable() && q.pos.of(f) {
			return true // continues the chain; every executing request on this file is in it
		}
		// The descriptor now refers to another file: the chain ends
		// before r starts, and r starts one of its own, at the new
		// file's position, as write(2) would write it.
		return false
	}
	f := r.lookup()
	if !f.regular {
		return false
	}
	for _, e := range q.exec {
		if ef := e.lookup(); !ef.regular || ef.dev == f.dev && ef.ino == f.ino {
			return false
		}
	}
	return true
}

// start moves r from pending to active and executing. A write-back on a
// positionable file becomes positioned when others could run beside it:
// when it starts in the background, or with requests waiting behind it.
func (q *Queue) start(r *request, background bool) {
	q.pending.pop()
	q.active.push(r)
	q.exec = append(q.exec, r)
	if r.op == OpWriteBack && (background || q.pending.len() > 0) && r.lookup().positionable() {
		q.position(r)
	}
}

// position gives the write-back r its offset: where the chain of
// positioned write-backs on its descriptor ends, or the descriptor's
// position if no chain is executing. The position is moved past r. There
// is one chain at a time: a write-back on another descriptor stays plain.
func (q *Queue) position(r *request) {
	if q.pos.valid && (q.pos.fd != r.fd || !q.pos.of(r.lookup())) {
		return
	}
	off := q.pos.end
	if !q.pos.valid {
		cur, err := unix.Seek(r.fd, 0, unix.SEEK_CUR)
		if err != nil {
			return // r stays a plain write(2), which will report the error
		}
		off = cur
		f := r.lookup()
		q.pos.dev, q.pos.ino, q.pos.size, q.pos.furthest = f.dev, f.ino, -1, off
		var st unix.Stat_t
		if unix.Fstat(r.fd, &st) == nil && st.Dev == f.dev && st.Ino == f.ino {
			q.pos.size = st.Size
		}
	}
	end := off + int64(r.n)
	if _, err := unix.Seek(r.fd, end, unix.SEEK_SET); err != nil {
		return
	}
	r.positioned, r.off = true, off
	q.pos.valid, q.pos.fd, q.pos.end = true, r.fd, end
	q.pos.count++
}

// finish records that r is done and wakes the caller if it waits.
func (q *Queue) finish(r *request) {
	for i, e := range q.exec {
		if e == r {
			last := len(q.exec) - 1
			q.exec[i] = q.exec[last]
			q.exec[last] = nil
			q.exec = q.exec[:last]
			break
		}
	}
	failed := r.op == OpWriteBack && r.status != r.n
	if failed {
		// The process ends when the caller collects r, as the original's
		// I/O thread ends it at once: no later request may write behind
		// the failed one meanwhile (a disk that is full for one write may
		// have room for the next).
		q.failed = true
	}
	settled := false
	if r.positioned {
		if r.status > 0 {
			q.pos.furthest = max(q.pos.furthest, r.off+int64(r.status))
		}
		if failed {
			// Done only when the chain has ended (see settle).
			q.pos.failed = append(q.pos.failed, r)
			r.settling = true
		} else {
			r.done = true
		}
		if q.pos.count--; q.pos.count == 0 {
			q.pos.valid = false // the chain has drained: positions are read anew
			if len(q.pos.failed) > 0 {
				q.settle()
				settled = true
			}
		}
	} else {
		r.done = true
	}
	if q.pending.len() > 0 {
		q.moreWork() // the next may start now
	}
	// The caller waits only for the oldest started request, or for any
	// write-back. One that failed and waits for its chain to end (settling)
	// wakes it too: the rest of the chain may be in the ring, which only
	// the caller reaps (no task waits for it once the queue has failed).
	if q.waiting && (settled || (r.done || r.settling) && (q.active.peek() == r || q.waitingWB && r.op == OpWriteBack)) {
		q.waiting = false
		if q.wake.mark() {
			q.toWake |= wakeCaller
		}
	}
}

// settle ends a chain of positioned write-backs, some of which failed,
// once none of them executes, and leaves things as one write at a time
// would have left them when the process ended: the failure reported is
// the first in file order (every write-back before it succeeded); what
// later write-backs wrote past the end the file had when the chain began
// is cut off (what they wrote over bytes it had stays); the descriptor's
// position is where the failed write left it.
//
// Only bytes the chain wrote are ever cut, and only while nobody else
// changed the file's end: the descriptor must still refer to the chain's
// file (device and inode), and the file must end exactly where the chain's
// furthest write ended (if it is longer, another descriptor, queue or
// process wrote after the chain; if shorter, someone cut it). Otherwise
// the file and the descriptor are left as they are.
func (q *Queue) settle() {
	first := q.pos.failed[0]
	for _, f := range q.pos.failed {
		if f.off < first.off {
			first = f
		}
		f.done, f.settling = true, false
	}
	q.pos.failed = nil
	q.firstFail = first
	end := first.off + int64(max(first.status, 0))
	var st unix.Stat_t
	if unix.Fstat(first.fd, &st) != nil || st.Dev != q.pos.dev || st.Ino != q.pos.ino {
		return // the descriptor was closed, or refers to another file now
	}
	if keep := max(end, q.pos.size); q.pos.size >= 0 && st.Size == q.pos.furthest && st.Size > keep {
		unix.Ftruncate(first.fd, keep) // at worst the extra bytes stay
	}
	unix.Seek(first.fd, end, unix.SEEK_SET)
}

// position is the chain of positioned write-backs of a queue.
type position struct {
	valid bool  // a positioned write-back is executing
	fd    int   // its descriptor
	end   int64 // where the last one started ends: the descriptor's position
	count int   // positioned write-backs executing
	size  int64 // the file's size when the chain began (-1: unknown)

	dev, ino uint64 // the file the chain writes (see of)
	furthest int64  // where the chain's furthest write so far ended

	failed []*request // the chain's write-backs that failed, not yet done
}

// of tells whether f is the chain's file: a descriptor closed and opened
// again on another file mid-chain is not.
func (p *position) of(f fileInfo) bool { return f.regular && f.dev == p.dev && f.ino == p.ino }
