package engine

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestGetSetsFieldsAndRecycles(t *testing.T) {
	e := newEngine(t, Options{})
	q, pub := newQueue(t, e, 4096, 2)
	pub.UseCount = 7
	h := q.Get()
	if h.Op != OpFree || h.Fd != -1 || h.Len != 0 || h.Status != -1 || h.ReturnedErrno != -1 || h.Submitted != 0 || h.Queue != pub {
		t.Fatalf("fresh request: %+v", *h)
	}
	if h.UserData != nil {
		t.Errorf("a new request has user_data %p, want NULL", h.UserData)
	}
	if uintptr(h.Buffer)%uintptr(pageSize) != 0 {
		t.Errorf("buffer %p is not page-aligned", h.Buffer)
	}
	buf := buffer(h, 4096)
	for i := range buf {
		buf[i] = byte(i)
	}
	if pub.AllocatedRequests != 1 || pub.UseCount != 7 {
		t.Errorf("after get: allocated_requests %d, use_count %d; want 1, 7", pub.AllocatedRequests, pub.UseCount)
	}
	token := unsafe.Pointer(new(int))
	h.UserData = token
	h.Op, h.Fd, h.Len, h.Status = OpRead, 5, 10, 3
	q.put(e.request("asio_put", h))
	if pub.AllocatedRequests != 0 {
		t.Errorf("after put: allocated_requests %d, want 0", pub.AllocatedRequests)
	}
	h2 := q.Get()
	if h2 != h || h2.UserData != token || h2.Op != OpFree || h2.Fd != -1 || h2.Len != 0 || h2.Status != -1 {
		t.Errorf("recycled request: got %p %+v, want %p with user_data kept and fields reset", h2, *h2, h)
	}
	h3 := q.Get()
	if h3 == h || pub.AllocatedRequests != 2 {
		t.Errorf("second get: %p (first %p), allocated_requests %d", h3, h, pub.AllocatedRequests)
	}
	e.Put(h2)
	e.Put(h3)
}

func TestReadWriteAtCurrentPosition(t *testing.T) {
	for _, background := range []bool{false, true} {
		t.Run(fmt.Sprintf("background=%v", background), func(t *testing.T) {
			var opts Options
			if !background {
				opts.Executor = &manualExecutor{} // never runs: the caller executes everything
			}
			e := newEngine(t, opts)
			q, pub := newQueue(t, e, 512, 4)
			fd := tempFile(t, nil)

			for i := 0; i < 3; i++ {
				h := prepare(q, OpWrite, fd, 100)
				copy(buffer(h, 100), bytes.Repeat([]byte{byte('a' + i)}, 100))
				e.Submit(h)
				if h.Submitted != 1 || pub.RunningRequests != uint32(i+1) {
					t.Fatalf("after submit %d: submitted %d, running_requests %d", i, h.Submitted, pub.RunningRequests)
				}
			}
			for i := 0; i < 3; i++ {
				h := q.Wait()
				if h == nil || h.Status != 100 || h.ReturnedErrno != 0 || h.Submitted != 0 {
					t.Fatalf("wait %d: %+v", i, h)
				}
				if pub.RunningRequests != uint32(2-i) {
					t.Errorf("after wait %d: running_requests %d, want %d", i, pub.RunningRequests, 2-i)
				}
				e.Put(h)
			}
			if pos, _ := unix.Seek(fd, 0, 1); pos != 300 {
				t.Errorf("file position after three 100-byte writes: %d, want 300", pos)
			}
			// The caller's lseek between requests is honoured.
			if _, err := unix.Seek(fd, 150, 0); err != nil {
				t.Fatal(err)
			}
			h := prepare(q, OpRead, fd, 512)
			e.Submit(h)
			if got := q.Wait(); got != h || h.Status != 150 {
				t.Fatalf("read at 150: got %p status %d, want %p status 150", got, h.Status, h)
			}
			want := append(bytes.Repeat([]byte{'b'}, 50), bytes.Repeat([]byte{'c'}, 100)...)
			if !bytes.Equal(buffer(h, 150), want) {
				t.Errorf("read data %q, want %q", buffer(h, 150), want)
			}
			e.Submit(h) // again: at end of file now
			if q.Wait() != h || h.Status != 0 || h.ReturnedErrno != 0 {
				t.Errorf("read at EOF: status %d errno %d, want 0 0", h.Status, h.ReturnedErrno)
			}
			e.Put(h)
			if q.Wait() != nil {
				t.Error("wait with nothing running did not return nil")
			}
		})
	}
}

func TestErrorsAreReported(t *testing.T) {
	e := newEngine(t, Options{})
	q, _ := newQueue(t, e, 4096, 1)
	fd := tempFile(t, make([]byte, 8192))
	pos := func() int64 { p, _ := unix.Seek(fd, 0, 1); return p }
	own := make([]byte, 64)

	tests := []struct {
		name       string
		op         Op
		fd         int
		n          int
		buf        []byte // nil: the request's own buffer
		wantStatus int32
		wantErrno  syscall.Errno
	}{
		{"bad descriptor", OpRead, 999999, 10, nil, -1, syscall.EBADF},
		{"len past the buffer", OpRead, fd, 4097, nil, -1, syscall.EINVAL},
		{"write past the buffer", OpWrite, fd, 8192, nil, -1, syscall.EINVAL},
		{"caller's buffer", OpRead, fd, 64, own, 64, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := pos()
			h := prepare(q, tt.op, tt.fd, tt.n)
			if tt.buf != nil {
				h.Buffer = unsafe.Pointer(&tt.buf[0])
			}
			e.Submit(h)
			if got := q.Wait(); got != h || h.Status != tt.wantStatus || syscall.Errno(h.ReturnedErrno) != tt.wantErrno {
				t.Errorf("status %d errno %d, want %d %d", h.Status, h.ReturnedErrno, tt.wantStatus, int(tt.wantErrno))
			}
			if tt.wantStatus < 0 && pos() != before {
				t.Errorf("a failed request moved the file position from %d to %d", before, pos())
			}
			e.Put(h)
			if h2 := q.Get(); h2.Buffer != e.request("", h2).own {
				t.Errorf("asio_get left buffer at %p, not the request's own", h2.Buffer)
			} else {
				e.Put(h2)
			}
		})
	}
}

func TestOrderAcrossDescriptors(t *testing.T) {
	e := newEngine(t, Options{})
	q, _ := newQueue(t, e, 4096, 4)
	files := []int{tempFile(t, []byte("one")), tempFile(t, []byte("two!")), tempFile(t, []byte("three"))}
	pr, pw := pipe(t)
	pw.WriteString("pipe data")
	var subs []*RequestHeader
	for i := 0; i < 12; i++ {
		fd := int(pr.Fd())
		if i%4 < 3 {
			fd = files[i%4]
		}
		h := prepare(q, OpRead, fd, 4096)
		e.Submit(h)
		subs = append(subs, h)
		if i == 3 {
			pw.WriteString("more")
		}
	}
	pw.Close()
	for i, want := range subs {
		got := q.Wait()
		if got != want {
			t.Fatalf("wait %d returned request %p, want %p (submit order)", i, got, want)
		}
		e.Put(got)
	}
}

func TestWritebackBoundAndRecycling(t *testing.T) {
	for _, background := range []bool{false, true} {
		t.Run(fmt.Sprintf("background=%v", background), func(t *testing.T) {
			var opts Options
			if !background {
				opts.Executor = &manualExecutor{}
			}
			e := newEngine(t, opts)
			const max = 3
			q, pub := newQueue(t, e, 64, max)
			fd := tempFile(t, nil)
			var want []byte
			for n := 1; n <= 10; n++ {
				h := prepare(q, OpWriteBack, fd, 64)
				b := buffer(h, 64)
				for i := range b {
					b[i] = byte(n)
				}
				want = append(want, b...)
				e.Submit(h)
				if got := pub.RunningWritebacks; got != uint32(min(n, max)) {
					t.Errorf("after write-back %d: running_writebacks %d, want %d", n, got, min(n, max))
				}
				if pub.AllocatedRequests != pub.RunningWritebacks {
					t.Errorf("after write-back %d: allocated_requests %d, running_writebacks %d", n, pub.AllocatedRequests, pub.RunningWritebacks)
				}
			}
			q.Sync()
			if pub.RunningRequests != 0 || pub.RunningWritebacks != 0 || pub.AllocatedRequests != 0 {
				t.Errorf("after sync: running %d, write-backs %d, allocated %d; want 0 0 0", pub.RunningRequests, pub.RunningWritebacks, pub.AllocatedRequests)
			}
			got := make([]byte, len(want)+1)
			n, _ := unix.Pread(fd, got, 0)
			if !bytes.Equal(got[:n], want) {
				t.Errorf("file holds %d bytes, want the %d written in order", n, len(want))
			}
			// The caller holds one more request while it fills it.
			if len(q.idle) != max+1 {
				t.Errorf("%d requests were made for %d write-backs in flight at most, want %d", len(q.idle), max, max+1)
			}
		})
	}
}

func TestWritebackSubmitKeepsFinishedReads(t *testing.T) {
	e := newEngine(t, Options{Executor: &manualExecutor{}})
	q, pub := newQueue(t, e, 16, 1)
	src := tempFile(t, []byte("0123456789abcdef"))
	dst := tempFile(t, nil)
	rd := prepare(q, OpRead, src, 16)
	e.Submit(rd)
	for i := 0; i < 3; i++ {
		e.Submit(prepare(q, OpWriteBack, dst, 16))
	}
	if q.Wait() != rd || rd.Status != 16 {
		t.Fatalf("the read collected by write-back submits was not returned by wait")
	}
	e.Put(rd)
	if q.Wait() != nil || pub.RunningRequests != 0 || pub.RunningWritebacks != 0 || pub.AllocatedRequests != 0 {
		t.Errorf("wait with only write-backs in flight: counters %d %d %d, want all 0", pub.RunningRequests, pub.RunningWritebacks, pub.AllocatedRequests)
	}
}

// shortWrites makes every write(2) to fd write only half of what it is
// given, as a disk that has just filled up does.
type shortWrites struct {
	unixSyscalls
	fd int
}

func (s shortWrites) Write(fd int, p []byte) (int, error) {
	if fd == s.fd {
		p = p[:len(p)/2]
	}
	return unix.Write(fd, p)
}

// TestNothingStartsAfterAFailedWriteback: once a write-back has failed,
// no later request of its queue is started before the caller collects the
// failure (and the process ends), as the original's I/O thread ends the
// process at once. A write-back behind the failed one must not land in
// the file (on a full disk, the next write may find room).
func TestNothingStartsAfterAFailedWriteback(t *testing.T) {
	fd := tempFile(t, nil)
	e := newEngine(t, Options{Syscalls: shortWrites{fd: fd}})
	pub := &QueueHeader{BufferSize: 64, MaxWritebacks: 4}
	q := e.Init(pub)
	for i := 0; i < 3; i++ {
		e.Submit(prepare(q, OpWriteBack, fd, 64))
	}
	// The first write-back is short; the caller collects it in sync.
	wantFatal(t, fatalOf(q.Sync), fmt.Sprintf("Asynchronous write to fd %d wrote only 32 bytes out of 64", fd))
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 32 {
		t.Errorf("the file holds %d bytes after the failed write-back; want its 32 alone", st.Size)
	}
	q.mu.Lock()
	notStarted := q.pending.len()
	q.mu.Unlock()
	if notStarted != 2 {
		t.Errorf("%d write-backs behind the failed one were not started; want 2", notStarted)
	}
	abandon(q, pub)
}

func TestWritebackFailureIsFatal(t *testing.T) {
	e := newEngine(t, Options{})
	q, _ := newQueue(t, e, 64, 2)
	ro, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	e.Submit(prepare(q, OpWriteBack, int(ro.Fd()), 64))
	err = fatalOf(q.Sync)
	wantFatal(t, err, fmt.Sprintf("Asynchronous write to fd %d failed: Bad file descriptor", ro.Fd()))
	var we *WritebackError
	if e, ok := err.(*WritebackError); !ok || e.Errno != syscall.EBADF {
		t.Errorf("error %#v is not a WritebackError with EBADF", we)
	}
	if got := (&WritebackError{Fd: 3, Len: 100, Written: 40}).Error(); got != "Asynchronous write to fd 3 wrote only 40 bytes out of 100" {
		t.Errorf("short write-back message: %q", got)
	}
	// The queue is broken now (the process would have ended): abandon it.
	q.running, q.runningWB, q.allocated = 0, 0, 0
}

// flakySyscalls returns EINTR a number of times before each real call and
// can make writes short.
type flakySyscalls struct {
	eintrs   int // EINTRs before each call succeeds
	left     int
	maxWrite int // 0: no limit
	calls    int
}

func (f *flakySyscalls) interrupted() bool {
	f.calls++
	if f.left > 0 {
		f.left--
		return true
	}
	f.left = f.eintrs
	return false
}

func (f *flakySyscalls) Read(fd int, p []byte) (int, error) {
	if f.interrupted() {
		return -1, syscall.EINTR
	}
	return unix.Read(fd, p)
}

func (f *flakySyscalls) Write(fd int, p []byte) (int, error) {
	if f.interrupted() {
		return -1, syscall.EINTR
	}
	if f.maxWrite > 0 && len(p) > f.maxWrite {
		p = p[:f.maxWrite]
	}
	return unix.Write(fd, p)
}

// ReadNowait never has data at hand, so reads take the ordinary path.
func (f *flakySyscalls) ReadNowait(int, []byte) (int, error) { return -1, syscall.EAGAIN }

func (f *flakySyscalls) Pwrite(fd int, p []byte, off int64) (int, error) {
	if f.interrupted() {
		return -1, syscall.EINTR
	}
	if f.maxWrite > 0 && len(p) > f.maxWrite {
		p = p[:f.maxWrite]
	}
	return unix.Pwrite(fd, p, off)
}

func TestEINTRIsRetried(t *testing.T) {
	sys := &flakySyscalls{eintrs: 3, left: 3}
	e := newEngine(t, Options{Syscalls: sys, Executor: &manualExecutor{}})
	q, _ := newQueue(t, e, 8, 1)
	fd := tempFile(t, []byte("abcdefgh"))
	h := prepare(q, OpRead, fd, 8)
	e.Submit(h)
	if q.Wait() != h || h.Status != 8 || h.ReturnedErrno != 0 || string(buffer(h, 8)) != "abcdefgh" {
		t.Errorf("read after EINTRs: status %d errno %d data %q", h.Status, h.ReturnedErrno, buffer(h, 8))
	}
	if sys.calls != 4 {
		t.Errorf("%d calls for 3 EINTRs, want 4", sys.calls)
	}
	e.Put(h)
}

func TestShortWritebackIsFatal(t *testing.T) {
	e := newEngine(t, Options{Syscalls: &flakySyscalls{maxWrite: 10}})
	q, _ := newQueue(t, e, 64, 1)
	fd := tempFile(t, nil)
	e.Submit(prepare(q, OpWriteBack, fd, 64))
	wantFatal(t, fatalOf(q.Sync), fmt.Sprintf("Asynchronous write to fd %d wrote only 10 bytes out of 64", fd))
	q.running, q.runningWB, q.allocated = 0, 0, 0
}

func TestBlockedQueueDoesNotStallOthers(t *testing.T) {
	e := newEngine(t, Options{})
	blocked, _ := newQueue(t, e, 16, 1)
	pr, pw := pipe(t)
	h := prepare(blocked, OpRead, int(pr.Fd()), 16)
	e.Submit(h)

	done := make(chan error)
	go func() {
		q, _ := newQueue(t, e, 512, 4)
		fd := tempFile(t, nil)
		for i := 0; i < 1000; i++ {
			w := prepare(q, OpWrite, fd, 512)
			e.Submit(w)
			if q.Wait() != w || w.Status != 512 {
				done <- fmt.Errorf("write %d: status %d", i, w.Status)
				return
			}
			e.Put(w)
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a queue did not finish while another queue's read was blocked")
	}
	pw.WriteString("unblocked")
	if blocked.Wait() != h || h.Status != 9 || string(buffer(h, 9)) != "unblocked" {
		t.Errorf("blocked read: status %d data %q", h.Status, buffer(h, int(max(h.Status, 0))))
	}
	e.Put(h)
}

func TestRequestsProgressInTheBackground(t *testing.T) {
	ex := &manualExecutor{}
	e := newEngine(t, Options{Executor: ex, Syscalls: &nowaitSyscalls{}}) // no data at hand
	q, _ := newQueue(t, e, 8, 1)
	fd := tempFile(t, []byte("12345678abcdefgh"))
	a, b := prepare(q, OpRead, fd, 8), prepare(q, OpRead, fd, 8)
	e.Submit(a)
	e.Submit(b)
	if n := ex.runAll(); n != 1 {
		t.Fatalf("%d background tasks were started for one queue, want 1", n)
	}
	if a.Status != 8 || b.Status != 8 {
		t.Fatalf("background task left statuses %d %d, want 8 8", a.Status, b.Status)
	}
	if q.Wait() != a || q.Wait() != b || string(buffer(b, 8)) != "abcdefgh" {
		t.Errorf("requests executed in the background came back wrong")
	}
	e.Put(a)
	e.Put(b)
}

func TestParallelQueuesUnderLoad(t *testing.T) {
	e := newEngine(t, Options{})
	const queues, rounds = 4, 2000
	errs := make(chan error, queues)
	for g := 0; g < queues; g++ {
		go func(g int) {
			errs <- func() error {
				pub := &QueueHeader{BufferSize: 256, MaxWritebacks: 3}
				q := e.Init(pub)
				defer q.Cleanup()
				fd := tempFile(t, nil)
				// Write rounds blocks with write-backs, then read them back
				// with a read-ahead of two requests.
				for i := 0; i < rounds; i++ {
					h := prepare(q, OpWriteBack, fd, 256)
					fill(buffer(h, 256), g, i)
					e.Submit(h)
				}
				q.Sync()
				unix.Seek(fd, 0, 0)
				ahead := func() { e.Submit(prepare(q, OpRead, fd, 256)) }
				ahead()
				ahead()
				for i := 0; i < rounds; i++ {
					h := q.Wait()
					want := make([]byte, 256)
					fill(want, g, i)
					if h == nil || h.Status != 256 || !bytes.Equal(buffer(h, 256), want) {
						return fmt.Errorf("queue %d block %d: wrong data or status", g, i)
					}
					e.Put(h)
					if i+2 < rounds {
						ahead()
					}
				}
				if pub.AllocatedRequests != 0 || pub.RunningRequests != 0 {
					return fmt.Errorf("queue %d: counters %d %d at the end", g, pub.AllocatedRequests, pub.RunningRequests)
				}
				return nil
			}()
		}(g)
	}
	for g := 0; g < queues; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func fill(b []byte, g, i int) {
	for j := range b {
		b[j] = byte(g*31 + i*7 + j)
	}
}

func TestCleanupFreesEverything(t *testing.T) {
	e := newEngine(t, Options{})
	pub := &QueueHeader{BufferSize: 1 << 16, MaxWritebacks: 1}
	for i := 0; i < 100; i++ {
		q := e.Init(pub)
		a, b := q.Get(), q.Get()
		e.Put(a)
		e.Put(b)
		q.Cleanup()
		if pub.Magic != 0 || pub.Handle != nil {
			t.Fatal("cleanup left the queue marked as initialised")
		}
	}
	n := 0
	e.requests.each(func(*request) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d requests still registered after every queue was cleaned up", n)
	}
}
