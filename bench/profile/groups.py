#!/usr/bin/env python3
"""Sums a perf profile per function group of ucw-asio's request path.

Usage:
  perf record -e cpu-clock -F 10000 -g -o DATA -- COMMAND
  perf script -i DATA -F comm,tid,time,ip,sym,dso | bench/profile/groups.py [--top N] [--stop-at REGEX]

Each sample is counted once, by its innermost frame:
  kernel: <syscall>  kernel code under a system call (found in the call chain):
                     read = read/readv/preadv2, write = write/pwrite64, io_uring_enter,
                     futex = Go threads parking and waking each other, other
  kernel: io_uring workers  io-wq threads (iou-wrk-*) doing what the ring could not do inline
  kernel: no syscall interrupts, softirqs, io-wq workers, the scheduler outside a system call
  libc read/write    the kernel under the program's own read(2)s and write(2)s through libc:
                     for bench-ucw, bench-floor and bench-uring setting up (caching the file)
                     and verifying; for bench-plain, the work itself
  crossings          C-to-Go and back: cgo's export wrappers, crosscall2, cgocallback(g|g1),
                     exitsyscall/reentersyscall, lockOSThread, cgocheck's result checks, and
                     chanrecv/lock2/unlock2 (the main_init_done receive of every C-to-Go call)
  Go syscall         the runtime's system-call entry (Syscall6, RawSyscall6, x/sys/unix wrappers)
  go-pointer         github.com/mattn/go-pointer and the sync.RWMutex it takes
  sync.Map           sync.Map and the hash trie under it
  engine             github.com/ucw-asio/ucw-asio/... (and the floor's goasio_* bodies), sync.Mutex
  runtime (other)    everything else in the Go runtime
  stub               libucw-asio.so.1 (the public C library)
  program            the bench program, libc, the dynamic loader
--stop-at REGEX: stop at the first sample whose innermost function matches (e.g. the
verification that follows a timed copy).
"""
import re
import sys
import collections

USER_GROUPS = [
    ("crossings", r"crosscall2|cgocallback|_cgoexp_|exitsyscall|reentersyscall|entersyscall|lockOSThread|"
     r"unlockOSThread|unwindm|runtime\.(save|load)_g|chanrecv|runtime\.lock2|runtime\.unlock2|"
     r"osPreemptExt|callbackUpdateSystemStack|^goasio_|asmcgocall|_cgo_|x_cgo_|cgoBindM|needm|setg|"
     r"cgoCheck|cgoIsGoPointer|inHeapOrStack|runtime\.save$|setBlockOnExitSyscall"),
    ("Go syscall", r"Syscall|^syscall\.|unix\.(Read|Write|Pwrite|read|write|pread|pwrite|Fstat|fstat|Seek|fcntl|FcntlInt)"),
    ("go-pointer", r"go-pointer|pointer\.(Restore|Save|Unref)|RWMutex|goPointer"),
    ("sync.Map", r"sync\.\(\*Map\)|HashTrieMap|nilinterhash|typehash|efaceeq|memhash"),
    ("engine", r"ucw-asio|^engine\.|^main\.goasio|^main\._Cfunc|sync\.\(\*Mutex\)|internal/sync\.\(\*Mutex\)|workqueue"),
    ("runtime (other)", r"^runtime|^internal/|^aeshash|^memeqbody|^gcWriteBarrier|^type:|^sync/atomic|^sync\."),
]
ORDER = ["libc read/write", "kernel: read", "kernel: write", "kernel: io_uring_enter", "kernel: futex", "kernel: other",
         "kernel: io_uring workers", "kernel: no syscall", "crossings", "Go syscall", "go-pointer", "sync.Map", "engine",
         "runtime (other)", "stub", "program"]
KERNEL_CALLS = [
    ("kernel: read", re.compile(r"ksys_read|ksys_pread64|do_preadv|vfs_readv|do_readv|sys_preadv2|sys_read$")),
    ("kernel: write", re.compile(r"ksys_write|ksys_pwrite64|do_pwritev|vfs_writev|do_writev|sys_pwrite64|sys_write$")),
    ("kernel: io_uring_enter", re.compile(r"io_uring_enter|io_submit_sqes|io_cqring_wait")),
    ("kernel: futex", re.compile(r"futex_wait|futex_wake|do_futex|sys_futex")),
]


def kernel_group(frames):
    """The group of a sample in the kernel, by the system call under which it ran."""
    user = next(((sym, dso) for sym, dso in frames if "kernel" not in dso), None)
    if user and user[1].startswith("libc.so") and user[0] in ("read", "write", "__libc_read", "__libc_write"):
        return "libc read/write"  # ucw-asio: setup and verification; plain: the work
    for name, rx in KERNEL_CALLS:
        if any(rx.search(sym) for sym, dso in frames if "kernel" in dso):
            return name
    if any(sym.startswith("entry_SYSCALL") for sym, dso in frames):
        return "kernel: other"
    return "kernel: no syscall"


def user_group(sym, dso):
    if dso.startswith("libucw-asio.so"):
        return "stub"
    for name, rx in USER_GROUPS:
        if re.search(rx, sym):
            return name
    if dso.endswith("-go.so.1"):
        return "runtime (other)"
    return "program"


def records(lines):
    frames, head = [], None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if head is not None:
                yield head, frames
            frames, head = [], None
        elif not line.startswith("\t") and not line.startswith(" " * 8):
            head = line
        else:
            m = re.match(r"\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
            if m:
                frames.append((m.group(1), m.group(2).rsplit("/", 1)[-1]))
    if head is not None:
        yield head, frames


def main():
    args = sys.argv[1:]
    top, stop = 0, None
    while args:
        if args[0] == "--top":
            top = int(args[1])
        elif args[0] == "--stop-at":
            stop = re.compile(args[1])
        else:
            sys.exit(__doc__)
        args = args[2:]
    tot = collections.Counter()
    syms = collections.defaultdict(collections.Counter)
    n = 0
    for head, frames in records(sys.stdin):
        if not frames:
            continue
        sym, dso = frames[0]
        if stop and stop.fullmatch(sym):
            break
        if head.startswith("iou-wrk") or head.startswith("iou-sqp"):
            g = "kernel: io_uring workers"  # io-wq threads of the process doing blocking I/O
        elif "kernel" in dso:
            g = kernel_group(frames)
        else:
            g = user_group(sym, dso)
        tot[g] += 1
        syms[g][sym] += 1
        n += 1
    print("%d samples" % n)
    for g in ORDER:
        if tot[g]:
            print("%-24s %6.1f%%" % (g, 100.0 * tot[g] / n))
            for s, c in syms[g].most_common(top):
                print("      %6.2f%%  %s" % (100.0 * c / n, s))


main()
