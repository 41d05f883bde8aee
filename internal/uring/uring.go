// Package uring is a minimal io_uring: set-up with chosen flags, submission
// queue entries for reads, writes (also from registered buffers) and
// no-ops, buffer registration, submission, waiting with a time-out,
// reaping of completions, and tear-down. It knows nothing of its
// users' requests: an entry carries a 64-bit tag that comes back with its
// completion.
//
// The layout of the shared structures is the kernel's
// (include/uapi/linux/io_uring.h).
//
// Invariants the caller keeps:
//   - Entries are queued (Prep), submitted (Submit, Retract) and reaped
//     (Reap) by one goroutine at a time.
//   - No more requests are in flight than the completion ring has entries
//     (CQEntries), so that completions never overflow.
//   - On a ring with SetupSingleIssuer, Submit and Wait succeed only on the
//     OS thread that created the ring; on another they fail with EEXIST and
//     change nothing (the entries stay queued). Reading completions from
//     memory (Ready, Reap) is allowed from any thread.
//
// A ring set up with SetupDeferTaskrun posts completions only while its
// creator waits in Wait (or Poll): no signal-like notification reaches that
// thread, so its own system calls are never interrupted by the ring. The
// price is that only the creator can collect them. A ring whose creator no
// longer calls can still be collected from another thread when it was set
// up with SetupNoMmap (its memory is the process's, not a mapping of the
// ring's descriptor): Shut closes the descriptor, the kernel then ends or
// cancels every request in flight and posts their completions to that
// memory, where Ready and Reap read them.
package uring

import (
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Set-up flags (IORING_SETUP_*).
const (
	SetupClamp        = 1 << 4  // entries above the kernel's limit are clamped
	SetupCoopTaskrun  = 1 << 8  // completions do not interrupt the submitter with an IPI
	SetupTaskrunFlag  = 1 << 9  // with SetupCoopTaskrun: a flag says completions wait
	SetupSingleIssuer = 1 << 12 // only the creating thread submits
	SetupDeferTaskrun = 1 << 13 // completions are posted only when the creator waits
	SetupNoMmap       = 1 << 14 // the rings live in memory the process allocated
)

// Operations (IORING_OP_*).
const (
	OpNop        = 0
	OpReadFixed  = 4 // OpRead into a registered buffer (Op.BufIndex)
	OpWriteFixed = 5 // OpWrite from a registered buffer (Op.BufIndex)
	OpRead       = 22
	OpWrite      = 23
)

// Entry flags (IOSQE_*).
const (
	FlagAsync = 1 << 4 // IOSQE_ASYNC: always run from the kernel's worker threads
)

const (
	enterGetevents = 1 << 0     // IORING_ENTER_GETEVENTS
	enterExtArg    = 1 << 3     // IORING_ENTER_EXT_ARG
	featSingleMmap = 1 << 0     // IORING_FEAT_SINGLE_MMAP
	featExtArg     = 1 << 8     // IORING_FEAT_EXT_ARG
	offSqRing      = 0          // IORING_OFF_SQ_RING
	offSqes        = 0x10000000 // IORING_OFF_SQES
)

type sqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1 uint32
	UserAddr                                                        uint64
}

type cqringOffsets struct {
	Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32
	UserAddr                                                        uint64
}

type params struct {
	SqEntries, CqEntries, Flags, SqThreadCPU, SqThreadIdle, Features, WqFd uint32
	Resv                                                                   [3]uint32
	SqOff                                                                  sqringOffsets
	CqOff                                                                  cqringOffsets
}

type sqe struct {
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

type geteventsArg struct {
	Sigmask   uint64
	SigmaskSz uint32
	MinWait   uint32
	Ts        uint64 // a *unix.Timespec
}

type cqe struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Ring is one io_uring instance.
type Ring struct {
	fd      int // -1 once shut
	flags   uint32
	own     bool   // the memory below was allocated here (SetupNoMmap)
	rings   []byte // the SQ and CQ rings
	sqeMem  []byte
	entries uint32 // submission entries

	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	sqes                   []sqe
	cqHead, cqTail, cqMask *uint32
	cqOverflow             *uint32
	cqes                   []cqe
	queued                 uint32 // the local SQ tail: entries queued, published by Submit

	// Wait's arguments, kept here where the kernel reads them.
	timeout unix.Timespec
	waitArg geteventsArg
	// SetBuffer's, likewise.
	iov    unix.Iovec
	update rsrcUpdate2
}

// ErrNotOwner is the error of Submit and Wait on a SetupSingleIssuer ring
// from a thread other than its creator.
const ErrNotOwner = syscall.EEXIST

// New sets up a ring of at least entries submission slots (rounded up to
// a power of two by the kernel) with the given Setup* flags. With
// SetupNoMmap the memory of the rings is allocated here; it must fit the
// kernel's limit for such memory (one page each for the rings and the
// entries on kernels before 6.13: up to 64 entries). The ring's
// descriptor is never 0, 1 or 2 (a program that closed one would dup2
// something onto it next) and is close-on-exec.
func New(entries uint32, flags uint32) (*Ring, error) {
	p := params{Flags: flags}
	u := &Ring{fd: -1, flags: flags}
	if flags&SetupNoMmap != 0 {
		if err := u.allocate(entries, &p); err != nil {
			return nil, err
		}
	}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e != 0 {
		u.free()
		return nil, e
	}
	u.fd = int(fd)
	if fd <= 2 {
		if nfd, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 3); err == nil {
			unix.Close(int(fd))
			u.fd = nfd
		}
	}
	u.entries = p.SqEntries
	if p.Features&featSingleMmap == 0 || p.Features&featExtArg == 0 {
		u.Close()
		return nil, syscall.ENOSYS // before 5.11: not worth supporting
	}
	if flags&SetupNoMmap == 0 {
		size := max(int(p.SqOff.Array)+int(p.SqEntries)*4, int(p.CqOff.Cqes)+int(p.CqEntries)*int(unsafe.Sizeof(cqe{})))
		var err error
		if u.rings, err = unix.Mmap(u.fd, offSqRing, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
			u.Close()
			return nil, err
		}
		if u.sqeMem, err = unix.Mmap(u.fd, offSqes, int(p.SqEntries)*int(unsafe.Sizeof(sqe{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
			u.Close()
			return nil, err
		}
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&u.rings[off]) }
	u.sqHead, u.sqTail, u.sqMask = (*uint32)(at(p.SqOff.Head)), (*uint32)(at(p.SqOff.Tail)), (*uint32)(at(p.SqOff.RingMask))
	u.sqArray = unsafe.Slice((*uint32)(at(p.SqOff.Array)), p.SqEntries)
	u.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&u.sqeMem[0])), p.SqEntries)
	u.cqHead, u.cqTail, u.cqMask = (*uint32)(at(p.CqOff.Head)), (*uint32)(at(p.CqOff.Tail)), (*uint32)(at(p.CqOff.RingMask))
	u.cqOverflow = (*uint32)(at(p.CqOff.Overflow))
	u.cqes = unsafe.Slice((*cqe)(at(p.CqOff.Cqes)), p.CqEntries)
	u.queued = *u.sqTail
	return u, nil
}

// allocate gives a SetupNoMmap ring its memory: the rings (a generous
// bound on the kernel's struct io_rings, its completions and the
// submission array) and the entries, each page-aligned.
func (u *Ring) allocate(entries uint32, p *params) error {
	sq := uint32(1)
	for sq < entries {
		sq <<= 1
	}
	cq := 2 * sq
	page := unix.Getpagesize()
	round := func(n int) int { return (n + page - 1) &^ (page - 1) }
	ringBytes := round(512 + int(cq)*int(unsafe.Sizeof(cqe{})) + 64 + int(sq)*4)
	sqeBytes := round(int(sq) * int(unsafe.Sizeof(sqe{})))
	var err error
	if u.rings, err = unix.Mmap(-1, 0, ringBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		return err
	}
	if u.sqeMem, err = unix.Mmap(-1, 0, sqeBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE); err != nil {
		u.free()
		return err
	}
	u.own = true
	p.CqOff.UserAddr = uint64(uintptr(unsafe.Pointer(&u.rings[0])))
	p.SqOff.UserAddr = uint64(uintptr(unsafe.Pointer(&u.sqeMem[0])))
	return nil
}

// Fd returns the ring's descriptor (-1 once shut).
func (u *Ring) Fd() int { return u.fd }

// Flags returns the set-up flags the ring was made with.
func (u *Ring) Flags() uint32 { return u.flags }

// Entries returns the number of submission slots.
func (u *Ring) Entries() uint32 { return u.entries }

// CQEntries returns the number of completion slots.
func (u *Ring) CQEntries() uint32 { return uint32(len(u.cqes)) }

// Queued returns the number of entries queued and not yet taken by the
// kernel.
func (u *Ring) Queued() uint32 { return u.queued - atomic.LoadUint32(u.sqHead) }

// Op is one operation for the kernel.
type Op struct {
	Code    uint8  // OpRead, OpWrite, OpNop
	Flags   uint8  // Flag*
	RWFlags uint32 // for reads and writes: RWF_* of preadv2(2), e.g. unix.RWF_NOWAIT
	Fd      int
	Buf     unsafe.Pointer
	Len     int
	Off     int64 // -1: at the file position
	Tag     uint64
	// BufIndex is the slot of the registered buffer of OpReadFixed and
	// OpWriteFixed (see RegisterBuffers); Buf and Len must lie within
	// what the slot holds.
	BufIndex uint16
}

// Prep queues op. It reports false, queuing nothing, when every
// submission slot is taken. Submit passes what is queued to the kernel.
//
// With unix.RWF_NOWAIT a read or write that cannot be done without
// blocking fails with -EAGAIN instead of going to the kernel's worker
// threads (io-wq). Those threads are the submitting thread's: the kernel
// asks that thread to create more of them with a signal-like notification
// (TWA_SIGNAL task work) even on a SetupDeferTaskrun ring, which cuts
// short its interruptible system calls, and a creation that meets a
// pending signal cancels the request (-ECANCELED).
func (u *Ring) Prep(op Op) bool {
	if u.Queued() >= u.entries {
		return false
	}
	i := u.queued & *u.sqMask
	u.sqes[i] = sqe{Opcode: op.Code, Flags: op.Flags, Fd: int32(op.Fd), Off: uint64(op.Off), Addr: uint64(uintptr(op.Buf)),
		Len: uint32(op.Len), RwFlags: op.RWFlags, UserData: op.Tag, BufIndex: op.BufIndex}
	u.sqArray[i] = i
	u.queued++
	return true
}

// Submit passes the queued entries to the kernel and returns how many it
// took. An error means the kernel took none of those left (a signal is
// no error: it tries again): ErrNotOwner from a thread that is not the
// ring's creator (SetupSingleIssuer), EAGAIN or EBUSY when the kernel is
// short of memory or completions overflowed. What the kernel did not take
// stays queued: Submit again, or Retract it.
func (u *Ring) Submit() (int, error) {
	atomic.StoreUint32(u.sqTail, u.queued) // publishes the entries to the kernel
	taken := 0
	for {
		pending := u.Queued()
		if pending == 0 {
			return taken, nil
		}
		n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), uintptr(pending), 0, 0, 0, 0)
		switch {
		case e == syscall.EINTR:
		case e != 0:
			return taken, e
		case n == 0:
			return taken, syscall.EAGAIN
		default:
			taken += int(n)
		}
	}
}

// Retract takes back the entries queued and not taken by the kernel,
// calling f with the tag of each, oldest first. Only the ring's users
// submit, so nothing takes them meanwhile.
func (u *Ring) Retract(f func(tag uint64)) {
	head := atomic.LoadUint32(u.sqHead)
	for i := head; i != u.queued; i++ {
		f(u.sqes[u.sqArray[i&*u.sqMask]].UserData)
	}
	u.queued = head
	atomic.StoreUint32(u.sqTail, head)
}

// ErrTimeout is Wait's error when its time ran out first.
const ErrTimeout = syscall.ETIME

// Wait blocks until at least min completions are ready to be reaped, for
// at most timeout when timeout >= 0. With min 0 it only makes the kernel
// post what has completed (the completions of a SetupDeferTaskrun ring are
// posted only here). It returns nil, ErrTimeout, EINTR (a signal came
// first), ErrNotOwner (a SetupDeferTaskrun ring waited on by a thread that
// is not its creator) or another error of io_uring_enter.
//
// With raw, Wait makes the system call without telling the Go scheduler,
// as for one that does not block: the goroutine keeps its thread's P
// meanwhile. It is meant for short waits (see the caller's reasons).
func (u *Ring) Wait(min uint32, timeout time.Duration, raw bool) error {
	flags, arg, argSize := uintptr(enterGetevents), uintptr(0), uintptr(0)
	if timeout >= 0 {
		u.timeout = unix.NsecToTimespec(int64(timeout))
		u.waitArg = geteventsArg{Ts: uint64(uintptr(unsafe.Pointer(&u.timeout)))}
		flags |= enterExtArg
		arg, argSize = uintptr(unsafe.Pointer(&u.waitArg)), unsafe.Sizeof(u.waitArg)
	}
	var e syscall.Errno
	if raw {
		_, _, e = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), 0, uintptr(min), flags, arg, argSize)
	} else {
		_, _, e = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(u.fd), 0, uintptr(min), flags, arg, argSize)
	}
	if e != 0 {
		return e
	}
	return nil
}

// Ready returns the number of completions posted and not yet reaped.
func (u *Ring) Ready() uint32 {
	return atomic.LoadUint32(u.cqTail) - *u.cqHead
}

// Overflowed returns the number of completions the kernel dropped because
// the completion ring was full (with no memory to keep them aside).
func (u *Ring) Overflowed() uint32 { return atomic.LoadUint32(u.cqOverflow) }

// Reap calls done for each completion posted, oldest first, and gives
// their slots back to the kernel. It returns how many there were.
func (u *Ring) Reap(done func(tag uint64, res int32)) int {
	head := *u.cqHead // only the reaper writes it
	tail := atomic.LoadUint32(u.cqTail)
	n := int(tail - head)
	for ; head != tail; head++ {
		c := u.cqes[head&*u.cqMask]
		done(c.UserData, c.Res)
	}
	atomic.StoreUint32(u.cqHead, head)
	return n
}

const (
	registerBuffers2      = 15     // IORING_REGISTER_BUFFERS2
	registerBuffersUpdate = 16     // IORING_REGISTER_BUFFERS_UPDATE
	rsrcRegisterSparse    = 1 << 0 // IORING_RSRC_REGISTER_SPARSE
)

// rsrcRegister is struct io_uring_rsrc_register.
type rsrcRegister struct {
	Nr    uint32
	Flags uint32
	Resv2 uint64
	Data  uint64 // the iovecs (none for a sparse table)
	Tags  uint64
}

// rsrcUpdate2 is struct io_uring_rsrc_update2.
type rsrcUpdate2 struct {
	Offset uint32 // the first slot
	Resv   uint32
	Data   uint64 // the iovecs
	Tags   uint64
	Nr     uint32 // slots
	Resv2  uint32
}

// RegisterBuffers gives the ring a table of n empty buffer slots
// (IORING_REGISTER_BUFFERS2, sparse: Linux 5.19), which SetBuffer fills.
// A ring has one table. Errors are the kernel's: EINVAL where it has no
// sparse tables, EBUSY when the ring has a table already, ErrNotOwner
// from a thread other than a SetupSingleIssuer ring's creator.
func (u *Ring) RegisterBuffers(n uint32) error {
	rr := rsrcRegister{Nr: n, Flags: rsrcRegisterSparse}
	return u.register(registerBuffers2, unsafe.Pointer(&rr), unsafe.Sizeof(rr))
}

// SetBuffer puts the n bytes at buf into the table's slot i
// (IORING_REGISTER_BUFFERS_UPDATE), in place of what it held; a nil buf
// with n 0 empties it. The kernel pins the pages (faulting them in) until
// the slot is emptied or replaced, or the ring ends; an operation in
// flight keeps the buffer it started with. Unless the ring's creator had
// CAP_IPC_LOCK (in the initial user namespace), the pages are charged to
// its user's RLIMIT_MEMLOCK budget, and ENOMEM says it is spent. Other
// errors: EFAULT for memory that cannot be pinned, EINVAL for a slot
// beyond the table, ENXIO for a ring without one.
func (u *Ring) SetBuffer(i uint32, buf unsafe.Pointer, n int) error {
	// In the Ring, on the heap: the kernel follows the address of the
	// iovec, which a goroutine's stack could move.
	u.iov = unix.Iovec{Base: (*byte)(buf)}
	u.iov.SetLen(n)
	u.update = rsrcUpdate2{Offset: i, Data: uint64(uintptr(unsafe.Pointer(&u.iov))), Nr: 1}
	return u.register(registerBuffersUpdate, unsafe.Pointer(&u.update), unsafe.Sizeof(u.update))
}

// register calls io_uring_register with op and the argument at arg of
// size bytes, retrying after a signal.
func (u *Ring) register(op uintptr, arg unsafe.Pointer, size uintptr) error {
	for {
		_, _, e := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(u.fd), op, uintptr(arg), size, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
		default:
			return e
		}
	}
}

// Shut closes the ring's descriptor. The kernel then finishes or cancels
// what is in flight; on a SetupNoMmap ring it posts their completions to
// the ring's memory, which stays readable (Ready, Reap) until Close. A
// request cancelled so comes back with a negative result, typically
// -ECANCELED, and may or may not have been done. Nothing may be
// submitted or waited for after Shut.
func (u *Ring) Shut() {
	if u.fd >= 0 {
		unix.Close(u.fd)
		u.fd = -1
	}
}

// Forget makes the ring forget its descriptor without closing it: the
// program closed it behind the ring's back (io_uring_enter failed with
// EBADF, or EOPNOTSUPP when the number now names another file). The kernel
// then ends the ring as after Shut.
func (u *Ring) Forget() { u.fd = -1 }

// Close shuts the ring and releases its memory. Completions still to come
// are lost (on a SetupNoMmap ring the kernel writes them to pages it holds
// on its own until then).
func (u *Ring) Close() {
	u.Shut()
	u.free()
}

func (u *Ring) free() {
	if u.sqeMem != nil {
		unix.Munmap(u.sqeMem)
		u.sqeMem = nil
	}
	if u.rings != nil {
		unix.Munmap(u.rings)
		u.rings = nil
	}
}
