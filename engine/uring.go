package engine

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An io_uring with just what the engine needs: IORING_OP_READ and
// IORING_OP_WRITE at an offset, and completions read by one consumer at a
// time. The layout of the shared structures is the kernel's
// (include/uapi/linux/io_uring.h).

const (
	ioringOpRead         = 22         // IORING_OP_READ
	ioringOpWrite        = 23         // IORING_OP_WRITE
	ioringEnterGetevents = 1 << 0     // IORING_ENTER_GETEVENTS
	ioringEnterExtArg    = 1 << 3     // IORING_ENTER_EXT_ARG
	ioringFeatSingleMmap = 1 << 0     // IORING_FEAT_SINGLE_MMAP
	ioringOffSqRing      = 0          // IORING_OFF_SQ_RING
	ioringOffCqRing      = 0x8000000  // IORING_OFF_CQ_RING
	ioringOffSqes        = 0x10000000 // IORING_OFF_SQES
	ioringSetupClamp     = 1 << 4     // IORING_SETUP_CLAMP
)

type ioSqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type ioCqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

type ioUringParams struct {
	SqEntries, CqEntries, Flags, SqThreadCPU, SqThreadIdle, Features, WqFd uint32
	Resv                                                                   [3]uint32
	SqOff                                                                  ioSqringOffsets
	CqOff                                                                  ioCqringOffsets
}

type ioUringSqe struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	RwFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	SpliceFdIn  int32
	Addr3       uint64
	pad         uint64
}

type ioUringGeteventsArg struct {
	Sigmask   uint64
	SigmaskSz uint32
	MinWait   uint32
	Ts        uint64 // a *unix.Timespec
}

type ioUringCqe struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// uring is one io_uring instance. Submissions and completions are each
// made by one goroutine at a time (the caller serialises them); waiting
// for completions may go on beside a submission.
type uring struct {
	fd      int
	rings   []byte // the SQ and CQ rings (one mapping)
	sqeMem  []byte
	entries uint32

	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	sqes                   []ioUringSqe
	cqHead, cqTail, cqMask *uint32
	cqes                   []ioUringCqe

	// For wait, which one goroutine at a time calls: its arguments, kept
	// here where the kernel may read them.
	noTimedWait bool
	timeout     unix.Timespec
	waitArg     ioUringGeteventsArg
}

// newUring sets up a ring of entries submission slots (a power of two).
func newUring(entries uint32) (*uring, error) {
	// Not IORING_SETUP_COOP_TASKRUN: a completion is posted by task work
	// of the thread that submitted the request, which then must be woken
	// even if it sleeps elsewhere (a caller parked on a channel), since
	// another goroutine may be the one waiting for the completion.
	p := ioUringParams{Flags: ioringSetupClamp}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		return nil, e
	}
	if fd <= 2 {
		// The program had closed a standard descriptor: keep the ring off
		// the numbers it will dup2 /dev/null or a log file onto.
		if nfd, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 3); err == nil {
			unix.Close(int(fd))
			fd = uintptr(nfd)
		}
	}
	u := &uring{fd: int(fd), entries: p.SqEntries}
	if p.Features&ioringFeatSingleMmap == 0 {
		u.close()
		return nil, syscall.ENOSYS // before 5.4: not worth supporting
	}
	size := max(int(p.SqOff.Array)+int(p.SqEntries)*4, int(p.CqOff.Cqes)+int(p.CqEntries)*int(unsafe.Sizeof(ioUringCqe{})))
	var err error
	if u.rings, err = unix.Mmap(u.fd, ioringOffSqRing, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		u.close()
		return nil, err
	}
	sqeBytes := int(p.SqEntries) * int(unsafe.Sizeof(ioUringSqe{}))
	if u.sqeMem, err = unix.Mmap(u.fd, ioringOffSqes, sqeBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		u.close()
		return nil, err
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&u.rings[off]) }
	u.sqHead, u.sqTail, u.sqMask = (*uint32)(at(p.SqOff.Head)), (*uint32)(at(p.SqOff.Tail)), (*uint32)(at(p.SqOff.RingMask))
	u.sqArray = unsafe.Slice((*uint32)(at(p.SqOff.Array)), p.SqEntries)
	u.sqes = unsafe.Slice((*ioUringSqe)(unsafe.Pointer(&u.sqeMem[0])), p.SqEntries)
	u.cqHead, u.cqTail, u.cqMask = (*uint32)(at(p.CqOff.Head)), (*uint32)(at(p.CqOff.Tail)), (*uint32)(at(p.CqOff.RingMask))
	u.cqes = unsafe.Slice((*ioUringCqe)(at(p.CqOff.Cqes)), p.CqEntries)
	return u, nil
}

// queue puts a read or write (opcode) of n bytes at buf on fd, at offset
// off, into the submission ring, tagged with tag; submit passes it to the
// kernel. The caller keeps no more requests in flight than the ring has
// entries.
func (u *uring) queue(opcode uint8, fd int, buf unsafe.Pointer, n int, off int64, tag uint64) {
	tail := *u.sqTail // only this goroutine writes it
	i := tail & *u.sqMask
	u.sqes[i] = ioUringSqe{Opcode: opcode, Fd: int32(fd), Off: uint64(off), Addr: uint64(uintptr(buf)), Len: uint32(n), UserData: tag}
	u.sqArray[i] = i
	atomic.StoreUint32(u.sqTail, tail+1) // publishes the entry to the kernel
}

// submit passes the queued entries to the kernel. Several goroutines may
// submit at once: each entry is taken by one of them.
func (u *uring) submit() error {
	for {
		pending := atomic.LoadUint32(u.sqTail) - atomic.LoadUint32(u.sqHead)
		if pending == 0 {
			return nil
		}
		_, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), uintptr(pending), 0, 0, 0, 0)
		switch e {
		case 0, syscall.EINTR:
		case syscall.EAGAIN, syscall.EBUSY:
			// Short of kernel memory, or completions overflowed (which the
			// bound on requests in flight rules out): try again shortly.
			time.Sleep(100 * time.Microsecond)
		default:
			return e
		}
	}
}

// rawWait is how long wait keeps its thread's P while it waits: longer
// than most O_DIRECT transfers take, well short of the 10 ms after which
// the Go scheduler would preempt the goroutine anyway.
const rawWait = 5e6 // ns

// wait blocks until a completion is there to be reaped. A signal ends the
// wait early, which the caller treats like a wake-up with nothing new.
//
// With keepP, it first waits up to rawWait without telling the Go
// scheduler, as a system call that does not block would: a blocking
// system call makes the runtime's monitor wake up every 20 µs and hand the
// goroutine's P to another thread, which cost as much CPU as the I/O
// itself. A garbage collection meanwhile signals the thread, which ends
// the wait with EINTR. Only a longer wait goes the ordinary way. The
// caller passes keepP only where another P is there for the others.
func (u *uring) wait(keepP bool) error {
	if keepP && !u.noTimedWait {
		u.timeout = unix.Timespec{Nsec: rawWait}
		u.waitArg = ioUringGeteventsArg{Ts: uint64(uintptr(unsafe.Pointer(&u.timeout)))}
		_, _, e := unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), 0, 1, ioringEnterGetevents|ioringEnterExtArg,
			uintptr(unsafe.Pointer(&u.waitArg)), unsafe.Sizeof(u.waitArg))
		switch e {
		case 0, syscall.EINTR:
			return nil
		case syscall.ETIME:
		case syscall.EINVAL:
			u.noTimedWait = true // a kernel before 5.11
		default:
			return e
		}
	}
	_, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), 0, 1, ioringEnterGetevents, 0, 0)
	if e != 0 && e != syscall.EINTR {
		return e
	}
	return nil
}

// reap calls done for each completion there is, oldest first.
func (u *uring) reap(done func(tag uint64, res int32)) {
	head := *u.cqHead // only this goroutine writes it
	tail := atomic.LoadUint32(u.cqTail)
	for ; head != tail; head++ {
		c := u.cqes[head&*u.cqMask]
		done(c.UserData, c.Res)
	}
	atomic.StoreUint32(u.cqHead, head) // gives the slots back to the kernel
}

// close tears the ring down; nothing may be in flight.
func (u *uring) close() {
	if u.sqeMem != nil {
		unix.Munmap(u.sqeMem)
	}
	if u.rings != nil {
		unix.Munmap(u.rings)
	}
	unix.Close(u.fd)
}
