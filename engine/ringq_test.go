package engine

import (
	"bytes"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/workqueue"
)

// ringQueue returns a queue of an engine that uses io_uring, and skips the
// test where the kernel gives no ring. The test's goroutine is locked to
// its thread, the ring's creator, as a C caller is to its own.
func ringQueue(t *testing.T, e *Engine, bufferSize, maxWritebacks uint32, fd int) (*Queue, *QueueHeader) {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	pub := &QueueHeader{BufferSize: bufferSize, MaxWritebacks: maxWritebacks}
	q := e.Init(pub)
	q.mu.Lock()
	ok := q.setupRing()
	q.mu.Unlock()
	if !ok {
		t.Skip("no io_uring here")
	}
	return q, pub
}

// ringEngine returns an engine that uses io_uring. With keepP its
// executor manages GOMAXPROCS, so that callers keep their P while they wait
// in the ring (restored when the test ends); without, they wait the
// ordinary way.
func ringEngine(t *testing.T, keepP bool) *Engine {
	t.Helper()
	pool := workqueue.New(0)
	if keepP {
		old := runtime.GOMAXPROCS(0)
		t.Cleanup(func() { runtime.GOMAXPROCS(old) })
		pool.ManageProcs(16)
	}
	return newEngine(t, Options{Ring: true, Executor: pool})
}

// fillBlock fills a request's buffer with the pattern of block i.
func fillBlock(h *RequestHeader, size, i int) []byte {
	b := buffer(h, size)
	for j := range b {
		b[j] = byte(i*13 + j/512 + 1)
	}
	return b
}

// Write-backs to an O_DIRECT file through the ring leave the file and the
// descriptor's position exactly as sequential write(2)s would, whatever
// the number in flight, and keep the counters of the contract.
func TestRingWritebacks(t *testing.T) {
	const size, blocks = 8192, 40
	for _, tc := range []struct {
		maxWB uint32
		keepP bool
	}{{1, true}, {2, true}, {4, true}, {16, true}, {100, true}, {1, false}, {4, false}, {16, false}} {
		maxWB := tc.maxWB
		t.Run(fmt.Sprintf("max_writebacks=%d/keepP=%v", maxWB, tc.keepP), func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "wb")
			fd := openDirect(t, name, unix.O_WRONLY)
			e := ringEngine(t, tc.keepP)
			q, pub := ringQueue(t, e, size, maxWB, fd)
			if _, err := unix.Seek(fd, size, unix.SEEK_SET); err != nil { // start at an offset
				t.Fatal(err)
			}
			want := make([]byte, size)
			used := false
			for i := 0; i < blocks; i++ {
				h := prepare(q, OpWriteBack, fd, size)
				want = append(want, fillBlock(h, size, i)...)
				e.Submit(h)
				if pub.RunningWritebacks > maxWB {
					t.Fatalf("%d write-backs running after a submit; max_writebacks is %d", pub.RunningWritebacks, maxWB)
				}
				q.mu.Lock()
				used = used || q.ring.inFlight() > 0
				q.mu.Unlock()
			}
			q.Sync()
			if !used {
				t.Error("no write-back went through the ring")
			}
			if pub.RunningRequests != 0 || pub.RunningWritebacks != 0 || pub.AllocatedRequests != 0 {
				t.Errorf("counters after sync: running %d, write-backs %d, allocated %d; want 0 0 0", pub.RunningRequests, pub.RunningWritebacks, pub.AllocatedRequests)
			}
			if pos, _ := unix.Seek(fd, 0, unix.SEEK_CUR); pos != int64(len(want)) {
				t.Errorf("descriptor position %d, want %d", pos, len(want))
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[size:], want[size:]) || len(got) != len(want) {
				t.Errorf("the file holds %d bytes, not the %d written in submit order", len(got), len(want))
			}
			q.Cleanup()
		})
	}
}

// A read of the same file queued behind write-backs in the ring waits for
// them and sees their data, also when the caller only asks for the read.
func TestRingReadAfterWritebacks(t *testing.T) {
	const size, blocks = 4096, 16
	name := filepath.Join(t.TempDir(), "wb")
	wfd := openDirect(t, name, unix.O_RDWR)
	rfd := openDirect(t, name, unix.O_RDONLY)
	e := ringEngine(t, true)
	q, pub := ringQueue(t, e, size*blocks, 8, wfd)
	var want []byte
	for i := 0; i < blocks; i++ {
		h := prepare(q, OpWriteBack, wfd, size)
		want = append(want, fillBlock(h, size, i)...)
		e.Submit(h)
	}
	rd := prepare(q, OpRead, rfd, size*blocks)
	e.Submit(rd)
	if got := q.Wait(); got != rd {
		t.Fatalf("wait returned %p, want the read %p", got, rd)
	}
	if rd.Status != int32(len(want)) || !bytes.Equal(buffer(rd, len(want)), want) {
		t.Errorf("the read behind the write-backs got status %d and not their data", rd.Status)
	}
	e.Put(rd)
	if pub.RunningRequests != 0 || pub.AllocatedRequests != 0 {
		t.Errorf("counters: running %d, allocated %d; want 0 0", pub.RunningRequests, pub.AllocatedRequests)
	}
	q.Cleanup()
}

// Write-backs in the ring that fail part-way (RLIMIT_FSIZE, SIGXFSZ
// ignored) end as with one write at a time: the first failure in file
// order is reported, the file holds exactly the blocks before it, the
// descriptor is where that write began.
func TestRingWritebackFailure(t *testing.T) {
	const size, blocks, limit = 4096, 12, 5
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_WRONLY)
	e := ringEngine(t, true)
	q, pub := ringQueue(t, e, size, blocks, fd)

	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := unix.Rlimit{Cur: limit * size, Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := 0; i < blocks; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		if b := fillBlock(h, size, i); i < limit {
			want = append(want, b...)
		}
		e.Submit(h)
	}
	err := fatalOf(q.Sync)
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	wantFatal(t, err, fmt.Sprintf("Asynchronous write to fd %d failed: File too large", fd))
	wantFileAfterFailure(t, name, fd, want, limit*size)
	abandon(q, pub)
}

// The first write-back of a chain in the ring fails at once (its buffer is
// not aligned as O_DIRECT needs) while the later ones are still being
// written: asio_sync reaps the chain to its end, reports the failure, and
// the file is left as the failed write left it (empty). It once parked the
// caller, with nobody left to reap the ring.
func TestRingFailureAheadOfItsChain(t *testing.T) {
	const size, blocks = 65536, 16
	for round := 0; round < 20; round++ {
		name := filepath.Join(t.TempDir(), "wb")
		fd := openDirect(t, name, unix.O_WRONLY)
		e := ringEngine(t, true)
		q, pub := ringQueue(t, e, size, blocks, fd)
		for i := 0; i < blocks; i++ {
			h := prepare(q, OpWriteBack, fd, size)
			fillBlock(h, size, i)
			if i == 0 {
				h.Buffer = unsafe.Add(h.Buffer, 1) // within its buffer, misaligned
				h.Len = size - 512
			}
			e.Submit(h)
		}
		done := make(chan error, 1)
		go func() { done <- fatalOf(q.Sync) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("asio_sync never returned: nobody reaped the chain behind the failed write-back")
		}
		wantFatal(t, err, fmt.Sprintf("Asynchronous write to fd %d failed: Invalid argument", fd))
		wantFileAfterFailure(t, name, fd, nil, 0)
		abandon(q, pub)
	}
}

// osThread runs functions on one goroutine locked to its own OS thread, as
// a C thread calls the library. A misuse or failed write-back reported in
// it fails the test.
type osThread struct {
	t    *testing.T
	work chan func()
	gone chan struct{}
}

func newThread(t *testing.T) *osThread {
	th := &osThread{t: t, work: make(chan func()), gone: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer close(th.gone)
		for f := range th.work {
			f()
		}
	}()
	t.Cleanup(th.exit)
	return th
}

// do runs f on the thread and waits for it.
func (th *osThread) do(f func()) {
	done := make(chan struct{})
	th.work <- func() {
		defer close(done)
		if err := fatalOf(f); err != nil {
			th.t.Errorf("reported: %v", err)
		}
	}
	<-done
}

// exit ends the thread (at most once).
func (th *osThread) exit() {
	select {
	case <-th.gone:
	default:
		close(th.work)
		<-th.gone
	}
}

// directData returns a descriptor, opened with O_DIRECT and flags, of a new
// file of size bytes of pattern seed, on disk (no dirty cached pages, so
// that the ring reads and overwrites it without blocking).
func directData(t *testing.T, size int, seed int, flags int) (int, []byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(seed*31 + i/512)
	}
	name := filepath.Join(t.TempDir(), "data")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return openDirect(t, name, flags), data
}

// inRing returns the number of q's requests in its ring, and the ring.
func inRing(q *Queue) (int, any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ring.inFlight(), q.ring.u
}

// A queue handed from one thread to another (one at a time) works on: the
// new thread collects what the old one left in its ring, even though the
// old thread never calls again (or has ended), and then gets a ring of its
// own.
func TestRingHandOff(t *testing.T) {
	const size, files = 65536, 4
	for _, tc := range []struct {
		name      string
		inFlight  bool // the old thread leaves reads in its ring
		writeback bool // ... write-backs instead
		oldExits  bool // the old thread ends before the new one calls
	}{
		{"empty ring", false, false, false},
		{"reads in flight", true, false, false},
		{"reads in flight, old thread gone", true, false, true},
		{"write-backs in flight", true, true, false},
		{"write-backs in flight, old thread gone", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, Options{Ring: true, Executor: workqueue.New(0)})
			old, cur := newThread(t), newThread(t)
			var fds [files]int
			var data [files][]byte
			for i := range fds {
				fds[i], data[i] = directData(t, files*size, i+1, unix.O_RDWR)
			}
			pub := &QueueHeader{BufferSize: size, MaxWritebacks: 16}
			var q *Queue
			var oldRing any
			var blocks [][]byte
			old.do(func() {
				q = e.Init(pub)
				if !tc.inFlight {
					e.Submit(prepare(q, OpRead, fds[0], size))
					e.Put(q.Wait())
				} else if tc.writeback {
					for i := 0; i < 16; i++ {
						h := prepare(q, OpWriteBack, fds[0], size/4)
						blocks = append(blocks, fillBlock(h, size/4, i))
						e.Submit(h)
					}
				} else {
					for i := range fds {
						e.Submit(prepare(q, OpRead, fds[i], size))
					}
				}
				var n int
				n, oldRing = inRing(q)
				if oldRing == nil {
					t.Skip("no io_uring here")
				}
				if tc.inFlight && n == 0 {
					t.Error("nothing was left in the old thread's ring")
				}
			})
			if tc.oldExits {
				old.exit()
			}
			cur.do(func() {
				switch {
				case tc.writeback:
					q.Sync()
					got := make([]byte, 16*size/4)
					if _, err := unix.Pread(fds[0], got, 0); err != nil {
						t.Fatal(err)
					}
					if want := bytes.Join(blocks, nil); !bytes.Equal(got, want) {
						t.Error("the file does not hold the write-backs the old thread left in its ring")
					}
					if pos, _ := unix.Seek(fds[0], 0, unix.SEEK_CUR); pos != 16*size/4 {
						t.Errorf("position %d after the write-backs, want %d", pos, 16*size/4)
					}
				case tc.inFlight:
					for i := range fds {
						h := q.Wait()
						if h == nil || h.Fd != int32(fds[i]) || h.Status != size || !bytes.Equal(buffer(h, size), data[i][:size]) {
							t.Fatalf("read %d left in the old thread's ring came back wrong", i)
						}
						e.Put(h)
						if pos, _ := unix.Seek(fds[i], 0, unix.SEEK_CUR); pos != size {
							t.Errorf("file %d: position %d after the read, want %d", i, pos, size)
						}
					}
				}
				// The new thread's requests go through a ring of its own.
				unix.Seek(fds[1], 0, unix.SEEK_SET)
				h := prepare(q, OpRead, fds[1], size)
				e.Submit(h)
				// (It may have come back at once, EAGAIN: the device was busy.)
				if _, u := inRing(q); u == nil || u == oldRing {
					t.Errorf("after the hand-off the queue has no ring of the new thread's (none: %v)", u == nil)
				}
				if q.Wait() != h || h.Status != size || !bytes.Equal(buffer(h, size), data[1][:size]) {
					t.Error("the new thread's read came back wrong")
				}
				e.Put(h)
				q.Cleanup()
			})
		})
	}
}

// Results of the ring that the plain system call would not give are never
// reported: the transfer is done once more, with read(2) or write(2), by a
// background task (and never resubmitted, so an O_NONBLOCK file on a file
// system without RWF_NOWAIT cannot spin). Other errors are the caller's.
func TestRingRedo(t *testing.T) {
	const size = 65536
	for _, tc := range []struct {
		res       syscall.Errno
		redone    bool
		writeback bool
	}{
		{syscall.ECANCELED, true, false},
		{syscall.EINTR, true, false},
		{syscall.EAGAIN, true, false},
		{syscall.EOPNOTSUPP, true, false},
		{syscall.ECANCELED, true, true},
		{syscall.EAGAIN, true, true},
		{syscall.EIO, false, false},
	} {
		t.Run(fmt.Sprintf("%v/writeback=%v", tc.res, tc.writeback), func(t *testing.T) {
			e := ringEngine(t, true)
			fd, data := directData(t, 4*size, 3, unix.O_RDWR)
			q, pub := ringQueue(t, e, size, 4, fd)
			faults := 0
			q.ring.fault = func(int32) int32 { faults++; return -int32(tc.res) }
			if tc.writeback {
				var want []byte
				for i := 0; i < 4; i++ {
					h := prepare(q, OpWriteBack, fd, size)
					want = append(want, fillBlock(h, size, i)...)
					e.Submit(h)
				}
				q.Sync()
				got := make([]byte, len(want))
				unix.Pread(fd, got, 0)
				if !bytes.Equal(got, want) {
					t.Error("the file does not hold the write-backs")
				}
			} else {
				for i := 0; i < 4; i++ {
					h := prepare(q, OpRead, fd, size)
					e.Submit(h)
					if q.Wait() != h {
						t.Fatal("wait returned another request")
					}
					switch {
					case !tc.redone && (h.Status != -1 || h.ReturnedErrno != int32(tc.res)):
						t.Errorf("read %d: status %d, errno %d; want -1, %d", i, h.Status, h.ReturnedErrno, tc.res)
					case tc.redone && (h.Status != size || h.ReturnedErrno != 0 || !bytes.Equal(buffer(h, size), data[i*size:(i+1)*size])):
						t.Errorf("read %d after %v from the ring: status %d, errno %d, or other data; want what read(2) gives", i, tc.res, h.Status, h.ReturnedErrno)
					}
					e.Put(h)
				}
				if pos, _ := unix.Seek(fd, 0, unix.SEEK_CUR); tc.redone && pos != 4*size {
					t.Errorf("position %d after four reads, want %d", pos, 4*size)
				}
			}
			if faults != 4 {
				t.Errorf("%d completions from the ring for 4 requests; want 4 (none resubmitted)", faults)
			}
			if pub.RunningRequests != 0 {
				t.Errorf("%d requests running at the end", pub.RunningRequests)
			}
			q.Cleanup()
		})
	}
}

// Writes the kernel cannot do without blocking (extending an O_DIRECT file
// opened with O_NONBLOCK) come back from the ring with EAGAIN at once; they
// are done with write(2) in the background, once each.
func TestRingNonblockingExtendingWrites(t *testing.T) {
	const size, blocks = 65536, 16
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_WRONLY|unix.O_NONBLOCK)
	e := ringEngine(t, true)
	q, _ := ringQueue(t, e, size, 8, fd)
	var want []byte
	for i := 0; i < blocks; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		want = append(want, fillBlock(h, size, i)...)
		e.Submit(h)
	}
	w := prepare(q, OpWrite, fd, size)
	want = append(want, fillBlock(w, size, blocks)...)
	e.Submit(w)
	if q.Wait() != w || w.Status != size {
		t.Fatalf("write behind the write-backs: status %d, errno %d; want %d", w.Status, w.ReturnedErrno, size)
	}
	e.Put(w)
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the file holds %d bytes, not the %d written", len(got), len(want))
	}
	q.Cleanup()
}

// Extending write-backs the ring refused (ext4 does, under RWF_NOWAIT)
// are not offered to it again for that file: a stream of them paid a
// system call for an EAGAIN at each write. What they write is the same.
func TestRingRefusedWritesNotOfferedAgain(t *testing.T) {
	const size, blocks = 65536, 32
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_WRONLY)
	e := ringEngine(t, true)
	q, _ := ringQueue(t, e, size, 4, fd)
	var want []byte
	for i := 0; i < blocks; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		want = append(want, fillBlock(h, size, i)...)
		e.Submit(h)
	}
	q.Sync()
	q.mu.Lock()
	offered, refused := q.ring.offered, q.ring.refused.ok
	q.mu.Unlock()
	if got, err := os.ReadFile(name); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes (%v), not the %d written", len(got), err, len(want))
	}
	if !refused {
		t.Skipf("this file system took extending O_DIRECT writes under RWF_NOWAIT (%d of %d offered): nothing to learn", offered, blocks)
	}
	if offered > blocks/4 {
		t.Errorf("%d extending write-backs offered to the ring, which refused them: want it told once (at most %d)", offered, blocks/4)
	}
	q.Cleanup()
}

// A read that got part of its data at once (readNow, with a kind cache
// that did not know the file is O_DIRECT now: the descriptor reused, or
// O_DIRECT set with fcntl) never goes to the ring, which would read over
// the part and report only its own count: read(2) appends the rest. (The
// cache's last use answers readNow; the look-up that follows in the same
// submit finds the file O_DIRECT.)
func TestRingTakesNoPartialRead(t *testing.T) {
	const size = 8192
	for _, uses := range []int{1, 2, kindRecheck} {
		t.Run(fmt.Sprintf("uses=%d", uses), func(t *testing.T) {
			sys := &nowaitSyscalls{part: 4096}
			e := newEngine(t, Options{Ring: true, Executor: workqueue.New(0), Syscalls: sys})
			fd, data := directData(t, size, 2, unix.O_RDONLY)
			q, _ := ringQueue(t, e, size, 1, fd)
			q.kinds = kindCache{fd: fd, kind: kindCached, uses: uses} // stale
			h := prepare(q, OpRead, fd, size)
			e.Submit(h) // gets 4096 bytes at once, the rest later
			if sys.nowait != 1 {
				t.Fatalf("%d reads without waiting, want 1", sys.nowait)
			}
			if q.Wait() != h || h.Status != size || !bytes.Equal(buffer(h, size), data) {
				t.Errorf("the partly done read: status %d, data right %v; want %d and the file", h.Status, bytes.Equal(buffer(h, size), data), size)
			}
			e.Put(h)
			q.Cleanup()
		})
	}
}

// Background tasks never touch the ring, which only its creator thread may
// use: a request behind requests in the ring waits for the caller's next
// call. (A task that waited in the ring once ended the process from a Go
// thread when the ring failed; now it would find the ring not its own and
// replace it.)
func TestRingLeftToTheCaller(t *testing.T) {
	const size = 65536
	e := ringEngine(t, true)
	fd, _ := directData(t, 8*size, 1, unix.O_RDWR)
	q, _ := ringQueue(t, e, size, 8, fd)
	var want []byte
	used := false
	for i := 0; i < 8; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		want = append(want, fillBlock(h, size, i)...)
		e.Submit(h)
		n, _ := inRing(q)
		used = used || n > 0
	}
	_, u0 := inRing(q)
	rfd := openDirect(t, fdName(t, fd), unix.O_RDONLY)
	rd := prepare(q, OpRead, rfd, size) // the same file: waits for the write-backs
	e.Submit(rd)
	if q.Wait() != rd || rd.Status != size || !bytes.Equal(buffer(rd, size), want[:size]) {
		t.Errorf("the read behind the write-backs: status %d, or not their data", rd.Status)
	}
	if _, u := inRing(q); u != u0 {
		t.Error("the ring was replaced: a background task used it")
	}
	if !used {
		t.Log("no write-back stayed in the ring (the kernel would have blocked for each)")
	}
	e.Put(rd)
	q.Cleanup()
}

// A ring whose descriptor the program closed (closefrom before exec, say)
// does not take the program's next descriptor of that number with it: the
// requests in it are collected, the queue goes on without a ring.
func TestRingClosedUnderIt(t *testing.T) {
	const size, files = 65536, 4
	e := ringEngine(t, true)
	var fds [files]int
	var data [files][]byte
	for i := range fds {
		fds[i], data[i] = directData(t, size, i+1, unix.O_RDONLY)
	}
	q, _ := ringQueue(t, e, size, 1, fds[0])
	for i := range fds {
		e.Submit(prepare(q, OpRead, fds[i], size))
	}
	n, _ := inRing(q)
	if n != files {
		t.Fatalf("%d reads in the ring, want %d", n, files)
	}
	ringFd := q.ring.u.Fd()
	unix.Close(ringFd)
	other, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(other)
	for i := range fds {
		h := q.Wait()
		if h == nil || h.Fd != int32(fds[i]) || h.Status != size || !bytes.Equal(buffer(h, size), data[i]) {
			t.Fatalf("read %d in the closed ring came back wrong", i)
		}
		e.Put(h)
	}
	if _, err := unix.FcntlInt(uintptr(other), unix.F_GETFD, 0); err != nil {
		t.Errorf("the program's descriptor %d (the ring's number %d) was closed by the engine", other, ringFd)
	}
	unix.Seek(fds[0], 0, unix.SEEK_SET)
	h := prepare(q, OpRead, fds[0], size)
	e.Submit(h)
	if q.Wait() != h || h.Status != size {
		t.Errorf("a read after the ring broke: status %d", h.Status)
	}
	e.Put(h)
	q.Cleanup()
}

// onOtherThread runs f on a goroutine locked to a new thread and waits.
func onOtherThread(f func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(done)
		f()
	}()
	<-done
}

// fdName returns the path fd was opened with.
func fdName(t *testing.T, fd int) string {
	t.Helper()
	name, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// A request behind requests in the ring makes progress though the caller
// never calls again: here the caller itself reads the pipe that a write
// of its queue, queued behind an O_DIRECT read in the ring, feeds. (Only
// the caller's thread can reap the ring; a background task collects it
// when the caller does not come.)
func TestRingProgressWithoutTheCaller(t *testing.T) {
	const size = 65536
	for _, op := range []Op{OpRead, OpWriteBack} {
		t.Run(op.String(), func(t *testing.T) {
			e := ringEngine(t, true)
			fd, _ := directData(t, 4*size, 1, unix.O_RDWR)
			q, _ := ringQueue(t, e, size, 4, fd)
			for i := 0; i < 3; i++ {
				e.Submit(prepare(q, op, fd, size))
			}
			if n, _ := inRing(q); n == 0 {
				t.Skip("nothing stayed in the ring (the kernel would have blocked)")
			}
			pr, pw := pipe(t)
			w := prepare(q, OpWrite, int(pw.Fd()), 100)
			copy(buffer(w, 100), bytes.Repeat([]byte("p"), 100))
			e.Submit(w)
			fds := []unix.PollFd{{Fd: int32(pr.Fd()), Events: unix.POLLIN}}
			if n, err := unix.Poll(fds, 20000); n != 1 || err != nil {
				t.Fatalf("the pipe write queued behind the ring never happened while the caller read the pipe (poll: %d, %v)", n, err)
			}
			got := make([]byte, 100)
			if n, _ := unix.Read(int(pr.Fd()), got); n != 100 {
				t.Errorf("read %d bytes from the pipe, want 100", n)
			}
			q.Sync()
			for h := q.Wait(); h != nil; h = q.Wait() {
				if h.Status != int32(h.Len) {
					t.Errorf("%v: status %d, want %d", h.Op, h.Status, h.Len)
				}
				e.Put(h)
			}
			q.Cleanup()
		})
	}
}
