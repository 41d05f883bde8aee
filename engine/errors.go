package engine

import (
	"fmt"
	"syscall"
)

// Misuse is a mistake of the caller, named after the C function it was
// made in. The engine reports it through Options.Fatal and does not go on.
type Misuse struct {
	Func string // the C function, e.g. "asio_submit"
	What string // what was wrong
}

// Error returns the one line reported: "asio_fn: what was wrong".
func (m *Misuse) Error() string { return m.Func + ": " + m.What }

// InternalError is an invariant of the library broken by the library
// itself, never by the caller, found in the C function Func.
type InternalError struct {
	Func string
	What string
}

// Error returns the one line reported, asking for a report.
func (e *InternalError) Error() string {
	return "ucw-asio: internal error in " + e.Func + ": " + e.What + "; please report it with the program that shows it"
}

// WritebackError is a write-back that failed or wrote fewer bytes than
// asked. Nobody is waiting for a write-back's result, so, like the original,
// the engine ends the process with this message when it collects one.
type WritebackError struct {
	Fd      int
	Len     int           // bytes asked for
	Written int           // bytes written, or -1 if the write failed
	Errno   syscall.Errno // the error when Written is -1
}

// Error returns the original's message for the failed write-back.
func (e *WritebackError) Error() string {
	if e.Written < 0 {
		return fmt.Sprintf("Asynchronous write to fd %d failed: %s", e.Fd, Strerror(e.Errno))
	}
	return fmt.Sprintf("Asynchronous write to fd %d wrote only %d bytes out of %d", e.Fd, e.Written, e.Len)
}

// AllocError is a request whose buffer could not be allocated.
type AllocError struct {
	Size  int
	Errno syscall.Errno
}

// Error returns the one line reported by asio_get.
func (e *AllocError) Error() string {
	return fmt.Sprintf("asio_get: cannot allocate a request with a buffer of %d bytes: %s", e.Size, Strerror(e.Errno))
}

// Strerror returns the C library's text for errno: Go's text, which is the
// same but for the capital letter.
func Strerror(errno syscall.Errno) string {
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
