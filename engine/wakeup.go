package engine

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waiting for a while without a Go timer.
//
// The Go runtime's first timer (time.Sleep, time.NewTimer, a select with
// time.After) starts its network poller, which holds an epoll descriptor
// and an eventfd for the rest of the process's life: descriptors the
// program did not open and would see (its own next descriptor numbers
// shift). The engine's few timed waits are made with futex(2) and
// nanosleep(2) instead, as blocking system calls.

const (
	futexWaitPrivate = 128 | 0 // FUTEX_PRIVATE_FLAG | FUTEX_WAIT
	futexWakePrivate = 128 | 1 // FUTEX_PRIVATE_FLAG | FUTEX_WAKE
)

// A wakeup lets goroutines wait until another wakes them: for a while at
// most (wait, waitRaw) or for as long as it takes (sleep). The zero value
// is ready to use.
type wakeup struct {
	// 0: no wake-up since reset; 1: woken since reset; 2: goroutines may
	// sleep in futex(2) on the word (it stays 2 after they time out).
	word atomic.Uint32
}

// reset forgets a wake-up from before; call it before looking at what a
// wait is for, so that an old wake-up is not taken for a new one.
func (w *wakeup) reset() { w.word.CompareAndSwap(1, 0) }

// wake wakes every goroutine in wait, and makes waits return at once until
// the next reset.
func (w *wakeup) wake() {
	if w.mark() {
		w.wakeSleepers()
	}
}

// mark is wake without the system call: it records the wake-up and tells
// whether goroutines may sleep in futex(2) and need wakeSleepers. A lock
// holder marks, and wakes the sleepers once it has released the lock,
// which they would otherwise find held.
func (w *wakeup) mark() bool { return w.word.Swap(1) == 2 }

// wakeSleepers wakes the goroutines asleep in futex(2) on w.
func (w *wakeup) wakeSleepers() {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.word)), futexWakePrivate, 1<<31-1, 0, 0, 0)
}

// wait returns once wake has been called (since reset), or after d.
func (w *wakeup) wait(d time.Duration) { w.await(d, false) }

// waitRaw is wait without telling the Go scheduler: the goroutine keeps
// its P (the runtime sees it running, not in a system call), which a
// garbage collection's stop of the world waits for; so d must be short.
// It tells whether wake was called.
func (w *wakeup) waitRaw(d time.Duration) bool { return w.await(d, true) }

// sleep returns once wake has been called (since reset), however long
// that takes.
func (w *wakeup) sleep() { w.await(-1, false) }

// await waits in futex(2) (raw: without telling the Go scheduler) until
// wake is called (since reset) or, if d >= 0, d has passed, and tells
// whether wake was called. The system calls are made directly, not through
// a function value, so that the pointers passed as uintptr stay valid.
func (w *wakeup) await(d time.Duration, raw bool) bool {
	deadline := time.Now().Add(d)
	for w.word.Load() != 1 {
		var ts *unix.Timespec
		if d >= 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			t := unix.NsecToTimespec(int64(left))
			ts = &t
		}
		if !w.word.CompareAndSwap(0, 2) && w.word.Load() != 2 {
			continue // woken in between
		}
		if raw {
			unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.word)), futexWaitPrivate, 2, uintptr(unsafe.Pointer(ts)), 0, 0)
		} else {
			unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.word)), futexWaitPrivate, 2, uintptr(unsafe.Pointer(ts)), 0, 0)
		}
	}
	return true
}

// nap sleeps for d, with nanosleep(2) (see above).
func nap(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
