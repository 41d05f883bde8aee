package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// This file is the reference model of the asio contract: a plain,
// sequential implementation of what a caller of <ucw/asio.h> may rely on,
// working on its own state and never on the engine. The fuzz target in
// fuzz_test.go drives the engine, the C path (capi/stub/sync.c) and the model with
// the same operations and compares every result.
//
// The model executes a request's read(2) or write(2) when it is submitted,
// on a model of the files and pipes (mWorld). That is exact as long as
// nothing else touches the file or pipe between the submit and the moment
// the request is collected, which the driver guarantees: requests of one
// queue run in submit order, and the driver never lets another queue, or
// itself, use an object while a queue has an uncollected request on it.

// mState is where a model request is, as the caller sees it.
type mState int

const (
	mIdle    mState = iota // recycled: on the queue's idle list
	mHeld                  // allocated: got, or returned by wait, and not submitted
	mRunning               // submitted and not collected
	mDone                  // a read or write collected, waiting for wait
)

// errnoUnset is returned_errno as asio_get leaves it: -1.
const errnoUnset = ^syscall.Errno(0)

var mStateNames = [...]string{"idle", "held", "running", "done"}

func (s mState) String() string { return mStateNames[s] }

// mRequest is a model request.
type mRequest struct {
	id    int
	q     *mQueue
	size  int    // bytes in its own buffer, fixed when it is made
	state mState // changed only by the model's calls
	own   []byte // contents of its own buffer

	// Set by the caller before the submit.
	op   Op
	fd   int
	n    int
	ext  []byte // non-nil: the buffer points at the caller's memory (this)
	null bool   // the buffer is NULL

	// The result of its read(2) or write(2).
	status int
	errno  syscall.Errno // 0 on success; the initial -1 of asio_get is errnoUnset

	userData int // the caller's token, 0 for NULL

	// An O_DIRECT read leaves the bytes of its buffer past what it read
	// unspecified: Linux zero-fills the part of the range past the end of
	// the file.
	tailUnspecified bool
}

// buf is the memory the request reads into or writes from.
func (r *mRequest) buf() []byte {
	if r.null {
		return nil
	}
	if r.ext != nil {
		return r.ext
	}
	return r.own
}

// ownBuffer tells whether the buffer is the request's own.
func (r *mRequest) ownBuffer() bool { return r.ext == nil && !r.null }

// mQueue is a model queue.
type mQueue struct {
	slot          int
	live          bool
	bufferSize    int // the caller's fields, read at each call
	maxWritebacks int
	useCount      uint32

	allocated, running, runningWB int

	idle    []*mRequest // recycled, in no particular order
	pending []*mRequest // submitted, not collected, in submit order
	done    []*mRequest // collected reads and writes, oldest first
	all     []*mRequest // every request the queue made (freed at cleanup)
}

// model is the reference implementation: queues plus a model of the files
// and pipes they work on.
type model struct {
	queues []*mQueue
	world  *mWorld
	nextID int
}

func newModel(slots int, w *mWorld) *model {
	m := &model{world: w}
	for i := 0; i < slots; i++ {
		m.queues = append(m.queues, &mQueue{slot: i})
	}
	return m
}

func misuse(fn, what string, args ...any) error {
	return &Misuse{Func: fn, What: fmt.Sprintf(what, args...)}
}

// init is asio_init_queue.
func (m *model) init(q *mQueue, bufferSize, maxWritebacks int) error {
	if bufferSize == 0 {
		return misuse("asio_init_queue", "buffer_size is 0")
	}
	*q = mQueue{slot: q.slot, live: true, bufferSize: bufferSize, maxWritebacks: maxWritebacks}
	return nil
}

// get is asio_get. It returns the requests the call may return: one of the
// idle ones, or, when there is none, nil and newOK (a new request).
func (m *model) get(q *mQueue) (candidates []*mRequest, newOK bool, err error) {
	if !q.live {
		return nil, false, misuse("asio_get", "queue not initialised")
	}
	if len(q.idle) > 0 {
		return q.idle, false, nil
	}
	if q.bufferSize == 0 {
		return nil, false, misuse("asio_get", "buffer_size is 0")
	}
	return nil, true, nil
}

// take completes a get that returned the idle request r.
func (m *model) take(q *mQueue, r *mRequest) {
	for i, x := range q.idle {
		if x == r {
			q.idle = append(q.idle[:i], q.idle[i+1:]...)
			break
		}
	}
	m.reset(q, r)
}

// create completes a get that returned a new request whose buffer holds own.
func (m *model) create(q *mQueue, own []byte) *mRequest {
	m.nextID++
	r := &mRequest{id: m.nextID, q: q, size: q.bufferSize, own: own}
	q.all = append(q.all, r)
	m.reset(q, r)
	return r
}

func (m *model) reset(q *mQueue, r *mRequest) {
	r.state = mHeld
	r.op, r.fd, r.n, r.ext, r.null = OpFree, -1, 0, nil, false
	r.status, r.errno = -1, errnoUnset
	q.allocated++
}

// submit is asio_submit of r with the fields the caller set.
func (m *model) submit(r *mRequest) error {
	const fn = "asio_submit"
	if r == nil {
		return misuse(fn, "NULL request")
	}
	q := r.q
	switch r.state {
	case mIdle:
		return misuse(fn, "not allocated")
	case mRunning, mDone:
		return misuse(fn, "already submitted")
	}
	switch r.op {
	case OpRead, OpWrite:
	case OpWriteBack:
		if q.maxWritebacks == 0 {
			return misuse(fn, "max_writebacks == 0")
		}
		if r.ownBuffer() && r.n > r.size {
			return misuse(fn, "write-back larger than the request's buffer")
		}
		for q.runningWB >= q.maxWritebacks {
			if err := m.collect(q); err != nil {
				return err
			}
		}
		q.runningWB++
	case OpFree:
		return misuse(fn, "op ASIO_FREE")
	default:
		return misuse(fn, "unknown op")
	}
	m.execute(r)
	r.state = mRunning
	q.running++
	q.pending = append(q.pending, r)
	return nil
}

// execute performs r's read(2) or write(2) on the model world.
func (m *model) execute(r *mRequest) {
	switch {
	case r.ownBuffer() && r.n > r.size:
		r.status, r.errno = -1, syscall.EINVAL // would run past the buffer
		return
	case r.null && r.n > 0:
		r.status, r.errno = -1, syscall.EFAULT
		return
	}
	p := r.buf()[:r.n]
	if r.op == OpRead {
		r.status, r.errno = m.world.read(r.fd, p)
		r.tailUnspecified = m.world.fds[r.fd] != nil && m.world.fds[r.fd].direct
	} else {
		r.status, r.errno = m.world.write(r.fd, p)
	}
}

// wouldFail tells whether a write-back of r, submitted now, would fail
// (without doing it).
func (m *model) wouldFail(r *mRequest) bool {
	if r.null && r.n > 0 {
		return true
	}
	n, _ := m.world.peekWrite(r.fd, r.n)
	return n != r.n
}

// collect takes the oldest uncollected request of q: a write-back is
// checked and recycled, a read or write goes to the done list.
func (m *model) collect(q *mQueue) error {
	r := q.pending[0]
	q.pending = q.pending[1:]
	q.running--
	if r.op != OpWriteBack {
		r.state = mDone
		q.done = append(q.done, r)
		return nil
	}
	if r.status != r.n {
		written := r.status
		if written < 0 {
			written = -1
		}
		return &WritebackError{Fd: r.fd, Len: r.n, Written: written, Errno: r.errno}
	}
	q.runningWB--
	q.allocated--
	r.state = mIdle
	q.idle = append(q.idle, r)
	return nil
}

// wait is asio_wait: the oldest finished read or write, or nil.
func (m *model) wait(q *mQueue) (*mRequest, error) {
	if !q.live {
		return nil, misuse("asio_wait", "queue not initialised")
	}
	for {
		if len(q.done) > 0 {
			r := q.done[0]
			q.done = q.done[1:]
			r.state = mHeld
			return r, nil
		}
		if q.running == 0 {
			return nil, nil
		}
		if err := m.collect(q); err != nil {
			return nil, err
		}
	}
}

// put is asio_put.
func (m *model) put(r *mRequest) error {
	const fn = "asio_put"
	if r == nil {
		return misuse(fn, "NULL request")
	}
	switch r.state {
	case mIdle:
		return misuse(fn, "not allocated")
	case mRunning, mDone:
		return misuse(fn, "still submitted")
	}
	r.state = mIdle
	r.q.allocated--
	r.q.idle = append(r.q.idle, r)
	return nil
}

// sync is asio_sync.
func (m *model) sync(q *mQueue) error {
	if !q.live {
		return misuse("asio_sync", "queue not initialised")
	}
	for q.running > 0 {
		if err := m.collect(q); err != nil {
			return err
		}
	}
	return nil
}

// cleanup is asio_cleanup_queue.
func (m *model) cleanup(q *mQueue) error {
	const fn = "asio_cleanup_queue"
	if !q.live {
		return misuse(fn, "queue not initialised")
	}
	if q.running > 0 {
		return misuse(fn, "requests running")
	}
	if q.allocated > 0 {
		return misuse(fn, "requests allocated")
	}
	*q = mQueue{slot: q.slot}
	return nil
}

// requests returns q's requests in the given state, oldest first.
func (q *mQueue) requests(s mState) []*mRequest {
	var rs []*mRequest
	for _, r := range q.all {
		if r.state == s {
			rs = append(rs, r)
		}
	}
	return rs
}

// mayRunInParallel tells whether the engine may execute some of the given
// uncollected requests of a queue at the same time, and so finish them out
// of order:
// requests on different regular files, or several on one O_DIRECT file
// (positioned write-backs).
func (m *model) mayRunInParallel(reqs []*mRequest) bool {
	files := map[int]int{}
	for _, r := range reqs {
		if d := m.world.fds[r.fd]; d != nil && d.kind == descFile {
			files[d.obj]++
			if d.direct && files[d.obj] > 1 {
				return true
			}
		}
	}
	return len(files) > 1
}

// mayReapOutOfOrder tells whether a write-back submit at the limit may
// collect q's write-backs in another order than the model (and the C path)
// on the engine: at the limit the engine takes a finished write-back from
// the run of write-backs at the head of its queue (never past a read or a
// write), so two write-backs with no read or write between them that may
// execute at the same time (see mayRunInParallel) may be collected in
// either order.
func (m *model) mayReapOutOfOrder(q *mQueue) bool {
	var run []*mRequest
	for i := 0; i <= len(q.pending); i++ {
		if i < len(q.pending) && q.pending[i].op == OpWriteBack {
			run = append(run, q.pending[i])
			continue
		}
		if len(run) > 1 && m.mayRunInParallel(run) {
			return true
		}
		run = run[:0]
	}
	return false
}

// pendingOn tells whether q has an uncollected request on object obj.
func (m *model) pendingOn(q *mQueue, obj int) bool {
	for _, r := range q.pending {
		if m.world.object(r.fd) == obj {
			return true
		}
	}
	return false
}

// The model of files and pipes.

type descKind int

const (
	descFile descKind = iota
	descPipeRead
	descPipeWrite
	descNull // /dev/null opened for reading and writing
)

// mFile is a regular file.
type mFile struct {
	data []byte
}

// mPipe is a pipe.
type mPipe struct {
	buf                        []byte
	readerClosed, writerClosed bool
}

// mDesc is an open file description, behind a descriptor number.
type mDesc struct {
	kind              descKind
	obj               int // the file or pipe (0 for /dev/null: nothing to share)
	file              *mFile
	pos               int
	canRead, canWrite bool
	quota             int  // writes through this descriptor stop at this file position; -1: no limit
	direct            bool // opened with O_DIRECT
	align             int  // ... which needs lengths and positions aligned to this
	pipe              *mPipe
}

// mWorld is the files and pipes, and the faults the syscalls inject.
type mWorld struct {
	fds        map[int]*mDesc
	shortLimit int // every read(2) and write(2) moves at most this many bytes (0: no limit)
}

// object returns the file or pipe behind fd (0 if none).
func (w *mWorld) object(fd int) int {
	if d := w.fds[fd]; d != nil {
		return d.obj
	}
	return 0
}

func (w *mWorld) limit(n int) int {
	if w.shortLimit > 0 && n > w.shortLimit {
		return w.shortLimit
	}
	return n
}

// wouldBlock tells whether a read of n bytes from fd would block.
func (w *mWorld) wouldBlock(fd int, n int) bool {
	d := w.fds[fd]
	return d != nil && d.kind == descPipeRead && n > 0 && len(d.pipe.buf) == 0 && !d.pipe.writerClosed
}

// read is read(2).
func (w *mWorld) read(fd int, p []byte) (int, syscall.Errno) {
	p = p[:w.limit(len(p))]
	d := w.fds[fd]
	if d == nil || !d.canRead {
		return -1, syscall.EBADF
	}
	if len(p) == 0 {
		return 0, 0
	}
	if d.direct && (len(p)%d.align != 0 || d.pos%d.align != 0) {
		return -1, syscall.EINVAL
	}
	switch d.kind {
	case descFile:
		if d.pos >= len(d.file.data) {
			return 0, 0
		}
		n := copy(p, d.file.data[d.pos:])
		d.pos += n
		return n, 0
	case descPipeRead:
		if len(d.pipe.buf) == 0 {
			if !d.pipe.writerClosed {
				panic("model: a read from an empty pipe would block")
			}
			return 0, 0
		}
		n := copy(p, d.pipe.buf)
		d.pipe.buf = d.pipe.buf[n:]
		return n, 0
	default:
		return 0, 0
	}
}

// peekWrite is the result write(2) of n bytes to fd would have.
func (w *mWorld) peekWrite(fd int, n int) (int, syscall.Errno) {
	n = w.limit(n)
	d := w.fds[fd]
	if d == nil || !d.canWrite {
		return -1, syscall.EBADF
	}
	if n == 0 {
		return 0, 0
	}
	if d.direct && (n%d.align != 0 || d.pos%d.align != 0) {
		return -1, syscall.EINVAL
	}
	switch d.kind {
	case descFile:
		if d.quota >= 0 {
			room := d.quota - d.pos
			if room <= 0 {
				return -1, syscall.ENOSPC
			}
			n = min(n, room)
		}
		return n, 0
	case descPipeWrite:
		if d.pipe.readerClosed {
			return -1, syscall.EPIPE
		}
		return n, 0
	default:
		return n, 0
	}
}

// write is write(2).
func (w *mWorld) write(fd int, p []byte) (int, syscall.Errno) {
	n, errno := w.peekWrite(fd, len(p))
	if n <= 0 {
		return n, errno
	}
	d := w.fds[fd]
	switch d.kind {
	case descFile:
		f := d.file
		if end := d.pos + n; end > len(f.data) {
			f.data = append(f.data, make([]byte, end-len(f.data))...)
		}
		copy(f.data[d.pos:], p[:n])
		d.pos += n
	case descPipeWrite:
		d.pipe.buf = append(d.pipe.buf, p[:n]...)
	}
	return n, 0
}

// gatedSyscalls holds the writes to one descriptor until the gate is
// closed, and reports each write made to another.
type gatedSyscalls struct {
	gateFd int
	gate   chan struct{}
	doneFd int
	done   chan struct{}
}

func (s *gatedSyscalls) Read(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

func (s *gatedSyscalls) ReadNowait(int, []byte) (int, error) { return -1, syscall.EAGAIN }

func (s *gatedSyscalls) Write(fd int, p []byte) (int, error) {
	return s.around(fd, func() (int, error) { return unix.Write(fd, p) })
}

func (s *gatedSyscalls) Pwrite(fd int, p []byte, off int64) (int, error) {
	return s.around(fd, func() (int, error) { return unix.Pwrite(fd, p, off) })
}

func (s *gatedSyscalls) around(fd int, call func() (int, error)) (int, error) {
	if fd == s.gateFd {
		<-s.gate
	}
	n, err := call()
	if fd == s.doneFd {
		select {
		case s.done <- struct{}{}:
		default:
		}
	}
	return n, err
}

// TestWritebackLimitReaping: a write-back submit at the limit collects
// reads and writes in order, as the original does, so the counters come out
// the same; among write-backs it takes whichever is done (they run side by
// side on different files), so a failed one can end the process in that
// submit, before an older write-back has finished, rather than a call later.
func TestWritebackLimitReaping(t *testing.T) {
	t.Run("a read ahead is collected first", func(t *testing.T) {
		src := tempFile(t, bytes.Repeat([]byte("r"), 64))
		dst := tempFile(t, nil)
		sys := &gatedReads{gateFd: src, gate: make(chan struct{}), wroteFd: dst, wrote: make(chan struct{}, 1)}
		e := newEngine(t, Options{Syscalls: sys})
		pub := &QueueHeader{BufferSize: 64, MaxWritebacks: 1}
		q := e.Init(pub)
		rd := prepare(q, OpRead, src, 64)
		e.Submit(rd) // held in read(2)
		wb1 := prepare(q, OpWriteBack, dst, 64)
		e.Submit(wb1) // another file: runs beside the read and is done at once
		select {
		case <-sys.wrote:
		case <-time.After(5 * time.Second):
			t.Fatal("the write-back to another file did not run beside the held read")
		}
		wb2 := prepare(q, OpWriteBack, dst, 64)
		submitted := make(chan error, 1)
		go func() { submitted <- fatalOf(func() { e.Submit(wb2) }) }()
		select {
		case err := <-submitted:
			t.Fatalf("the write-back submit at the limit returned (%v) before the read ahead of the write-backs finished", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(sys.gate)
		if err := <-submitted; err != nil {
			t.Fatal(err)
		}
		if pub.RunningRequests != 1 || pub.RunningWritebacks != 1 || pub.AllocatedRequests != 2 {
			t.Errorf("counters after the submit: running %d, write-backs %d, allocated %d; want 1 1 2 (the read and the first write-back collected)",
				pub.RunningRequests, pub.RunningWritebacks, pub.AllocatedRequests)
		}
		if q.Wait() != rd || rd.Status != 64 {
			t.Errorf("the read was not returned by asio_wait (status %d)", rd.Status)
		}
		e.Put(rd)
		q.Sync()
		q.Cleanup()
	})
	t.Run("a failed write-back is reported where it is collected", func(t *testing.T) {
		a := tempFile(t, nil)
		path := filepath.Join(t.TempDir(), "ro")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		ro, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		b := int(ro.Fd())
		sys := &gatedSyscalls{gateFd: a, gate: make(chan struct{}), doneFd: b, done: make(chan struct{}, 1)}
		e := newEngine(t, Options{Syscalls: sys})
		pub := &QueueHeader{BufferSize: 64, MaxWritebacks: 2}
		q := e.Init(pub)
		e.Submit(prepare(q, OpWriteBack, a, 64)) // held in write(2)
		e.Submit(prepare(q, OpWriteBack, b, 64)) // fails with EBADF, beside it
		select {
		case <-sys.done:
		case <-time.After(5 * time.Second):
			t.Fatal("the write-back to another file did not run beside the held one")
		}
		err = fatalOf(func() { e.Submit(prepare(q, OpWriteBack, a, 64)) })
		var we *WritebackError
		if !errors.As(err, &we) || we.Fd != b || we.Errno != syscall.EBADF {
			t.Errorf("the submit at the limit reported %v; want the failed write-back to fd %d (EBADF)", err, b)
		}
		close(sys.gate)
		abandon(q, pub)
	})
}

// gatedReads holds every read of gateFd until gate is closed, and tells
// on wrote when a write to wroteFd has been made.
type gatedReads struct {
	unixSyscalls
	gateFd  int
	gate    chan struct{}
	wroteFd int
	wrote   chan struct{}
}

func (s *gatedReads) Write(fd int, p []byte) (int, error) {
	n, err := unix.Write(fd, p)
	if fd == s.wroteFd {
		select {
		case s.wrote <- struct{}{}:
		default:
		}
	}
	return n, err
}

func (s *gatedReads) ReadNowait(int, []byte) (int, error) { return -1, syscall.EAGAIN }

func (s *gatedReads) Read(fd int, p []byte) (int, error) {
	if fd == s.gateFd {
		<-s.gate
	}
	return unix.Read(fd, p)
}
