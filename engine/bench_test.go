package engine

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The cost of one cycle of the API on a queue of one thread, as a C
// caller makes it (without the cgo call): what the queue's guard against
// overlapping calls (see guard.go) adds shows here.

// BenchmarkGetPut is asio_get and asio_put: no I/O at all.
func BenchmarkGetPut(b *testing.B) {
	e := newEngine(b, Options{})
	q, _ := newQueue(b, e, 4096, 1)
	for b.Loop() {
		e.Put(q.Get())
	}
}

// BenchmarkReadDevZero is get, submit, wait and put of a 4 KiB read of
// /dev/zero, which the caller's thread makes itself.
func BenchmarkReadDevZero(b *testing.B) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	benchReads(b, int(f.Fd()), nil)
}

// BenchmarkReadCached is the same on a file in the page cache, read at
// once in asio_submit.
func BenchmarkReadCached(b *testing.B) {
	fd := tempFile(b, make([]byte, 1<<20))
	benchReads(b, fd, func() { unix.Seek(fd, 0, unix.SEEK_SET) })
}

func benchReads(b *testing.B, fd int, rewind func()) {
	e := newEngine(b, Options{})
	q, _ := newQueue(b, e, 4096, 1)
	i := 0
	for b.Loop() {
		if rewind != nil && i%256 == 0 {
			rewind()
		}
		i++
		e.Submit(prepare(q, OpRead, fd, 4096))
		h := q.Wait()
		if h.Status != 4096 {
			b.Fatalf("status %d", h.Status)
		}
		e.Put(h)
	}
}
