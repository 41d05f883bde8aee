package engine

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

var pageSize = unix.Getpagesize()

// mapping is the memory of one request: a page holding the RequestHeader,
// then the page-aligned buffer. It is anonymous mmap'd memory, outside the
// Go heap, so C code may keep pointers into it and O_DIRECT accepts the
// buffer.
type mapping struct {
	mem []byte
}

// mapRequest maps the memory for a request with a buffer of size bytes.
func mapRequest(size int) (mapping, error) {
	bufBytes := (size + pageSize - 1) &^ (pageSize - 1)
	mem, err := unix.Mmap(-1, 0, pageSize+bufBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		errno, ok := err.(syscall.Errno)
		if !ok {
			errno = syscall.ENOMEM
		}
		return mapping{}, &AllocError{Size: size, Errno: errno}
	}
	return mapping{mem: mem}, nil
}

func (m mapping) header() *RequestHeader { return (*RequestHeader)(unsafe.Pointer(&m.mem[0])) }

func (m mapping) buffer() unsafe.Pointer { return unsafe.Pointer(&m.mem[pageSize]) }

func (m mapping) unmap() error { return unix.Munmap(m.mem) }
