// Package workqueue is the executor the asio engine runs its queues on.
//
// A Pool runs tasks on worker goroutines. It never makes a task wait for a
// busy worker: a task goes to an idle worker if there is one, and to a new
// worker otherwise. So a task that blocks in a system call (a read from an
// empty pipe) delays no other task, and tasks of different callers run in
// parallel.
//
// Idle workers park until they get a task. At most MaxIdle of them are kept;
// a worker that finds that many already parked exits instead.
//
// A goroutine blocked in a system call keeps its P (the runtime's licence
// to run Go code) until the runtime's monitor takes it back, 20 µs to 10 ms
// later. With GOMAXPROCS equal to the number of CPUs, a few workers blocked
// in I/O therefore stall every other goroutine, and every C thread calling
// into Go. A Pool told to ManageProcs raises GOMAXPROCS as its busy workers
// grow, so that each of them can block holding a P while the CPUs' worth of
// Ps stays free for the rest.
package workqueue

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// DefaultMaxIdle is the number of parked workers a Pool keeps unless told
// otherwise: enough for a few busy queues, small enough to cost nothing.
const DefaultMaxIdle = 16

// Pool runs tasks on worker goroutines. The zero value is not usable; call
// New.
type Pool struct {
	maxIdle  int
	maxProcs int // 0: GOMAXPROCS is not managed
	cpus     int
	onPanic  func(v any) // see OnPanic

	applying sync.Mutex   // held while GOMAXPROCS changes (see raise)
	applied  atomic.Int32 // GOMAXPROCS as the pool last made it

	mu      sync.Mutex
	idle    []*worker // parked workers, most recently parked last
	workers int       // workers alive, parked or busy
	busy    int       // workers running a task
	holding int       // goroutines outside the pool holding a P in the kernel (see Holding)
	procs   int       // GOMAXPROCS as the pool wants it; raise makes it so
}

// worker is one goroutine of the pool. Its task channel has room for one
// task, so handing it a task never blocks the giver.
type worker struct {
	task chan func()
}

// New returns a Pool that keeps at most maxIdle parked workers
// (DefaultMaxIdle if maxIdle <= 0).
func New(maxIdle int) *Pool {
	if maxIdle <= 0 {
		maxIdle = DefaultMaxIdle
	}
	return &Pool{maxIdle: maxIdle}
}

// ManageProcs lets the pool raise GOMAXPROCS, up to max, to the number of
// CPUs (CPUs: the CPU quota respected) plus its busy workers, doubling it
// when it has to grow. It never lowers it. Call it before the first Run.
func (p *Pool) ManageProcs(max int) { p.ManageProcsFor(max, CPUs()) }

// ManageProcsFor is ManageProcs with the number of CPUs given.
func (p *Pool) ManageProcsFor(max, cpus int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxProcs, p.cpus, p.procs = max, cpus, runtime.GOMAXPROCS(0)
	p.applied.Store(int32(p.procs))
}

// OnPanic makes a panic of a task call f with the panic's value, in the
// task's goroutine, instead of ending the process with a goroutine dump.
// f should not return. Call it before the first Run.
func (p *Pool) OnPanic(f func(v any)) { p.onPanic = f }

// Run starts task on a worker and returns at once. Run never blocks on
// other tasks, and never changes GOMAXPROCS itself (which stops the world):
// a worker raises it, if needed, before it runs the task, so that a caller
// may call Run while it holds a lock.
func (p *Pool) Run(task func()) {
	p.mu.Lock()
	p.busy++
	p.grow()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.task <- task
		return
	}
	p.workers++
	p.mu.Unlock()
	w := &worker{task: make(chan func(), 1)}
	go p.loop(w, task)
}

// Holding tells the pool that n more goroutines outside it (fewer, if n is
// negative) would hold a P while they wait in the kernel: the asio engine's
// callers waiting for io_uring completions do, as a system call that does
// not block would. It reports whether the pool makes room for them: a
// managed pool counts them with its busy workers and raises GOMAXPROCS (at
// once, in the caller's goroutine), as long as its limit leaves a P for
// them; an unmanaged one (GOMAXPROCS chosen by the user) does not. A
// goroutine told false had better release its P. Every Holding(n) is to be
// matched by a Holding(-n), whatever it reported; Holding(0) only asks
// whether the goroutines counted so far have room.
func (p *Pool) Holding(n int) bool {
	p.mu.Lock()
	if p.maxProcs == 0 {
		p.mu.Unlock()
		return false
	}
	p.holding += n
	p.grow()
	room := p.cpus+p.busy+p.holding <= p.procs
	p.mu.Unlock()
	if n > 0 {
		p.raise()
	}
	return room
}

// grow sets the GOMAXPROCS the pool wants, if it manages it and the busy
// workers and holding goroutines leave fewer Ps than CPUs free. Called
// with p.mu held; raise makes it so.
func (p *Pool) grow() {
	if p.maxProcs > 0 && p.cpus+p.busy+p.holding > p.procs && p.procs < p.maxProcs {
		p.procs = min(p.maxProcs, 2*(p.cpus+p.busy+p.holding))
	}
}

// raise sets GOMAXPROCS to what the pool wants, if it is more than what
// it set last. Called without locks: it stops the world.
func (p *Pool) raise() {
	p.mu.Lock()
	want, managed := p.procs, p.maxProcs > 0
	p.mu.Unlock()
	if !managed || int32(want) <= p.applied.Load() {
		return
	}
	p.applying.Lock()
	defer p.applying.Unlock()
	p.mu.Lock()
	want = p.procs
	p.mu.Unlock()
	if int32(want) > p.applied.Load() {
		runtime.GOMAXPROCS(want)
		p.applied.Store(int32(want))
	}
}

// run runs one task, and hands a panic of it to onPanic.
func (p *Pool) run(task func()) {
	if p.onPanic != nil {
		defer func() {
			if v := recover(); v != nil {
				p.onPanic(v)
			}
		}()
	}
	task()
}

// loop runs tasks until the worker finds the pool's idle list full.
func (p *Pool) loop(w *worker, task func()) {
	for {
		p.raise()
		p.run(task)
		p.mu.Lock()
		p.busy--
		if len(p.idle) >= p.maxIdle {
			p.workers--
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		task = <-w.task
	}
}

// Stats describes a Pool at one moment.
type Stats struct {
	Workers int // goroutines alive, parked or busy
	Busy    int // workers given a task that has not returned yet
	Idle    int // parked workers
	Procs   int // GOMAXPROCS as the pool last set it (0 if not managed)
}

// Stats returns the pool's current figures.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Workers: p.workers, Busy: p.busy, Idle: len(p.idle)}
	if p.maxProcs > 0 {
		s.Procs = p.procs
	}
	return s
}
