package engine

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FuzzEngineMatchesModel drives the engine and the reference model
// (model_test.go) with the same sequence of operations, decoded from the
// fuzzer's bytes, and compares every result: the request each call returns,
// status, returned_errno, every byte of every buffer, the counters after
// every step, the errors reported through Fatal (a misuse exactly when the
// model says so, a failed write-back with the same message), and at the end
// the contents of the files and pipes and the descriptors' positions.
//
// Input: a 6-byte header, then operations of an opcode byte and a fixed
// number of argument bytes (see step and the constants cGet...). The header
// chooses the executor (a worker pool, or one that runs background tasks
// only when an operation says so), faults injected into read(2)/write(2)
// (EINTR, short transfers, a "disk" that fills up at a given file position)
// and the first queue's buffer_size and max_writebacks.
//
// make test runs the committed corpus (testdata/fuzz/FuzzEngineMatchesModel)
// and then fuzzes for a few seconds; make fuzz fuzzes for longer.
func FuzzEngineMatchesModel(f *testing.F) {
	// The seeds are the committed corpus: the scenarios of TestModelScenarios.
	f.Fuzz(func(t *testing.T, data []byte) {
		runProgram(t, data)
	})
}

var updateCorpus = flag.Bool("update-fuzz-corpus", false, "write the model scenarios to "+corpusDir)

const corpusDir = "testdata/fuzz/FuzzEngineMatchesModel"

// TestModelScenarios runs hand-written operation sequences through the
// fuzz harness and checks that each ends the way it was written to
// (normally, with a misuse, or with a failed write-back), so that the seed
// corpus exercises what it claims to, and that the committed corpus holds
// them (go test ./engine -run TestModelScenarios -args -update-fuzz-corpus
// writes it).
func TestModelScenarios(t *testing.T) {
	for _, s := range modelScenarios {
		path := filepath.Join(filepath.FromSlash(corpusDir), s.name)
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.program())
		if *updateCorpus {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != body {
			t.Errorf("%s is missing or out of date (run go test ./engine -run TestModelScenarios -args -update-fuzz-corpus)", path)
		}
		t.Run(s.name, func(t *testing.T) {
			got := runProgram(t, s.program())
			if s.want != "" && got != s.want {
				t.Errorf("the sequence ended with %q, want %q", got, s.want)
			}
		})
	}
}

// Operations. The opcode is the byte modulo 32; the upper half repeats the
// common operations so that random input mostly makes valid sequences.
const (
	cGet     = iota // slot
	cRead           // slot req fd len buf
	cWrite          // slot req fd len buf
	cWB             // slot req fd len buf
	cWait           // slot
	cPut            // slot req
	cSync           // slot
	cCleanup        // slot (slot&0xf0 == 0xf0: without draining first)
	cInit           // slot bufsize maxwb
	cSetMax         // slot value
	cPipe           // what n
	cSeek           // fd pos
	cBg             // -
	cMisuse         // kind slot req
	cSetBS          // slot bufsize
	cUse            // slot req value
	cOps
)

var opArgs = [cOps]int{cGet: 1, cRead: 5, cWrite: 5, cWB: 5, cWait: 1, cPut: 2, cSync: 1, cCleanup: 1,
	cInit: 3, cSetMax: 2, cPipe: 2, cSeek: 2, cBg: 0, cMisuse: 3, cSetBS: 2, cUse: 3}

// The upper 16 opcodes.
var commonOps = [16]int{cRead, cRead, cWrite, cWrite, cWB, cWB, cWait, cWait, cWait, cPut, cPut, cGet, cSync, cPipe, cRead, cWait}

// Descriptors a request can name (the fd argument modulo 8).
const (
	selF0     = iota // file 0, O_RDWR
	selF0RO          // file 0 again, O_RDONLY (its own position)
	selF1            // file 1, O_RDWR, with the "disk" quota
	selPipeR         // the pipe's read end
	selPipeW         // the pipe's write end
	selNull          // /dev/null, O_RDWR
	selF0B           // file 0 a third time, O_RDWR (its own position)
	selBad           // -1
	selDirect        // file 2, O_RDWR|O_DIRECT (not used where O_DIRECT is not supported)
	selCount
)

const (
	fuzzSlots = 3
	pipeCap   = 16384 // the driver keeps at most this much in the pipe: writes never block
	objF0     = 1
	objF1     = 2
	objPipe   = 3
	objF2     = 4
)

var (
	bsTable    = [8]int{1, 7, 100, 512, 4096, 4097, 8192, 3}
	maxTable   = [16]int{0, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3}
	bs0Table   = [16]int{0, 1, 100, 512, 4096, 4097, 8192, 7, 1, 100, 512, 4096, 4097, 8192, 7, 3}
	shortTable = [16]int{1: 1, 2: 100, 3: 3000}
	eintrTable = [4]int64{0, 2, 3, 7}
	quotaTable = [16]int{-1, 0, 100, 5000, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}
	feedTable  = [8]int{1, 10, 100, 1000, 4096, 5000, 16384, 7}
	posTable   = [8]int{0, 1, 100, 4096, 8192, 5000, -1, -2} // -1: the end, -2: 10 past the end
)

// faultSys is the Syscalls of the fuzzed engines: read(2) and write(2),
// with the faults configured for the current input.
type faultSys struct {
	cfg   atomic.Pointer[faultConfig]
	calls atomic.Int64
}

type faultConfig struct {
	eintrEvery int64 // every n-th call fails with EINTR first (0: never)
	short      int   // a call moves at most this many bytes (0: no limit)
	quotaFd    int   // writes through this descriptor...
	quota      int   // ...stop at this file position with ENOSPC (quota < 0: no limit)
}

func (s *faultSys) prepare(p []byte) ([]byte, *faultConfig, bool) {
	c := s.cfg.Load()
	if c == nil {
		return p, nil, false
	}
	if c.eintrEvery > 0 && s.calls.Add(1)%c.eintrEvery == 0 {
		return p, c, true
	}
	if c.short > 0 && len(p) > c.short {
		p = p[:c.short]
	}
	return p, c, false
}

func (s *faultSys) Read(fd int, p []byte) (int, error) {
	p, _, eintr := s.prepare(p)
	if eintr {
		return -1, syscall.EINTR
	}
	return unix.Read(fd, p)
}

func (s *faultSys) Write(fd int, p []byte) (int, error) {
	p, c, eintr := s.prepare(p)
	if eintr {
		return -1, syscall.EINTR
	}
	if c != nil && c.quota >= 0 && fd == c.quotaFd && len(p) > 0 {
		pos, err := unix.Seek(fd, 0, 1)
		if err != nil {
			return -1, err
		}
		if p = c.room(p, pos); p == nil {
			return -1, syscall.ENOSPC
		}
	}
	return unix.Write(fd, p)
}

// room cuts p at the quota, for a write at pos; nil: no room at all.
func (c *faultConfig) room(p []byte, pos int64) []byte {
	room := int64(c.quota) - pos
	if room <= 0 {
		return nil
	}
	return p[:min(int64(len(p)), room)]
}

func (s *faultSys) Pwrite(fd int, p []byte, off int64) (int, error) {
	p, c, eintr := s.prepare(p)
	if eintr {
		return -1, syscall.EINTR
	}
	if c != nil && c.quota >= 0 && fd == c.quotaFd && len(p) > 0 {
		if p = c.room(p, off); p == nil {
			return -1, syscall.ENOSPC
		}
	}
	return unix.Pwrite(fd, p, off)
}

// ReadNowait is preadv2 with RWF_NOWAIT. With short transfers configured
// it never has data at hand: a part it gave would be completed by a second
// read, which a short read(2) is not.
func (s *faultSys) ReadNowait(fd int, p []byte) (int, error) {
	p, c, eintr := s.prepare(p)
	if eintr {
		return -1, syscall.EINTR
	}
	if c != nil && c.short > 0 {
		return -1, syscall.EAGAIN
	}
	iov := unix.Iovec{Len: uint64(len(p))}
	if len(p) > 0 {
		iov.Base = &p[0]
	}
	n, _, e := unix.Syscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&iov)), 1, ^uintptr(0), 0, unix.RWF_NOWAIT)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// The engines the fuzz target uses, made once per process: one with the
// default worker pool, one with a manual executor whose tasks run only at
// cBg operations (else the caller executes every request itself).
var fuzzEngines struct {
	once            sync.Once
	pool, manual    *Engine
	poolSys, manSys *faultSys
	manualEx        *manualExecutor
	leaked          atomic.Int64 // bytes of failed write-backs that could not be freed
}

// When this many bytes of abandoned write-backs have piled up in this
// process, write-backs that would fail are submitted as plain writes.
const leakBudget = 256 << 20

// userTokens gives user_data values that are real pointers.
var userTokens [256]byte

func token(v int) unsafe.Pointer {
	if v == 0 {
		return nil
	}
	return unsafe.Pointer(&userTokens[v])
}

// harness runs one input.
type harness struct {
	t      testing.TB
	e      *Engine
	ex     *manualExecutor // nil with the pool
	sys    *faultSys
	m      *model
	w      *mWorld
	pubs   [fuzzSlots]*QueueHeader
	hdr    map[*mRequest]*RequestHeader
	req    map[*RequestHeader]*mRequest
	ownPtr map[*mRequest]unsafe.Pointer
	ext    map[*mRequest][]byte // the caller's memory a request points at (kept alive here)
	fds    [selCount]int
	files  [3]string
	align  int // O_DIRECT alignment of file 2 (0: no O_DIRECT)
	pipe   *mPipe
	fill   byte
	ended  string // how the sequence ended: "" while it runs

	mu    sync.Mutex
	trace []string
}

// runProgram runs one input and returns how it ended: "ok", "misuse
// FUNCTION" or "write-back failed".
func runProgram(t testing.TB, data []byte) string {
	fuzzEngines.once.Do(func() {
		fuzzEngines.poolSys = &faultSys{}
		fuzzEngines.manSys = &faultSys{}
		fuzzEngines.manualEx = &manualExecutor{}
		// The pool engine sends positioned write-backs (the O_DIRECT file,
		// where no faults are injected) through io_uring where it can.
		fuzzEngines.pool = newEngine(t, Options{Syscalls: fuzzEngines.poolSys, Ring: true})
		fuzzEngines.manual = newEngine(t, Options{Syscalls: fuzzEngines.manSys, Executor: fuzzEngines.manualEx})
	})
	start := time.Now()
	d := &decoder{data: data}
	var hd [6]byte
	for i := range hd {
		hd[i] = d.byte()
	}
	h := &harness{t: t, hdr: map[*mRequest]*RequestHeader{}, req: map[*RequestHeader]*mRequest{},
		ownPtr: map[*mRequest]unsafe.Pointer{}, ext: map[*mRequest][]byte{}}
	if hd[0]&1 == 0 {
		h.e, h.sys = fuzzEngines.pool, fuzzEngines.poolSys
	} else {
		h.e, h.sys, h.ex = fuzzEngines.manual, fuzzEngines.manSys, fuzzEngines.manualEx
	}
	h.setupWorld(t, shortTable[hd[1]%16])
	cfg := &faultConfig{eintrEvery: eintrTable[hd[2]%4], short: h.w.shortLimit, quotaFd: h.fds[selF1], quota: quotaTable[hd[3]%16]}
	h.w.fds[h.fds[selF1]].quota = cfg.quota
	h.sys.cfg.Store(cfg)
	h.logf("header: executor %s, short %d, EINTR every %d, quota %d", map[bool]string{true: "manual", false: "pool"}[h.ex != nil], cfg.short, cfg.eintrEvery, cfg.quota)

	watchdog := time.AfterFunc(2*time.Minute, func() {
		panic("FuzzEngineMatchesModel: an operation hung; trace:\n" + h.traceText())
	})
	defer func() {
		watchdog.Stop()
		h.sys.cfg.Store(nil)
		for i, fd := range h.fds {
			if fd >= 0 && i != selBad {
				unix.Close(fd)
			}
		}
	}()

	for slot := range h.pubs {
		h.pubs[slot] = &QueueHeader{}
	}
	h.m = newModel(fuzzSlots, h.w)
	if h.init(0, bsTable[hd[4]%8], int(hd[5]%4)+1) {
		for !d.empty() && h.ended == "" {
			h.step(d)
		}
	}
	if h.ended == "" {
		// The end: drain and clean up every queue, with every step checked.
		for slot, q := range h.m.queues {
			if q.live && !h.cleanup(slot, true) {
				break
			}
		}
	}
	h.teardown()
	h.checkWorld()
	if h.ended == "" {
		h.ended = "ok"
	}
	if p := os.Getenv("ASIO_SLOW_LOG"); p != "" && time.Since(start) > 500*time.Millisecond {
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		fmt.Fprintf(f, "=== %v %q\n%s\n", time.Since(start), data, h.traceText())
		f.Close()
	}
	if os.Getenv("ASIO_MODEL_TRACE") != "" {
		t.Logf("trace:\n%s", h.traceText())
	}
	return h.ended
}

// decoder hands out the input's bytes, then zeros.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) empty() bool { return d.pos >= len(d.data) }

func (d *decoder) byte() byte {
	if d.pos >= len(d.data) {
		return 0
	}
	b := d.data[d.pos]
	d.pos++
	return b
}

func (h *harness) logf(format string, args ...any) {
	h.mu.Lock()
	h.trace = append(h.trace, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *harness) traceText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	tr := h.trace
	if len(tr) > 300 {
		tr = append([]string{fmt.Sprintf("... %d earlier lines", len(tr)-300)}, tr[len(tr)-300:]...)
	}
	return "  " + strings.Join(tr, "\n  ")
}

func (h *harness) failf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s\ntrace (the last line is the operation that differed):\n%s", fmt.Sprintf(format, args...), h.traceText())
}

// setupWorld creates the files, the pipe and the descriptors, and their model.
func (h *harness) setupWorld(t testing.TB, short int) {
	dir := t.TempDir()
	h.w = &mWorld{fds: map[int]*mDesc{}, shortLimit: short}
	for i := range h.fds {
		h.fds[i] = -1
	}
	content := make([]byte, 5000)
	for i := range content {
		content[i] = byte(i*7 + i>>8)
	}
	f0 := &mFile{data: bytes.Clone(content)}
	f1 := &mFile{}
	f2 := &mFile{data: bytes.Repeat(content[:4096], 2)}
	for i, data := range [][]byte{f0.data, f1.data, f2.data} {
		h.files[i] = filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(h.files[i], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open := func(sel int, path string, flags int) {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.fds[sel] = fd
	}
	open(selF0, h.files[0], unix.O_RDWR)
	open(selF0RO, h.files[0], unix.O_RDONLY)
	open(selF1, h.files[1], unix.O_RDWR)
	open(selF0B, h.files[0], unix.O_RDWR)
	open(selNull, os.DevNull, unix.O_RDWR)
	if fd, err := unix.Open(h.files[2], unix.O_RDWR|unix.O_DIRECT|unix.O_CLOEXEC, 0); err == nil {
		var st unix.Statx_t
		err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &st)
		if a := int(max(st.Dio_offset_align, st.Dio_mem_align)); err == nil && st.Mask&unix.STATX_DIOALIGN != 0 && a > 0 && a <= pageSize {
			h.fds[selDirect], h.align = fd, a
		} else {
			unix.Close(fd)
		}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	h.fds[selPipeR], h.fds[selPipeW] = p[0], p[1]
	h.pipe = &mPipe{}
	h.w.fds[h.fds[selF0]] = &mDesc{kind: descFile, obj: objF0, file: f0, canRead: true, canWrite: true, quota: -1}
	h.w.fds[h.fds[selF0RO]] = &mDesc{kind: descFile, obj: objF0, file: f0, canRead: true, quota: -1}
	h.w.fds[h.fds[selF0B]] = &mDesc{kind: descFile, obj: objF0, file: f0, canRead: true, canWrite: true, quota: -1}
	h.w.fds[h.fds[selF1]] = &mDesc{kind: descFile, obj: objF1, file: f1, canRead: true, canWrite: true, quota: -1}
	h.w.fds[h.fds[selNull]] = &mDesc{kind: descNull, canRead: true, canWrite: true, quota: -1}
	if h.align > 0 {
		h.w.fds[h.fds[selDirect]] = &mDesc{kind: descFile, obj: objF2, file: f2, canRead: true, canWrite: true, quota: -1, direct: true}
	}
	h.w.fds[h.fds[selPipeR]] = &mDesc{kind: descPipeRead, obj: objPipe, pipe: h.pipe, canRead: true, quota: -1}
	h.w.fds[h.fds[selPipeW]] = &mDesc{kind: descPipeWrite, obj: objPipe, pipe: h.pipe, canWrite: true, quota: -1}
}

// step decodes and runs one operation.
func (h *harness) step(d *decoder) {
	op := int(d.byte() % 32)
	if op >= 16 {
		op = commonOps[op-16]
	}
	var a [5]byte
	for i := 0; i < opArgs[op]; i++ {
		a[i] = d.byte()
	}
	switch op {
	case cGet:
		if slot, ok := h.slot(a[0]); ok {
			h.get(slot)
		}
	case cRead, cWrite, cWB:
		h.submit(Op(op), a)
	case cWait:
		if slot, ok := h.slot(a[0]); ok {
			h.wait(slot)
		}
	case cPut:
		if slot, ok := h.slot(a[0]); ok {
			if r := h.held(slot, a[1]); r != nil {
				h.put(r)
			}
		}
	case cSync:
		if slot, ok := h.slot(a[0]); ok {
			h.sync(slot)
		}
	case cCleanup:
		if slot, ok := h.slot(a[0]); ok {
			h.cleanup(slot, a[0]&0xf0 != 0xf0)
		}
	case cInit:
		if slot := slotOf(a[0]); !h.m.queues[slot].live {
			h.init(slot, bsTable[a[1]%8], maxTable[a[2]%16])
		}
	case cSetMax:
		if slot, ok := h.slot(a[0]); ok {
			v := maxTable[a[1]%16]
			h.logf("q%d: max_writebacks = %d", slot, v)
			h.pubs[slot].MaxWritebacks = uint32(v)
			h.m.queues[slot].maxWritebacks = v
		}
	case cSetBS:
		if slot, ok := h.slot(a[0]); ok {
			v := bs0Table[a[1]%16]
			h.logf("q%d: buffer_size = %d", slot, v)
			h.pubs[slot].BufferSize = uint32(v)
			h.m.queues[slot].bufferSize = v
		}
	case cUse:
		if slot, ok := h.slot(a[0]); ok {
			v := int(a[2])
			h.logf("q%d: use_count = %d", slot, v)
			h.pubs[slot].UseCount = uint32(v)
			h.m.queues[slot].useCount = uint32(v)
			if r := h.held(slot, a[1]); r != nil {
				h.logf("  r%d: user_data = token %d", r.id, v)
				h.hdr[r].UserData = token(v)
				r.userData = v
			}
		}
	case cPipe:
		h.pipeOp(a[0], a[1])
	case cSeek:
		h.seekOp(a[0], a[1])
	case cBg:
		if h.ex != nil {
			h.logf("run background tasks: %d", h.ex.runAll())
		} else {
			runtime.Gosched()
		}
	case cMisuse:
		if a[0]&0xe0 == 0xe0 { // rare: a misuse ends the sequence
			h.misuseOp(a[0], a[1], a[2])
		}
	}
	if h.ended == "" {
		h.checkCounters()
	}
}

// slotOf is the queue a slot byte names: its low two bits (3 is 0); the
// high bits are flags.
func slotOf(b byte) int { return int(b&3) % fuzzSlots }

// slot picks a queue: the one named if it is initialised; otherwise, with
// the byte's top four bits set, the uninitialised one (a misuse); else it
// initialises it first.
func (h *harness) slot(b byte) (int, bool) {
	slot := slotOf(b)
	if h.m.queues[slot].live || b&0xf0 == 0xf0 {
		return slot, true
	}
	return slot, h.init(slot, 512, 2)
}

// held picks one of the requests the caller holds on slot, getting one if
// there is none.
func (h *harness) held(slot int, b byte) *mRequest {
	q := h.m.queues[slot]
	if !q.live {
		return nil
	}
	rs := q.requests(mHeld)
	if len(rs) == 0 {
		if !h.get(slot) {
			return nil
		}
		rs = q.requests(mHeld)
	}
	return rs[int(b)%len(rs)]
}

// sameFatal checks that the engine reported (got) the error the model
// expects (want), and ends the sequence if there was one.
func (h *harness) sameFatal(what string, want, got error) bool {
	h.t.Helper()
	switch {
	case want == nil && got == nil:
		return true
	case want == nil:
		h.failf("%s: the engine reported %q; the model expected no error", what, got)
	case got == nil:
		h.failf("%s: the engine reported nothing; the model expected %q", what, want)
	}
	var wm, gm *Misuse
	var ww, gw *WritebackError
	switch {
	case errors.As(want, &wm):
		if !errors.As(got, &gm) || gm.Func != wm.Func {
			h.failf("%s: the engine reported %q; the model expected a misuse in %s (%s)", what, got, wm.Func, wm.What)
		}
		if strings.Contains(got.Error(), "\n") {
			h.failf("%s: the misuse report %q is not one line", what, got)
		}
		h.ended = "misuse " + wm.Func
	case errors.As(want, &ww):
		if !errors.As(got, &gw) || *gw != *ww || got.Error() != want.Error() {
			h.failf("%s: the engine reported %q (%#v); the model expected %q (%#v)", what, got, got, want, want)
		}
		h.ended = "write-back failed"
	default:
		h.failf("%s: the model reported an unexpected %v", what, want)
	}
	h.logf("  ended: %v", got)
	return false
}

func (h *harness) init(slot, bs, maxWB int) bool {
	h.logf("q%d: init buffer_size %d max_writebacks %d", slot, bs, maxWB)
	pub := h.pubs[slot]
	// Everything but the two settings is garbage.
	*pub = QueueHeader{BufferSize: uint32(bs), MaxWritebacks: uint32(maxWB),
		AllocatedRequests: 0xdead, RunningRequests: 77, RunningWritebacks: 5, UseCount: 0xfeed,
		Magic: 0x1234, Handle: token(3)}
	q := h.m.queues[slot]
	want := h.m.init(q, bs, maxWB)
	got := fatalOf(func() { h.e.Init(pub) })
	return h.sameFatal("asio_init_queue", want, got)
}

func (h *harness) get(slot int) bool {
	h.t.Helper()
	q := h.m.queues[slot]
	pub := h.pubs[slot]
	cands, newOK, want := h.m.get(q)
	var hd *RequestHeader
	got := fatalOf(func() { hd = h.e.Queue("asio_get", pub).Get() })
	if !h.sameFatal(fmt.Sprintf("q%d: asio_get", slot), want, got) {
		return false
	}
	if hd == nil {
		h.failf("asio_get returned NULL")
	}
	r, known := h.req[hd]
	if newOK {
		if known {
			h.failf("q%d: asio_get returned r%d (%s, of q%d); the idle list is empty, so it should be a new request", slot, r.id, r.state, r.q.slot)
		}
		if uintptr(hd.Buffer)%uintptr(pageSize) != 0 {
			h.failf("q%d: a new request's buffer %p is not page-aligned", slot, hd.Buffer)
		}
		if hd.UserData != nil {
			h.failf("q%d: a new request has user_data %p, want NULL", slot, hd.UserData)
		}
		r = h.m.create(q, bytes.Clone(buffer(hd, q.bufferSize)))
		h.hdr[r], h.req[hd], h.ownPtr[r] = hd, r, hd.Buffer
		h.logf("q%d: get -> new r%d (buffer %d bytes)", slot, r.id, r.size)
	} else {
		if !known || r.q != q || r.state != mIdle {
			var ids []string
			for _, c := range cands {
				ids = append(ids, fmt.Sprintf("r%d", c.id))
			}
			what := "an unknown request"
			if known {
				what = fmt.Sprintf("r%d (%s, of q%d)", r.id, r.state, r.q.slot)
			}
			h.failf("q%d: asio_get returned %s, want one of the idle requests %v", slot, what, ids)
		}
		if hd.Buffer != h.ownPtr[r] {
			h.failf("q%d: recycled r%d has buffer %p, want its own %p", slot, r.id, hd.Buffer, h.ownPtr[r])
		}
		if hd.UserData != token(r.userData) {
			h.failf("q%d: recycled r%d has user_data %p, want %p (kept)", slot, r.id, hd.UserData, token(r.userData))
		}
		h.checkBuffer(r, "recycled by asio_get")
		h.m.take(q, r)
		delete(h.ext, r)
		h.logf("q%d: get -> recycled r%d", slot, r.id)
	}
	if hd.Op != OpFree || hd.Fd != -1 || hd.Len != 0 || hd.Status != -1 || hd.ReturnedErrno != -1 || hd.Submitted != 0 || hd.Queue != pub {
		h.failf("q%d: asio_get returned r%d with op %d fd %d len %d status %d errno %d submitted %d queue %p; want 0 -1 0 -1 -1 0 %p",
			slot, r.id, hd.Op, hd.Fd, hd.Len, hd.Status, hd.ReturnedErrno, hd.Submitted, hd.Queue, pub)
	}
	return true
}

// checkBuffer compares the request's buffer (its own, and the caller's
// memory if it points there) with the model's.
func (h *harness) checkBuffer(r *mRequest, when string) {
	h.t.Helper()
	if got := unsafe.Slice((*byte)(h.ownPtr[r]), r.size); !bytes.Equal(got, r.own) {
		i := firstDiff(got, r.own)
		h.failf("r%d %s: its buffer differs from the model's at byte %d of %d: got %#x, want %#x", r.id, when, i, r.size, got[i], r.own[i])
	}
	if r.ext != nil && !bytes.Equal(h.ext[r], r.ext) {
		i := firstDiff(h.ext[r], r.ext)
		h.failf("r%d %s: the caller's buffer differs from the model's at byte %d of %d", r.id, when, i, len(r.ext))
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// freeObject makes sure no queue but except has an uncollected request on
// obj, syncing those that have. It returns false if the sequence ended.
func (h *harness) freeObject(obj int, except *mQueue) bool {
	if obj == 0 {
		return true
	}
	for slot, q := range h.m.queues {
		if q != except && q.live && h.m.pendingOn(q, obj) {
			h.logf("(q%d has requests on object %d: sync first)", slot, obj)
			if !h.sync(slot) {
				return false
			}
		}
	}
	return true
}

func (h *harness) submit(op Op, a [5]byte) {
	slot := slotOf(a[0])
	if !h.m.queues[slot].live && !h.init(slot, 512, 2) {
		return
	}
	q := h.m.queues[slot]
	r := h.held(slot, a[1])
	if r == nil {
		return
	}
	sel := int(a[2]&0x0f) % selCount
	if op == OpWriteBack && a[2]&0xe0 != 0xe0 {
		// Mostly write-backs that succeed: failing ones end the sequence.
		switch sel {
		case selF0, selF0B, selNull, selF1, selDirect:
		default:
			sel = [4]int{selF0, selF0B, selNull, selDirect}[sel%4]
		}
	}
	if sel == selDirect && (h.align == 0 || h.w.shortLimit > 0) {
		sel = selF0 // no O_DIRECT here, or short transfers, which O_DIRECT refuses
	}
	fd := h.fds[sel]
	n := [8]int{0, 1, 7, r.size / 2, r.size - 1, r.size, r.size + 1, 3 * r.size}[a[3]%8]
	useExt := a[4]%4 == 2
	refill := a[4]%4 != 3
	if sel == selDirect {
		// Only what O_DIRECT accepts: aligned lengths, the request's own
		// (page-aligned) buffer; longer than the buffer fails with EINVAL
		// before any system call.
		n = [8]int{0, h.align, 2 * h.align, r.size &^ (h.align - 1), r.size + h.align, 3 * h.align, pageSize, 2 * pageSize}[a[3]%8]
		if n <= r.size && n%h.align != 0 {
			n = 0
		}
		useExt = false
	}
	if op == OpWriteBack && !useExt && n > r.size && a[3]&0xf0 != 0xf0 {
		n = r.size // mostly not the misuse of a write-back longer than its buffer
		if sel == selDirect {
			n &^= h.align - 1
		}
	}
	if !h.freeObject(h.w.object(fd), q) {
		return
	}
	eff := n // bytes the syscall is asked for
	if !useExt && n > r.size {
		eff = 0
	}
	eff = h.w.limit(eff)
	switch {
	case op == OpRead && h.w.wouldBlock(fd, eff):
		h.logf("(skip: read of %d bytes from the empty pipe would block)", n)
		return
	case op != OpRead && h.w.fds[fd] != nil && h.w.fds[fd].kind == descPipeWrite && len(h.pipe.buf)+eff > pipeCap:
		h.logf("(skip: write of %d bytes would fill the pipe)", n)
		return
	}
	hd := h.hdr[r]
	r.op, r.fd, r.n = op, fd, n
	r.ext = nil
	delete(h.ext, r)
	if useExt {
		mem := make([]byte, max(n, 1)+int(a[4]>>4))
		for i := range mem {
			mem[i] = byte(i) ^ 0x5a
		}
		r.ext = bytes.Clone(mem)
		h.ext[r] = mem
		hd.Buffer = unsafe.Pointer(&mem[0])
	} else {
		hd.Buffer = h.ownPtr[r]
	}
	if op != OpRead && refill {
		h.fill++
		b := r.buf()
		for i := 0; i < min(n, len(b)); i++ {
			b[i] = h.fill + byte(i*13) + byte(i>>7)
		}
		if useExt {
			copy(h.ext[r], r.ext)
		} else {
			copy(buffer(hd, r.size), r.own)
		}
	}
	if op == OpWriteBack && h.m.wouldFail(r) && fuzzEngines.leaked.Load() > leakBudget {
		h.logf("(leak budget spent: the failing write-back becomes a write)")
		op, r.op = OpWrite, OpWrite
	}
	if op == OpWriteBack && q.maxWritebacks > 0 && q.runningWB >= q.maxWritebacks && h.m.mayRunInParallel(q) {
		// At the limit the engine reaps whichever write-back is done first
		// (not the oldest request, as the original and the model do), which
		// is only the same thing when the queue's requests run one after the
		// other. TestWritebackLimitReapsInOrder shows the difference.
		h.logf("(q%d: requests may run in parallel: sync before a write-back at the limit)", slot)
		if !h.sync(slot) {
			return
		}
	}
	hd.Op, hd.Fd, hd.Len = op, int32(fd), uint32(n)
	h.logf("q%d: submit r%d %v fd %d (%s) len %d%s", slot, r.id, op, fd, selName(sel), n, map[bool]string{true: " (caller's buffer)", false: ""}[useExt])
	want := h.m.submit(r)
	got := fatalOf(func() { h.e.Submit(hd) })
	if !h.sameFatal("asio_submit", want, got) {
		return
	}
	if hd.Submitted != 1 {
		h.failf("after asio_submit: submitted %d, want 1", hd.Submitted)
	}
	if op != OpWriteBack {
		h.logf("  model: status %d errno %d", r.status, int(r.errno))
	}
}

func selName(sel int) string {
	return [selCount]string{"file 0", "file 0 read-only", "file 1 with quota", "pipe read end", "pipe write end", "/dev/null", "file 0 again", "bad", "file 2 O_DIRECT"}[sel]
}

func (h *harness) wait(slot int) bool {
	q := h.m.queues[slot]
	want, wantErr := h.m.wait(q)
	var hd *RequestHeader
	got := fatalOf(func() { hd = h.e.Queue("asio_wait", h.pubs[slot]).Wait() })
	h.logf("q%d: wait", slot)
	if !h.sameFatal("asio_wait", wantErr, got) {
		return false
	}
	if want == nil {
		if hd != nil {
			h.failf("q%d: asio_wait returned %s; want NULL (nothing running, nothing finished)", slot, h.name(hd))
		}
		h.logf("  -> NULL")
		return true
	}
	if hd != h.hdr[want] {
		h.failf("q%d: asio_wait returned %s; want r%d (the oldest finished read or write)", slot, h.name(hd), want.id)
	}
	h.logf("  -> r%d status %d errno %d", want.id, hd.Status, hd.ReturnedErrno)
	wantBuf := h.ownPtr[want]
	if want.ext != nil {
		wantBuf = unsafe.Pointer(&h.ext[want][0])
	}
	if int(hd.Status) != want.status || syscall.Errno(hd.ReturnedErrno) != want.errno || hd.Submitted != 0 ||
		hd.Op != want.op || int(hd.Fd) != want.fd || int(hd.Len) != want.n || hd.Buffer != wantBuf || hd.Queue != h.pubs[slot] {
		h.failf("q%d: r%d (%v of %d bytes on fd %d) came back with status %d errno %d submitted %d (op %v fd %d len %d); want status %d errno %d submitted 0",
			slot, want.id, want.op, want.n, want.fd, hd.Status, hd.ReturnedErrno, hd.Submitted, hd.Op, hd.Fd, hd.Len, want.status, int(want.errno))
	}
	if want.tailUnspecified && want.status >= 0 {
		copy(want.buf()[want.status:want.n], unsafe.Slice((*byte)(hd.Buffer), want.n)[want.status:])
	}
	h.checkBuffer(want, "returned by asio_wait")
	return true
}

func (h *harness) name(hd *RequestHeader) string {
	if hd == nil {
		return "NULL"
	}
	if r, ok := h.req[hd]; ok {
		return fmt.Sprintf("r%d (%s)", r.id, r.state)
	}
	return fmt.Sprintf("unknown request %p", hd)
}

func (h *harness) put(r *mRequest) bool {
	h.logf("q%d: put r%d", r.q.slot, r.id)
	want := h.m.put(r)
	got := fatalOf(func() { h.e.Put(h.hdr[r]) })
	return h.sameFatal("asio_put", want, got)
}

func (h *harness) sync(slot int) bool {
	h.logf("q%d: sync", slot)
	want := h.m.sync(h.m.queues[slot])
	got := fatalOf(func() { h.e.Queue("asio_sync", h.pubs[slot]).Sync() })
	return h.sameFatal("asio_sync", want, got)
}

// cleanup cleans up slot's queue; drain first collects everything and puts
// every request back, each step checked.
func (h *harness) cleanup(slot int, drain bool) bool {
	q := h.m.queues[slot]
	if drain && q.live {
		if !h.sync(slot) {
			return false
		}
		for len(q.done) > 0 {
			if !h.wait(slot) {
				return false
			}
		}
		if !h.wait(slot) { // NULL now
			return false
		}
		for _, r := range q.requests(mHeld) {
			if !h.put(r) {
				return false
			}
		}
	}
	h.logf("q%d: cleanup", slot)
	reqs := q.all
	want := h.m.cleanup(q)
	got := fatalOf(func() { h.e.Queue("asio_cleanup_queue", h.pubs[slot]).Cleanup() })
	if !h.sameFatal("asio_cleanup_queue", want, got) {
		return false
	}
	// The requests' memory is gone: forget them.
	for _, r := range reqs {
		delete(h.req, h.hdr[r])
		delete(h.hdr, r)
		delete(h.ownPtr, r)
		delete(h.ext, r)
	}
	return true
}

func (h *harness) checkCounters() {
	h.t.Helper()
	for slot, q := range h.m.queues {
		if !q.live {
			continue
		}
		p := h.pubs[slot]
		if int(p.AllocatedRequests) != q.allocated || int(p.RunningRequests) != q.running || int(p.RunningWritebacks) != q.runningWB {
			h.failf("q%d: counters allocated %d running %d write-backs %d; the model has %d %d %d",
				slot, p.AllocatedRequests, p.RunningRequests, p.RunningWritebacks, q.allocated, q.running, q.runningWB)
		}
		if p.UseCount != q.useCount || int(p.BufferSize) != q.bufferSize || int(p.MaxWritebacks) != q.maxWritebacks {
			h.failf("q%d: the caller's fields changed: use_count %d buffer_size %d max_writebacks %d, want %d %d %d",
				slot, p.UseCount, p.BufferSize, p.MaxWritebacks, q.useCount, q.bufferSize, q.maxWritebacks)
		}
	}
}

// pipeOp is the driver's own use of the pipe: feed it, drain it, close an end.
func (h *harness) pipeOp(what, nb byte) {
	if !h.freeObject(objPipe, nil) {
		return
	}
	p := h.pipe
	switch what % 4 {
	case 0:
		n := feedTable[nb%8]
		if p.readerClosed || p.writerClosed || len(p.buf)+n > pipeCap {
			return
		}
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(len(p.buf)+i) ^ nb
		}
		h.logf("pipe: the driver writes %d bytes", n)
		if w, err := unix.Write(h.fds[selPipeW], data); w != n {
			h.failf("feeding the pipe: %d, %v", w, err)
		}
		p.buf = append(p.buf, data...)
	case 1:
		if p.readerClosed || len(p.buf) == 0 {
			return
		}
		h.logf("pipe: the driver reads the %d bytes in it", len(p.buf))
		got := make([]byte, len(p.buf))
		for done := 0; done < len(got); {
			n, err := unix.Read(h.fds[selPipeR], got[done:])
			if n <= 0 {
				h.failf("draining the pipe: %d, %v", n, err)
			}
			done += n
		}
		if !bytes.Equal(got, p.buf) {
			h.failf("the pipe held different bytes than the model's (first difference at %d)", firstDiff(got, p.buf))
		}
		p.buf = nil
	case 2, 3:
		sel := selPipeR
		if what%4 == 3 {
			sel = selPipeW
		}
		d := h.w.fds[h.fds[sel]]
		if d.kind == descNull {
			return
		}
		// Close the end, keeping the descriptor number taken: it becomes /dev/null.
		h.logf("pipe: the driver closes the %s (fd %d becomes /dev/null)", selName(sel), h.fds[sel])
		if sel == selPipeR {
			h.checkPipeContents()
			p.readerClosed = true
		} else {
			p.writerClosed = true
		}
		if err := unix.Dup3(h.fds[selNull], h.fds[sel], unix.O_CLOEXEC); err != nil {
			h.failf("dup3: %v", err)
		}
		h.w.fds[h.fds[sel]] = &mDesc{kind: descNull, canRead: true, canWrite: true, quota: -1}
	}
}

// seekOp is the driver's lseek(2) or ftruncate(2) on one of the files.
func (h *harness) seekOp(fb, pb byte) {
	sel := int(fb&0x7f) % selCount
	if sel != selF0RO && sel != selF1 && sel != selF0B && !(sel == selDirect && h.align > 0) {
		sel = selF0
	}
	fd := h.fds[sel]
	d := h.w.fds[fd]
	if !h.freeObject(d.obj, nil) {
		return
	}
	pos := posTable[pb%8]
	switch pos {
	case -1:
		pos = len(d.file.data)
	case -2:
		pos = len(d.file.data) + 10
	}
	if sel == selDirect {
		pos &^= h.align - 1 // O_DIRECT needs aligned positions and file sizes
	}
	if fb&0x80 != 0 && d.canWrite {
		h.logf("ftruncate(%s, %d)", selName(sel), pos)
		if err := unix.Ftruncate(fd, int64(pos)); err != nil {
			h.failf("ftruncate: %v", err)
		}
		if pos < len(d.file.data) {
			d.file.data = d.file.data[:pos]
		} else {
			d.file.data = append(d.file.data, make([]byte, pos-len(d.file.data))...)
		}
		return
	}
	h.logf("lseek(%s, %d)", selName(sel), pos)
	if got, err := unix.Seek(fd, int64(pos), 0); err != nil || got != int64(pos) {
		h.failf("lseek: %d, %v", got, err)
	}
	d.pos = pos
}

// misuseOp makes one of the caller's mistakes.
func (h *harness) misuseOp(kind, sb, rb byte) {
	slot := slotOf(sb)
	q := h.m.queues[slot]
	pick := func(states ...mState) *mRequest {
		var rs []*mRequest
		for _, s := range states {
			rs = append(rs, q.requests(s)...)
		}
		if len(rs) == 0 {
			return nil
		}
		return rs[int(rb)%len(rs)]
	}
	switch kind % 8 {
	case 0, 1: // submit with op ASIO_FREE or an unknown op
		if !q.live {
			return
		}
		r := h.held(slot, rb)
		if r == nil {
			return
		}
		op := OpFree
		if kind%8 == 1 {
			op = Op(7 + int(rb%5))
		}
		h.logf("q%d: submit r%d with op %d (misuse)", slot, r.id, op)
		r.op, r.fd, r.n, r.ext = op, h.fds[selNull], 1, nil
		hd := h.hdr[r]
		hd.Op, hd.Fd, hd.Len, hd.Buffer = op, int32(r.fd), 1, h.ownPtr[r]
		delete(h.ext, r)
		want := h.m.submit(r)
		h.sameFatal("asio_submit", want, fatalOf(func() { h.e.Submit(hd) }))
	case 2: // submit a submitted request again
		if r := pick(mRunning, mDone); r != nil && r.op != OpWriteBack {
			h.logf("q%d: submit r%d again (misuse)", slot, r.id)
			h.sameFatal("asio_submit", h.m.submit(r), fatalOf(func() { h.e.Submit(h.hdr[r]) }))
		}
	case 3: // submit a recycled request
		if r := pick(mIdle); r != nil {
			h.logf("q%d: submit idle r%d (misuse)", slot, r.id)
			h.sameFatal("asio_submit", h.m.submit(r), fatalOf(func() { h.e.Submit(h.hdr[r]) }))
		}
	case 4: // put a submitted read or write
		if r := pick(mRunning, mDone); r != nil && r.op != OpWriteBack {
			h.logf("q%d: put submitted r%d (misuse)", slot, r.id)
			h.put(r)
		}
	case 5: // put a recycled request
		if r := pick(mIdle); r != nil {
			h.logf("q%d: put idle r%d (misuse)", slot, r.id)
			h.put(r)
		}
	case 6: // init with buffer_size 0
		if !q.live {
			h.init(slot, 0, 1)
		}
	case 7: // NULL request
		if rb&1 == 0 {
			h.logf("submit NULL (misuse)")
			h.sameFatal("asio_submit", h.m.submit(nil), fatalOf(func() { h.e.Submit(nil) }))
		} else {
			h.logf("put NULL (misuse)")
			h.sameFatal("asio_put", h.m.put(nil), fatalOf(func() { h.e.Put(nil) }))
		}
	}
}

// teardown drains and frees every queue after the sequence, also one that
// a fatal error ended (where the process would have died): nothing is
// checked any more, but every request must have finished before the
// descriptors are closed, and memory must be freed for the next input.
func (h *harness) teardown() {
	for slot, q := range h.m.queues {
		pub := h.pubs[slot]
		if pub.Magic != QueueMagic {
			continue
		}
		var eq *Queue
		if fatalOf(func() { eq = h.e.Queue("teardown", pub) }) != nil {
			continue
		}
		for pub.RunningRequests > 0 {
			fatalOf(eq.Sync)
		}
		for {
			var hd *RequestHeader
			fatalOf(func() { hd = eq.Wait() })
			if hd == nil {
				break
			}
			fatalOf(func() { h.e.Put(hd) })
		}
		for _, r := range q.all {
			if r.state == mHeld {
				fatalOf(func() { h.e.Put(h.hdr[r]) })
			}
		}
		if pub.AllocatedRequests > 0 {
			// Write-backs that failed: the engine ended the process (Fatal)
			// while collecting them, so they can never be recycled. Forget
			// them (the only use of the engine's internals here).
			for _, r := range q.all {
				if r.op == OpWriteBack && r.state == mRunning {
					fuzzEngines.leaked.Add(int64(pageSize + (r.size+pageSize-1)&^(pageSize-1)))
				}
			}
			eq.running, eq.runningWB, eq.allocated = 0, 0, 0
		}
		if err := fatalOf(eq.Cleanup); err != nil {
			h.failf("teardown: cleanup of q%d failed: %v", slot, err)
		}
	}
	if h.ex != nil {
		for h.ex.runAll() > 0 {
		}
	}
}

// checkWorld compares the files, the descriptors' positions and the pipe
// with the model, once every request has finished.
func (h *harness) checkWorld() {
	h.t.Helper()
	for i, path := range h.files {
		sel := [3]int{selF0, selF1, selDirect}[i]
		if h.fds[sel] < 0 {
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			h.failf("%v", err)
		}
		want := h.w.fds[h.fds[sel]].file.data
		if !bytes.Equal(got, want) {
			h.failf("file %d holds %d bytes, the model %d; first difference at byte %d", i, len(got), len(want), firstDiff(got, want))
		}
	}
	for _, sel := range []int{selF0, selF0RO, selF1, selF0B, selDirect} {
		fd := h.fds[sel]
		if fd < 0 {
			continue
		}
		pos, err := unix.Seek(fd, 0, 1)
		if err != nil || int(pos) != h.w.fds[fd].pos {
			h.failf("the position of %s is %d (%v), the model's %d", selName(sel), pos, err, h.w.fds[fd].pos)
		}
	}
	if !h.pipe.readerClosed {
		h.checkPipeContents()
	}
}

// checkPipeContents reads what is in the pipe without blocking and compares
// it with the model; the pipe is empty afterwards.
func (h *harness) checkPipeContents() {
	fd := h.fds[selPipeR]
	if err := unix.SetNonblock(fd, true); err != nil {
		h.failf("%v", err)
	}
	defer unix.SetNonblock(fd, false)
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 {
			if err != nil && err != syscall.EAGAIN {
				h.failf("reading the pipe: %v", err)
			}
			break
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, h.pipe.buf) {
		h.failf("the pipe holds %d bytes, the model %d; first difference at byte %d", len(got), len(h.pipe.buf), firstDiff(got, h.pipe.buf))
	}
	h.pipe.buf = nil
}

// A scenario is a hand-written operation sequence: a seed of the fuzz
// corpus, and a test of how it ends.
type scenario struct {
	name   string
	header [6]byte
	ops    [][]byte
	want   string // how it ends ("" for random programs: not checked)
	random int64  // non-zero: the operations are this many random bytes
}

func (s scenario) program() []byte {
	p := append([]byte{}, s.header[:]...)
	if s.random != 0 {
		rnd := rand.New(rand.NewSource(s.random))
		b := make([]byte, 400)
		rnd.Read(b)
		return append(p, b...)
	}
	for _, op := range s.ops {
		p = append(p, op...)
	}
	return p
}

// Builders for scenario operations.
func oGet(slot byte) []byte        { return []byte{cGet, slot} }
func oWait(slot byte) []byte       { return []byte{cWait, slot} }
func oSync(slot byte) []byte       { return []byte{cSync, slot} }
func oPut(slot, req byte) []byte   { return []byte{cPut, slot, req} }
func oCleanup(slot byte) []byte    { return []byte{cCleanup, slot} }
func oRawCleanup(slot byte) []byte { return []byte{cCleanup, slot | 0xf0} }
func oBg() []byte                  { return []byte{cBg} }

// oIO submits: op is cRead, cWrite or cWB; length index into {0, 1, 7,
// size/2, size-1, size, size+1, 3*size}; buf 2 = the caller's memory.
func oIO(op, slot, req, fd, length, buf byte) []byte {
	return []byte{byte(op), slot, req, fd, length, buf}
}
func oInit(slot, bs, maxWB byte) []byte   { return []byte{cInit, slot, bs, maxWB} }
func oSetMax(slot, v byte) []byte         { return []byte{cSetMax, slot, v} }
func oSetBS(slot, v byte) []byte          { return []byte{cSetBS, slot, v} }
func oFeed(n byte) []byte                 { return []byte{cPipe, 0, n} }
func oDrain() []byte                      { return []byte{cPipe, 1, 0} }
func oCloseReader() []byte                { return []byte{cPipe, 2, 0} }
func oCloseWriter() []byte                { return []byte{cPipe, 3, 0} }
func oSeek(fd, pos byte) []byte           { return []byte{cSeek, fd, pos} }
func oTruncate(fd, pos byte) []byte       { return []byte{cSeek, fd | 0x80, pos} }
func oMisuse(kind, slot, req byte) []byte { return []byte{cMisuse, kind | 0xe0, slot, req} }
func oUse(slot, req, v byte) []byte       { return []byte{cUse, slot, req, v} }

func repeat(n int, ops ...[]byte) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, ops...)
	}
	return out
}

func seq(parts ...[][]byte) [][]byte {
	var out [][]byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ops(o ...[]byte) [][]byte { return o }

// Header bytes: executor (0 pool, 1 manual), short index, EINTR index,
// quota index, buffer size index of queue 0, max_writebacks-1 of queue 0.
var modelScenarios = []scenario{
	{name: "readahead", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "ok", ops: seq(
		ops(oIO(cRead, 0, 0, selF0, 5, 0), oIO(cRead, 0, 1, selF0, 5, 0)),
		repeat(12, oWait(0), oPut(0, 0), oIO(cRead, 0, 0, selF0, 5, 0)))},
	{name: "write-read-back", header: [6]byte{1, 0, 0, 0, 3, 1}, want: "ok", ops: seq(
		repeat(6, oIO(cWrite, 0, 0, selF0, 5, 0), oWait(0), oPut(0, 0)),
		ops(oSeek(selF0, 0)),
		repeat(6, oIO(cRead, 0, 0, selF0, 5, 0), oBg(), oWait(0), oPut(0, 0)))},
	{name: "writeback-bound", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "ok", ops: seq(
		repeat(10, oIO(cWB, 0, 0, selF0, 5, 0)),
		ops(oSync(0), oSetMax(0, 1)),
		repeat(5, oIO(cRead, 0, 0, selF0, 3, 0), oIO(cWB, 0, 0, selF0B, 5, 0)),
		repeat(6, oWait(0)))},
	{name: "writeback-reaped-by-submit", header: [6]byte{1, 0, 0, 0, 2, 0}, want: "ok", ops: seq(
		ops(oIO(cRead, 0, 0, selF0, 5, 0)),
		repeat(4, oIO(cWB, 0, 0, selNull, 5, 0)),
		ops(oWait(0), oPut(0, 0), oWait(0)))},
	{name: "writeback-ebadf", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "write-back failed", ops: ops(
		oIO(cWB, 0, 0, selF0, 5, 0), oIO(cWB, 0, 0, 0xe0|selF0RO, 5, 0), oIO(cWB, 0, 0, selF0, 5, 0), oSync(0))},
	{name: "writeback-short", header: [6]byte{1, 2, 0, 0, 3, 1}, want: "write-back failed", ops: ops(
		oIO(cWB, 0, 0, selF0, 2, 0), oIO(cWB, 0, 0, selF0, 5, 0), oBg(), oWait(0))},
	{name: "writeback-epipe", header: [6]byte{0, 0, 0, 0, 3, 3}, want: "write-back failed", ops: ops(
		oIO(cWB, 0, 0, 0xe0|selPipeW, 5, 0), oCloseReader(), oIO(cWB, 0, 0, 0xe0|selPipeW, 5, 0), oSync(0))},
	{name: "disk-full", header: [6]byte{0, 0, 0, 3, 4, 1}, want: "ok", ops: seq(
		repeat(3, oIO(cWrite, 0, 0, selF1, 5, 0), oWait(0), oPut(0, 0)),
		ops(oSeek(selF1, 0)),
		repeat(3, oIO(cRead, 0, 0, selF1, 5, 0), oWait(0), oPut(0, 0)))},
	{name: "disk-full-writeback", header: [6]byte{1, 0, 0, 2, 3, 3}, want: "write-back failed", ops: ops(
		oIO(cWB, 0, 0, selF1, 2, 0), oIO(cWB, 0, 0, selF1, 5, 0), oIO(cWB, 0, 0, selF1, 5, 0), oSync(0))},
	{name: "eof-mid-request", header: [6]byte{0, 0, 0, 0, 6, 1}, want: "ok", ops: ops(
		oSeek(selF0RO, 3), oIO(cRead, 0, 0, selF0RO, 5, 0), oIO(cRead, 0, 1, selF0RO, 5, 0), oWait(0), oWait(0),
		oTruncate(selF0, 2), oSeek(selF0B, 1), oIO(cRead, 0, 0, selF0B, 5, 0), oWait(0))},
	{name: "short-transfers", header: [6]byte{0, 2, 1, 0, 4, 2}, want: "ok", ops: seq(
		repeat(4, oIO(cWrite, 0, 0, selF0, 5, 0), oIO(cRead, 0, 1, selF0B, 5, 0)),
		repeat(8, oWait(0)))},
	{name: "pipe-stream", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "ok", ops: seq(
		ops(oFeed(3), oIO(cRead, 0, 0, selPipeR, 5, 0), oWait(0), oPut(0, 0)),
		repeat(3, oIO(cWrite, 0, 0, selPipeW, 5, 0), oIO(cRead, 0, 1, selPipeR, 3, 0), oIO(cRead, 0, 2, selPipeR, 5, 0)),
		repeat(6, oWait(0)),
		ops(oFeed(4), oDrain(), oFeed(2), oCloseWriter(), oIO(cRead, 0, 0, selPipeR, 5, 0), oIO(cRead, 0, 1, selPipeR, 5, 0), oWait(0), oWait(0)))},
	{name: "pipe-epipe", header: [6]byte{1, 0, 0, 0, 3, 1}, want: "ok", ops: ops(
		oIO(cWrite, 0, 0, selPipeW, 5, 0), oCloseReader(), oIO(cWrite, 0, 1, selPipeW, 5, 0), oIO(cRead, 0, 2, selPipeW, 5, 0),
		oWait(0), oWait(0), oWait(0))},
	{name: "errors", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "ok", ops: ops(
		oIO(cWrite, 0, 0, selF0RO, 5, 0), oIO(cRead, 0, 1, selBad, 5, 0), oIO(cRead, 0, 2, selF0, 6, 0), oIO(cWrite, 0, 3, selF0, 7, 0),
		oIO(cRead, 0, 4, selPipeW, 1, 0), oWait(0), oWait(0), oWait(0), oWait(0), oWait(0))},
	{name: "callers-buffer", header: [6]byte{1, 0, 0, 0, 3, 1}, want: "ok", ops: ops(
		oIO(cWrite, 0, 0, selF0, 7, 0x12), oIO(cRead, 0, 1, selF0B, 6, 0x22), oBg(), oWait(0), oWait(0), oPut(0, 0), oGet(0),
		oIO(cWB, 0, 0, selF0, 6, 2), oSync(0))},
	{name: "recycling", header: [6]byte{0, 0, 0, 0, 0, 0}, want: "ok", ops: seq(
		ops(oGet(0), oGet(0), oGet(0), oUse(0, 1, 9), oPut(0, 1), oGet(0), oUse(0, 0, 200)),
		repeat(3, oPut(0, 0)),
		ops(oSetBS(0, 4), oGet(0), oGet(0), oGet(0), oGet(0), oIO(cRead, 0, 3, selF0, 5, 0), oIO(cRead, 0, 0, selF0, 5, 0), oWait(0), oWait(0)))},
	{name: "three-queues", header: [6]byte{0, 0, 2, 0, 3, 1}, want: "ok", ops: seq(
		ops(oInit(1, 4, 1), oInit(2, 2, 3)),
		repeat(3, oIO(cWB, 0, 0, selF0, 5, 0), oIO(cRead, 1, 0, selF0, 5, 0), oIO(cWrite, 2, 0, selF1, 5, 0), oIO(cRead, 2, 1, selF0B, 3, 0)),
		ops(oWait(1), oWait(2), oCleanup(1), oInit(1, 1, 1), oIO(cRead, 1, 0, selF0, 5, 0)))},
	{name: "manual-background", header: [6]byte{1, 0, 3, 0, 3, 2}, want: "ok", ops: seq(
		repeat(4, oIO(cWrite, 0, 0, selF0, 5, 0), oIO(cWB, 0, 0, selF0, 5, 0), oBg(), oIO(cRead, 0, 1, selF0B, 5, 0)),
		repeat(2, oBg(), oWait(0), oPut(0, 0), oWait(0)))},
	{name: "direct-writeback-chain", header: [6]byte{0, 0, 0, 0, 4, 3}, want: "ok", ops: seq(
		ops(oSeek(selDirect, 3)),
		repeat(8, oIO(cWB, 0, 0, selDirect, 6, 0), oIO(cRead, 0, 1, selF0, 2, 0)),
		ops(oIO(cWrite, 0, 2, selDirect, 1, 0), oIO(cWB, 0, 0, selDirect, 5, 0), oSeek(selDirect, 0)),
		repeat(6, oIO(cRead, 0, 0, selDirect, 6, 0), oIO(cRead, 0, 1, selF1, 5, 0)),
		repeat(14, oWait(0), oPut(0, 0)))},
	{name: "direct-manual", header: [6]byte{1, 0, 2, 0, 6, 2}, want: "ok", ops: seq(
		repeat(5, oIO(cWB, 0, 0, selDirect, 7, 0), oIO(cWrite, 0, 1, selF0B, 5, 0), oBg()),
		ops(oTruncate(selDirect, 4), oIO(cRead, 0, 2, selDirect, 5, 0), oIO(cRead, 0, 2, selDirect, 1, 0), oBg()),
		repeat(4, oWait(0)))},
	{name: "misuse-submit-free", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_submit", ops: ops(oGet(0), oMisuse(0, 0, 0))},
	{name: "misuse-unknown-op", header: [6]byte{1, 0, 0, 0, 3, 1}, want: "misuse asio_submit", ops: ops(oMisuse(1, 0, 0))},
	{name: "misuse-submit-twice", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_submit", ops: ops(
		oIO(cRead, 0, 0, selF0, 5, 0), oSync(0), oMisuse(2, 0, 0))},
	{name: "misuse-submit-idle", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_submit", ops: ops(oGet(0), oPut(0, 0), oMisuse(3, 0, 0))},
	{name: "misuse-put-running", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_put", ops: ops(oIO(cRead, 0, 0, selF0, 5, 0), oMisuse(4, 0, 0))},
	{name: "misuse-put-twice", header: [6]byte{1, 0, 0, 0, 3, 1}, want: "misuse asio_put", ops: ops(oGet(0), oPut(0, 0), oMisuse(5, 0, 0))},
	{name: "misuse-init-zero", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_init_queue", ops: ops(oMisuse(6, 1, 0))},
	{name: "misuse-null", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_put", ops: ops(oMisuse(7, 0, 1))},
	{name: "misuse-max-zero", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_submit", ops: ops(oSetMax(0, 0), oIO(cWB, 0, 0, selF0, 5, 0))},
	{name: "misuse-writeback-too-long", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_submit", ops: ops(oIO(cWB, 0, 0, selF0, 0xf6, 0))},
	{name: "misuse-cleanup-busy", header: [6]byte{1, 0, 0, 0, 3, 1}, want: "misuse asio_cleanup_queue", ops: ops(oIO(cRead, 0, 0, selF0, 5, 0), oRawCleanup(0))},
	{name: "misuse-get-zero-size", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_get", ops: ops(oGet(0), oSetBS(0, 0), oGet(0))},
	{name: "misuse-wait-after-cleanup", header: [6]byte{0, 0, 0, 0, 3, 1}, want: "misuse asio_wait", ops: ops(oCleanup(0), oWait(0xf0))},
	{name: "random-1", header: [6]byte{0, 0, 0, 0, 3, 1}, random: 1},
	{name: "random-2", header: [6]byte{1, 1, 1, 1, 4, 2}, random: 2},
	{name: "random-3", header: [6]byte{0, 2, 2, 2, 5, 3}, random: 3},
	{name: "random-4", header: [6]byte{1, 3, 3, 3, 6, 0}, random: 4},
	{name: "random-5", header: [6]byte{0, 0, 1, 2, 1, 1}, random: 5},
	{name: "random-6", header: [6]byte{1, 2, 0, 3, 2, 2}, random: 6},
}
