package engine

import (
	"testing"
	"unsafe"
)

// The offsets of struct asio_queue and struct asio_request in libucw 6.5 on
// x86-64: the C code that uses these structs is compiled against them.
func TestLayout(t *testing.T) {
	var q QueueHeader
	var r RequestHeader
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct asio_queue)", unsafe.Sizeof(q), 160},
		{"alignof(struct asio_queue)", unsafe.Alignof(q), 8},
		{"buffer_size", unsafe.Offsetof(q.BufferSize), 0},
		{"max_writebacks", unsafe.Offsetof(q.MaxWritebacks), 4},
		{"allocated_requests", unsafe.Offsetof(q.AllocatedRequests), 8},
		{"running_requests", unsafe.Offsetof(q.RunningRequests), 12},
		{"running_writebacks", unsafe.Offsetof(q.RunningWritebacks), 16},
		{"queue.private_magic", unsafe.Offsetof(q.Magic), 56},
		{"queue.private_handle", unsafe.Offsetof(q.Handle), 64},
		{"use_count", unsafe.Offsetof(q.UseCount), 152},
		{"sizeof(struct asio_request)", unsafe.Sizeof(r), 88},
		{"alignof(struct asio_request)", unsafe.Alignof(r), 8},
		{"work (RequestMagic)", unsafe.Offsetof(r.Magic), 0},
		{"queue", unsafe.Offsetof(r.Queue), 40},
		{"buffer", unsafe.Offsetof(r.Buffer), 48},
		{"fd", unsafe.Offsetof(r.Fd), 56},
		{"op", unsafe.Offsetof(r.Op), 60},
		{"len", unsafe.Offsetof(r.Len), 64},
		{"status", unsafe.Offsetof(r.Status), 68},
		{"returned_errno", unsafe.Offsetof(r.ReturnedErrno), 72},
		{"submitted", unsafe.Offsetof(r.Submitted), 76},
		{"user_data", unsafe.Offsetof(r.UserData), 80},
		{"sizeof(enum asio_op)", unsafe.Sizeof(r.Op), 4},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	for op, name := range map[Op]string{0: "ASIO_FREE", 1: "ASIO_READ", 2: "ASIO_WRITE", 3: "ASIO_WRITE_BACK", 9: "unknown op"} {
		if op.String() != name {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), op.String(), name)
		}
	}
}
