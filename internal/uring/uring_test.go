package uring

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The flags the engine uses: completions only when the creator waits.
const deferFlags = SetupClamp | SetupSingleIssuer | SetupDeferTaskrun | SetupNoMmap

// newRing sets up a ring for a test and skips it where the kernel has none
// with these flags.
func newRing(t *testing.T, entries, flags uint32) *Ring {
	t.Helper()
	u, err := New(entries, flags)
	if err != nil {
		t.Skipf("no io_uring with flags %#x here: %v", flags, err)
	}
	t.Cleanup(u.Close)
	return u
}

// onThread runs f on a goroutine locked to a thread of its own, which
// exits with it, and waits for it.
func onThread(f func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // not unlocked: the thread ends with the goroutine
		defer close(done)
		f()
	}()
	<-done
}

// reapAll waits for and reaps n completions, returning their results by tag.
func reapAll(t *testing.T, u *Ring, n int) map[uint64]int32 {
	t.Helper()
	got := map[uint64]int32{}
	for len(got) < n {
		if err := u.Wait(1, 10*time.Second, false); err != nil && err != syscall.EINTR {
			t.Fatalf("wait with %d of %d completions reaped: %v", len(got), n, err)
		}
		u.Reap(func(tag uint64, res int32) { got[tag] = res })
	}
	return got
}

// Every set-up the engine may try gives a ring that runs a no-op, or a
// plain error; DEFER_TASKRUN without SINGLE_ISSUER is refused.
func TestSetupFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint32
		err   error
	}{
		{"clamp", SetupClamp, nil},
		{"coop", SetupClamp | SetupCoopTaskrun | SetupTaskrunFlag, nil},
		{"single issuer", SetupClamp | SetupSingleIssuer, nil},
		{"defer", SetupClamp | SetupSingleIssuer | SetupDeferTaskrun, nil},
		{"defer, no mmap", deferFlags, nil},
		{"defer without single issuer", SetupClamp | SetupDeferTaskrun, syscall.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			u, err := New(8, tc.flags)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					if u != nil {
						u.Close()
					}
					t.Fatalf("set-up with flags %#x: error %v, want %v", tc.flags, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Skipf("no io_uring with flags %#x here: %v", tc.flags, err)
			}
			defer u.Close()
			if u.Fd() <= 2 || u.Entries() != 8 || u.CQEntries() != 16 {
				t.Errorf("fd %d, %d entries, %d completion slots; want > 2, 8, 16", u.Fd(), u.Entries(), u.CQEntries())
			}
			if !u.Prep(Op{Code: OpNop, Tag: 42}) {
				t.Fatal("an empty ring has no slot")
			}
			if n, err := u.Submit(); n != 1 || err != nil {
				t.Fatalf("submit: %d, %v; want 1, nil", n, err)
			}
			if got := reapAll(t, u, 1); got[42] != 0 {
				t.Errorf("completions %v, want tag 42 with 0", got)
			}
		})
	}
}

// A full submission ring takes nothing more until it is submitted.
func TestFullSubmissionRing(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u := newRing(t, 4, deferFlags)
	for i := range 4 {
		if !u.Prep(Op{Code: OpNop, Tag: uint64(i)}) {
			t.Fatalf("slot %d of 4 refused", i)
		}
	}
	if u.Prep(Op{Code: OpNop, Tag: 4}) {
		t.Fatal("a fifth entry was queued in a ring of 4")
	}
	if n, err := u.Submit(); n != 4 || err != nil {
		t.Fatalf("submit: %d, %v; want 4, nil", n, err)
	}
	if !u.Prep(Op{Code: OpNop, Tag: 4}) {
		t.Fatal("no slot after the ring was submitted")
	}
	u.Submit()
	if got := reapAll(t, u, 5); len(got) != 5 {
		t.Errorf("%d completions, want 5", len(got))
	}
}

// More completions than the completion ring holds are kept aside by the
// kernel and posted as slots are given back: none is lost.
func TestCompletionOverflow(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u := newRing(t, 4, deferFlags)
	const total = 20 // CQEntries is 8
	for i := 0; i < total; i += 4 {
		for j := range 4 {
			u.Prep(Op{Code: OpNop, Tag: uint64(i + j)})
		}
		if n, err := u.Submit(); n != 4 || err != nil {
			t.Fatalf("submit with %d unreaped: %d, %v", i, n, err)
		}
		if err := u.Wait(0, -1, false); err != nil {
			t.Fatalf("wait(0) with %d unreaped: %v", i+4, err)
		}
	}
	if r := u.Ready(); r != u.CQEntries() {
		t.Errorf("%d completions ready after %d no-ops, want the ring's %d", r, total, u.CQEntries())
	}
	got := map[uint64]bool{}
	for len(got) < total {
		u.Reap(func(tag uint64, res int32) { got[tag] = true })
		if err := u.Wait(0, -1, false); err != nil {
			t.Fatal(err)
		}
		if u.Ready() == 0 && len(got) < total {
			t.Fatalf("%d of %d completions came back; the rest were lost (%d dropped)", len(got), total, u.Overflowed())
		}
	}
}

// Wait with a time-out returns ErrTimeout when nothing completes, also raw
// (or EINTR when a signal came first).
func TestWaitTimeout(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u := newRing(t, 4, deferFlags)
	for _, raw := range []bool{false, true} {
		err := u.Wait(1, time.Millisecond, raw)
		for err == syscall.EINTR { // the runtime's preemption signal
			err = u.Wait(1, time.Millisecond, raw)
		}
		if err != ErrTimeout {
			t.Errorf("raw %v: wait for nothing: %v, want %v", raw, err, ErrTimeout)
		}
	}
}

// Only the thread that created a single-issuer ring submits to it and
// waits on it; another gets ErrNotOwner and changes nothing. Completions
// in memory are read from any thread.
func TestNotOwner(t *testing.T) {
	var u *Ring
	var err error
	owner := make(chan func())
	ownerDone := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(ownerDone)
		for f := range owner {
			f()
		}
	}()
	defer func() { close(owner); <-ownerDone }()
	run := func(f func()) {
		done := make(chan struct{})
		owner <- func() { f(); close(done) }
		<-done
	}
	run(func() { u, err = New(4, deferFlags) })
	if err != nil {
		t.Skipf("no io_uring with DEFER_TASKRUN here: %v", err)
	}
	defer u.Close()
	onThread(func() {
		u.Prep(Op{Code: OpNop, Tag: 7})
		if n, err := u.Submit(); n != 0 || err != ErrNotOwner {
			t.Errorf("submit from another thread: %d, %v; want 0, %v", n, err, ErrNotOwner)
		}
		if q := u.Queued(); q != 1 {
			t.Errorf("%d entries queued after a refused submit, want 1", q)
		}
		if err := u.Wait(0, -1, false); err != ErrNotOwner {
			t.Errorf("wait from another thread: %v, want %v", err, ErrNotOwner)
		}
	})
	run(func() {
		if n, err := u.Submit(); n != 1 || err != nil {
			t.Errorf("submit from the owner: %d, %v; want 1, nil", n, err)
		}
		if err := u.Wait(1, 10*time.Second, false); err != nil {
			t.Errorf("wait from the owner: %v", err)
		}
	})
	onThread(func() {
		n := u.Reap(func(tag uint64, res int32) {
			if tag != 7 || res != 0 {
				t.Errorf("completion %d, %d; want 7, 0", tag, res)
			}
		})
		if n != 1 {
			t.Errorf("reaped %d completions from another thread, want 1", n)
		}
	})
}

// directFile returns a descriptor of a file of size bytes opened with
// O_DIRECT and flags, and skips the test where O_DIRECT is refused.
func directFile(t *testing.T, size int64, flags int) int {
	t.Helper()
	name := filepath.Join(t.TempDir(), "data")
	f, err := os.Create(name)
	if err == nil {
		_, err = f.Write(make([]byte, size))
	}
	if err == nil {
		err = f.Sync() // no dirty page cache, which O_DIRECT reads would wait for
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, flags|unix.O_DIRECT, 0)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("no O_DIRECT in %s", filepath.Dir(name))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// alignedBuffer returns n bytes aligned for O_DIRECT, outside the Go heap.
func alignedBuffer(t *testing.T, n int) []byte {
	t.Helper()
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(b) })
	return b
}

// shortZeroReads counts the reads of 8 MiB from /dev/zero, out of rounds,
// that come back short on the ring's creator thread while O_DIRECT
// transfers of the ring (kept inFlight at a time) complete. Extending
// writes append to the file instead of reading it.
//
// A transfer that comes back with -EAGAIN (with rwFlags unix.RWF_NOWAIT)
// is done with pread or pwrite instead; their number is returned too.
func shortZeroReads(t *testing.T, flags uint32, rwFlags uint32, extending bool, rounds, inFlight int) (short, again int) {
	const blk = 64 << 10
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u := newRing(t, 64, flags)
	var fd int
	if extending {
		fd = directFile(t, 0, unix.O_WRONLY)
	} else {
		fd = directFile(t, 16<<20, unix.O_RDONLY)
	}
	buf := alignedBuffer(t, inFlight*blk)
	zero, err := unix.Open("/dev/zero", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(zero)
	big := make([]byte, 8<<20)
	var off int64
	flying := 0
	submit := func(tag uint64) {
		op := uint8(OpRead)
		if extending {
			op = OpWrite
		}
		u.Prep(Op{Code: op, RWFlags: rwFlags, Fd: fd, Buf: unsafe.Pointer(&buf[int(tag)*blk]), Len: blk, Off: off, Tag: tag})
		off += blk
		if !extending && off >= 16<<20 {
			off = 0
		}
		flying++
	}
	for i := range inFlight {
		submit(uint64(i))
	}
	for range rounds {
		if _, err := u.Submit(); err != nil {
			t.Fatal(err)
		}
		n, err := unix.Read(zero, big)
		if n != len(big) {
			short++
			_ = err
		}
		if err := u.Wait(0, -1, false); err != nil && err != syscall.EINTR {
			t.Fatal(err)
		}
		u.Reap(func(tag uint64, res int32) {
			if res == -int32(syscall.EAGAIN) && rwFlags&unix.RWF_NOWAIT != 0 {
				again++
				p := buf[int(tag)*blk : int(tag+1)*blk]
				var err error
				if extending {
					res, err = int32Result(unix.Pwrite(fd, p, off-blk))
				} else {
					res, err = int32Result(unix.Pread(fd, p, 0))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if res != blk {
				t.Fatalf("transfer %d: %d, want %d", tag, res, blk)
			}
			flying--
			submit(tag)
		})
	}
	for flying > 0 {
		u.Submit()
		if err := u.Wait(1, 10*time.Second, false); err != nil && err != syscall.EINTR {
			t.Fatal(err)
		}
		flying -= u.Reap(func(uint64, int32) {})
	}
	return short, again
}

func int32Result(n int, err error) (int32, error) { return int32(n), err }

// The creator of a DEFER_TASKRUN ring reads 8 MiB from /dev/zero whole
// while the ring's O_DIRECT reads complete: the ring does not interrupt
// its system calls. Without it (and with COOP_TASKRUN), or with extending
// writes sent to io-wq (no RWF_NOWAIT), such reads come back short; those
// counts are logged, not asserted.
//
// The test runs in a child process with GODEBUG=asyncpreemptoff=1: the Go
// runtime's own preemption signals (SIGURG) cut reads short too.
func TestCreatorsReadsStayWhole(t *testing.T) {
	const rounds = 300
	if os.Getenv("URING_TEST_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCreatorsReadsStayWhole$", "-test.v")
		cmd.Env = append(os.Environ(), "URING_TEST_CHILD=1", "GODEBUG=asyncpreemptoff=1")
		out, err := cmd.CombinedOutput()
		t.Logf("child:\n%s", out)
		if err != nil {
			t.Errorf("the child failed: %v", err)
		}
		return
	}
	for _, tc := range []struct {
		name      string
		flags     uint32
		rwFlags   uint32
		extending bool
		mayShort  bool
	}{
		{"defer/reads", deferFlags, 0, false, false},
		{"defer/nowait reads", deferFlags, unix.RWF_NOWAIT, false, false},
		// Not asserted: about 1 read in 3,000 still comes back short here
		// (none with plain pwrite(2) instead of the ring); the cause is not
		// known yet. Extending writes come back with EAGAIN at once; some
		// complete in the ring.
		{"defer/nowait extending writes", deferFlags, unix.RWF_NOWAIT, true, true},
		{"defer/extending writes", deferFlags, 0, true, true},
		{"plain/reads", SetupClamp, 0, false, true},
		{"coop/reads", SetupClamp | SetupCoopTaskrun, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, again := shortZeroReads(t, tc.flags, tc.rwFlags, tc.extending, rounds, 8)
			t.Logf("%d of %d reads of /dev/zero were short; %d transfers redone after EAGAIN", n, rounds, again)
			if n > 0 && !tc.mayShort {
				t.Errorf("%d of %d reads of 8 MiB from /dev/zero came back short beside the ring's reads", n, rounds)
			}
		})
	}
}

// A ring whose creator never waits again is collected from another
// thread: Shut, then every request in flight comes back in the ring's
// memory, done or with a negative result.
func TestShutCollects(t *testing.T) {
	const blk, n = 1 << 20, 16
	fd := directFile(t, n*blk, unix.O_RDONLY)
	buf := alignedBuffer(t, n*blk)
	var u *Ring
	var err error
	onThread(func() {
		if u, err = New(32, deferFlags); err != nil {
			return
		}
		for i := range n {
			u.Prep(Op{Code: OpRead, Fd: fd, Buf: unsafe.Pointer(&buf[i*blk]), Len: blk, Off: int64(i * blk), Tag: uint64(i)})
		}
		_, err = u.Submit()
	})
	if err != nil {
		t.Skipf("no io_uring with DEFER_TASKRUN here: %v", err)
	}
	defer u.Close()
	u.Shut()
	got := map[uint64]int32{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d completions came back after Shut", len(got), n)
		}
		u.Reap(func(tag uint64, res int32) { got[tag] = res })
		time.Sleep(100 * time.Microsecond)
	}
	hist := map[string]int{}
	for tag, res := range got {
		switch {
		case res == blk:
			hist["done"]++
		case res < 0:
			hist[syscall.Errno(-res).Error()]++
		default:
			t.Errorf("request %d: %d bytes of %d", tag, res, blk)
		}
	}
	t.Logf("after Shut: %v", fmt.Sprint(hist))
}

// A ring set up while the program has standard input closed stays off
// descriptor 0, which the program would dup2 something onto next.
func TestStaysOffStandardDescriptors(t *testing.T) {
	saved, err := unix.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		unix.Dup2(saved, 0)
		unix.Close(saved)
	}()
	unix.Close(0)
	u, err := New(8, deferFlags)
	if err != nil {
		t.Skipf("no io_uring here: %v", err)
	}
	defer u.Close()
	if u.Fd() <= 2 {
		t.Errorf("the ring took descriptor %d, a standard one", u.Fd())
	}
	if _, err := unix.FcntlInt(0, unix.F_GETFD, 0); err == nil {
		t.Error("descriptor 0 is open after the ring was set up; the ring's first descriptor was not closed")
	}
}

// newBufferRing sets up a ring with a sparse table of n buffer slots, and
// skips the test where the kernel refuses either.
func newBufferRing(t *testing.T, n uint32) *Ring {
	t.Helper()
	u := newRing(t, 8, deferFlags)
	if err := u.RegisterBuffers(n); err != nil {
		t.Skipf("the kernel refuses a sparse buffer table: %v", err)
	}
	return u
}

// fixedOp submits one operation and returns its result.
func fixedOp(t *testing.T, u *Ring, op Op) int32 {
	t.Helper()
	if !u.Prep(op) {
		t.Fatal("no submission slot")
	}
	if n, err := u.Submit(); n != 1 || err != nil {
		t.Fatalf("submit: %d, %v; want 1, nil", n, err)
	}
	return reapAll(t, u, 1)[op.Tag]
}

// Registered buffers: a sparse table, slots set and emptied, and reads and
// writes that name a slot move the bytes a plain pread and pwrite would;
// one naming an empty slot, or memory outside its slot, fails.
func TestRegisteredBuffers(t *testing.T) {
	const blk = 64 << 10
	for _, tc := range []struct {
		name     string
		slot     uint16 // the slot the operation names
		set      bool   // slot 3 holds the buffer
		cleared  bool   // ... and was emptied again
		write    bool
		off, len int // of the operation, in the buffer
		fails    bool
	}{
		{name: "read into a slot", slot: 3, set: true, len: blk},
		{name: "read into the middle of a slot", slot: 3, set: true, off: 4096, len: 8192},
		{name: "write from a slot", slot: 3, set: true, write: true, len: blk},
		{name: "read into an empty slot", slot: 5, set: true, len: blk, fails: true},
		{name: "read into a cleared slot", slot: 3, set: true, cleared: true, len: blk, fails: true},
		{name: "read beyond the slot's buffer", slot: 3, set: true, off: 4096, len: blk, fails: true},
		{name: "write from a table never set", slot: 0, write: true, len: blk, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			u := newBufferRing(t, 8)
			fd := directFile(t, 2*blk, unix.O_RDWR)
			want := make([]byte, blk)
			for i := range want {
				want[i] = byte(i/512 + 7)
			}
			if _, err := unix.Pwrite(fd, want, 0); err != nil {
				t.Skipf("O_DIRECT write refused: %v", err)
			}
			buf := alignedBuffer(t, blk)
			if tc.set {
				if err := u.SetBuffer(3, unsafe.Pointer(&buf[0]), blk); err != nil {
					t.Fatalf("setting slot 3: %v", err)
				}
			}
			if tc.cleared {
				if err := u.SetBuffer(3, nil, 0); err != nil {
					t.Fatalf("emptying slot 3: %v", err)
				}
			}
			op := Op{Code: OpReadFixed, RWFlags: unix.RWF_NOWAIT, Fd: fd, Buf: unsafe.Pointer(&buf[tc.off]), Len: tc.len, Off: 0, Tag: 9, BufIndex: tc.slot}
			if tc.write {
				copy(buf, want)
				op.Code, op.Off = OpWriteFixed, blk
			}
			res := fixedOp(t, u, op)
			if tc.fails {
				if res >= 0 {
					t.Fatalf("result %d, want an error", res)
				}
				t.Logf("the kernel says %v", syscall.Errno(-res))
				return
			}
			if res == -int32(syscall.EAGAIN) {
				t.Skip("the device would block (EAGAIN with RWF_NOWAIT)")
			}
			if res != int32(tc.len) {
				t.Fatalf("result %d, want %d", res, tc.len)
			}
			if tc.write {
				got := alignedBuffer(t, blk)
				if _, err := unix.Pread(fd, got, blk); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Error("the file does not hold what the fixed write wrote")
				}
			} else if !bytes.Equal(buf[tc.off:tc.off+tc.len], want[:tc.len]) {
				t.Error("the fixed read did not bring the file's bytes")
			}
		})
	}
}

// Registration errors are the kernel's, and leave the ring usable.
func TestRegisterBuffersErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	u := newBufferRing(t, 4)
	buf := alignedBuffer(t, 4096)
	if err := u.RegisterBuffers(4); err == nil {
		t.Error("a second table was accepted")
	}
	if err := u.SetBuffer(4, unsafe.Pointer(&buf[0]), 4096); err != syscall.EINVAL {
		t.Errorf("setting slot 4 of 4: %v, want EINVAL", err)
	}
	onThread(func() {
		if err := u.SetBuffer(0, unsafe.Pointer(&buf[0]), 4096); err != ErrNotOwner {
			t.Errorf("setting a slot from another thread: %v, want ErrNotOwner", err)
		}
	})
	if err := u.SetBuffer(0, unsafe.Pointer(&buf[0]), 4096); err != nil {
		t.Errorf("setting slot 0 after the errors: %v", err)
	}
	plain := newRing(t, 8, deferFlags)
	if err := plain.SetBuffer(0, unsafe.Pointer(&buf[0]), 4096); err != syscall.ENXIO {
		t.Errorf("setting a slot of a ring without a table: %v, want ENXIO", err)
	}
}
