//go:build !cgo

package syncimpl

import (
	"errors"
	"unsafe"
)

// Available tells whether the C implementation is compiled in (it needs
// cgo): without cgo, tests that compare it with the engine skip.
const Available = false

// Died is the line with which sync.c ended the process.
type Died struct {
	Line string
}

func (d *Died) Error() string { return d.Line }

var errUnavailable = errors.New("syncimpl: built without cgo")

// Init is asio_init_queue(q).
func Init(unsafe.Pointer) error { return errUnavailable }

// Cleanup is asio_cleanup_queue(q).
func Cleanup(unsafe.Pointer) error { return errUnavailable }

// Get is asio_get(q).
func Get(unsafe.Pointer) (unsafe.Pointer, error) { return nil, errUnavailable }

// Submit is asio_submit(r).
func Submit(unsafe.Pointer) error { return errUnavailable }

// Wait is asio_wait(q).
func Wait(unsafe.Pointer) (unsafe.Pointer, error) { return nil, errUnavailable }

// Put is asio_put(r).
func Put(unsafe.Pointer) error { return errUnavailable }

// Sync is asio_sync(q).
func Sync(unsafe.Pointer) error { return errUnavailable }

// Abandon forgets the requests the process lost.
func Abandon(unsafe.Pointer) {}

// AllocQueue returns nil without cgo.
func AllocQueue() unsafe.Pointer { return nil }

// Alloc returns nil without cgo.
func Alloc(int) unsafe.Pointer { return nil }

// Free does nothing without cgo.
func Free(unsafe.Pointer) {}

// Faults are injected into sync.c's read(2) and write(2) calls.
type Faults struct {
	EINTREvery int64
	Short      int
	QuotaFd    int
	Quota      int64
	Fds        []int
}

// SetFaults does nothing without cgo.
func SetFaults(Faults) {}

// The marks sync.c knows (zero without cgo).
var EngineQueueMagic, EngineRequestMagic, SyncQueueMagic, SyncRequestMagic uint64

// LayoutNames names the values of Layout.
var LayoutNames [0]string

// Layout returns nothing without cgo.
func Layout() []uintptr { return nil }
