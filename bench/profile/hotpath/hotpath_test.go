// Package hotpath measures, piece by piece, what one request of the engine
// costs in Go, without the C-to-Go crossings (bench/floor measures those):
// the whole get/submit/wait/put cycle through the engine's exported API,
// then each look-up and check the cycle makes, beside the cheaper
// alternatives an engine change could use. Run it with
//
//	cd bench/profile/hotpath && go test -run '^$' -bench . -count 5 -cpu 1,2,4
//
// It is its own module (the engine through a replace directive), outside
// make test and make bench.
package hotpath

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
	"golang.org/x/sys/unix"

	"github.com/ucw-asio/ucw-asio/engine"
)

// goPointer is capi's adapter of go-pointer, as the engine library uses it.
type goPointer struct{}

func (goPointer) Save(v any) unsafe.Pointer      { return pointer.Save(v) }
func (goPointer) Restore(key unsafe.Pointer) any { return pointer.Restore(key) }
func (goPointer) Unref(key unsafe.Pointer)       { pointer.Unref(key) }

// instantSyscalls completes every read at once without the kernel, so that
// the cycle's figure is the engine's own work.
type instantSyscalls struct{}

func (instantSyscalls) Read(fd int, p []byte) (int, error)              { return len(p), nil }
func (instantSyscalls) Write(fd int, p []byte) (int, error)             { return len(p), nil }
func (instantSyscalls) Pwrite(fd int, p []byte, off int64) (int, error) { return len(p), nil }
func (instantSyscalls) ReadNowait(fd int, p []byte) (int, error)        { return len(p), nil }

const fileSize = 1 << 20

// cachedFile returns a descriptor of a page-cached regular file of fileSize bytes.
func cachedFile(b *testing.B) int {
	name := filepath.Join(b.TempDir(), "data")
	if err := os.WriteFile(name, make([]byte, fileSize), 0o644); err != nil {
		b.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	buf := make([]byte, fileSize)
	unix.Read(fd, buf)
	return fd
}

// cycle makes one request the way the engine library's exports do: each
// C call's look-up, then the engine's work (capi/main.go). The i-th request
// of a run rewinds the file when it has been read through.
func cycle(e *engine.Engine, pub *engine.QueueHeader, fd, i int) {
	if i%(fileSize/4096) == 0 {
		unix.Seek(fd, 0, unix.SEEK_SET)
	}
	{
		h := e.Queue("asio_get", pub).Get()
		h.Op, h.Fd, h.Len = engine.OpRead, int32(fd), 4096
		e.Submit(h)
		r := e.Queue("asio_wait", pub).Wait()
		if r != h || r.Status != 4096 {
			panic("the cycle went wrong")
		}
		e.Put(r)
	}
}

// cpuTime is the CPU time of the process so far (all threads, user + system).
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op, CPU time per operation since start: on a
// loaded machine it varies less than the wall time (ns/op).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func benchCycle(b *testing.B, sys engine.Syscalls) {
	e := engine.New(engine.Options{Handles: goPointer{}, Syscalls: sys})
	defer reportCPU(b, cpuTime())
	b.RunParallel(func(pb *testing.PB) {
		fd := cachedFileFor(b)
		pub := &engine.QueueHeader{BufferSize: 4096, MaxWritebacks: 1}
		e.Init(pub)
		for i := 0; pb.Next(); i++ {
			cycle(e, pub, fd, i)
		}
		e.Queue("asio_cleanup_queue", pub).Cleanup()
	})
}

var fileMu sync.Mutex

func cachedFileFor(b *testing.B) int {
	fileMu.Lock()
	defer fileMu.Unlock()
	return cachedFile(b)
}

// BenchmarkCycleKernel: get, submit, wait, put of a 4 KiB read of a cached
// file, with the real system calls (one goroutine per -cpu, each its own queue).
func BenchmarkCycleKernel(b *testing.B) { benchCycle(b, nil) }

// BenchmarkCycleEngineOnly: the same with reads that complete without the
// kernel: the engine's own work per request.
func BenchmarkCycleEngineOnly(b *testing.B) { benchCycle(b, instantSyscalls{}) }

// The look-ups a cycle makes: two go-pointer Restores (asio_get, asio_wait),
// two sync.Map Loads (asio_submit, asio_put).

func BenchmarkGoPointerRestore(b *testing.B) {
	defer reportCPU(b, cpuTime())
	key := pointer.Save(new(int))
	defer pointer.Unref(key)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if pointer.Restore(key) == nil {
				panic("lost")
			}
		}
	})
}

func BenchmarkSyncMapLoad(b *testing.B) {
	defer reportCPU(b, cpuTime())
	var m sync.Map
	keys := make([]unsafe.Pointer, 64)
	for i := range keys {
		keys[i] = unsafe.Pointer(new([88]byte))
		m.Store(keys[i], i)
	}
	b.RunParallel(func(pb *testing.PB) {
		k := keys[0]
		for pb.Next() {
			if _, ok := m.Load(k); !ok {
				panic("lost")
			}
		}
	})
}

// The alternatives: a slot number kept in the caller's struct's private
// area, checked against a table read with one atomic load (no lock, no hash).

type slotted struct{ hdr unsafe.Pointer }

func BenchmarkSlotTableLoad(b *testing.B) {
	defer reportCPU(b, cpuTime())
	table := make([]*slotted, 64)
	for i := range table {
		table[i] = &slotted{hdr: unsafe.Pointer(new([88]byte))}
	}
	var tp atomic.Pointer[[]*slotted]
	tp.Store(&table)
	b.RunParallel(func(pb *testing.PB) {
		slot, hdr := 7, table[7].hdr
		for pb.Next() {
			t := *tp.Load()
			if slot >= len(t) || t[slot].hdr != hdr {
				panic("lost")
			}
		}
	})
}

// The parts of the engine's request path besides look-ups.

func BenchmarkMutexPair(b *testing.B) {
	defer reportCPU(b, cpuTime())
	b.RunParallel(func(pb *testing.PB) {
		var mu sync.Mutex
		for pb.Next() {
			mu.Lock()
			mu.Unlock()
		}
	})
}

func BenchmarkRWMutexRLockShared(b *testing.B) {
	defer reportCPU(b, cpuTime())
	var mu sync.RWMutex
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.RLock()
			mu.RUnlock()
		}
	})
}

// Reads of 4 KiB from a cached file: read(2) raw, read(2) telling the
// scheduler (syscall.Syscall, what a read that may block pays), and the
// engine's no-wait read (preadv2 with RWF_NOWAIT, raw).

func benchRead(b *testing.B, read func(fd int, p []byte) (int, error)) {
	fd := cachedFile(b)
	p := make([]byte, 4096)
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	for i := 0; i < b.N; i++ {
		if i%(fileSize/4096) == 0 {
			unix.Seek(fd, 0, unix.SEEK_SET)
		}
		if n, err := read(fd, p); n != 4096 || err != nil {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkReadRaw(b *testing.B) {
	benchRead(b, func(fd int, p []byte) (int, error) {
		n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if e != 0 {
			return -1, e
		}
		return int(n), nil
	})
}

func BenchmarkReadSyscall(b *testing.B) { benchRead(b, unix.Read) }

func BenchmarkReadNowaitPreadv2(b *testing.B) {
	benchRead(b, func(fd int, p []byte) (int, error) {
		iov := unix.Iovec{Base: &p[0], Len: uint64(len(p))}
		n, _, e := unix.RawSyscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&iov)), 1, ^uintptr(0), 0, unix.RWF_NOWAIT)
		if e != 0 {
			return -1, e
		}
		return int(n), nil
	})
}

// What the kind cache saves once every kindRecheck (256) requests: fstat and fcntl.
func BenchmarkFstatFcntl(b *testing.B) {
	defer reportCPU(b, cpuTime())
	fd := cachedFile(b)
	var st unix.Stat_t
	for i := 0; i < b.N; i++ {
		unix.Fstat(fd, &st)
		unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	}
}

// What a per-call guard against overlapping calls on one queue costs if it
// is a compare-and-swap on entry and a store on exit of a word of the queue
// (not shared between queues): four of them per request.
func BenchmarkGuardCASStore(b *testing.B) {
	defer reportCPU(b, cpuTime())
	b.RunParallel(func(pb *testing.PB) {
		var inUse atomic.Uint32
		for pb.Next() {
			if !inUse.CompareAndSwap(0, 1) {
				panic("overlap")
			}
			inUse.Store(0)
		}
	})
}
