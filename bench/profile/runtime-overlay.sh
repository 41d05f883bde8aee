#!/bin/sh
# bench/profile/runtime-overlay.sh DIR: writes DIR/overlay.json, a `go build
# -overlay` that patches the installed Go runtime for an experiment: a C thread's
# call into Go skips the receive from the runtime's main_init_done channel (a
# lock shared by every thread, taken on every call; golang/go#15943) once
# initialisation is done, with an atomic flag set right after the channel is
# closed. Nothing else changes.
#
# Measure with it (the engine, the floor and the crossing benchmark):
#   bench/profile/runtime-overlay.sh /tmp/ovl
#   GOFLAGS=-overlay=/tmp/ovl/overlay.json make -B bench-build BUILD=build-ovl
#   GOFLAGS=-overlay=/tmp/ovl/overlay.json bench/profile/crossing.sh
# Exits 1, writing nothing, if the runtime's source does not have the expected
# lines (another Go version).
set -eu
dir=${1:?usage: runtime-overlay.sh DIR}
rt=$(go env GOROOT)/src/runtime
mkdir -p "$dir"
grep -q '^var main_init_done chan bool$' "$rt/proc.go" &&
	grep -q '^	close(main_init_done)$' "$rt/proc.go" &&
	[ "$(grep -c '^		<-main_init_done$' "$rt/cgocall.go")" = 1 ] || {
	echo "runtime-overlay.sh: $rt does not have the expected lines; nothing written" >&2
	exit 1
}
sed -e 's/^var main_init_done chan bool$/&\nvar mainInitDoneFlag atomic.Bool \/\/ overlay: set once main_init_done is closed/' \
	-e 's/^	close(main_init_done)$/&\n	mainInitDoneFlag.Store(true)/' "$rt/proc.go" >"$dir/proc.go"
sed -e 's/^		<-main_init_done$/		if !mainInitDoneFlag.Load() {\n			<-main_init_done\n		}/' \
	"$rt/cgocall.go" >"$dir/cgocall.go"
dir=$(cd "$dir" && pwd)
printf '{"Replace": {"%s": "%s", "%s": "%s"}}\n' "$rt/proc.go" "$dir/proc.go" "$rt/cgocall.go" "$dir/cgocall.go" \
	>"$dir/overlay.json"
echo "$dir/overlay.json"
