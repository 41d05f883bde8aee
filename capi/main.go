// Command capi is the engine library of ucw-asio: built with
// -buildmode=c-shared it is libucw-asio-go.so.1, exporting one goasio_*
// function per function of <ucw/asio.h> (declared in goasio.h).
//
// The library a program links or preloads is libucw-asio.so.1, a small C
// library (capi/stub/, built without Go): it loads this one with dlopen
// when the process first calls asio, and calls the goasio_* functions
// through pointers. A child forked without exec after the engine was loaded
// (the Go runtime cannot run there), or a process where the engine cannot be
// loaded, it serves with a synchronous C implementation. The Go exports
// only convert the caller's pointers to the engine's views of the same
// memory and call the engine, where all the logic lives. The version script
// (goasio.map) exports the goasio_* names and keeps the runtime's local.
//
// The engine ends the process (a misuse, a failed write-back, an internal
// error) through the function the C library gives it with goasio_set_die,
// the one its synchronous route ends it through, so that both routes print
// alike (through libucw's die() when the process has libucw). Each export
// also turns a runtime panic, which would otherwise end the process with a
// goroutine dump, into the one line of an internal error.
//
// The runtime's cgroup-aware GOMAXPROCS default is off (containermaxprocs=0):
// it keeps two cgroup files open for the life of the process, descriptors
// the program would see. The pool reads the CPU quota itself instead (see
// workqueue.CPUs), once, and closes what it opened.
//
//go:debug containermaxprocs=0
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include "goasio.h"
#include "rings.h"

static void goasio_call_die(goasio_die_fn *f, const char *line) { f(line); }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	pointer "github.com/mattn/go-pointer"

	"github.com/ucw-asio/ucw-asio/engine"
	"github.com/ucw-asio/ucw-asio/workqueue"
)

// lib is the process's engine. Its queues are tied to the caller's structs
// with go-pointer keys, which live in C memory. Requests on O_DIRECT files
// go through io_uring unless UCW_ASIO_NO_URING is set to anything but ""
// or "0".
var lib = engine.New(engine.Options{Handles: goPointer{}, Fatal: die, Executor: executor(), Ring: ringWanted(os.Getenv("UCW_ASIO_NO_URING")), RingFds: ringFds{}})

// ringFds keeps the rings' descriptors in C (rings.c), where the fork
// handler closes them in a child.
type ringFds struct{}

func (ringFds) Lock()         { C.ucwasio_rings_lock() }
func (ringFds) Unlock()       { C.ucwasio_rings_unlock() }
func (ringFds) Add(fd int)    { C.ucwasio_rings_add(C.int(fd)) }
func (ringFds) Close(fd int)  { C.ucwasio_rings_close(C.int(fd)) }
func (ringFds) Forget(fd int) { C.ucwasio_rings_forget(C.int(fd)) }

// ringWanted tells whether the value of UCW_ASIO_NO_URING leaves the ring on.
func ringWanted(noURing string) bool { return noURing == "" || noURing == "0" }

// maxProcs bounds how far the executor raises GOMAXPROCS: enough Ps for the
// workers of many queues to block in I/O at once while callers still get
// one at every call.
const maxProcs = 64

// executor returns the pool the queues run on. Unless the user chose
// GOMAXPROCS, the pool raises it as its workers block in I/O (see
// workqueue.Pool.ManageProcs); a process that never has I/O in the
// background keeps the runtime's default and its memory.
func executor() *workqueue.Pool {
	p := workqueue.New(0)
	p.OnPanic(func(v any) { internalError("a background task", v) })
	if os.Getenv("GOMAXPROCS") == "" {
		cpus := workqueue.CPUs()
		if cpus < runtime.GOMAXPROCS(0) {
			runtime.GOMAXPROCS(cpus) // the CPU quota, as the runtime's default would have it
		}
		p.ManageProcsFor(maxProcs, cpus)
	}
	return p
}

// goPointer adapts github.com/mattn/go-pointer to engine.Handles.
type goPointer struct{}

func (goPointer) Save(v any) unsafe.Pointer      { return pointer.Save(v) }
func (goPointer) Restore(key unsafe.Pointer) any { return pointer.Restore(key) }
func (goPointer) Unref(key unsafe.Pointer)       { pointer.Unref(key) }

// cDie is the C library's ucwasio_die_line, given with goasio_set_die.
var cDie *C.goasio_die_fn

//export goasio_set_die
func goasio_set_die(f *C.goasio_die_fn) {
	cDie = f
}

// die ends the process with err as one line: through the C library's
// ucwasio_die_line, or, if the engine was loaded without it, the way that
// function does without libucw: the line on stderr, then exit(1), so that
// atexit handlers run and stdio is flushed, or abort() when
// UCW_DIE_BY_ABORT is set.
func die(err error) {
	line := strings.ReplaceAll(err.Error(), "\n", " ")
	if cDie != nil {
		C.goasio_call_die(cDie, C.CString(line))
	}
	os.Stderr.WriteString(line + "\n")
	if C.getenv(cUcwDieByAbort) != nil {
		C.abort()
	}
	C.exit(1)
}

// internalError ends the process with the line of an internal error for
// the panic v, recovered in fn.
func internalError(fn string, v any) {
	die(&engine.InternalError{Func: fn, What: fmt.Sprint(v)})
}

// recovered is deferred by every export: a panic that reaches the export
// (a runtime error in the engine) ends the process with one line instead
// of a goroutine dump.
func recovered(fn string) {
	if v := recover(); v != nil {
		internalError(fn, v)
	}
}

var cUcwDieByAbort = C.CString("UCW_DIE_BY_ABORT")

func queueHeader(q *C.struct_asio_queue) *engine.QueueHeader {
	return (*engine.QueueHeader)(unsafe.Pointer(q))
}

func requestHeader(r *C.struct_asio_request) *engine.RequestHeader {
	return (*engine.RequestHeader)(unsafe.Pointer(r))
}

// cRequest returns the address of the request h for goasio_get and
// goasio_wait (see goasio.h). h is the engine's mmap'd memory, outside the
// Go heap, so the integer keeps it as well as a pointer would.
func cRequest(h *engine.RequestHeader) C.uintptr_t {
	return C.uintptr_t(uintptr(unsafe.Pointer(h)))
}

//export goasio_init_queue
func goasio_init_queue(q *C.struct_asio_queue) {
	defer recovered("asio_init_queue")
	lib.Init(queueHeader(q))
}

//export goasio_cleanup_queue
func goasio_cleanup_queue(q *C.struct_asio_queue) {
	defer recovered("asio_cleanup_queue")
	lib.Queue("asio_cleanup_queue", queueHeader(q)).Cleanup()
}

//export goasio_get
func goasio_get(q *C.struct_asio_queue) C.uintptr_t {
	defer recovered("asio_get")
	return cRequest(lib.Queue("asio_get", queueHeader(q)).Get())
}

//export goasio_submit
func goasio_submit(r *C.struct_asio_request) {
	defer recovered("asio_submit")
	lib.Submit(requestHeader(r))
}

//export goasio_wait
func goasio_wait(q *C.struct_asio_queue) C.uintptr_t {
	defer recovered("asio_wait")
	return cRequest(lib.Queue("asio_wait", queueHeader(q)).Wait())
}

//export goasio_put
func goasio_put(r *C.struct_asio_request) {
	defer recovered("asio_put")
	lib.Put(requestHeader(r))
}

//export goasio_sync
func goasio_sync(q *C.struct_asio_queue) {
	defer recovered("asio_sync")
	lib.Queue("asio_sync", queueHeader(q)).Sync()
}

func main() {}
