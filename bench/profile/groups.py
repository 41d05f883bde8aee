#!/usr/bin/env python3
"""Sums a perf profile's self time per function group of ucw-asio's hot path.

Usage: perf report -i perf.data --no-children --sort dso,sym --stdio -g none \\
         | bench/profile/groups.py [--top N]

Groups (the first match wins):
  kernel I/O       kernel symbols ([k]) under the read/write/io_uring system calls: all of [k]
  crossings        C-to-Go and back: cgo's export wrappers and crosscall2, cgocallback(g|g1),
                   exitsyscall/reentersyscall/entersyscall, lockOSThread, unwindm, save_g/load_g,
                   and chanrecv/lock2/unlock2 (main_init_done, taken on every call from a C thread)
  Go syscall       the runtime's system-call entry (Syscall6, RawSyscall6, x/sys/unix wrappers)
  runtime (other)  everything else in the Go runtime (runtime.*, internal/*)
  go-pointer       github.com/mattn/go-pointer and the sync.RWMutex it takes
  sync.Map         sync.Map and the hash trie under it
  engine           github.com/ucw-asio/ucw-asio/... and sync.Mutex
  stub             libucw-asio.so.1 (the public C library)
  program          the bench program and libc
"""
import re, sys, collections

GROUPS = [
    ("kernel I/O", lambda d, s, k: k),
    ("crossings", lambda d, s, k: re.search(r"crosscall2|cgocallback|_cgoexp_|_cgo_[0-9a-f]+_Cfunc|exitsyscall|reentersyscall|entersyscall|lockOSThread|unlockOSThread|unwindm|runtime\.(save|load)_g|chanrecv|runtime\.lock2|runtime\.unlock2|runtime\.lock$|runtime\.unlock$|osPreemptExt|callbackUpdateSystemStack|^goasio_|asmcgocall|_cgo_topofstack|x_cgo_|_cgo_wait_runtime_init_done|_cgo_release_context|_cgo_get_context|_cgo_getstackbound|cgoBindM|needm|setg|cgoCheck|cgoIsGoPointer|inHeapOrStack|runtime\.save$", s)),
    ("Go syscall", lambda d, s, k: re.search(r"Syscall|syscall\.|unix\.(Read|Write|Pwrite|read|write|pread|pwrite|Fstat|fstat|Seek|RawSyscall|Syscall)", s)),
    ("go-pointer", lambda d, s, k: re.search(r"go-pointer|pointer\.(Restore|Save|Unref)|RWMutex", s)),
    ("sync.Map", lambda d, s, k: re.search(r"sync\.\(\*Map\)|HashTrieMap|internal/sync|sync\.\(\*HashTrie", s)),
    ("engine", lambda d, s, k: re.search(r"ucw-asio|engine\.|main\.goasio|main\._Cfunc|sync\.\(\*Mutex\)|workqueue", s)),
    ("runtime (other)", lambda d, s, k: re.search(r"^runtime|^internal/|^aeshash|^memeqbody|^gcWriteBarrier|^type:|^sync/atomic", s) or d.endswith("-go.so.1")),
    ("stub", lambda d, s, k: d.startswith("libucw-asio.so")),
    ("program", lambda d, s, k: True),
]

def main():
    top = 0
    if len(sys.argv) > 2 and sys.argv[1] == "--top":
        top = int(sys.argv[2])
    tot = collections.Counter()
    syms = collections.defaultdict(collections.Counter)
    line_re = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")
    for line in sys.stdin:
        m = line_re.match(line)
        if not m:
            continue
        pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        k = kind == "k" or dso.startswith("[kernel")
        for name, test in GROUPS:
            if test(dso, sym, k):
                tot[name] += pct
                syms[name][sym] += pct
                break
    for name, _ in GROUPS:
        if tot[name] == 0:
            continue
        print("%-16s %6.1f%%" % (name, tot[name]))
        if top:
            for sym, pct in syms[name].most_common(top):
                print("    %6.2f%%  %s" % (pct, sym))

main()
