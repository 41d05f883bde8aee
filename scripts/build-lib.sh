#!/bin/sh
# Builds the C shared library from capi/ into DIR (default: build):
#   DIR/libucw-asio.so.1   the library, SONAME libucw-asio.so.1
#   DIR/libucw-asio.so     a symlink to it, for -lucw-asio and LD_PRELOAD
# The second name of every function (ucw_asio_*, libucw 6.x's clean ABI) is a
# true alias made by the linker; the version script hides everything else.
set -eu
dir=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
aliases=""
for f in init_queue cleanup_queue get submit wait put sync; do
	aliases="$aliases -Wl,--defsym,ucw_asio_$f=asio_$f"
done
cd "$top"
go build -buildmode=c-shared -trimpath \
	-ldflags "-extldflags '-Wl,-soname,libucw-asio.so.1 -Wl,--version-script=$top/capi/exports.map $aliases'" \
	-o "$dir/libucw-asio.so.1" ./capi
rm -f "$dir/libucw-asio.so.h" "$dir/libucw-asio.h"
ln -sf libucw-asio.so.1 "$dir/libucw-asio.so"
