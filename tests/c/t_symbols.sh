#!/bin/sh
# t_symbols.sh LIB ENGINE: symbol hygiene of the two shared libraries.
#  - LIB (libucw-asio.so.1, what programs link): `nm -D --defined-only`
#    lists exactly the 14 API names, as functions (T): asio_* and their
#    libucw 6.x twins ucw_asio_*, each twin at the same address (a true
#    alias); nothing else: no goasio_* (the engine's functions), no ucwasio_*
#    (the synchronous C implementation), no Go runtime or cgo symbols. It is
#    plain C: no Go sections, and it does not link the engine (DT_NEEDED),
#    which it loads on first use. SONAME libucw-asio.so.1.
#  - ENGINE (libucw-asio-go.so.1): exactly the 7 goasio_* functions and
#    goasio_set_die (T),
#    nothing of the Go runtime or cgo, none of the API names; SONAME
#    libucw-asio-go.so.1.
# Exit status: 0 pass, 1 fail, 77 skip (no nm/readelf).
set -u
lib=$1
engine=$2
fail() {
	echo "FAIL t_symbols: $*"
	exit 1
}
command -v nm >/dev/null && command -v readelf >/dev/null || { echo "SKIP: nm or readelf missing"; exit 77; }
[ -f "$lib" ] || fail "no library at $lib"
[ -f "$engine" ] || fail "no engine library at $engine"
syms=$(nm -D --defined-only "$lib") || fail "nm -D --defined-only $lib failed"
esyms=$(nm -D --defined-only "$engine") || fail "nm -D --defined-only $engine failed"
fns="init_queue cleanup_queue get submit wait put sync"

for f in $fns; do
	a=$(echo "$syms" | awk -v n="asio_$f" '$3 == n { print $1 " " $2 }')
	u=$(echo "$syms" | awk -v n="ucw_asio_$f" '$3 == n { print $1 " " $2 }')
	g=$(echo "$esyms" | awk -v n="goasio_$f" '$3 == n { print $2 }')
	[ -n "$a" ] || fail "asio_$f is not exported"
	[ -n "$u" ] || fail "ucw_asio_$f is not exported"
	[ "${a#* }" = T ] || fail "asio_$f is exported as '${a#* }', not as a function (T)"
	[ "$a" = "$u" ] || fail "ucw_asio_$f ($u) is not at the address of asio_$f ($a)"
	[ "$g" = T ] || fail "the engine does not export goasio_$f as a function (got '$g')"
done

extra=$(echo "$syms" | awk '{ print $NF }' |
	grep -v -E '^(ucw_)?asio_(init_queue|cleanup_queue|get|submit|wait|put|sync)$')
[ -z "$extra" ] || fail "$lib exports beyond the API: $(echo $extra)"
n=$(echo "$syms" | wc -l)
[ "$n" -eq 14 ] || fail "$lib: expected 14 exported symbols, found $n"

extra=$(echo "$esyms" | awk '{ print $NF }' |
	grep -v -E '^goasio_(init_queue|cleanup_queue|get|submit|wait|put|sync|set_die)$')
[ -z "$extra" ] || fail "$engine exports beyond goasio_*: $(echo $extra)"
n=$(echo "$esyms" | wc -l)
[ "$n" -eq 8 ] || fail "$engine: expected 8 exported symbols, found $n"

readelf -S -W "$lib" | grep -q '\.go\.\|\.gopclntab' && fail "$lib contains Go sections"
readelf -S -W "$engine" | grep -q '\.go\.buildinfo' || fail "$engine has no .go.buildinfo section: not the Go library?"
readelf -d "$lib" | grep NEEDED | grep -q 'libucw-asio-go' && fail "$lib links the engine (DT_NEEDED): it must load it on first use"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libucw-asio.so.1 ] || fail "SONAME of $lib is '$soname', expected libucw-asio.so.1"
esoname=$(readelf -d "$engine" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$esoname" = libucw-asio-go.so.1 ] || fail "SONAME of $engine is '$esoname', expected libucw-asio-go.so.1"
echo "library: 14 API names exported (7 pairs of aliases), nothing else, no Go, SONAME $soname"
echo "engine: the 7 goasio_* functions and goasio_set_die exported, nothing else, SONAME $esoname"
