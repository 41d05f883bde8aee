#!/bin/sh
# t_preload.sh MODE LIB [PROGRAM]: ucw-asio swapped into programs with
# LD_PRELOAD=LIB, the way the README says, checked as a user would see it.
#
#   swap PROGRAM      PROGRAM (t_preload_prog) is linked against the stand-in
#                     libucw. Without LD_PRELOAD the stand-in serves its first
#                     asio call and ends it with status 42; with LD_PRELOAD every
#                     call, also those from inside the fb-direct miniature, is
#                     served by LIB: exit 0, the copy verified, LIB named as
#                     the provider of the functions, no word from the stand-in;
#                     the engine (libucw-asio-go.so.1) not mapped before the
#                     first call, mapped after the copy.
#   fallback PROGRAM  the same with a copy of LIB alone in an empty directory,
#                     so that its engine cannot be loaded: exactly one line on
#                     stderr, "ucw-asio: cannot load the engine DIR/libucw-asio-go.so.1:
#                     ...; running synchronously", and the copy verified all
#                     the same (the synchronous C implementation), no engine.
#   die PROGRAM       `PROGRAM die` (t_preload_prog: a write-back that fails),
#                     with LD_PRELOAD=LIB and with the engine missing (the
#                     synchronous route): the process ends through the
#                     stand-in's ucw_die (libucw's die()), exactly one line
#                     "! stand-in ucw_die: Asynchronous write to fd N failed:
#                     Bad file descriptor", exit status 1.
#   bash              bash -c 'true' and a small pipeline with a subshell:
#                     the library mapped into bash, the engine not, 1 thread.
#   signals|threads|forkexec PROGRAM
#                     a program that never asked for ucw-asio (preload_*.c):
#                     exit 0, its "...: ok" line, nothing on stderr, the
#                     library mapped into it (and into the program it
#                     re-executes), the engine not, 1 thread at the start.
# Exit status: 0 pass, 1 fail (with a FAIL line), 77 skip.
set -u
mode=$1
lib=$2
prog=${3:-}

fail() {
	echo "FAIL t_preload $mode: $*"
	exit 1
}

[ -f "$lib" ] || fail "no library at $lib"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ucw-asio-preload.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# run OUTFILE ERRFILE [LD_PRELOAD value or -] COMMAND...: sets rc.
run() {
	out=$1 err=$2 pre=$3
	shift 3
	if [ "$pre" = - ]; then
		env -u LD_PRELOAD "$@" >"$out" 2>"$err"
	else
		env LD_PRELOAD="$pre" "$@" >"$out" 2>"$err"
	fi
	rc=$?
}

show() {
	echo "--- stdout:"; cat "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"
}

case $mode in
swap)
	run "$tmp/out" "$tmp/err" - "$prog"
	[ $rc = 42 ] || { show; fail "without LD_PRELOAD: expected the stand-in's exit status 42, got $rc"; }
	grep -q '^stand-in libucw: asio_init_queue called$' "$tmp/err" ||
		{ show; fail "without LD_PRELOAD: the stand-in did not report the first call"; }
	grep -q '^asio_submit is defined by: .*libucw-standin\.so' "$tmp/out" ||
		{ show; fail "without LD_PRELOAD: asio_submit should come from the stand-in"; }
	echo "without LD_PRELOAD: served by the stand-in (exit status 42), as expected"

	run "$tmp/out" "$tmp/err" "$lib" "$prog"
	if [ $rc = 77 ]; then
		cat "$tmp/out"
		exit 77
	fi
	[ $rc = 0 ] || { show; fail "with LD_PRELOAD=$lib: exit status $rc"; }
	! grep -q 'stand-in' "$tmp/err" || { show; fail "with LD_PRELOAD: the stand-in was called"; }
	for what in 'asio_submit' 'ucw_asio_submit' 'ucw_asio_init_queue as standin_fbdirect binds it'; do
		grep -q "^$what is defined by: .*libucw-asio\.so" "$tmp/out" ||
			{ show; fail "with LD_PRELOAD: $what is not defined by libucw-asio.so"; }
	done
	grep -q '^copy verified: ' "$tmp/out" || { show; fail "with LD_PRELOAD: no verified copy"; }
	grep -q '^engine mapped before the first call: no$' "$tmp/out" ||
		{ show; fail "with LD_PRELOAD: the engine was loaded before the first asio call"; }
	if [ "${UCW_ASIO_ENGINE:-}" = sync ]; then
		grep -q '^engine mapped after the copy: no$' "$tmp/out" ||
			{ show; fail "with LD_PRELOAD and UCW_ASIO_ENGINE=sync: the asio calls loaded the engine"; }
	else
		grep -q '^engine mapped after the copy: yes$' "$tmp/out" ||
			{ show; fail "with LD_PRELOAD: the asio calls did not load the engine"; }
	fi
	[ ! -s "$tmp/err" ] || { show; fail "with LD_PRELOAD: unexpected output on stderr"; }
	cat "$tmp/out"
	;;
fallback)
	mkdir "$tmp/lib" && cp -L "$lib" "$tmp/lib/libucw-asio.so.1" || fail "cannot copy $lib"
	dir=$(cd "$tmp/lib" && pwd -P)
	run "$tmp/out" "$tmp/err" "$dir/libucw-asio.so.1" "$prog"
	if [ $rc = 77 ]; then
		cat "$tmp/out"
		exit 77
	fi
	[ $rc = 0 ] || { show; fail "exit status $rc"; }
	grep -q '^copy verified: ' "$tmp/out" || { show; fail "no verified copy"; }
	grep -q "^asio_submit is defined by: $dir/libucw-asio\.so\.1" "$tmp/out" ||
		{ show; fail "asio_submit is not defined by the copy of the library"; }
	grep -q '^engine mapped after the copy: no$' "$tmp/out" || { show; fail "an engine was mapped"; }
	if [ "${UCW_ASIO_ENGINE:-}" = sync ]; then
		# The engine is never looked for: nothing to say.
		[ ! -s "$tmp/err" ] || { show; fail "UCW_ASIO_ENGINE=sync: expected nothing on stderr"; }
	else
		[ "$(wc -l <"$tmp/err")" -eq 1 ] || { show; fail "expected exactly one line on stderr"; }
		grep -q "^ucw-asio: cannot load the engine $dir/libucw-asio-go\.so\.1: .*; running synchronously\$" "$tmp/err" ||
			{ show; fail "not the line expected on stderr"; }
	fi
	cat "$tmp/out" "$tmp/err"
	;;
die)
	mkdir "$tmp/lib" && cp -L "$lib" "$tmp/lib/libucw-asio.so.1" || fail "cannot copy $lib"
	for pre in "$lib" "$tmp/lib/libucw-asio.so.1"; do
		run "$tmp/out" "$tmp/err" "$pre" "$prog" die
		[ $rc = 1 ] || { show; fail "LD_PRELOAD=$pre: exit status $rc, want 1 (libucw's die)"; }
		grep -v '^ucw-asio: cannot load the engine ' "$tmp/err" >"$tmp/err2"
		[ "$(wc -l <"$tmp/err2")" -eq 1 ] || { show; fail "LD_PRELOAD=$pre: expected exactly one line on stderr"; }
		grep -q '^! stand-in ucw_die: Asynchronous write to fd [0-9]* failed: Bad file descriptor$' "$tmp/err2" ||
			{ show; fail "LD_PRELOAD=$pre: the failed write-back did not end the process through ucw_die"; }
		cat "$tmp/err2"
	done
	;;
bash)
	command -v bash >/dev/null || { echo "SKIP: no bash"; exit 77; }
	run "$tmp/out" "$tmp/err" "$lib" bash -c 'true'
	[ $rc = 0 ] || { show; fail "bash -c 'true': exit status $rc"; }
	[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || { show; fail "bash -c 'true' printed something"; }
	run "$tmp/out" "$tmp/err" "$lib" bash -c \
		'grep -c "libucw-asio\.so" /proc/$$/maps; grep -c "libucw-asio-go" /proc/$$/maps;
		 grep "^Threads:" /proc/$$/status; (echo sub) | cat; seq 1 1000 | sort -rn | head -n 1'
	[ $rc = 0 ] || { show; fail "bash pipeline: exit status $rc"; }
	printf 'sub\n1000\n' >"$tmp/want"
	tail -n 2 "$tmp/out" | cmp -s - "$tmp/want" || { show; fail "bash pipeline: wrong output"; }
	[ "$(sed -n 1p "$tmp/out")" -ge 1 ] 2>/dev/null || { show; fail "libucw-asio.so is not mapped into bash"; }
	[ "$(sed -n 2p "$tmp/out")" = 0 ] || { show; fail "the engine (libucw-asio-go) is mapped into bash, which never called asio"; }
	sed -n 3p "$tmp/out" | grep -q '^Threads:[[:space:]]*1$' || { show; fail "bash has more than 1 thread"; }
	[ ! -s "$tmp/err" ] || { show; fail "bash pipeline: output on stderr"; }
	echo "bash under LD_PRELOAD: ok"
	;;
signals | threads | forkexec)
	run "$tmp/out" "$tmp/err" "$lib" "$prog"
	[ $rc = 0 ] || { show; fail "exit status $rc"; }
	grep -q "^$mode: ok\$" "$tmp/out" || { show; fail "no \"$mode: ok\" line"; }
	if grep -q 'libucw-asio mapped: no' "$tmp/out" || ! grep -q '^libucw-asio mapped: yes$' "$tmp/out"; then
		show
		fail "libucw-asio.so was not loaded into every program"
	fi
	if grep -q 'engine mapped: yes' "$tmp/out" || ! grep -q '^engine mapped: no$' "$tmp/out"; then
		show
		fail "the engine (libucw-asio-go) was loaded into a program that never called asio"
	fi
	if grep 'threads at start: ' "$tmp/out" | grep -v -q 'threads at start: 1$' || ! grep -q '^threads at start: 1$' "$tmp/out"; then
		show
		fail "more than 1 thread at the start of a program that never called asio"
	fi
	[ ! -s "$tmp/err" ] || { show; fail "output on stderr"; }
	cat "$tmp/out"
	;;
*)
	fail "unknown mode $mode"
	;;
esac
exit 0
