package engine

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

type unixSyscalls struct{}

func (unixSyscalls) Read(fd int, p []byte) (int, error)  { return unix.Read(fd, p) }
func (unixSyscalls) Write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
func (unixSyscalls) Pwrite(fd int, p []byte, off int64) (int, error) {
	return unix.Pwrite(fd, p, off)
}

// ReadNowait is preadv2(fd, p, -1, RWF_NOWAIT): a read at the current
// position that fails with EAGAIN rather than wait for the data. It never
// sleeps, so it is made as a raw system call, without telling the
// scheduler (which costs as much as a small read).
func (unixSyscalls) ReadNowait(fd int, p []byte) (int, error) {
	iov := unix.Iovec{Len: uint64(len(p))}
	if len(p) > 0 {
		iov.Base = &p[0]
	}
	n, _, e := unix.RawSyscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&iov)), 1, ^uintptr(0), 0, unix.RWF_NOWAIT)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// execute performs the request's read(2) or write(2) and records the
// result in the request and in the caller's struct. A call interrupted by
// a signal before transferring anything (EINTR) is repeated.
func (r *request) execute() {
	r.status, r.errno = r.transfer()
	r.publish()
}

// publish copies the result to the caller's struct.
func (r *request) publish() {
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
	if r.partial > 0 {
		// The rest of a read that readNow began. Like read(2), report the
		// bytes got, not an error after them.
		n, _ = r.syscall(p[r.partial:])
		return r.partial + max(n, 0), 0
	}
	return r.syscall(p)
}

// usable tells whether r's buffer and length may be passed to the kernel;
// if not, transfer fails the request with EINVAL or EFAULT.
func (r *request) usable() bool {
	return !(r.buf == r.own && r.n > r.size) && !(r.buf == nil && r.n > 0)
}

// syscall makes the request's system call on p, repeating it on EINTR.
func (r *request) syscall(p []byte) (n int, errnum int) {
	sys := r.q.eng.sys
	for {
		var err error
		switch {
		case r.op == OpRead:
			n, err = sys.Read(r.fd, p)
		case r.positioned:
			n, err = sys.Pwrite(r.fd, p, r.off)
		default:
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

// readNow tries to do the read r at once, without waiting for data, and
// tells whether it did. It tries only where the kernel can tell "no data
// yet" apart from data: regular files read through the page cache (not
// O_DIRECT, where it would wait for the device anyway), pipes and sockets.
// A regular file that gives part of the data now, short of its end, keeps
// it in r.partial; the rest is read later.
func (r *request) readNow() bool {
	if !r.usable() {
		return false
	}
	kind, ok := r.q.kinds.known(r.fd)
	if !ok {
		var f fileInfo
		kind, f = r.q.kinds.of(r.fd)
		r.file = f // saves the look-up that scheduling r would make
	}
	if kind != kindCached && kind != kindStream {
		return false
	}
	n, err := r.q.eng.sys.ReadNowait(r.fd, unsafe.Slice((*byte)(r.buf), r.n))
	switch err {
	case nil:
	case syscall.EAGAIN, syscall.EOPNOTSUPP, syscall.EINTR, syscall.EINVAL, syscall.ENOSYS:
		return false // the ordinary read(2) later will wait, or say what is wrong
	default:
		r.status, r.errno = -1, int(err.(syscall.Errno))
		r.publish()
		return true
	}
	if n > 0 && n < r.n && r.moreToCome() {
		r.partial = n // the rest of the file is not cached yet
		return false
	}
	r.status, r.errno = n, 0
	r.publish()
	return true
}

// fdKind is what readNow needs to know of a descriptor.
type fdKind uint8

const (
	kindOther  fdKind = iota // devices, O_DIRECT files, bad descriptors: read the ordinary way
	kindCached               // a regular file read through the page cache
	kindStream               // a pipe or socket: a read gives what the buffer holds
)

// kindCache remembers the kind of the descriptor a queue last read from,
// saving readNow two system calls per request. It looks again every
// kindRecheck uses, or when the descriptor changes. A stale answer costs
// time, never correctness: a direct read done at once waits for the device
// in asio_submit; a read not tried at once goes the ordinary way; a short
// read of a file is completed.
type kindCache struct {
	fd   int
	kind fdKind
	uses int // left before the next look
}

const kindRecheck = 256

// known returns the kind of fd if the cache has it (ok), counting the use;
// otherwise of must ask the kernel. It is what readNow asks for every
// request: small enough to be inlined, and it copies no fileInfo.
func (c *kindCache) known(fd int) (kind fdKind, ok bool) {
	if c.uses > 0 && c.fd == fd {
		c.uses--
		return c.kind, true
	}
	return kindOther, false
}

// of returns the kind of fd. When it had to ask the kernel, it also returns
// what it found (fresh.known), which a request just submitted on fd may
// take as its own look-up.
func (c *kindCache) of(fd int) (kind fdKind, fresh fileInfo) {
	if kind, ok := c.known(fd); ok {
		return kind, fileInfo{}
	}
	fresh = lookupFile(fd)
	c.fd, c.kind, c.uses = fd, fresh.kind(), kindRecheck
	if fresh.bad {
		c.uses = 0 // a bad descriptor now may be a good one next time
	}
	return c.kind, fresh
}

// moreToCome tells, after a short read without waiting, whether read(2)
// would have given more: only a regular file short of its end does. It
// looks at the descriptor anew rather than trust the kind cache, which may
// be stale, so that a short read is never taken for the end of a file.
func (r *request) moreToCome() bool {
	var st unix.Stat_t
	if unix.Fstat(r.fd, &st) != nil {
		return false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		r.q.kinds.uses = 0 // look again next time
		return false       // a pipe, socket or device gives what it has
	}
	pos, err := unix.Seek(r.fd, 0, unix.SEEK_CUR)
	return err == nil && pos < st.Size
}

// fileInfo is what a request's descriptor refers to, as far as scheduling
// needs to know.
type fileInfo struct {
	known    bool // looked up
	bad      bool // fstat failed
	regular  bool // a regular file
	stream   bool // a pipe or socket
	dev, ino uint64
	direct   bool // opened with O_DIRECT
	append   bool // opened with O_APPEND
}

// lookupFile asks the kernel what fd refers to.
func lookupFile(fd int) fileInfo {
	f := fileInfo{known: true}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		f.bad = true
		return f
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		f.regular, f.dev, f.ino = true, st.Dev, st.Ino
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			f.direct, f.append = fl&unix.O_DIRECT != 0, fl&unix.O_APPEND != 0
		}
	case unix.S_IFIFO, unix.S_IFSOCK:
		f.stream = true
	}
	return f
}

// kind is what readNow makes of the file.
func (f fileInfo) kind() fdKind {
	switch {
	case f.regular && !f.direct:
		return kindCached
	case f.stream:
		return kindStream
	}
	return kindOther
}

// positionable tells whether write-backs to the file may be done with
// pwrite at computed offsets: a regular file, written directly (the case
// where several writes in flight pay off), not in append mode.
func (f fileInfo) positionable() bool { return f.regular && f.direct && !f.append }

// lookup returns what r's descriptor refers to, asking the kernel the
// first time. Called under q.mu, while r is pending or executing.
func (r *request) lookup() fileInfo {
	if !r.file.known {
		r.file = lookupFile(r.fd)
	}
	return r.file
}
