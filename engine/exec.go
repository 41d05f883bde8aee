package engine

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type unixSyscalls struct{}

func (unixSyscalls) Read(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func (unixSyscalls) Write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

func errno(e int) syscall.Errno { return syscall.Errno(e) }

// execute performs the request's read(2) or write(2) and records the
// result in the request and in the caller's struct. A call interrupted by
// a signal before transferring anything (EINTR) is repeated.
func (r *request) execute() {
	r.status, r.errno = r.transfer()
	r.hdr.Status = int32(r.status)
	r.hdr.ReturnedErrno = int32(r.errno)
}

func (r *request) transfer() (n int, errnum int) {
	switch {
	case r.buf == r.own && r.n > r.size:
		return -1, int(syscall.EINVAL) // would run past the request's buffer
	case r.buf == nil && r.n > 0:
		return -1, int(syscall.EFAULT)
	}
	p := unsafe.Slice((*byte)(r.buf), r.n)
	sys := r.q.eng.sys
	for {
		var err error
		if r.op == OpRead {
			n, err = sys.Read(r.fd, p)
		} else {
			n, err = sys.Write(r.fd, p)
		}
		switch err {
		case nil:
			return n, 0
		case syscall.EINTR:
			continue
		}
		if e, ok := err.(syscall.Errno); ok {
			return -1, int(e)
		}
		return -1, int(syscall.EIO)
	}
}
