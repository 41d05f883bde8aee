package workqueue

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunRunsEveryTask(t *testing.T) {
	for _, maxIdle := range []int{0, 1, 4} {
		p := New(maxIdle)
		var wg sync.WaitGroup
		var n atomic.Int64
		const tasks = 10000
		wg.Add(tasks)
		for i := 0; i < tasks; i++ {
			p.Run(func() { n.Add(1); wg.Done() })
		}
		wg.Wait()
		if n.Load() != tasks {
			t.Errorf("maxIdle %d: %d tasks ran, want %d", maxIdle, n.Load(), tasks)
		}
		waitFor(t, func() bool { return p.Stats().Busy == 0 })
		limit := maxIdle
		if limit <= 0 {
			limit = DefaultMaxIdle
		}
		if s := p.Stats(); s.Idle > limit || s.Workers != s.Idle {
			t.Errorf("maxIdle %d: after all tasks: %+v", maxIdle, s)
		}
	}
}

// A task that blocks forever delays no other task, however many block.
func TestBlockedTasksDelayNoOthers(t *testing.T) {
	p := New(2)
	block := make(chan struct{})
	defer close(block)
	for i := 0; i < 50; i++ {
		p.Run(func() { <-block })
	}
	done := make(chan struct{})
	p.Run(func() { close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a task did not run while 50 others were blocked")
	}
	if s := p.Stats(); s.Busy < 50 || s.Workers < 50 {
		t.Errorf("stats with 50 blocked tasks: %+v", s)
	}
}

// Parked workers are reused rather than started anew.
func TestIdleWorkersAreReused(t *testing.T) {
	p := New(4)
	for i := 0; i < 100; i++ {
		done := make(chan struct{})
		p.Run(func() { close(done) })
		<-done
		waitFor(t, func() bool { return p.Stats().Busy == 0 })
	}
	if s := p.Stats(); s.Workers != 1 {
		t.Errorf("100 tasks one after another used %d workers, want 1", s.Workers)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A managed pool raises GOMAXPROCS so that workers blocked in system calls
// leave Ps for the rest, within its limit, and never lowers it.
func TestManagedProcsGrowWithBusyWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := New(4)
	const limit = 64
	p.ManageProcs(limit)
	block := make(chan struct{})
	var started sync.WaitGroup
	const blocked = 20
	started.Add(blocked)
	for i := 0; i < blocked; i++ {
		p.Run(func() { started.Done(); <-block })
	}
	started.Wait()
	if got := runtime.GOMAXPROCS(0); got < runtime.NumCPU()+blocked || got > limit {
		t.Errorf("GOMAXPROCS %d with %d workers blocked, want at least %d and at most %d", got, blocked, runtime.NumCPU()+blocked, limit)
	}
	if s := p.Stats(); s.Procs != runtime.GOMAXPROCS(0) {
		t.Errorf("Stats().Procs %d, GOMAXPROCS %d", s.Procs, runtime.GOMAXPROCS(0))
	}
	close(block)
	waitFor(t, func() bool { return p.Stats().Busy == 0 })
	before := runtime.GOMAXPROCS(0)
	block2 := make(chan struct{})
	defer close(block2)
	started.Add(200)
	for i := 0; i < 200; i++ {
		p.Run(func() { started.Done(); <-block2 })
	}
	started.Wait() // a worker raises GOMAXPROCS before its task runs
	if got := runtime.GOMAXPROCS(0); got != limit || got < before {
		t.Errorf("GOMAXPROCS %d with 200 workers blocked, want the limit %d", got, limit)
	}
}

// Goroutines that hold a P while they wait in the kernel count like busy
// workers: a managed pool makes room for them, an unmanaged one does not.
func TestHoldingGoroutinesGetPs(t *testing.T) {
	for _, managed := range []bool{true, false} {
		t.Run(fmt.Sprintf("managed=%v", managed), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			p := New(4)
			if managed {
				p.ManageProcs(64)
			}
			const holding = 6
			for i := 0; i < holding; i++ {
				if got := p.Holding(1); got != managed {
					t.Fatalf("Holding reported %v; want %v (whether the pool makes room)", got, managed)
				}
			}
			got := runtime.GOMAXPROCS(0)
			switch {
			case managed && got < runtime.NumCPU()+holding:
				t.Errorf("GOMAXPROCS %d with %d goroutines holding Ps, want at least %d", got, holding, runtime.NumCPU()+holding)
			case !managed && got != 1:
				t.Errorf("an unmanaged pool changed GOMAXPROCS to %d", got)
			}
			p.Holding(-holding)
			if runtime.GOMAXPROCS(0) != got {
				t.Errorf("GOMAXPROCS changed from %d to %d when the goroutines stopped holding; the pool never lowers it", got, runtime.GOMAXPROCS(0))
			}
		})
	}
}

func TestUnmanagedPoolLeavesProcsAlone(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := New(4)
	block := make(chan struct{})
	defer close(block)
	for i := 0; i < 10; i++ {
		p.Run(func() { <-block })
	}
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("an unmanaged pool changed GOMAXPROCS to %d", got)
	}
}

// A task's panic goes to OnPanic, in the task's goroutine, and the pool
// goes on running tasks.
func TestPanicGoesToOnPanic(t *testing.T) {
	p := New(2)
	got := make(chan any, 1)
	p.OnPanic(func(v any) { got <- v })
	p.Run(func() { panic("boom") })
	if v := <-got; v != "boom" {
		t.Errorf("OnPanic got %v, want boom", v)
	}
	done := make(chan struct{})
	p.Run(func() { close(done) })
	<-done
}
