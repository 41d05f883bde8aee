// Command capi is the C face of ucw-asio: built with -buildmode=c-shared it
// is libucw-asio.so, exporting the functions of <ucw/asio.h>. It holds only
// the exports; each converts the caller's pointers to the engine's views of
// the same memory and calls the engine, where all the logic lives.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include <ucw/asio.h>
*/
import "C"

import (
	"os"
	"unsafe"

	pointer "github.com/mattn/go-pointer"

	"github.com/ucw-asio/ucw-asio/engine"
)

// lib is the process's engine. Its queues are tied to the caller's structs
// with go-pointer keys, which live in C memory.
var lib = engine.New(engine.Options{Handles: goPointer{}, Fatal: die})

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

//export asio_init_queue
func asio_init_queue(q *C.struct_asio_queue) {
	lib.Init(queueHeader(q))
}

//export asio_cleanup_queue
func asio_cleanup_queue(q *C.struct_asio_queue) {
	lib.Queue("asio_cleanup_queue", queueHeader(q)).Cleanup()
}

//export asio_get
func asio_get(q *C.struct_asio_queue) *C.struct_asio_request {
	return cRequest(lib.Queue("asio_get", queueHeader(q)).Get())
}

//export asio_submit
func asio_submit(r *C.struct_asio_request) {
	lib.Submit(requestHeader(r))
}

//export asio_wait
func asio_wait(q *C.struct_asio_queue) *C.struct_asio_request {
	return cRequest(lib.Queue("asio_wait", queueHeader(q)).Wait())
}

//export asio_put
func asio_put(r *C.struct_asio_request) {
	lib.Put(requestHeader(r))
}

//export asio_sync
func asio_sync(q *C.struct_asio_queue) {
	lib.Queue("asio_sync", queueHeader(q)).Sync()
}

func main() {}
