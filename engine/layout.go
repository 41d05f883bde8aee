package engine

import "unsafe"

// Op is what a request does: enum asio_op.
type Op int32

// The values of enum asio_op.
const (
	OpFree      Op = iota // ASIO_FREE: no operation set yet
	OpRead                // ASIO_READ: read(2) into the buffer
	OpWrite               // ASIO_WRITE: write(2) from the buffer
	OpWriteBack           // ASIO_WRITE_BACK: write(2), recycled when done
)

var opNames = [...]string{"ASIO_FREE", "ASIO_READ", "ASIO_WRITE", "ASIO_WRITE_BACK"}

// String returns the C name of the operation.
func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "unknown op"
}

// QueueMagic marks an initialised QueueHeader. Cleanup clears it.
const QueueMagic uint64 = 0x75637761_7369_6f51 // "ucwasioQ"

// QueueHeader is struct asio_queue, byte for byte (160 bytes, LP64). The
// caller allocates it; the engine reads the user-settable fields and writes
// the counters. The private area (the C fields idle_list, done_list and
// queue) holds the magic number and the handle of the Go queue.
type QueueHeader struct {
	BufferSize        uint32 // buffer_size: bytes in each request's buffer
	MaxWritebacks     uint32 // max_writebacks: write-backs allowed in flight
	AllocatedRequests uint32 // allocated_requests
	RunningRequests   uint32 // running_requests
	RunningWritebacks uint32 // running_writebacks
	_                 uint32
	_                 [4]uintptr     // idle_list, done_list: unused
	Magic             uint64         // queue.private_magic: QueueMagic while initialised
	Handle            unsafe.Pointer // queue.private_handle: key of the Go Queue
	_                 [10]uintptr    // queue.private_reserved
	UseCount          uint32         // use_count: the caller's
	_                 uint32
}

// RequestMagic marks a RequestHeader that the engine allocated, for code
// that cannot ask the engine (the C layer in a forked child).
const RequestMagic uint64 = 0x75637761_7369_6f52 // "ucwasioR"

// RequestHeader is struct asio_request, byte for byte (88 bytes, LP64). The
// engine allocates it, in memory the Go collector neither moves nor frees.
// Its private area (the C struct work) holds RequestMagic.
type RequestHeader struct {
	Magic         uint64         // work.n.next: RequestMagic
	_             [4]uintptr     // the rest of struct work: unused
	Queue         *QueueHeader   // queue
	Buffer        unsafe.Pointer // buffer
	Fd            int32          // fd
	Op            Op             // op
	Len           uint32         // len
	Status        int32          // status
	ReturnedErrno int32          // returned_errno
	Submitted     int32          // submitted
	UserData      unsafe.Pointer // user_data: the caller's
}

// The sizes the C header gives these structures; layout_test.go checks every
// offset too.
const (
	QueueHeaderSize   = 160
	RequestHeaderSize = 88
)

// Compile-time checks: each fails to compile if its size is off.
var (
	_ [QueueHeaderSize - unsafe.Sizeof(QueueHeader{})]byte
	_ [unsafe.Sizeof(QueueHeader{}) - QueueHeaderSize]byte
	_ [RequestHeaderSize - unsafe.Sizeof(RequestHeader{})]byte
	_ [unsafe.Sizeof(RequestHeader{}) - RequestHeaderSize]byte
)
