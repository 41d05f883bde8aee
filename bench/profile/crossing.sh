#!/bin/sh
# bench/profile/crossing.sh [GO]: builds crossing.c on the c-shared library
# crossing.go with the go command GO (default go) into build/bench/profile/,
# then prints the cost of one C-to-Go call of an empty function from 1, 2 and
# 4 C threads, 5 rounds each, interleaved. Not part of make bench.
set -eu
GO=${1:-go}
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench/profile
mkdir -p "$out"
cd "$top/bench/profile/crossing"
"$GO" build -buildmode=c-shared -o "$out/libcrossing.so" .
cc -O2 -Wall -Wextra -Werror -pthread crossing.c -L"$out" -lcrossing -Wl,-rpath,'$ORIGIN' -o "$out/crossing"
for round in 1 2 3 4 5; do
	for k in 1 2 4; do
		for kind in nop ptr; do
			echo "round=$round kind=$kind $("$out/crossing" "$k" 0.3 "$kind")"
		done
	done
done
