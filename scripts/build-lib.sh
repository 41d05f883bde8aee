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
"$GO" build -buildmode=c-shared -trimpath \
	-ldflags "-extldflags '-Wl,-soname,libucw-asio-go.so.1 -Wl,--version-script=$top/capi/goasio.map'" \
	-o "$dir/libucw-asio-go.so.1" ./capi
rm -f "$dir/libucw-asio-go.so.h" "$dir/libucw-asio-go.h"
${CC:-cc} -std=gnu99 -O2 -g -Wall -Wextra -Werror -fPIC -pthread -Iinclude -shared \
	-Wl,-soname,libucw-asio.so.1 -Wl,--version-script=capi/stub/exports.map -Wl,-z,defs \
	-o "$dir/libucw-asio.so.1" capi/stub/asio.c capi/stub/sync.c capi/stub/die.c
ln -sf libucw-asio.so.1 "$dir/libucw-asio.so"
