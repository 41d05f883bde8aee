package engine

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapHandles is a Handles for tests: keys are Go pointers, which is fine
// here because the QueueHeaders of the tests live in Go memory.
type mapHandles struct {
	mu sync.Mutex
	m  map[unsafe.Pointer]any
}

func (h *mapHandles) Save(v any) unsafe.Pointer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[unsafe.Pointer]any{}
	}
	k := unsafe.Pointer(new(byte))
	h.m[k] = v
	return k
}

func (h *mapHandles) Restore(k unsafe.Pointer) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[k]
}

func (h *mapHandles) Unref(k unsafe.Pointer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, k)
}

// fatalError is what the tests' Fatal panics with.
type fatalError struct{ err error }

func newEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	opts.Handles = &mapHandles{}
	opts.Fatal = func(err error) { panic(fatalError{err}) }
	return New(opts)
}

// fatalOf runs f and returns the error it reported through Fatal, or nil.
func fatalOf(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			fe, ok := v.(fatalError)
			if !ok {
				panic(v)
			}
			err = fe.err
		}
	}()
	f()
	return nil
}

// newQueue initialises a queue with the given buffer size and write-back
// limit and cleans it up (checking that cleanup succeeds) at the end.
func newQueue(t testing.TB, e *Engine, bufferSize, maxWritebacks uint32) (*Queue, *QueueHeader) {
	t.Helper()
	pub := &QueueHeader{BufferSize: bufferSize, MaxWritebacks: maxWritebacks}
	q := e.Init(pub)
	t.Cleanup(func() {
		if err := fatalOf(q.Cleanup); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return q, pub
}

func buffer(h *RequestHeader, n int) []byte { return unsafe.Slice((*byte)(h.Buffer), n) }

// tempFile returns a descriptor of a new file holding data, positioned at 0.
func tempFile(t testing.TB, data []byte) int {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "asio")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	return int(f.Fd())
}

func pipe(t testing.TB) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// prepare gets a request from q and sets its op, fd and len.
func prepare(q *Queue, op Op, fd int, n int) *RequestHeader {
	h := q.Get()
	h.Op, h.Fd, h.Len = op, int32(fd), uint32(n)
	return h
}

func wantFatal(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error reported; want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	var m *Misuse
	if errors.As(err, &m) && strings.Contains(m.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}

// manualExecutor keeps tasks until the test runs them, so a test controls
// what happens in the background.
type manualExecutor struct {
	mu    sync.Mutex
	tasks []func()
}

func (m *manualExecutor) Run(task func()) {
	m.mu.Lock()
	m.tasks = append(m.tasks, task)
	m.mu.Unlock()
}

// runAll runs the tasks given so far and returns how many there were.
func (m *manualExecutor) runAll() int {
	m.mu.Lock()
	tasks := m.tasks
	m.tasks = nil
	m.mu.Unlock()
	for _, t := range tasks {
		t()
	}
	return len(tasks)
}

// wantFileAfterFailure checks what failed write-backs left: the file name
// holds exactly want, and fd's position is pos (where the failed write
// began, plus what it wrote).
func wantFileAfterFailure(t *testing.T, name string, fd int, want []byte, pos int64) {
	t.Helper()
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the file holds %d bytes after the failure; want exactly the %d written before it", len(got), len(want))
	}
	if p, _ := unix.Seek(fd, 0, unix.SEEK_CUR); p != pos {
		t.Errorf("descriptor position %d after the failure; want %d", p, pos)
	}
}

// abandon drains a queue whose write-back failed: the process would have
// ended, the test goes on without the queue.
func abandon(q *Queue, pub *QueueHeader) {
	for pub.RunningRequests > 0 {
		fatalOf(q.Sync)
	}
}
