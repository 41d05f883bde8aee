package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openDirect opens name with O_DIRECT (creating it), or skips the test
// where the filesystem does not support it.
func openDirect(t *testing.T, name string, flags int) int {
	t.Helper()
	fd, err := unix.Open(name, flags|unix.O_DIRECT|unix.O_CREAT, 0o644)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("no O_DIRECT on %s", filepath.Dir(name))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// meetingSyscalls makes the calls of chosen descriptors wait for each
// other: a call on a waiting descriptor blocks until `want` such calls are
// in progress at once (or until a generous time-out, which the test then
// reports as a failure). It also records the order of starts and ends.
type meetingSyscalls struct {
	waitFds map[int]bool
	want    int
	hold    time.Duration // how long every call takes at least

	mu      sync.Mutex
	cond    *sync.Cond
	inside  int
	met     bool
	timeout bool
	log     []string
}

func newMeeting(want int, hold time.Duration, fds ...int) *meetingSyscalls {
	m := &meetingSyscalls{waitFds: map[int]bool{}, want: want, hold: hold}
	for _, fd := range fds {
		m.waitFds[fd] = true
	}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *meetingSyscalls) around(fd int, what string, call func() (int, error)) (int, error) {
	m.mu.Lock()
	m.log = append(m.log, "start "+what)
	if m.waitFds[fd] && !m.met {
		m.inside++
		if m.inside >= m.want {
			m.met = true
			m.cond.Broadcast()
		}
		deadline := time.AfterFunc(10*time.Second, func() {
			m.mu.Lock()
			m.timeout = true
			m.cond.Broadcast()
			m.mu.Unlock()
		})
		for !m.met && !m.timeout {
			m.cond.Wait()
		}
		deadline.Stop()
		m.inside--
	}
	m.mu.Unlock()
	time.Sleep(m.hold)
	n, err := call()
	m.mu.Lock()
	m.log = append(m.log, "end "+what)
	m.mu.Unlock()
	return n, err
}

func (m *meetingSyscalls) Read(fd int, p []byte) (int, error) {
	return m.around(fd, "read", func() (int, error) { return unix.Read(fd, p) })
}

// ReadNowait never has data at hand, so every read meets the others.
func (m *meetingSyscalls) ReadNowait(int, []byte) (int, error) { return -1, syscall.EAGAIN }

func (m *meetingSyscalls) Write(fd int, p []byte) (int, error) {
	return m.around(fd, "write", func() (int, error) { return unix.Write(fd, p) })
}

func (m *meetingSyscalls) Pwrite(fd int, p []byte, off int64) (int, error) {
	return m.around(fd, "pwrite", func() (int, error) { return unix.Pwrite(fd, p, off) })
}

// Write-backs to an O_DIRECT file are several in flight at once, and the
// file ends up exactly as sequential writes would leave it: contents and
// descriptor position.
func TestDirectWritebacksRunInParallel(t *testing.T) {
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_WRONLY)
	const blocks, size = 16, 4096
	meet := newMeeting(3, 0, fd)
	e := newEngine(t, Options{Syscalls: meet})
	q, pub := newQueue(t, e, size, 8)
	if _, err := unix.Seek(fd, 2*size, 0); err != nil { // start at an offset
		t.Fatal(err)
	}
	var want []byte
	for i := 0; i < blocks; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		b := buffer(h, size)
		for j := range b {
			b[j] = byte(i*7 + j)
		}
		want = append(want, b...)
		e.Submit(h)
	}
	q.Sync()
	if meet.timeout || !meet.met {
		t.Errorf("write-backs to an O_DIRECT file never had 3 in flight at once: %v", meet.log)
	}
	if pos, _ := unix.Seek(fd, 0, 1); pos != int64(2*size+blocks*size) {
		t.Errorf("descriptor position %d after the write-backs, want %d", pos, 2*size+blocks*size)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[2*size:], want) || len(got) != 2*size+len(want) {
		t.Errorf("file holds %d bytes, not the %d written after the %d-byte offset in submit order", len(got), len(want), 2*size)
	}
	if pub.RunningWritebacks != 0 || pub.AllocatedRequests != 0 {
		t.Errorf("counters after sync: %d write-backs, %d allocated", pub.RunningWritebacks, pub.AllocatedRequests)
	}
}

// A read of the same file, through another descriptor, submitted behind
// write-backs waits for them and sees their data.
func TestSameFileWaitsForWritebacks(t *testing.T) {
	name := filepath.Join(t.TempDir(), "wb")
	wfd := openDirect(t, name, unix.O_WRONLY)
	rfd, err := unix.Open(name, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	meet := newMeeting(99, 20*time.Millisecond) // never meets; only logs
	e := newEngine(t, Options{Syscalls: meet})
	q, _ := newQueue(t, e, 4096, 4)
	for i := 0; i < 4; i++ {
		h := prepare(q, OpWriteBack, wfd, 4096)
		copy(buffer(h, 4096), bytes.Repeat([]byte{byte('A' + i)}, 4096))
		e.Submit(h)
	}
	rd := prepare(q, OpRead, rfd, 4096)
	rd.Len = 4096
	e.Submit(rd)
	if q.Wait() != rd || rd.Status != 4096 || buffer(rd, 1)[0] != 'A' {
		t.Fatalf("read behind write-backs: status %d", rd.Status)
	}
	e.Put(rd)
	meet.mu.Lock()
	defer meet.mu.Unlock()
	var ends int
	for _, ev := range meet.log {
		switch ev {
		case "end pwrite", "end write":
			ends++
		case "start read":
			if ends != 4 {
				t.Errorf("the read started after %d of 4 write-backs of the same file ended: %v", ends, meet.log)
			}
		}
	}
}

// In the fb-direct pattern the read-ahead of one file runs while the
// write-back of another file is in flight.
func TestReadOverlapsWritebackOfAnotherFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, bytes.Repeat([]byte("s"), 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	in := openDirect(t, src, unix.O_RDONLY)
	out := openDirect(t, filepath.Join(dir, "dst"), unix.O_WRONLY)
	meet := newMeeting(2, 0, in, out) // a read and a write in progress at once
	e := newEngine(t, Options{Syscalls: meet})
	q, _ := newQueue(t, e, 4096, 4)
	wb := prepare(q, OpWriteBack, out, 4096)
	e.Submit(wb)
	rd := prepare(q, OpRead, in, 4096)
	e.Submit(rd)
	if q.Wait() != rd || rd.Status != 4096 {
		t.Fatalf("read-ahead: status %d", rd.Status)
	}
	e.Put(rd)
	q.Sync()
	if !meet.met {
		t.Errorf("the read of one file never overlapped the write-back of another: %v", meet.log)
	}
}

// failingPwrites fails chosen positioned writes of fd: the one at earlyAt
// at once, with earlyErr; the one at failAt with lateErr, only after the
// writes at each offset of waitFor have been tried (so that it fails
// last, behind write-backs that succeeded).
type failingPwrites struct {
	unixSyscalls
	fd, size         int
	failAt, earlyAt  int64
	lateErr, earlyEr syscall.Errno
	after            chan int64 // offsets written
	waitFor          []int64
	timeout          bool
}

func (s *failingPwrites) Pwrite(fd int, p []byte, off int64) (int, error) {
	switch {
	case fd != s.fd:
	case off == s.earlyAt:
		s.after <- off
		return -1, s.earlyEr
	case off == s.failAt:
		seen := map[int64]bool{}
		limit := time.After(10 * time.Second)
		for _, w := range s.waitFor {
			for !seen[w] {
				select {
				case o := <-s.after:
					seen[o] = true
				case <-limit:
					s.timeout = true
					return -1, s.lateErr
				}
			}
		}
		return -1, s.lateErr
	}
	n, err := unix.Pwrite(fd, p, off)
	if fd == s.fd {
		s.after <- off
	}
	return n, err
}

// When write-backs of one O_DIRECT file run side by side and some fail,
// the process ends as with one write at a time: the failure reported is
// the first in file order, though it was not the first to happen, and the
// file holds exactly what was written before it: what later write-backs
// wrote past the end of the file is cut off, the data before stays, and
// the descriptor's position is where the failed write left it.
func TestFailedDirectWritebacksLeaveAPrefix(t *testing.T) {
	const size = 4096
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_RDWR)
	sys := &failingPwrites{fd: fd, size: size,
		failAt: 2 * size, lateErr: syscall.ENOSPC, // fails last
		earlyAt: 5 * size, earlyEr: syscall.EFBIG, // fails first
		after: make(chan int64, 16), waitFor: []int64{3 * size, 4 * size, 5 * size}}
	e := newEngine(t, Options{Syscalls: sys})
	pub := &QueueHeader{BufferSize: size, MaxWritebacks: 8}
	q := e.Init(pub)
	var want []byte
	for i := 0; i < 6; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		b := buffer(h, size)
		for j := range b {
			b[j] = byte(i + 1)
		}
		if i < 2 {
			want = append(want, b...)
		}
		e.Submit(h)
	}
	err := fatalOf(q.Sync)
	if sys.timeout {
		t.Fatal("the write-backs behind the failing one never ran beside it")
	}
	wantFatal(t, err, fmt.Sprintf("Asynchronous write to fd %d failed: No space left on device", fd))
	wantFileAfterFailure(t, name, fd, want, 2*size)
	abandon(q, pub)
}

// callerFailsBesideTask: the caller's own positioned write at offset 0
// lets the queue's background task start the next write-back, waits until
// that one is inside pwrite, and fails; the other is held a moment longer,
// so that it is still executing when the caller's write-back is finished.
type callerFailsBesideTask struct {
	unixSyscalls
	fd      int
	ex      *manualExecutor
	entered chan struct{}
}

func (s *callerFailsBesideTask) Pwrite(fd int, p []byte, off int64) (int, error) {
	if fd == s.fd && off == 0 {
		go s.ex.runAll()
		select {
		case <-s.entered:
		case <-time.After(10 * time.Second):
		}
		return -1, syscall.ENOSPC
	}
	if fd == s.fd {
		close(s.entered)
		time.Sleep(20 * time.Millisecond) // still executing when the caller's one fails
	}
	return unix.Pwrite(fd, p, off)
}

// A write-back the caller executes itself, which fails while a later one
// of its chain still executes in the background, is reported only once the
// chain has ended, and the file is left as for one write at a time.
func TestCallerExecutedWritebackFailsBesideItsChain(t *testing.T) {
	const size = 4096
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_RDWR)
	ex := &manualExecutor{}
	sys := &callerFailsBesideTask{fd: fd, ex: ex, entered: make(chan struct{})}
	e := newEngine(t, Options{Syscalls: sys, Executor: ex})
	pub := &QueueHeader{BufferSize: size, MaxWritebacks: 4}
	q := e.Init(pub)
	e.Submit(prepare(q, OpWriteBack, fd, size))
	e.Submit(prepare(q, OpWriteBack, fd, size))
	// Nothing has started: sync executes the first write-back itself.
	wantFatal(t, fatalOf(q.Sync), fmt.Sprintf("Asynchronous write to fd %d failed: No space left on device", fd))
	wantFileAfterFailure(t, name, fd, nil, 0)
	abandon(q, pub)
}
