#!/bin/sh
# Checks that the Go command $GO (default: go) is at least the version go.mod
# asks for; if not, says in one line what is needed and how to get it, and
# exits 1. Run by build-lib.sh, the Makefile and CMakeLists.txt.
# With GOTOOLCHAIN set in the environment (other than "local"), go may fetch
# the version itself, so only its presence is checked.
top=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
need=$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$top/go.mod")
how="get it from https://go.dev/dl/ and put its bin/ on PATH or name it (make GO=/usr/local/go/bin/go, cmake -DGO_EXECUTABLE=/usr/local/go/bin/go)"
if ! command -v "$go" >/dev/null 2>&1; then
	echo "ucw-asio: building needs Go $need or later and '$go' was not found: $how" >&2
	exit 1
fi
case ${GOTOOLCHAIN:-local} in
local) ;;
*) exit 0 ;;
esac
# Outside the module and with GOTOOLCHAIN=local, go reports itself instead
# of switching to (and downloading) the version go.mod names.
have=$(cd / && GOTOOLCHAIN=local "$go" version 2>/dev/null | sed -n 's/^go version go\([0-9][0-9.]*\).*/\1/p')
case $have in
'') exit 0 ;;	# a development build: trust it
esac
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n 1)" != "$need" ]; then
	echo "ucw-asio: building needs Go $need or later and $(command -v "$go") is Go $have: $how (or let go fetch it: GOTOOLCHAIN=auto)" >&2
	exit 1
fi
