package engine

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/workqueue"
)

// Registration only where it costs the program nothing: CAP_IPC_LOCK where
// the kernel honours it (the initial user namespace). An unlimited
// RLIMIT_MEMLOCK is not enough: the user's counter is charged all the same.
func TestPinPolicy(t *testing.T) {
	const inf = unix.RLIM_INFINITY
	for _, tc := range []struct {
		capIPCLock, initNS bool
		memlock            uint64
		register           bool
	}{
		{true, true, 8 << 20, true},
		{true, true, 0, true},
		{true, true, inf, true},
		{true, false, 8 << 20, false}, // a container's CAP_IPC_LOCK: the kernel charges anyway
		{true, false, inf, false},     // charged to the user: other processes of the user would pay
		{false, true, 8 << 20, false},
		{false, true, 1 << 40, false},
		{false, true, inf, false},
		{false, false, inf, false},
		{false, false, 64 << 10, false},
	} {
		t.Run(fmt.Sprintf("cap=%v/initns=%v/memlock=%#x", tc.capIPCLock, tc.initNS, tc.memlock), func(t *testing.T) {
			if register := pinPolicy(tc.capIPCLock, tc.initNS, tc.memlock); register != tc.register {
				t.Errorf("register %v; want %v", register, tc.register)
			}
		})
	}
}

// The process's own facts, read as pinsFree reads them, agree with
// /proc/self/status (the thread's capabilities are the process's here).
func TestPinFacts(t *testing.T) {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/user", &st) != nil {
		t.Skip("no /proc/self/ns/user")
	}
	status, err := readFile("/proc/thread-self/status")
	if err != nil {
		t.Skip(err)
	}
	var capEff uint64
	for _, line := range bytes.Split(status, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("CapEff:")) {
			fmt.Sscanf(string(line[len("CapEff:"):]), "%x", &capEff)
		}
	}
	if got, want := hasCapIPCLock(), capEff&(1<<unix.CAP_IPC_LOCK) != 0; got != want {
		t.Errorf("CAP_IPC_LOCK: %v, /proc says %v", got, want)
	}
	var rl unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl)
	if memlockLimit() != rl.Cur {
		t.Errorf("RLIMIT_MEMLOCK %#x, getrlimit says %#x", memlockLimit(), rl.Cur)
	}
	t.Logf("CAP_IPC_LOCK %v, initial user namespace %v (ns inode %d), RLIMIT_MEMLOCK %#x", hasCapIPCLock(), inInitUserNS(), st.Ino, rl.Cur)
}

func readFile(name string) ([]byte, error) {
	fd, err := unix.Open(name, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			return out, err
		}
		out = append(out, buf[:n]...)
	}
}

// fixedCounts returns the transfers of q's rings that named a slot, those
// that came back with EFAULT, and the slots of the ring's table in use.
func fixedCounts(q *Queue) (ops, fails uint64, used uint16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ring.fixedOps, q.ring.fixedFails, q.ring.used
}

// pinning returns an engine with a ring whose registration policy says
// register (as with CAP_IPC_LOCK), or not.
func pinning(t *testing.T, register bool) *Engine {
	e := ringEngine(t, true)
	e.pins = func() bool { return register }
	return e
}

// tableQueue is ringQueue, skipping the test where the kernel gives the
// ring no buffer table although the policy asks for one.
func tableQueue(t *testing.T, e *Engine, bufferSize, maxWritebacks uint32, fd int) (*Queue, *QueueHeader) {
	t.Helper()
	q, pub := ringQueue(t, e, bufferSize, maxWritebacks, fd)
	if e.pins() && q.ring.table == 0 {
		t.Skip("the kernel gives the ring no buffer table")
	}
	return q, pub
}

// Reads through the ring into the requests' own buffers (or part of them)
// name registered slots and bring the file's bytes; reads into memory of
// the caller's, or into another request's buffer, go unregistered and
// bring them too; so do all reads when the policy says no, and reads of
// more than maxFixedPages.
func TestRingFixedReads(t *testing.T) {
	const size, reads = 65536, 8
	for _, tc := range []struct {
		name     string
		register bool
		buf      string // own, middle (of its own), foreign (the caller's), other (another request's)
		fixed    bool
	}{
		{"own buffer", true, "own", true},
		{"middle of its own buffer", true, "middle", true},
		{"caller's buffer", true, "foreign", false},
		{"another request's buffer", true, "other", false},
		{"own buffer, policy says no", false, "own", false},
		{"own buffer, transfer of more than maxFixedPages", true, "large", false},
		{"far into its own buffer (would pin the pages before it)", true, "far", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := size
			switch tc.buf {
			case "large":
				size = (maxFixedPages + 1) * pageSize
			case "far":
				size = maxFixedPages * pageSize
			}
			e := pinning(t, tc.register)
			fd, data := directData(t, reads*size, 5, unix.O_RDONLY)
			q, pub := tableQueue(t, e, uint32(2*size), 4, fd)
			foreign, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Munmap(foreign)
			other := q.Get()
			ringUsed := false
			for i := 0; i < reads; i++ {
				h := prepare(q, OpRead, fd, size)
				switch tc.buf {
				case "middle", "far":
					h.Buffer = unsafe.Add(h.Buffer, size)
				case "foreign":
					h.Buffer = unsafe.Pointer(&foreign[0])
				case "other":
					h.Buffer = other.Buffer
				}
				e.Submit(h)
				n, _ := inRing(q)
				ringUsed = ringUsed || n > 0
				if q.Wait() != h {
					t.Fatal("wait returned another request")
				}
				if int(h.Status) != size || !bytes.Equal(buffer(h, size), data[i*size:(i+1)*size]) {
					t.Fatalf("read %d: status %d (errno %d) or other bytes than the file's", i, h.Status, h.ReturnedErrno)
				}
				e.Put(h)
			}
			e.Put(other)
			if pos, _ := unix.Seek(fd, 0, unix.SEEK_CUR); pos != int64(reads*size) {
				t.Errorf("position %d after the reads, want %d", pos, reads*size)
			}
			ops, fails, used := fixedCounts(q)
			switch {
			case fails != 0:
				t.Errorf("%d reads from registered buffers came back with EFAULT", fails)
			case !ringUsed:
				t.Error("no read went through the ring")
			case tc.fixed && ops == 0:
				t.Error("no read named a registered buffer")
			case !tc.fixed && (ops != 0 || used != 0):
				t.Errorf("%d reads named a registered buffer, %d slots used; want none", ops, used)
			case tc.fixed && used != 1:
				t.Errorf("%d slots used by one request read again and again; want 1", used)
			}
			if pub.RunningRequests != 0 || pub.AllocatedRequests != 0 {
				t.Errorf("counters: running %d, allocated %d; want 0 0", pub.RunningRequests, pub.AllocatedRequests)
			}
			q.Cleanup()
		})
	}
}

// A registered buffer is locked: a slot holds pages, not addresses, so a
// page the program dropped with MADV_DONTNEED and the kernel replaced would
// be read into unseen (the read reports its bytes, the program finds
// zeros). madvise refuses locked pages instead: the program is told.
func TestRingFixedBufferLocked(t *testing.T) {
	const size = 16384
	e := pinning(t, true)
	fd, data := directData(t, 2*size, 7, unix.O_RDONLY)
	q, _ := tableQueue(t, e, size, 4, fd)
	h := prepare(q, OpRead, fd, size)
	e.Submit(h)
	if q.Wait() != h || int(h.Status) != size {
		t.Fatalf("read: status %d, errno %d", h.Status, h.ReturnedErrno)
	}
	if ops, _, _ := fixedCounts(q); ops == 0 {
		t.Skip("the read named no registered buffer here")
	}
	err := unix.Madvise(buffer(h, size), unix.MADV_DONTNEED)
	if err == nil {
		// Dropped: the next read must still land where the program looks.
		e.Submit(h)
		q.Wait()
		if !bytes.Equal(buffer(h, size), data[size:2*size]) {
			t.Fatalf("after MADV_DONTNEED the read reported %d bytes and the buffer holds other bytes than the file's", h.Status)
		}
	} else if err != syscall.EINVAL {
		t.Fatalf("madvise of a registered buffer: %v, want EINVAL (locked) or success", err)
	}
	e.Put(h)
	q.Cleanup()
}

// A request whose transfers grow takes the larger part of its buffer into
// its slot, and a queue with more requests than the table has slots reads
// right with every one of them (those beyond it unregistered).
func TestRingFixedSlotsGrowAndRunOut(t *testing.T) {
	const blk = 4096
	e := pinning(t, true)
	n := regSlots + 8
	fd, data := directData(t, n*blk, 9, unix.O_RDONLY)
	q, _ := tableQueue(t, e, 4*blk, 4, fd)
	// Growing: one request reads 1, then 4 blocks.
	h := prepare(q, OpRead, fd, blk)
	e.Submit(h)
	if q.Wait() != h || h.Status != blk || !bytes.Equal(buffer(h, blk), data[:blk]) {
		t.Fatalf("the first read: status %d or other bytes", h.Status)
	}
	h.Op, h.Len = OpRead, 4*blk
	e.Submit(h)
	if q.Wait() != h || h.Status != 4*blk || !bytes.Equal(buffer(h, 4*blk), data[blk:5*blk]) {
		t.Fatalf("the larger read: status %d or other bytes", h.Status)
	}
	q.mu.Lock()
	r := q.eng.requests.find(h)
	regLen := r.reg.len
	q.mu.Unlock()
	if regLen != 4*blk {
		t.Errorf("the slot holds %d bytes after a read of %d", regLen, 4*blk)
	}
	e.Put(h)
	unix.Seek(fd, 0, unix.SEEK_SET)
	// Running out: n requests allocated, each reading its block in turn.
	var hs []*RequestHeader
	for i := 0; i < n; i++ {
		hs = append(hs, q.Get())
	}
	for i, h := range hs {
		h.Op, h.Fd, h.Len = OpRead, int32(fd), blk
		e.Submit(h)
		if q.Wait() != h || h.Status != blk || !bytes.Equal(buffer(h, blk), data[i*blk:(i+1)*blk]) {
			t.Fatalf("read %d of %d: status %d (errno %d) or other bytes", i, n, h.Status, h.ReturnedErrno)
		}
	}
	for _, h := range hs {
		e.Put(h)
	}
	ops, fails, used := fixedCounts(q)
	if used != regSlots || fails != 0 || ops < regSlots {
		t.Errorf("%d slots used of %d, %d fixed reads, %d with EFAULT; want all slots, at least %d, none", used, regSlots, ops, fails, regSlots)
	}
	q.Cleanup()
}

// Write-backs through the ring from registered buffers (WRITE_FIXED) leave
// the file as sequential write(2)s would.
func TestRingFixedWritebacks(t *testing.T) {
	const size, blocks = 8192, 40
	for _, maxWB := range []uint32{1, 4, 16} {
		t.Run(fmt.Sprintf("max_writebacks=%d", maxWB), func(t *testing.T) {
			e := pinning(t, true)
			fd, _ := directData(t, 0, 1, unix.O_WRONLY)
			q, _ := tableQueue(t, e, size, maxWB, fd)
			var want []byte
			for i := 0; i < blocks; i++ {
				h := prepare(q, OpWriteBack, fd, size)
				want = append(want, fillBlock(h, size, i)...)
				e.Submit(h)
			}
			q.Sync()
			got := make([]byte, len(want)+1)
			name := fdName(t, fd)
			rfd, err := unix.Open(name, unix.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(rfd)
			if n, _ := unix.Pread(rfd, got, 0); n != len(want) || !bytes.Equal(got[:n], want) {
				t.Errorf("the file holds %d bytes, not the %d written in submit order", n, len(want))
			}
			if pos, _ := unix.Seek(fd, 0, unix.SEEK_CUR); pos != int64(len(want)) {
				t.Errorf("descriptor position %d, want %d", pos, len(want))
			}
			ops, fails, _ := fixedCounts(q)
			if ops == 0 || fails != 0 {
				t.Errorf("%d write-backs named a registered buffer, %d came back with EFAULT; want some, none", ops, fails)
			}
			q.Cleanup()
		})
	}
}

// A transfer from a registered buffer that comes back with EFAULT (which a
// correct slot never gives) is done again with read(2); one from memory
// of the caller's reports EFAULT as read(2) would.
func TestRingFixedFault(t *testing.T) {
	const size = 65536
	for _, register := range []bool{true, false} {
		t.Run(fmt.Sprintf("registered=%v", register), func(t *testing.T) {
			e := pinning(t, register)
			fd, data := directData(t, 4*size, 3, unix.O_RDONLY)
			q, _ := tableQueue(t, e, size, 4, fd)
			q.ring.fault = func(int32) int32 { return -int32(syscall.EFAULT) }
			for i := 0; i < 4; i++ {
				h := prepare(q, OpRead, fd, size)
				e.Submit(h)
				if q.Wait() != h {
					t.Fatal("wait returned another request")
				}
				switch {
				case register && (h.Status != size || !bytes.Equal(buffer(h, size), data[i*size:(i+1)*size])):
					t.Errorf("read %d: status %d, errno %d; want what read(2) gives", i, h.Status, h.ReturnedErrno)
				case !register && (h.Status != -1 || h.ReturnedErrno != int32(syscall.EFAULT)):
					t.Errorf("read %d: status %d, errno %d; want -1, EFAULT", i, h.Status, h.ReturnedErrno)
				}
				e.Put(h)
				if !register {
					unix.Seek(fd, int64(i+1)*size, unix.SEEK_SET)
				}
			}
			if _, fails, _ := fixedCounts(q); register && fails == 0 {
				t.Error("no EFAULT of a registered transfer was counted")
			}
			q.Cleanup()
		})
	}
}

// A queue handed to another thread registers its requests again in the
// new thread's ring, and reads right there.
func TestRingFixedHandOff(t *testing.T) {
	const size, reqs = 65536, 4
	for _, inFlight := range []bool{false, true} {
		t.Run(fmt.Sprintf("reads in flight=%v", inFlight), func(t *testing.T) {
			e := newEngine(t, Options{Ring: true, Executor: workqueue.New(0)})
			e.pins = func() bool { return true }
			old, cur := newThread(t), newThread(t)
			fd, data := directData(t, 4*reqs*size, 7, unix.O_RDONLY)
			pub := &QueueHeader{BufferSize: size, MaxWritebacks: 4}
			var q *Queue
			var hs []*RequestHeader
			var oldGen uint32
			next := 0 // the next block of the file
			check := func(h *RequestHeader) {
				t.Helper()
				if h.Status != size || !bytes.Equal(buffer(h, size), data[next*size:(next+1)*size]) {
					t.Fatalf("read of block %d: status %d (errno %d) or other bytes", next, h.Status, h.ReturnedErrno)
				}
				next++
			}
			old.do(func() {
				q = e.Init(pub)
				for i := 0; i < reqs; i++ {
					hs = append(hs, prepare(q, OpRead, fd, size))
				}
				for _, h := range hs {
					e.Submit(h)
				}
				q.mu.Lock()
				oldGen = q.ring.gen
				table := q.ring.table
				q.mu.Unlock()
				if n, u := inRing(q); u == nil || table == 0 {
					t.Skip("no io_uring with a buffer table here")
				} else if n == 0 {
					t.Log("nothing in the ring (EAGAIN?)")
				}
				if !inFlight {
					for range hs {
						check(q.Wait())
					}
				}
			})
			opsBefore, _, _ := fixedCounts(q)
			cur.do(func() {
				if inFlight {
					for range hs {
						check(q.Wait())
					}
				}
				for round := 0; round < 2; round++ {
					for _, h := range hs {
						h.Op, h.Fd, h.Len = OpRead, int32(fd), size
						e.Submit(h)
					}
					for range hs {
						check(q.Wait())
					}
				}
				for _, h := range hs {
					e.Put(h)
				}
				q.mu.Lock()
				gen, used, ops, fails := q.ring.gen, q.ring.used, q.ring.fixedOps, q.ring.fixedFails
				for _, h := range hs {
					if r := q.eng.requests.find(h); r.reg.gen != gen {
						t.Errorf("a request's slot is in ring %d; the queue's ring is %d", r.reg.gen, gen)
					}
				}
				q.mu.Unlock()
				if gen == oldGen || used != reqs || ops < opsBefore+reqs || fails != 0 {
					t.Errorf("new ring %d (old %d), %d slots used, %d fixed reads of which %d before, %d with EFAULT; want another ring, %d slots, %d more, none",
						gen, oldGen, used, ops, opsBefore, fails, reqs, reqs)
				}
				q.Cleanup()
			})
		})
	}
}
