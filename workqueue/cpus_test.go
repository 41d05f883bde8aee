package workqueue

import (
	"os"
	"runtime"
	"sync"
	"testing"
)

// The CPU count respects a cgroup CPU quota as the runtime's default
// GOMAXPROCS does: rounded up, at least 2, at most the CPUs.
func TestCPUsRespectTheQuota(t *testing.T) {
	const v1 = "4:memory:/x\n1:cpu,cpuacct:/box\n0::/\n"
	const v1Mounts = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	const v2 = "0::/box\n"
	const v2Mounts = "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
	const nested = "28 1 0:22 /box /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n" // the container sees its own cgroup as /
	tests := []struct {
		name  string
		ncpu  int
		files map[string]string
		want  int
	}{
		{"no cgroup", 8, nil, 8},
		{"v2 2 CPUs", 8, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": v2Mounts, "/sys/fs/cgroup/box/cpu.max": "200000 100000\n"}, 2},
		{"v2 1.5 CPUs", 8, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": v2Mounts, "/sys/fs/cgroup/box/cpu.max": "150000 100000\n"}, 2},
		{"v2 3.2 CPUs", 8, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": v2Mounts, "/sys/fs/cgroup/box/cpu.max": "320000 100000\n"}, 4},
		{"v2 0.5 CPU", 8, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": v2Mounts, "/sys/fs/cgroup/box/cpu.max": "50000 100000\n"}, 2},
		{"v2 no limit", 8, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": v2Mounts, "/sys/fs/cgroup/box/cpu.max": "max 100000\n"}, 8},
		{"v2 quota above the CPUs", 4, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": v2Mounts, "/sys/fs/cgroup/box/cpu.max": "1600000 100000\n"}, 4},
		{"v2 namespaced", 8, map[string]string{"/proc/self/cgroup": v2, "/proc/self/mountinfo": nested, "/sys/fs/cgroup/cpu.max": "300000 100000\n"}, 3},
		{"v1 3 CPUs", 16, map[string]string{"/proc/self/cgroup": v1, "/proc/self/mountinfo": v1Mounts,
			"/sys/fs/cgroup/cpu,cpuacct/box/cpu.cfs_quota_us": "300000\n", "/sys/fs/cgroup/cpu,cpuacct/box/cpu.cfs_period_us": "100000\n"}, 3},
		{"v1 no quota", 16, map[string]string{"/proc/self/cgroup": v1, "/proc/self/mountinfo": v1Mounts,
			"/sys/fs/cgroup/cpu,cpuacct/box/cpu.cfs_quota_us": "-1\n", "/sys/fs/cgroup/cpu,cpuacct/box/cpu.cfs_period_us": "100000\n"}, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := func(name string) ([]byte, error) {
				if s, ok := tt.files[name]; ok {
					return []byte(s), nil
				}
				return nil, os.ErrNotExist
			}
			if got := cpusWith(tt.ncpu, read); got != tt.want {
				t.Errorf("got %d CPUs, want %d", got, tt.want)
			}
		})
	}
}

// With a quota of 2 CPUs, a busy worker raises GOMAXPROCS from the quota,
// not from the machine's CPUs.
func TestManagedProcsFollowTheQuota(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	p := New(4)
	p.ManageProcsFor(64, 2)
	block := make(chan struct{})
	defer close(block)
	var started sync.WaitGroup
	started.Add(1)
	p.Run(func() { started.Done(); <-block })
	started.Wait()
	if got := runtime.GOMAXPROCS(0); got < 3 || got > 6 {
		t.Errorf("GOMAXPROCS %d with 1 worker blocked and 2 CPUs; want 3 to 6", got)
	}
}

// Run never changes GOMAXPROCS itself (it may be called under a lock): the
// worker does, before its task.
func TestRunLeavesProcsToTheWorker(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := New(4)
	p.ManageProcsFor(64, 1)
	done := make(chan int)
	p.Run(func() { done <- runtime.GOMAXPROCS(0) })
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS %d when Run returned; want 1 (unchanged until the worker runs)", got)
	}
	if got := <-done; got < 2 {
		t.Errorf("GOMAXPROCS %d when the task ran; want it raised for the busy worker", got)
	}
}

// At the limit, Holding reports that the pool has no P to give.
func TestHoldingAtTheLimitIsRefused(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := New(4)
	p.ManageProcsFor(4, 2)
	if !p.Holding(1) || !p.Holding(1) {
		t.Fatal("Holding refused below the limit")
	}
	if p.Holding(1) {
		t.Error("Holding reported room for a 5th P with a limit of 4")
	}
	p.Holding(-3)
	if !p.Holding(1) {
		t.Error("Holding refused after the others stopped holding")
	}
	p.Holding(-1)
}
