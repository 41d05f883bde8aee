#!/bin/sh
# t_symbols.sh LIB: symbol hygiene of the shared library.
#  - `nm -D --defined-only LIB` lists exactly the 14 API names, as functions
#    (T): asio_* and their libucw 6.x twins ucw_asio_*, each twin at the same
#    address (a true alias); nothing else: no Go runtime or cgo symbols, no
#    goasio_* (the Go exports behind the C functions), no ucwasio_* (the C
#    layer for forked children);
#  - the SONAME is libucw-asio.so.1.
# Exit status: 0 pass, 1 fail, 77 skip (no nm/readelf).
set -u
lib=$1
fail() {
	echo "FAIL t_symbols: $*"
	exit 1
}
command -v nm >/dev/null && command -v readelf >/dev/null || { echo "SKIP: nm or readelf missing"; exit 77; }
[ -f "$lib" ] || fail "no library at $lib"
syms=$(nm -D --defined-only "$lib") || fail "nm -D --defined-only $lib failed"

for f in init_queue cleanup_queue get submit wait put sync; do
	a=$(echo "$syms" | awk -v n="asio_$f" '$3 == n { print $1 " " $2 }')
	u=$(echo "$syms" | awk -v n="ucw_asio_$f" '$3 == n { print $1 " " $2 }')
	[ -n "$a" ] || fail "asio_$f is not exported"
	[ -n "$u" ] || fail "ucw_asio_$f is not exported"
	[ "${a#* }" = T ] || fail "asio_$f is exported as '${a#* }', not as a function (T)"
	[ "$a" = "$u" ] || fail "ucw_asio_$f ($u) is not at the address of asio_$f ($a)"
done

extra=$(echo "$syms" | awk '{ print $NF }' |
	grep -v -E '^(ucw_)?asio_(init_queue|cleanup_queue|get|submit|wait|put|sync)$')
[ -z "$extra" ] || fail "exported beyond the API: $(echo $extra)"
n=$(echo "$syms" | wc -l)
[ "$n" -eq 14 ] || fail "expected 14 exported symbols, found $n"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libucw-asio.so.1 ] || fail "SONAME is '$soname', expected libucw-asio.so.1"
echo "14 API names exported (7 pairs of aliases), nothing else; SONAME $soname"
