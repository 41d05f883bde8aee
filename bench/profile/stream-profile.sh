#!/bin/sh
# bench/profile/stream-profile.sh SYS SRC DST SIZE: perf profile of one stream
# run of build/bench/bench-SYS (SRC made by the driver with --keep, e.g.
# build/bench/driver --quick --only stream --rounds 1 --keep --size 1G), up to
# the first sample of the verification that follows the timed copy, summed per
# function group (groups.py). perf needs no hardware counters (cpu-clock).
# FREQ sets the sampling rate (default 10000 Hz; a lower one disturbs less).
set -eu
sys=$1 src=$2 dst=$3 size=$4
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../../build/bench
data=$(mktemp /tmp/stream-perf.XXXXXX)
perf record -q -e cpu-clock -F "${FREQ:-10000}" -g -o "$data" -- "$bin/bench-$sys" stream --file "$src" --out "$dst" \
	--size "$size" --bufsize 1M --inflight 4 --seed 0x5eed0001
echo "stopped at the first sample of the verification after the timed copy:"
perf script -i "$data" -F comm,tid,time,ip,sym,dso 2>/dev/null |
	"$here/groups.py" --top "${TOP:-8}" --stop-at 'pattern_word|main|read_full|verify_copy'
rm -f "$data" "$data.old"
