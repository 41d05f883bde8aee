package engine

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/internal/uring"
)

// Registered buffers.
//
// A request's own buffer is page-aligned and lives as long as its queue:
// what io_uring's registered buffers are for. A queue's ring gets a table
// of regSlots empty slots when it is set up; a transfer in the ring whose
// memory lies in its request's own buffer takes a slot the first time it
// goes to that ring (one IORING_REGISTER_BUFFERS_UPDATE), and from then on
// goes as READ_FIXED or WRITE_FIXED: the kernel does not look up and pin
// the pages of every transfer again. Only transfers that lie within the
// first maxFixedPages pages of the buffer do (see there). A slot holds the
// buffer from its start up to the end of the largest transfer so far
// (rounded up to a page), locked (see fixedSlot); a larger transfer
// updates the slot. A new ring (the queue handed to another
// thread, or the old ring gone) starts with an empty table, and requests
// take slots in it again as they come (request.reg remembers the ring by
// its number, ringState.gen). No slot left, a kernel without sparse
// tables (before Linux 5.19), or a registration refused: the transfer
// goes as a plain read or write, as it does without registration. All
// of this happens in the caller's calls, under q.mu, as everything that
// touches the ring; the background tasks never see a slot.
//
// Registration must cost the program nothing (it must never change what
// the program's own system calls return). The kernel pins a registered
// buffer's pages until the slot is emptied or replaced or the ring ends,
// and charges them, unless the ring's creator had CAP_IPC_LOCK in the
// initial user namespace when the ring was set up, to the user's locked
// memory counter (struct user_struct's locked_vm, one per user ID, not
// per process), which the registration checks against the registering
// process's RLIMIT_MEMLOCK and fails with ENOMEM past it. Every user of
// that counter checks it so: the program's own io_uring buffer
// registrations (and other processes' of the same user), perf ring
// buffers, AF_XDP memory. (mlock and SHM_LOCK count elsewhere: the
// process's locked_vm and the user namespace's counts.) So buffers are
// registered only where nothing is charged: the ring's creator has
// CAP_IPC_LOCK in its effective set and the process is in the initial
// user namespace. An unlimited RLIMIT_MEMLOCK is not enough: the charge
// would be made to the user's counter all the same, and another process of
// the same user, with a finite limit, would find its own registrations
// refused.
//
// Otherwise nothing is registered. The pages are also counted in the
// process's pinned_vm (VmPin in /proc/self/status), which only the
// checks of RDMA and similar drivers read, and those too only without
// CAP_IPC_LOCK against RLIMIT_MEMLOCK. Pinned anonymous pages are copied
// at fork rather than shared copy-on-write, as pages under an O_DIRECT
// transfer are.
//
// The ring ends before the requests' memory is unmapped (see release); the
// kernel unpins the pages when it tears the ring down.

// regSlots is the size of a ring's buffer table: four times its
// submission entries, so that a queue whose program keeps more requests
// than it has in the ring at once (read-ahead and write-backs on several
// files) still finds a slot for each; the kernel keeps a pointer per slot
// (2 KiB a ring).
const regSlots = 4 * ringEntries

// maxFixedPages bounds the transfers that name a slot. The kernel hands
// a registered buffer to the block layer page by page, one segment each,
// where the pages of a plain transfer that lie next to each other in
// memory are merged into one segment; a request of more segments than the
// device takes at once (its queue's max_segments: 254 on a virtio disk,
// about 128 on NVMe) is split in two or more. Measured on a virtio disk:
// 1 MiB reads from registered buffers were all split and took 15% longer.
// Transfers of 32 pages or fewer fit every device's limit we know of.
const maxFixedPages = 32

// regSlot is a request's place in its queue's ring's buffer table.
type regSlot struct {
	gen   uint32 // ringState.gen of the ring whose table holds the buffer; 0: none
	slot  uint16
	len   int  // bytes of the own buffer in the slot, from its start
	fixed bool // its transfer in the ring names the slot
}

// pinPolicy tells whether registering buffers costs the program nothing:
// the ring's creator has CAP_IPC_LOCK in the initial user namespace
// (capIPCLock, initUserNS). RLIMIT_MEMLOCK (memlock) does not matter, not
// even unlimited (see above).
func pinPolicy(capIPCLock, initUserNS bool, memlock uint64) bool {
	_ = memlock
	return capIPCLock && initUserNS
}

// pinsFree applies pinPolicy to the calling thread, which is about to set
// up a ring.
func pinsFree() bool {
	return pinPolicy(hasCapIPCLock(), inInitUserNS(), memlockLimit())
}

// hasCapIPCLock tells whether the calling thread has CAP_IPC_LOCK in its
// effective set (capabilities are per thread).
func hasCapIPCLock() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // version 3 writes two
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[unix.CAP_IPC_LOCK/32].Effective&(1<<(unix.CAP_IPC_LOCK%32)) != 0
}

// initUserNSIno is the inode number of the initial user namespace's
// /proc/<pid>/ns/user (the kernel's PROC_USER_INIT_INO).
const initUserNSIno = 0xEFFFFFFD

// inInitUserNS tells whether the process is in the initial user
// namespace, where its capabilities are the kernel's CAP_IPC_LOCK check's.
// A multi-threaded process cannot change its user namespace, so once is
// enough; without /proc the answer is no.
var inInitUserNS = sync.OnceValue(func() bool {
	var st unix.Stat_t
	return unix.Stat("/proc/self/ns/user", &st) == nil && st.Ino == initUserNSIno
})

// memlockLimit returns the soft RLIMIT_MEMLOCK (0 if it cannot be read).
func memlockLimit() uint64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl) != nil {
		return 0
	}
	return rl.Cur
}

// registerTable gives the queue's new ring u its buffer table where the
// policy allows it. Under q.mu.
func (q *Queue) registerTable(u *uring.Ring) {
	rs := &q.ring
	rs.gen++
	rs.table, rs.used = 0, 0
	if q.eng.pins != nil && q.eng.pins() && u.RegisterBuffers(regSlots) == nil {
		rs.table = regSlots
	}
}

// fixedSlot returns the slot of the ring's buffer table that holds the
// memory of r's transfer, registering it if need be, and tells whether
// there is one. Under q.mu, in a call of the caller's.
func (q *Queue) fixedSlot(r *request) (uint16, bool) {
	rs := &q.ring
	buf, own := uintptr(r.buf), uintptr(r.own)
	if rs.table == 0 || r.n <= 0 || r.n > maxFixedPages*pageSize {
		return 0, false
	}
	if buf < own || buf-own+uintptr(r.n) > uintptr(r.size) {
		return 0, false // a buffer of the caller's, not the request's own
	}
	need := (int(buf-own) + r.n + pageSize - 1) &^ (pageSize - 1)
	if r.reg.gen == rs.gen && r.reg.len >= need {
		return r.reg.slot, true
	}
	slot := r.reg.slot
	if r.reg.gen != rs.gen {
		if rs.used == rs.table {
			return 0, false
		}
		slot = rs.used
	}
	if need > maxFixedPages*pageSize {
		// A transfer far into the buffer: the slot would pin every page
		// before it too. Only the first maxFixedPages pages are registered.
		return 0, false
	}
	// Locked first: a registered slot holds the pages, not the addresses,
	// so pages the program dropped (madvise MADV_DONTNEED) and the kernel
	// replaced would be read into unseen, and the program would find zeros
	// where a read reported its bytes. Locked pages refuse MADV_DONTNEED
	// (EINVAL): the mistake is told, not hidden. The ring's creator has
	// CAP_IPC_LOCK (see pinPolicy), so no limit applies; munmap unlocks.
	if unix.Mlock(unsafe.Slice((*byte)(r.own), need)) != nil {
		return 0, false
	}
	if err := rs.u.SetBuffer(uint32(slot), r.own, need); err != nil {
		// ErrNotOwner: the queue was handed to this thread, which Submit
		// finds out next and gives it a ring of its own. Anything else
		// (ENOMEM, EFAULT): this ring registers nothing more.
		if err != uring.ErrNotOwner {
			rs.used = rs.table
		}
		return 0, false
	}
	if r.reg.gen != rs.gen {
		rs.used++
		r.reg.gen, r.reg.slot = rs.gen, slot
	}
	r.reg.len = need
	return slot, true
}

// fixedFault tells whether a transfer of r that named a slot came back
// with EFAULT, which a correct slot never gives: it is then done again the
// plain way, whose result is the truth.
func fixedFault(r *request, res int32) bool {
	return r.reg.fixed && syscall.Errno(-res) == syscall.EFAULT
}
