// Command floor is the benchmark's floor engine: a stand-in for
// libucw-asio-go.so.1 that does the least any engine of this design must
// do, to measure the design's lower bound in the same run as the real
// engine. It is built only by `make bench-build` (bench/bench.mk), never
// shipped or installed.
//
// Built with -buildmode=c-shared it exports the engine's seven goasio_*
// functions (capi/goasio.h, included below, so the C compiler checks the
// prototypes), and the benchmark loads it the way a program loads the real
// engine: through a copy of the public library (capi/stub/) in the floor's
// own directory, which dlopens the engine beside itself. A request costs
// then what it costs with the real engine minus the engine's own work: the
// stub's indirect call and four C-to-Go crossings, plus the system call.
//
// (set_die.c adds goasio_set_die, which a public library that passes the
// engine its way of dying looks for; the floor ignores it.)
//
// Each function does nothing but the plain system call and the counters of
// <ucw/asio.h>: get and put take and return a request of the queue's idle
// list (allocated once, then reused), submit makes the read(2) or write(2)
// at once in the caller's thread, wait returns the oldest done request.
// There are no background tasks, no look-ups of Go objects (the lists are
// C memory in the queue's private fields), no checks of the caller's
// mistakes. A read that blocks blocks in asio_submit, so it serves the
// benchmark's pingpong and multiqueue workloads (and the stream and
// write-back ones, one write at a time), not fairness.
//
// Reads are made as raw system calls (unix.RawSyscall: the runtime is not
// told), as the real engine makes its no-wait reads of cached files; with
// UCW_ASIO_FLOOR_SYSCALL=1 in the environment they go through
// syscall.Syscall (entersyscall/exitsyscall), as a read that may block
// must. Writes always go through syscall.Syscall.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -I${SRCDIR}/../../capi
#include <stdlib.h>
#include "goasio.h"

// A request of the floor: the caller's struct first, then its own buffer
// and the link of the queue's lists.
struct floor_request {
	struct asio_request r;
	byte *own;
	struct floor_request *next;
};
*/
import "C"

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// floorMagic marks a queue the floor initialised (queue.private_magic), so
// that the bench program can tell that it runs on the floor and not on the
// real engine: "floor" in ASCII, little-endian.
const floorMagic = 0x726f6f6c66

// blockingReads is UCW_ASIO_FLOOR_SYSCALL=1: reads through syscall.Syscall.
var blockingReads = os.Getenv("UCW_ASIO_FLOOR_SYSCALL") == "1"

func request(r *C.struct_asio_request) *C.struct_floor_request {
	return (*C.struct_floor_request)(unsafe.Pointer(r))
}

// The queue's lists live in its private clists: idle_list.head.next is the
// top of the idle stack, done_list.head.next and .prev the head and tail of
// the done FIFO.
func idleTop(q *C.struct_asio_queue) **C.struct_floor_request {
	return (**C.struct_floor_request)(unsafe.Pointer(&q.idle_list.head.next))
}

func doneHead(q *C.struct_asio_queue) **C.struct_floor_request {
	return (**C.struct_floor_request)(unsafe.Pointer(&q.done_list.head.next))
}

func doneTail(q *C.struct_asio_queue) **C.struct_floor_request {
	return (**C.struct_floor_request)(unsafe.Pointer(&q.done_list.head.prev))
}

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "floor: "+format+"\n", args...)
	os.Exit(1)
}

//export goasio_init_queue
func goasio_init_queue(q *C.struct_asio_queue) {
	q.allocated_requests, q.running_requests, q.running_writebacks, q.use_count = 0, 0, 0, 0
	*idleTop(q), *doneHead(q), *doneTail(q) = nil, nil, nil
	q.queue.private_magic = floorMagic
}

//export goasio_cleanup_queue
func goasio_cleanup_queue(q *C.struct_asio_queue) {
	if q.allocated_requests != 0 || q.running_requests != 0 {
		die("asio_cleanup_queue with %d requests allocated", q.allocated_requests)
	}
	for f := *idleTop(q); f != nil; {
		next := f.next
		C.free(unsafe.Pointer(f.own))
		C.free(unsafe.Pointer(f))
		f = next
	}
	*idleTop(q) = nil
	q.queue.private_magic = 0
}

//export goasio_get
func goasio_get(q *C.struct_asio_queue) *C.struct_asio_request {
	f := *idleTop(q)
	if f != nil {
		*idleTop(q) = f.next
	} else {
		f = newRequest(q)
	}
	r := &f.r
	r.queue = q
	r.buffer = f.own
	r.fd = -1
	r.op = C.ASIO_FREE
	r.len = 0
	r.status = -1
	r.returned_errno = -1
	r.submitted = 0
	q.allocated_requests++
	return r
}

// newRequest allocates a request and its page-aligned buffer (once per
// request: afterwards it is reused).
func newRequest(q *C.struct_asio_queue) *C.struct_floor_request {
	f := (*C.struct_floor_request)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_floor_request{}))))
	if f == nil {
		die("asio_get: out of memory")
	}
	size := (C.size_t(q.buffer_size) + 4095) &^ 4095
	if f.own = (*C.byte)(C.aligned_alloc(4096, size)); f.own == nil {
		die("asio_get: out of memory")
	}
	return f
}

//export goasio_submit
func goasio_submit(r *C.struct_asio_request) {
	q := r.queue
	var n uintptr
	var e syscall.Errno
	for {
		switch {
		case r.op == C.ASIO_READ && !blockingReads:
			n, _, e = syscall.RawSyscall(syscall.SYS_READ, uintptr(r.fd), uintptr(unsafe.Pointer(r.buffer)), uintptr(r.len))
		case r.op == C.ASIO_READ:
			n, _, e = syscall.Syscall(syscall.SYS_READ, uintptr(r.fd), uintptr(unsafe.Pointer(r.buffer)), uintptr(r.len))
		default:
			n, _, e = syscall.Syscall(syscall.SYS_WRITE, uintptr(r.fd), uintptr(unsafe.Pointer(r.buffer)), uintptr(r.len))
		}
		if e != syscall.EINTR {
			break
		}
	}
	if e != 0 {
		r.status, r.returned_errno = -1, C.int(e)
	} else {
		r.status, r.returned_errno = C.int(n), 0
	}
	f := request(r)
	if r.op == C.ASIO_WRITE_BACK {
		if e != 0 || n != uintptr(r.len) {
			die("write-back of %d bytes to descriptor %d wrote %d: %v", r.len, r.fd, int(r.status), e)
		}
		f.next = *idleTop(q)
		*idleTop(q) = f
		q.allocated_requests--
		return
	}
	r.submitted = 1
	q.running_requests++
	f.next = nil
	if *doneTail(q) != nil {
		(*doneTail(q)).next = f
	} else {
		*doneHead(q) = f
	}
	*doneTail(q) = f
}

//export goasio_wait
func goasio_wait(q *C.struct_asio_queue) *C.struct_asio_request {
	f := *doneHead(q)
	if f == nil {
		return nil
	}
	*doneHead(q) = f.next
	if f.next == nil {
		*doneTail(q) = nil
	}
	f.r.submitted = 0
	q.running_requests--
	return &f.r
}

//export goasio_put
func goasio_put(r *C.struct_asio_request) {
	q := r.queue
	f := request(r)
	f.next = *idleTop(q)
	*idleTop(q) = f
	q.allocated_requests--
}

//export goasio_sync
func goasio_sync(q *C.struct_asio_queue) {}

func main() {}
