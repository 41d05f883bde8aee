package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/workqueue"
)

// countingPool is a workqueue.Pool that counts the tasks it is given and
// lets a test wait until every one of them has returned.
type countingPool struct {
	*workqueue.Pool
	runs    atomic.Int64
	running sync.WaitGroup
}

func newCountingPool() *countingPool {
	p := &countingPool{Pool: workqueue.New(0)}
	p.ManageProcs(64)
	return p
}

func (p *countingPool) Run(task func()) {
	p.runs.Add(1)
	p.running.Add(1)
	p.Pool.Run(func() {
		defer p.running.Done()
		task()
	})
}

// signalledWrites is the plain system calls, with a signal after every
// write(2): the test submits the next write-back once the previous one is
// written, so the queue's task has just run out of work each time.
type signalledWrites struct {
	unixSyscalls
	written chan struct{}
}

func (s *signalledWrites) Write(fd int, p []byte) (int, error) {
	n, err := s.unixSyscalls.Write(fd, p)
	s.written <- struct{}{}
	return n, err
}

// TestTaskLingersForTheNextWriteback: a caller that submits a write-back
// each time the previous one is written (as a stream does between its
// reads) finds the queue's background task still there, instead of making
// a new one for every write: starting a task parks and wakes goroutines
// and threads through the Go scheduler, which cost the stream more CPU
// than its writes. Before, every write-back here started a task.
func TestTaskLingersForTheNextWriteback(t *testing.T) {
	const writes = 200
	pool := newCountingPool()
	sys := &signalledWrites{written: make(chan struct{}, 1)}
	e := newEngine(t, Options{Executor: pool, Syscalls: sys})
	e.lingerFor = time.Minute // no timing in the test: the task waits until it has work
	q, _ := newQueue(t, e, 4096, 4)
	fd := tempFile(t, nil)
	for i := 0; i < writes; i++ {
		h := prepare(q, OpWriteBack, fd, 512)
		for j := range buffer(h, 512) {
			buffer(h, 512)[j] = byte(i)
		}
		e.Submit(h)
		<-sys.written
	}
	q.Sync()
	if runs := pool.runs.Load(); runs > writes/4 {
		t.Errorf("%d write-backs, each submitted once the one before was written, started %d background tasks: want a task that waits for the next (at most %d)", writes, runs, writes/4)
	}
	got := make([]byte, writes*512+1)
	if n, err := unix.Pread(fd, got, 0); err != nil || n != writes*512 {
		t.Fatalf("the file has %d bytes (%v), want %d", n, err, writes*512)
	}
	for off := 0; off < writes*512; off++ {
		if got[off] != byte(off/512) {
			t.Fatalf("byte %d is %d, want %d", off, got[off], byte(off/512))
		}
	}
}

// TestLingeringTaskEnds: a task waiting for more work ends once the queue
// is cleaned up, not at the end of its wait (here a minute, longer than
// the test's time-out): no task is left behind a queue that is gone.
func TestLingeringTaskEnds(t *testing.T) {
	pool := newCountingPool()
	sys := &signalledWrites{written: make(chan struct{}, 1)}
	e := newEngine(t, Options{Executor: pool, Syscalls: sys})
	e.lingerFor = time.Minute
	for round := 0; round < 50; round++ {
		pub := &QueueHeader{BufferSize: 4096, MaxWritebacks: 2}
		q := e.Init(pub)
		fd := tempFile(t, nil)
		for i := 0; i < 3; i++ {
			e.Submit(prepare(q, OpWriteBack, fd, 100))
			<-sys.written
		}
		q.Sync()
		if err := fatalOf(q.Cleanup); err != nil {
			t.Fatalf("cleanup: %v", err)
		}
	}
	pool.running.Wait() // hangs (the test times out) if a task never ends
}

// TestStreamKeepsItsTask: the fb-direct pattern on O_DIRECT files (a read
// through the ring, then a write-back of it that extends the copy, which
// the ring refuses on ext4 and a task writes): the task that writes waits
// for the next write-back across the reads the caller reaps meanwhile.
// Before, each reaped read woke the lingering task for nothing and it
// left, so that most write-backs started a task of their own.
func TestStreamKeepsItsTask(t *testing.T) {
	const size, blocks = 65536, 200
	dir := t.TempDir()
	src := make([]byte, size*blocks)
	for i := range src {
		src[i] = byte(i/4096 + i%251)
	}
	if err := os.WriteFile(filepath.Join(dir, "src"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	in := openDirect(t, filepath.Join(dir, "src"), unix.O_RDONLY)
	out := openDirect(t, filepath.Join(dir, "dst"), unix.O_WRONLY|unix.O_TRUNC)
	pool := newCountingPool()
	e := newEngine(t, Options{Ring: true, Executor: pool})
	e.lingerFor = time.Minute
	q, _ := ringQueue(t, e, size, 4, in)
	for i := 0; i < blocks; i++ {
		h := prepare(q, OpRead, in, size)
		e.Submit(h)
		if got := q.Wait(); got != h || h.Status != size {
			t.Fatalf("read %d: status %d, errno %d", i, h.Status, h.ReturnedErrno)
		}
		h.Op, h.Fd, h.Len = OpWriteBack, int32(out), size
		e.Submit(h)
	}
	q.Sync()
	q.mu.Lock()
	refused := q.ring.refused.ok
	q.mu.Unlock()
	q.Cleanup()
	if got, err := os.ReadFile(filepath.Join(dir, "dst")); err != nil || !bytes.Equal(got, src) {
		t.Fatalf("the copy differs from the source (%v)", err)
	}
	if !refused {
		t.Skip("the ring took the extending writes here: no task writes them")
	}
	if runs := pool.runs.Load(); runs > blocks/4 {
		t.Errorf("%d write-backs between reads started %d background tasks: want the task to wait for the next (at most %d)", blocks, runs, blocks/4)
	}
}
