package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Reads done at once in asio_submit are returned in submit order among the
// others, whatever collects them (asio_wait, asio_sync, a write-back
// submitted at the limit), and count as running until collected.
func TestReadsDoneAtOnceKeepTheOrder(t *testing.T) {
	data := bytes.Repeat([]byte("abcdefgh"), 512) // 4 KiB
	tests := []struct {
		name string
		// run submits requests; it returns them in the order Wait must
		// give them back, and what each must have read.
		run func(t *testing.T, e *Engine, q *Queue, fd int) ([]*RequestHeader, []string)
	}{
		{"a read done at once, then one that waits in the background", func(t *testing.T, e *Engine, q *Queue, fd int) ([]*RequestHeader, []string) {
			pr, pw := pipe(t)
			a := prepare(q, OpRead, fd, 8)
			e.Submit(a)
			b := prepare(q, OpRead, int(pr.Fd()), 5)
			e.Submit(b) // the pipe is empty: in the background
			pw.WriteString("later")
			c := prepare(q, OpRead, fd, 8)
			e.Submit(c)
			return []*RequestHeader{a, b, c}, []string{"abcdefgh", "later", "abcdefgh"}
		}},
		{"reads done at once, then asio_sync", func(t *testing.T, e *Engine, q *Queue, fd int) ([]*RequestHeader, []string) {
			a := prepare(q, OpRead, fd, 8)
			e.Submit(a)
			b := prepare(q, OpRead, fd, 4)
			e.Submit(b)
			if q.pub.RunningRequests != 2 {
				t.Errorf("running_requests %d after two reads done at once; want 2 until they are collected", q.pub.RunningRequests)
			}
			q.Sync()
			if q.pub.RunningRequests != 0 {
				t.Errorf("running_requests %d after asio_sync; want 0", q.pub.RunningRequests)
			}
			return []*RequestHeader{a, b}, []string{"abcdefgh", "abcd"}
		}},
		{"a read done at once, one in the background, then write-backs at the limit", func(t *testing.T, e *Engine, q *Queue, fd int) ([]*RequestHeader, []string) {
			out, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { out.Close() })
			pr, pw := pipe(t)
			a := prepare(q, OpRead, fd, 8)
			e.Submit(a)
			b := prepare(q, OpRead, int(pr.Fd()), 5)
			e.Submit(b) // the pipe is empty: in the background
			pw.WriteString("later")
			for range 3 { // max_writebacks is 1: each collects what is before it
				w := prepare(q, OpWriteBack, int(out.Fd()), 3)
				copy(buffer(w, 3), "wb!")
				e.Submit(w)
			}
			c := prepare(q, OpRead, fd, 8)
			e.Submit(c)
			return []*RequestHeader{a, b, c}, []string{"abcdefgh", "later", "abcdefgh"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Options{})
			q, pub := newQueue(t, e, 4096, 1)
			fd := tempFile(t, data)
			want, contents := tt.run(t, e, q, fd)
			for i, w := range want {
				h := q.Wait()
				if h != w {
					t.Fatalf("asio_wait %d returned request %p; want %p, the %d. submitted", i+1, h, w, i+1)
				}
				if got := string(buffer(h, int(h.Status))); got != contents[i] {
					t.Errorf("request %d read %q; want %q", i+1, got, contents[i])
				}
				e.Put(h)
			}
			if h := q.Wait(); h != nil {
				t.Errorf("asio_wait returned %p after every read; want NULL", h)
			}
			q.Sync()
			if pub.RunningRequests != 0 || pub.AllocatedRequests != 0 {
				t.Errorf("running_requests %d, allocated_requests %d at the end; want 0 and 0", pub.RunningRequests, pub.AllocatedRequests)
			}
		})
	}
}

// A read done at once is running until collected: asio_cleanup_queue
// refuses the queue as it refuses one with a read finished in the
// background.
func TestCleanupWithAReadDoneAtOnce(t *testing.T) {
	e := newEngine(t, Options{})
	pub := &QueueHeader{BufferSize: 4096, MaxWritebacks: 1}
	q := e.Init(pub)
	fd := tempFile(t, []byte("data"))
	h := prepare(q, OpRead, fd, 4)
	e.Submit(h)
	wantFatal(t, fatalOf(q.Cleanup), "asio_cleanup_queue: ", "still has 1 request running")
	if q.Wait() != h || h.Status != 4 {
		t.Fatalf("the read: status %d", h.Status)
	}
	if pos, _ := unix.Seek(fd, 0, unix.SEEK_CUR); pos != 4 {
		t.Errorf("position %d after the read; want 4", pos)
	}
	e.Put(h)
	q.Cleanup()
}

// A read submitted while a background task that has nothing left to do has
// not ended yet is done at once, without the queue's lock, and the task
// then ends without touching it.
func TestReadAtOnceBesideATaskAboutToEnd(t *testing.T) {
	ex := &manualExecutor{}
	e := newEngine(t, Options{Executor: ex})
	q, pub := newQueue(t, e, 4096, 1)
	pr, pw := pipe(t)
	fd := tempFile(t, []byte("cached"))
	b := prepare(q, OpRead, int(pr.Fd()), 5)
	e.Submit(b) // the pipe is empty: a task is scheduled for b
	pw.WriteString("piped")
	if q.Wait() != b || string(buffer(b, 5)) != "piped" { // the caller read it itself
		t.Fatalf("the pipe read: status %d", b.Status)
	}
	e.Put(b)
	a := prepare(q, OpRead, fd, 6)
	e.Submit(a)
	if a.Status != 6 {
		t.Errorf("a read of a cached file beside an idle task: status %d at submit; want 6 (done at once)", a.Status)
	}
	if n := ex.runAll(); n != 1 {
		t.Fatalf("%d tasks ran; want the one scheduled for the pipe read", n)
	}
	if q.Wait() != a || string(buffer(a, 6)) != "cached" || pub.RunningRequests != 0 {
		t.Fatalf("the cached read: status %d, running_requests %d", a.Status, pub.RunningRequests)
	}
	e.Put(a)
	if q.Wait() != nil {
		t.Error("asio_wait returned a request after every read was collected")
	}
}
