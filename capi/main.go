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
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include "goasio.h"
*/
import "C"

import (
	"os"
	"unsafe"

	pointer "github.com/mattn/go-pointer"

	"github.com/ucw-asio/ucw-asio/engine"
	"github.com/ucw-asio/ucw-asio/workqueue"
)

// lib is the process's engine. Its queues are tied to the caller's structs
// with go-pointer keys, which live in C memory. Positioned write-backs go
// through io_uring unless UCW_ASIO_NO_URING is set (to anything but "").
var lib = engine.New(engine.Options{Handles: goPointer{}, Fatal: die, Executor: executor(), Ring: os.Getenv("UCW_ASIO_NO_URING") == ""})

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
	if os.Getenv("GOMAXPROCS") == "" {
		p.ManageProcs(maxProcs)
	}
	return p
}

// goPointer adapts github.com/mattn/go-pointer to engine.Handles.
type goPointer struct{}

func (goPointer) Save(v any) unsafe.Pointer      { return pointer.Save(v) }
func (goPointer) Restore(key unsafe.Pointer) any { return pointer.Restore(key) }
func (goPointer) Unref(key unsafe.Pointer)       { pointer.Unref(key) }

// die prints err as one line on stderr and ends the process the way
// libucw's die() does: exit(1), so that atexit handlers run and stdio is
// flushed, or abort() when UCW_DIE_BY_ABORT is set.
func die(err error) {
	os.Stderr.WriteString(err.Error() + "\n")
	if C.getenv(cUcwDieByAbort) != nil {
		C.abort()
	}
	C.exit(1)
}

var cUcwDieByAbort = C.CString("UCW_DIE_BY_ABORT")

func queueHeader(q *C.struct_asio_queue) *engine.QueueHeader {
	return (*engine.QueueHeader)(unsafe.Pointer(q))
}

func requestHeader(r *C.struct_asio_request) *engine.RequestHeader {
	return (*engine.RequestHeader)(unsafe.Pointer(r))
}

func cRequest(h *engine.RequestHeader) *C.struct_asio_request {
	return (*C.struct_asio_request)(unsafe.Pointer(h))
}

//export goasio_init_queue
func goasio_init_queue(q *C.struct_asio_queue) {
	lib.Init(queueHeader(q))
}

//export goasio_cleanup_queue
func goasio_cleanup_queue(q *C.struct_asio_queue) {
	lib.Queue("asio_cleanup_queue", queueHeader(q)).Cleanup()
}

//export goasio_get
func goasio_get(q *C.struct_asio_queue) *C.struct_asio_request {
	return cRequest(lib.Queue("asio_get", queueHeader(q)).Get())
}

//export goasio_submit
func goasio_submit(r *C.struct_asio_request) {
	lib.Submit(requestHeader(r))
}

//export goasio_wait
func goasio_wait(q *C.struct_asio_queue) *C.struct_asio_request {
	return cRequest(lib.Queue("asio_wait", queueHeader(q)).Wait())
}

//export goasio_put
func goasio_put(r *C.struct_asio_request) {
	lib.Put(requestHeader(r))
}

//export goasio_sync
func goasio_sync(q *C.struct_asio_queue) {
	lib.Queue("asio_sync", queueHeader(q)).Sync()
}

func main() {}
