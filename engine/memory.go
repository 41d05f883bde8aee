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

// headroom is the address space a new request leaves free: under a tight
// RLIMIT_AS, asio_get reports that it cannot allocate while the Go runtime
// still has room for its own small needs, rather than take the last of it
// and let the runtime die of "out of memory" a moment later.
const headroom = 4 << 20

// mapRequest maps the memory for a request with a buffer of size bytes.
func mapRequest(size int) (mapping, error) {
	bufBytes := (size + pageSize - 1) &^ (pageSize - 1)
	// Make sure of the headroom with a reservation that costs no memory.
	probe, err := unix.MmapPtr(-1, 0, nil, uintptr(pageSize+bufBytes+headroom), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	var mem []byte
	if err == nil {
		unix.MunmapPtr(probe, uintptr(pageSize+bufBytes+headroom))
		mem, err = unix.Mmap(-1, 0, pageSize+bufBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	}
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
