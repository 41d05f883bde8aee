package engine

import (
	"bytes"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// nowaitSyscalls gives ReadNowait only the first `part` bytes (0: none,
// EAGAIN), as the page cache does when only part of a range is cached.
type nowaitSyscalls struct {
	unixSyscalls
	part   int
	nowait int // calls of ReadNowait
	reads  int // calls of Read
}

func (s *nowaitSyscalls) ReadNowait(fd int, p []byte) (int, error) {
	s.nowait++
	if s.part == 0 {
		return -1, syscall.EAGAIN
	}
	return unix.Read(fd, p[:min(s.part, len(p))])
}

func (s *nowaitSyscalls) Read(fd int, p []byte) (int, error) {
	s.reads++
	return unix.Read(fd, p)
}

// A read whose data is at hand is done in asio_submit; one that gets only
// part of it at once reads the rest later, and the caller sees one whole
// read(2) either way.
func TestReadsAtHandAreDoneAtOnce(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64) // 1 KiB
	tests := []struct {
		name         string
		part         int
		wantNowait   int
		wantReads    int
		doneAtSubmit bool
	}{
		{"all at hand", 1 << 20, 1, 0, true},
		{"none at hand", 0, 1, 1, false},
		{"part at hand", 100, 1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &nowaitSyscalls{part: tt.part}
			ex := &manualExecutor{}
			e := newEngine(t, Options{Syscalls: sys, Executor: ex})
			q, _ := newQueue(t, e, 4096, 1)
			fd := tempFile(t, data)
			h := prepare(q, OpRead, fd, 4096)
			e.Submit(h)
			if got := h.Status == int32(len(data)); got != tt.doneAtSubmit {
				t.Errorf("done at submit: %v, want %v (status %d)", got, tt.doneAtSubmit, h.Status)
			}
			if q.Wait() != h || h.Status != int32(len(data)) || h.ReturnedErrno != 0 || !bytes.Equal(buffer(h, len(data)), data) {
				t.Fatalf("read: status %d errno %d", h.Status, h.ReturnedErrno)
			}
			if sys.nowait != tt.wantNowait || sys.reads != tt.wantReads {
				t.Errorf("%d reads without waiting and %d ordinary reads, want %d and %d", sys.nowait, sys.reads, tt.wantNowait, tt.wantReads)
			}
			if pos, _ := unix.Seek(fd, 0, 1); pos != int64(len(data)) {
				t.Errorf("position %d after the read, want %d", pos, len(data))
			}
			e.Put(h)
		})
	}
}

// The real preadv2(RWF_NOWAIT) on a pipe: data at hand is read at once, an
// empty pipe leaves the read to wait in the background.
func TestReadNowaitOnPipes(t *testing.T) {
	e := newEngine(t, Options{})
	q, _ := newQueue(t, e, 64, 1)
	pr, pw := pipe(t)
	pw.WriteString("ready")
	h := prepare(q, OpRead, int(pr.Fd()), 64)
	e.Submit(h)
	if h.Status != 5 {
		t.Errorf("a read of a pipe holding 5 bytes: status %d at submit, want 5", h.Status)
	}
	if q.Wait() != h || string(buffer(h, 5)) != "ready" {
		t.Fatalf("pipe read: status %d", h.Status)
	}
	e.Submit(h) // the pipe is empty now
	if h.Status != 5 || h.Submitted != 1 {
		t.Errorf("a read of an empty pipe changed status at submit: %d", h.Status)
	}
	pw.WriteString("later")
	if q.Wait() != h || h.Status != 5 || string(buffer(h, 5)) != "later" {
		t.Fatalf("second pipe read: status %d data %q", h.Status, buffer(h, 5))
	}
	e.Put(h)
}

// Devices are read the ordinary way: /dev/zero gives a whole request, as
// read(2) does, where a read without waiting would stop early.
func TestDeviceReadsAreWhole(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	e := newEngine(t, Options{})
	q, _ := newQueue(t, e, 1<<20, 1)
	for i := 0; i < 3; i++ {
		h := prepare(q, OpRead, int(f.Fd()), 1<<20)
		e.Submit(h)
		if q.Wait() != h || h.Status != 1<<20 {
			t.Fatalf("read of 1 MiB from /dev/zero: status %d", h.Status)
		}
		e.Put(h)
	}
}

// A stale guess of the descriptor's kind (a pipe's number reused by a
// file) never turns a short read of a file into a false end of file.
func TestStaleKindNeverEndsAFileEarly(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1000)
	sys := &nowaitSyscalls{part: 100}
	e := newEngine(t, Options{Syscalls: sys})
	q, _ := newQueue(t, e, 4096, 1)
	fd := tempFile(t, data)
	q.kinds = kindCache{fd: fd, kind: kindStream, uses: kindRecheck}
	h := prepare(q, OpRead, fd, 4096)
	e.Submit(h)
	if q.Wait() != h || h.Status != int32(len(data)) || !bytes.Equal(buffer(h, len(data)), data) {
		t.Fatalf("read of a 1000-byte file guessed to be a pipe: status %d, want 1000", h.Status)
	}
	e.Put(h)
}
