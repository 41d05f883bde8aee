package workqueue

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CPUs returns how many CPUs the process has for Go code: the CPUs it may
// run on (runtime.NumCPU), lowered to the CPU quota of its cgroup (cgroup
// v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded up and at
// least 2, as the Go runtime computes its default GOMAXPROCS. The engine
// library switches the runtime's own computation off (it keeps the cgroup
// files open for the life of the process): this one opens each file only
// while it reads it.
func CPUs() int { return cpusWith(runtime.NumCPU(), readFile) }

// readFile reads a small file with plain system calls: os.ReadFile would
// start the runtime's network poller, two more descriptors for the life of
// the process.
func readFile(name string) ([]byte, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var b []byte
	buf := make([]byte, 4096)
	for len(b) < 1<<20 {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		b = append(b, buf[:n]...)
	}
	return b, nil
}

// cpusWith is CPUs with the CPU count and the file reader given, for tests.
func cpusWith(ncpu int, read func(name string) ([]byte, error)) int {
	quota, ok := cgroupQuota(read)
	if !ok {
		return ncpu
	}
	n := int(quota)
	if float64(n) < quota {
		n++
	}
	return min(ncpu, max(n, 2))
}

// cgroupQuota returns the CPU quota of the process's cgroup in CPUs, and
// whether there is one.
func cgroupQuota(read func(string) ([]byte, error)) (float64, bool) {
	cg, err := read("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	mounts, err := read("/proc/self/mountinfo")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(cg), "\n") {
		// hierarchy-ID:controllers:path; v2 is "0::path".
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		v2 := f[0] == "0" && f[1] == ""
		if !v2 && !hasWord(f[1], "cpu") {
			continue
		}
		dir, ok := cgroupDir(string(mounts), f[2], v2)
		if !ok {
			continue
		}
		if v2 {
			b, err := read(dir + "/cpu.max")
			if err != nil {
				continue
			}
			q := strings.Fields(string(b))
			if len(q) != 2 || q[0] == "max" {
				return 0, false
			}
			return ratio(q[0], q[1])
		}
		qb, err1 := read(dir + "/cpu.cfs_quota_us")
		pb, err2 := read(dir + "/cpu.cfs_period_us")
		if err1 != nil || err2 != nil {
			continue
		}
		return ratio(string(bytes.TrimSpace(qb)), string(bytes.TrimSpace(pb)))
	}
	return 0, false
}

// ratio returns quota/period, if both are positive numbers.
func ratio(quota, period string) (float64, bool) {
	q, err1 := strconv.ParseInt(quota, 10, 64)
	p, err2 := strconv.ParseInt(period, 10, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false // -1 (v1): no quota
	}
	return float64(q) / float64(p), true
}

// cgroupDir finds, in /proc/self/mountinfo, where the cgroup path of the
// hierarchy (v2, or v1's with the cpu controller) is mounted.
func cgroupDir(mountinfo, path string, v2 bool) (string, bool) {
	for _, line := range strings.Split(mountinfo, "\n") {
		// id parent major:minor root mount-point options [optional...] - fstype source super-options
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		switch {
		case v2 && qf[0] == "cgroup2":
		case !v2 && qf[0] == "cgroup" && hasWord(qf[2], "cpu"):
		default:
			continue
		}
		root, mnt := pf[3], pf[4]
		rel := path
		if root != "/" {
			if path != root && !strings.HasPrefix(path, root+"/") {
				continue // mounted from elsewhere in the hierarchy
			}
			rel = path[len(root):]
		}
		return strings.TrimSuffix(mnt, "/") + rel, true
	}
	return "", false
}

// hasWord tells whether the comma-separated list has w.
func hasWord(list, w string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == w {
			return true
		}
	}
	return false
}
