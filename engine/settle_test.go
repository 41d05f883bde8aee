package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// heldPwrites makes the positioned writes of fd at the offsets in hold
// wait, after writing (or instead of writing, if fail has an error for the
// offset), until release is closed; entered gets each such offset when it
// waits, done every other offset once written.
type heldPwrites struct {
	unixSyscalls
	fd      int
	hold    map[int64]bool
	fail    map[int64]syscall.Errno
	entered chan int64
	done    chan int64
	release chan struct{}
}

func (s *heldPwrites) Pwrite(fd int, p []byte, off int64) (int, error) {
	if fd != s.fd {
		return unix.Pwrite(fd, p, off)
	}
	if errno, ok := s.fail[off]; ok && s.hold[off] {
		s.entered <- off
		<-s.release
		return -1, errno
	}
	n, err := unix.Pwrite(fd, p, off)
	if s.hold[off] {
		s.entered <- off
		<-s.release
	} else {
		s.done <- off
	}
	return n, err
}

func newHeld(fd int, hold ...int64) *heldPwrites {
	s := &heldPwrites{fd: fd, hold: map[int64]bool{}, fail: map[int64]syscall.Errno{},
		entered: make(chan int64, 16), done: make(chan int64, 16), release: make(chan struct{})}
	for _, off := range hold {
		s.hold[off] = true
	}
	return s
}

func submitBlocks(e *Engine, q *Queue, fd, n, size int, first byte) {
	for i := 0; i < n; i++ {
		h := prepare(q, OpWriteBack, fd, size)
		b := buffer(h, size)
		for j := range b {
			b[j] = first + byte(i)
		}
		e.Submit(h)
	}
}

func blocks(size int, fill ...byte) []byte {
	var b []byte
	for _, f := range fill {
		b = append(b, bytes.Repeat([]byte{f}, size)...)
	}
	return b
}

// Bytes appended to the file by another descriptor while a chain with a
// failed write-back ran are not the chain's: nothing is cut.
func TestFailedChainKeepsWhatOthersAppended(t *testing.T) {
	const size = 4096
	name := filepath.Join(t.TempDir(), "wb")
	fd := openDirect(t, name, unix.O_RDWR)
	sys := newHeld(fd, size)
	sys.fail[size] = syscall.ENOSPC
	e := newEngine(t, Options{Syscalls: sys})
	pub := &QueueHeader{BufferSize: size, MaxWritebacks: 8}
	q := e.Init(pub)
	// Blocks 0, 2 and 3 are written, block 1 fails, last.
	submitBlocks(e, q, fd, 4, size, 1)
	<-sys.entered
	for range 3 {
		<-sys.done
	}
	other, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Write([]byte("another writer's line\n")); err != nil {
		t.Fatal(err)
	}
	close(sys.release)
	wantFatal(t, fatalOf(q.Sync), fmt.Sprintf("Asynchronous write to fd %d failed: No space left on device", fd))
	want := append(blocks(size, 1, 0, 3, 4), "another writer's line\n"...)
	wantFileAfterFailure(t, name, fd, want, size)
	abandon(q, pub)
}

// A descriptor closed and opened again on another file while a chain of
// write-backs runs on it ends the chain: a write-back submitted then
// writes where write(2) would, at the new file's position.
func TestReopenedDescriptorEndsTheChain(t *testing.T) {
	const size = 4096
	dir := t.TempDir()
	fd := openDirect(t, filepath.Join(dir, "a"), unix.O_RDWR)
	sys := newHeld(fd, 0, size)
	e := newEngine(t, Options{Syscalls: sys})
	pub := &QueueHeader{BufferSize: size, MaxWritebacks: 8}
	q := e.Init(pub)
	submitBlocks(e, q, fd, 2, size, 1) // in file a, held once written
	<-sys.entered
	<-sys.entered
	b := openDirect(t, filepath.Join(dir, "b"), unix.O_RDWR)
	if err := unix.Dup2(b, fd); err != nil {
		t.Fatal(err)
	}
	submitBlocks(e, q, fd, 1, size, 9) // in file b, at its position 0
	close(sys.release)
	q.Sync()
	for name, want := range map[string][]byte{"a": blocks(size, 1, 2), "b": blocks(size, 9)} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("file %s holds %d bytes, want %d: the write-back after the reopen went to the old file's offset", name, len(got), len(want))
		}
	}
	if pos, _ := unix.Seek(fd, 0, unix.SEEK_CUR); pos != size {
		t.Errorf("position %d in the new file, want %d", pos, size)
	}
}

// A chain whose descriptor now refers to another file, when its failure
// is settled, leaves that file alone: its bytes and the descriptor's
// position.
func TestFailedChainLeavesAReopenedFileAlone(t *testing.T) {
	const size = 4096
	dir := t.TempDir()
	fd := openDirect(t, filepath.Join(dir, "a"), unix.O_RDWR)
	sys := newHeld(fd, size)
	sys.fail[size] = syscall.ENOSPC
	e := newEngine(t, Options{Syscalls: sys})
	pub := &QueueHeader{BufferSize: size, MaxWritebacks: 8}
	q := e.Init(pub)
	submitBlocks(e, q, fd, 2, size, 1)
	<-sys.done
	<-sys.entered
	bName := filepath.Join(dir, "b")
	if err := os.WriteFile(bName, blocks(size, 7, 7, 7), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := unix.Open(bName, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(b, fd); err != nil {
		t.Fatal(err)
	}
	unix.Close(b)
	unix.Seek(fd, 100, unix.SEEK_SET)
	close(sys.release)
	wantFatal(t, fatalOf(q.Sync), fmt.Sprintf("Asynchronous write to fd %d failed: No space left on device", fd))
	wantFileAfterFailure(t, bName, fd, blocks(size, 7, 7, 7), 100)
	abandon(q, pub)
}
