#!/bin/sh
# Builds ucw-asio's two shared libraries into DIR (default: build):
#   DIR/libucw-asio.so.1      the library programs link or preload (SONAME
#                             libucw-asio.so.1): small, C only, from capi/stub/;
#                             it loads the engine when the process first calls asio
#   DIR/libucw-asio.so        a symlink to it, for -lucw-asio and LD_PRELOAD
#   DIR/libucw-asio-go.so.1   the engine, a Go c-shared library from capi/ (SONAME
#                             libucw-asio-go.so.1), exporting only goasio_*
# The second name of every API function (ucw_asio_*, libucw 6.x's clean ABI)
# is a true alias (capi/stub/asio.c); the version scripts hide everything else.
# CC (default cc) compiles the C library, GO (default go) builds the engine;
# a missing or too old Go stops the build with one line (check-go.sh).
set -eu
GO=${GO:-go}
dir=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$top"
GO=$GO scripts/check-go.sh
# The engine's GODEBUG defaults: those of capi's //go:debug lines, plus
# asyncpreemptoff=1, which //go:debug does not take. Asynchronous preemption
# sends SIGURG to the thread of a goroutine that runs long (a caller waiting
# in io_uring_enter) or that the collector stops; a goroutine inside an asio
# call runs on the program's thread, and a signal that lands just after the
# call returned cuts the program's own read(2) of a pipe or /dev/zero short
# (t_ring_shortread: about 1 in 20,000 such reads). The engine has no long
# loops without calls. GODEBUG in the environment still overrides it.
godebug=$("$GO" list -f '{{.DefaultGODEBUG}}' ./capi)
godebug="${godebug:+$godebug,}asyncpreemptoff=1"
"$GO" build -buildmode=c-shared -trimpath \
	-ldflags "-X=runtime.godebugDefault=$godebug -extldflags '-Wl,-soname,libucw-asio-go.so.1 -Wl,--version-script=$top/capi/goasio.map'" \
	-o "$dir/libucw-asio-go.so.1" ./capi
rm -f "$dir/libucw-asio-go.so.h" "$dir/libucw-asio-go.h"
${CC:-cc} -std=gnu99 -O2 -g -Wall -Wextra -Werror -fPIC -pthread -Iinclude -shared \
	-Wl,-soname,libucw-asio.so.1 -Wl,--version-script=capi/stub/exports.map -Wl,-z,defs \
	-o "$dir/libucw-asio.so.1" capi/stub/asio.c capi/stub/sync.c capi/stub/die.c
ln -sf libucw-asio.so.1 "$dir/libucw-asio.so"
