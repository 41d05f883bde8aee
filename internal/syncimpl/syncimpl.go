//go:build cgo

// Package syncimpl is the synchronous C implementation of the asio
// contract (capi/stub/sync.c, the route of forked children and of
// processes without the engine), compiled into Go for tests: the engine's
// fuzz target drives it beside the engine and the reference model
// (engine/fuzz_test.go), and tests compare its messages, magic numbers and
// argument checks with the engine's.
//
// Design (why it is built this way):
//
//   - In-process, with cgo, rather than a child process over a pipe: the
//     fuzzer compares after every call, and a call is then a function call,
//     not a round trip; the C path sees the same kind of descriptors and
//     memory as in a real process.
//   - sync.c ends the process (ucwasio_die) on misuse and on a failed
//     write-back. The harness compiles it with its own ucwasio_die
//     (harness.c), which records the line and longjmps back to a C
//     trampoline around the call; the call returns a *Died to Go. No Go
//     frame is ever unwound through C, and nothing of sync.c is changed. A
//     Died is "the process is dead": the caller makes no further calls
//     except to tear down (and Abandon, which forgets the requests the
//     process lost).
//   - Faults (EINTR, short transfers, a full disk) are injected as the
//     engine's tests inject them through engine.Syscalls: harness.c
//     compiles sync.c with read and write defined as its own wrappers,
//     which inject the faults set by SetFaults on the descriptors named
//     there and on no others. The library's build is not affected.
//   - sync_c.h, sync.h and die.h are symbolic links to capi/stub/, and
//     asio.h to include/ucw/asio.h (included as <ucw/asio.h>), so that the
//     go command, which hashes the .h files of a package's directory (and
//     no others), rebuilds the harness when sync.c or the header changes.
//
// Coverage of sync.c by the fuzz corpus (gcov; the counters are written
// after every call, since a Go program does not end through exit(); the
// value of UCWASIO_GCOV only makes the flags new, so that the go command
// compiles the harness again rather than take it from its cache):
//
//	CGO_CFLAGS="-O0 -DUCWASIO_GCOV=$(date +%s) --coverage" CGO_LDFLAGS=--coverage \
//	  go test -work -count=1 -run 'TestModelScenarios|FuzzEngineMatchesModel' ./engine
//	cd internal/syncimpl && d=$(dirname $(find $WORK -name '*.gcda' | head -1)) &&
//	  gcov -o $d $d/_x00*.o   # sync.c is reported as sync_c.h
//
// Queues and requests are C memory (AllocQueue, the requests sync.c maps),
// as they are for a C caller; their layout is the engine's QueueHeader and
// RequestHeader (Layout gives the C offsets). Buffers a request points at
// must be C memory too (Alloc): sync.c keeps the pointer.
package syncimpl

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -std=gnu11 -Wall -Wextra -Werror
#include <stdlib.h>
#include <string.h>
#include "harness.h"
*/
import "C"

import (
	"unsafe"
)

// Available tells whether the C implementation is compiled in (it needs cgo).
const Available = true

// Died is the line with which sync.c ended the process.
type Died struct {
	Line string
}

func (d *Died) Error() string { return d.Line }

func call(fn C.int, arg unsafe.Pointer) (unsafe.Pointer, error) {
	var msg [C.HARNESS_MSG_LEN]C.char
	var res unsafe.Pointer
	if C.harness_call(fn, arg, &res, &msg[0]) != 0 {
		return nil, &Died{Line: C.GoString(&msg[0])}
	}
	return res, nil
}

// Init is asio_init_queue(q).
func Init(q unsafe.Pointer) error { _, err := call(C.HARNESS_INIT, q); return err }

// Cleanup is asio_cleanup_queue(q).
func Cleanup(q unsafe.Pointer) error { _, err := call(C.HARNESS_CLEANUP, q); return err }

// Get is asio_get(q).
func Get(q unsafe.Pointer) (unsafe.Pointer, error) { return call(C.HARNESS_GET, q) }

// Submit is asio_submit(r).
func Submit(r unsafe.Pointer) error { _, err := call(C.HARNESS_SUBMIT, r); return err }

// Wait is asio_wait(q).
func Wait(q unsafe.Pointer) (unsafe.Pointer, error) { return call(C.HARNESS_WAIT, q) }

// Put is asio_put(r).
func Put(r unsafe.Pointer) error { _, err := call(C.HARNESS_PUT, r); return err }

// Sync is asio_sync(q).
func Sync(q unsafe.Pointer) error { _, err := call(C.HARNESS_SYNC, q); return err }

// Abandon forgets the requests of q that the process lost when it died (a
// failed write-back is never recycled), so that Cleanup can free the queue
// after the test has drained it. Only for tearing down after a Died.
func Abandon(q unsafe.Pointer) { C.harness_abandon((*C.struct_asio_queue)(q)) }

// AllocQueue returns a zeroed struct asio_queue in C memory.
func AllocQueue() unsafe.Pointer { return C.calloc(1, C.sizeof_struct_asio_queue) }

// Alloc returns n bytes (at least 1) of C memory, zeroed.
func Alloc(n int) unsafe.Pointer { return C.calloc(C.size_t(max(n, 1)), 1) }

// Free frees memory from AllocQueue or Alloc.
func Free(p unsafe.Pointer) { C.free(p) }

// Faults are injected into sync.c's read(2) and write(2) calls on Fds
// (see harness.c); the zero value injects none.
type Faults struct {
	EINTREvery int64 // every n-th call fails with EINTR first (0: never)
	Short      int   // a call moves at most this many bytes (0: no limit)
	QuotaFd    int   // writes through this descriptor...
	Quota      int64 // ...stop at this file position with ENOSPC (< 0: no limit)
	Fds        []int // the descriptors faults apply to
}

// SetFaults sets the faults for the calls that follow.
func SetFaults(f Faults) {
	var c C.struct_harness_faults
	c.eintr_every = C.longlong(f.EINTREvery)
	c.short_limit = C.int(f.Short)
	c.quota_fd = C.int(f.QuotaFd)
	c.quota = C.longlong(f.Quota)
	for _, fd := range f.Fds {
		if c.nfds < C.HARNESS_MAX_FDS {
			c.fds[c.nfds] = C.int(fd)
			c.nfds++
		}
	}
	C.harness_set_faults(&c)
}

// The marks sync.c knows: the engine's (which it must agree with
// engine.QueueMagic and engine.RequestMagic) and its own.
var (
	EngineQueueMagic   = uint64(C.harness_magic[0])
	EngineRequestMagic = uint64(C.harness_magic[1])
	SyncQueueMagic     = uint64(C.harness_magic[2])
	SyncRequestMagic   = uint64(C.harness_magic[3])
)

// LayoutNames names the values of Layout, in order.
var LayoutNames = [...]string{
	"sizeof(struct asio_queue)", "buffer_size", "max_writebacks", "allocated_requests",
	"running_requests", "running_writebacks", "queue.private_magic", "queue.private_handle", "use_count",
	"sizeof(struct asio_request)", "work", "queue", "buffer", "fd", "op", "len", "status",
	"returned_errno", "submitted", "user_data",
}

// Layout returns the sizes and offsets of struct asio_queue and struct
// asio_request as the C compiler lays them out from <ucw/asio.h>, named by
// LayoutNames.
func Layout() []uintptr {
	out := make([]uintptr, len(LayoutNames))
	for i := range out {
		out[i] = uintptr(C.harness_layout[i])
	}
	return out
}
