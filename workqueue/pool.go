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

	mu      sync.Mutex
	idle    []*worker // parked workers, most recently parked last
	workers int       // workers alive, parked or busy
	busy    int       // workers running a task
	holding int       // goroutines outside the pool holding a P in the kernel (see Holding)
	procs   int       // GOMAXPROCS as the pool last set it
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
// CPUs plus its busy workers, doubling it when it has to grow. It never
// lowers it. Call it before the first Run.
func (p *Pool) ManageProcs(max int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxProcs, p.cpus, p.procs = max, runtime.NumCPU(), runtime.GOMAXPROCS(0)
}

// Run starts task on a worker and returns at once. Run never blocks on
// other tasks.
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
// managed pool counts them with its busy workers and raises GOMAXPROCS; an
// unmanaged one (GOMAXPROCS chosen by the user) does not, and such a
// goroutine had better release its P.
func (p *Pool) Holding(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.maxProcs == 0 {
		return false
	}
	p.holding += n
	p.grow()
	return true
}

// grow raises GOMAXPROCS if the pool manages it and the busy workers and
// holding goroutines leave fewer Ps than CPUs free. Called with p.mu held,
// which it releases while GOMAXPROCS changes (the world stops then).
func (p *Pool) grow() {
	if p.maxProcs > 0 && p.cpus+p.busy+p.holding > p.procs && p.procs < p.maxProcs {
		p.procs = min(p.maxProcs, 2*(p.cpus+p.busy+p.holding))
		procs := p.procs
		p.mu.Unlock()
		runtime.GOMAXPROCS(procs)
		p.mu.Lock()
	}
}

// loop runs tasks until the worker finds the pool's idle list full.
func (p *Pool) loop(w *worker, task func()) {
	for {
		task()
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
