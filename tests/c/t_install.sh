#!/bin/sh
# t_install.sh SOURCE_DIR BUILD_DIR: install ucw-asio and build an outside
# consumer against the installed tree, as a user would.
#
#  - `make install PREFIX=P1` (from the library built in BUILD_DIR) and
#    `cmake --install BUILD_DIR --prefix P2` each give the same tree:
#    lib/libucw-asio.so.1 (executable), lib/libucw-asio.so -> libucw-asio.so.1,
#    lib/libucw-asio-go.so.1 (the engine, executable), the libraries the
#    ones built, include/ucw/asio.h (the source's), lib/pkgconfig/ucw-asio.pc,
#    lib/cmake/ucw-asio/ucw-asioConfig.cmake and ucw-asioConfigVersion.cmake;
#  - in each tree, tests/c/consumer (copied out of the source tree) is built
#    twice, with `pkg-config --cflags --libs ucw-asio` (PKG_CONFIG_PATH) and
#    with find_package(ucw-asio 1.0) (CMAKE_PREFIX_PATH), and run: it must
#    say "consumer: ok" and use the installed library and engine;
#  - find_package(ucw-asio 2.0) fails (version file);
#  - `make install DESTDIR=D PREFIX=/opt/ucw-asio` puts the tree under
#    D/opt/ucw-asio, its .pc finding the prefix from its own place; the tree,
#    moved elsewhere, still builds and runs the consumer with pkg-config;
#  - `make uninstall` with the same DESTDIR and PREFIX leaves no file behind.
# Exit status: 0 pass, 1 fail, 77 skip (no pkg-config).
set -u
src=$1
build=$2
fail() {
	echo "FAIL t_install: $*"
	exit 1
}
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config is missing (apt-get install pkg-config)"; exit 77; }
command -v make >/dev/null || { echo "SKIP: make is missing"; exit 77; }
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ucw-asio-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

# -o: the libraries in BUILD_DIR are what ctest tested; never rebuild them here.
keep="-o $build/libucw-asio.so.1 -o $build/libucw-asio-go.so.1"
# shellcheck disable=SC2086
make -s -C "$src" $keep install BUILD="$build" PREFIX="$tmp/make" >"$log" 2>&1 ||
	{ cat "$log"; fail "make install failed"; }
cmake --install "$build" --prefix "$tmp/cmake" >"$log" 2>&1 || { cat "$log"; fail "cmake --install failed"; }

check_tree() {
	p=$1
	[ -f "$p/lib/libucw-asio.so.1" ] && [ -x "$p/lib/libucw-asio.so.1" ] || fail "$p/lib/libucw-asio.so.1 missing or not executable"
	cmp -s "$p/lib/libucw-asio.so.1" "$build/libucw-asio.so.1" || fail "$p/lib/libucw-asio.so.1 is not the library built"
	[ -f "$p/lib/libucw-asio-go.so.1" ] && [ -x "$p/lib/libucw-asio-go.so.1" ] || fail "$p/lib/libucw-asio-go.so.1 missing or not executable"
	cmp -s "$p/lib/libucw-asio-go.so.1" "$build/libucw-asio-go.so.1" || fail "$p/lib/libucw-asio-go.so.1 is not the engine built"
	[ -L "$p/lib/libucw-asio.so" ] && [ "$(readlink "$p/lib/libucw-asio.so")" = libucw-asio.so.1 ] ||
		fail "$p/lib/libucw-asio.so is not a symlink to libucw-asio.so.1"
	cmp -s "$p/include/ucw/asio.h" "$src/include/ucw/asio.h" || fail "$p/include/ucw/asio.h missing or different"
	for f in lib/pkgconfig/ucw-asio.pc lib/cmake/ucw-asio/ucw-asioConfig.cmake lib/cmake/ucw-asio/ucw-asioConfigVersion.cmake \
		share/man/man3/asio.3 share/man/man3/asio_submit.3 share/man/man3/ucw_asio_submit.3; do
		[ -f "$p/$f" ] || fail "$p/$f missing"
	done
}

consumer() {	# consumer PREFIX WAY
	p=$1
	way=$2
	d=$tmp/consumer-$(basename "$p")-$way
	mkdir -p "$d/src"
	cp "$src/tests/c/consumer/consumer.c" "$src/tests/c/consumer/CMakeLists.txt" "$d/src/"
	if [ "$way" = pkg-config ]; then
		flags=$(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags --libs ucw-asio) || fail "pkg-config --cflags --libs ucw-asio failed ($p)"
		libdir=$(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --variable=libdir ucw-asio)
		# shellcheck disable=SC2086
		$cc -std=c99 -Wall -Wextra -Werror "$d/src/consumer.c" $flags -Wl,-rpath,"$libdir" -o "$d/consumer" >"$log" 2>&1 ||
			{ cat "$log"; fail "building the consumer with pkg-config ($flags) failed"; }
		exe=$d/consumer
	else
		cmake -S "$d/src" -B "$d/build" -DCMAKE_PREFIX_PATH="$p" >"$log" 2>&1 &&
			cmake --build "$d/build" >>"$log" 2>&1 || { cat "$log"; fail "building the consumer with find_package failed ($p)"; }
		exe=$d/build/consumer
	fi
	out=$("$exe" "$p" "$d" 2>&1) || { echo "$out"; fail "the consumer built with $way against $p failed"; }
	echo "$out" | grep -q '^consumer: ok$' || { echo "$out"; fail "the consumer built with $way did not say ok"; }
	echo "$(basename "$p") tree, $way: $(echo "$out" | head -n 1)"
}

for p in "$tmp/make" "$tmp/cmake"; do
	check_tree "$p"
	consumer "$p" pkg-config
	consumer "$p" find_package
done

# The version file turns down 2.0.
d=$tmp/consumer-v2
mkdir -p "$d"
cp "$src/tests/c/consumer/consumer.c" "$src/tests/c/consumer/CMakeLists.txt" "$d/"
if cmake -S "$d" -B "$d/build" -DCMAKE_PREFIX_PATH="$tmp/cmake" -DUCW_ASIO_VERSION=2.0 >"$log" 2>&1; then
	fail "find_package(ucw-asio 2.0) succeeded against version 1"
fi
grep -q 'ucw-asio' "$log" || { cat "$log"; fail "find_package(ucw-asio 2.0) failed without naming ucw-asio"; }

# DESTDIR staging.
# shellcheck disable=SC2086
make -s -C "$src" $keep install BUILD="$build" PREFIX=/opt/ucw-asio DESTDIR="$tmp/stage" >"$log" 2>&1 ||
	{ cat "$log"; fail "make install DESTDIR=... failed"; }
check_tree "$tmp/stage/opt/ucw-asio"
grep -q '^prefix=${pcfiledir}/../..$' "$tmp/stage/opt/ucw-asio/lib/pkgconfig/ucw-asio.pc" ||
	fail "the staged .pc does not find its prefix from its own place"
mv "$tmp/stage/opt/ucw-asio" "$tmp/moved"
consumer "$tmp/moved" pkg-config
mv "$tmp/moved" "$tmp/stage/opt/ucw-asio"
# shellcheck disable=SC2086
make -s -C "$src" $keep uninstall BUILD="$build" PREFIX=/opt/ucw-asio DESTDIR="$tmp/stage" >"$log" 2>&1 ||
	{ cat "$log"; fail "make uninstall DESTDIR=... failed"; }
left=$(find "$tmp/stage" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install: ok"
