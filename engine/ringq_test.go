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
