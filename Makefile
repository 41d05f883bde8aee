# ucw-asio: libucw's asynchronous I/O on a Go engine, as a C shared library.
# `make help` lists the targets. Variables: GO (the Go command), CC, BUILD (the
# build directory), PREFIX and DESTDIR (install), DEMO_MIB, FUZZTIME, STRESS_*.

# The Go command: go on PATH, else the official tarball's place.
GO      ?= $(shell command -v go 2>/dev/null || { test -x /usr/local/go/bin/go && echo /usr/local/go/bin/go; } || echo go)
BUILD   ?= build
CC      ?= cc
DEMO_MIB ?= 256

GO_SOURCES := go.mod go.sum $(wildcard capi/*.go capi/*.c capi/*.h capi/*.map engine/*.go internal/*/*.go workqueue/*.go) include/ucw/asio.h scripts/build-lib.sh
GO_SOURCES += $(wildcard capi/stub/*.c capi/stub/*.h capi/stub/*.map)
LIB := $(BUILD)/libucw-asio.so.1
ENGINE_LIB := $(BUILD)/libucw-asio-go.so.1

.PHONY: all help demo test gotest go-check ctest cmake-dep man-dep manlint clean install uninstall deb

all: $(LIB) $(ENGINE_LIB)

help:
	@echo 'make              build $(BUILD)/libucw-asio.so.1 and the engine $(BUILD)/libucw-asio-go.so.1'
	@echo 'make demo         build, then copy $(DEMO_MIB) MiB with O_DIRECT through the library: verified, with MB/s'
	@echo 'make test         gofmt, go vet, go test -race, 10 s fuzzing, man page lint, the C suite (ctest), again under ASan'
	@echo 'make install      install into PREFIX=$(PREFIX) (DESTDIR honoured): libraries, header, .pc, CMake package, man pages'
	@echo 'make uninstall    remove what make install put there (same PREFIX and DESTDIR)'
	@echo 'make deb          Debian packages libucw-asio1 and libucw-asio-dev (dpkg-buildpackage -us -uc -b) into $(BUILD)/deb'
	@echo 'make bench        the benchmark suite against plain syscalls, liburing (also with registered buffers) and POSIX AIO (about 7 minutes)'
	@echo 'make bench-quick  the same in under a minute'
	@echo 'make fuzz         the engine against its reference model for FUZZTIME=$(FUZZTIME)'
	@echo 'make stress       $(STRESS_THREADS) threads x $(STRESS_QUEUES) queues for $(STRESS_SECONDS) s, then under signals, then 10000 queues'
	@echo 'make leakcheck    1M request cycles and 100k queue cycles, RSS printed'
	@echo 'make test-asan    the C suite built with ASan/UBSan (part of make test)'
	@echo 'make manlint      check the man pages with mandoc -Tlint (part of make test)'
	@echo 'make clean        remove $(BUILD)'
	@echo 'GO=$(GO) (the Go command, Go $(GO_NEED) or later), CC=$(CC)'

GO_NEED := $(shell sed -n 's/^go \([0-9.]*\).*/\1/p' go.mod)

# One line saying which Go is needed when it is missing or too old.
go-check:
	@GO="$(GO)" scripts/check-go.sh

$(LIB) $(ENGINE_LIB) &: $(GO_SOURCES)
	CC="$(CC)" GO="$(GO)" scripts/build-lib.sh $(BUILD)

$(BUILD)/direct_copy: examples/direct_copy.c include/ucw/asio.h $(LIB)
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude $< -L$(BUILD) -lucw-asio -Wl,-rpath,'$$ORIGIN' -o $@

demo: $(BUILD)/direct_copy $(ENGINE_LIB)
	$(BUILD)/direct_copy $(DEMO_MIB) $(BUILD)

test: gotest fuzz-short manlint ctest test-asan

GOFMT = "$$($(GO) env GOROOT)/bin/gofmt"
gotest: go-check
	@test -z "$$($(GOFMT) -l capi engine internal workqueue)" || { echo "gofmt would change: $$($(GOFMT) -l capi engine internal workqueue)"; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 ./engine/... ./internal/... ./workqueue/... ./capi

ctest: cmake-dep
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGO_EXECUTABLE="$(GO)"
	cmake --build $(BUILD)/cmake -j2
	cd $(BUILD)/cmake && ctest --output-on-failure -j2

# Reliability (docs/RELIABILITY.md): the engine against its reference model
# under the fuzzer, load, leaks, the C side under sanitizers.
#   make fuzz        FuzzEngineMatchesModel for FUZZTIME (make test: 10 s)
#   make stress      t_stress STRESS_THREADS x STRESS_QUEUES for STRESS_SECONDS, then with
#                    SIGALRM every millisecond, then t_exhaust with 10000 queues
#   make leakcheck   t_leak: 1M get/submit/wait/put cycles, 100k init/cleanup, RSS printed
#   make test-asan   the C suite built with -fsanitize=address,undefined (in make test)
FUZZTIME ?= 5m
STRESS_THREADS ?= 4
STRESS_QUEUES ?= 8
STRESS_SECONDS ?= 60
# Not under ASan: LD_PRELOAD puts the library ahead of the ASan runtime, which
# must come first; RSS figures measure ASan's allocator; RLIMIT_AS children
# cannot map ASan's shadow.
ASAN_EXCLUDE ?= t_preload|t_leak
C_TESTS := $(BUILD)/cmake/tests/c

.PHONY: fuzz fuzz-short stress leakcheck test-asan c-build

fuzz-short: go-check
	$(GO) test -run '^$$' -fuzz FuzzEngineMatchesModel -fuzztime 10s -fuzzminimizetime 5s ./engine

fuzz: go-check
	$(GO) test -run '^$$' -fuzz FuzzEngineMatchesModel -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./engine

c-build: cmake-dep
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGO_EXECUTABLE="$(GO)"
	cmake --build $(BUILD)/cmake -j2

stress: c-build
	$(C_TESTS)/t_stress $(STRESS_THREADS) $(STRESS_QUEUES) $(STRESS_SECONDS)
	$(C_TESTS)/t_stress $(STRESS_THREADS) $(STRESS_QUEUES) $$(( $(STRESS_SECONDS) / 3 )) signals
	$(C_TESTS)/t_exhaust 10000 100000

leakcheck: c-build
	$(C_TESTS)/t_leak 1000000 100000

test-asan: cmake-dep
	cmake -S . -B $(BUILD)/cmake-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUCW_ASIO_SANITIZE=address,undefined \
	  -DGO_EXECUTABLE="$(GO)"
	cmake --build $(BUILD)/cmake-asan -j2
	cd $(BUILD)/cmake-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j2 -E '$(ASAN_EXCLUDE)'

# CMake (and pkg-config, for the install test) and mandoc (the man page lint)
# are what a fresh Debian machine with Go and gcc lacks: installed with apt-get
# when run as root, else named.
NEED_TOOL = @missing=""; for t in $(1); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t\#*:}"; done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "needed for $(2):$$missing (sudo apt-get install -y$$missing)"; exit 1; \
	  fi; }

cmake-dep:
	$(call NEED_TOOL,cmake:cmake pkg-config:pkg-config,the C tests)

man-dep:
	$(call NEED_TOOL,mandoc:mandoc,the man page lint)

# Every page through mandoc -Tlint (no message at all allowed); the
# ucw_asio_* pages are one .so line naming an existing page.
MAN_PAGES := $(sort $(wildcard man/*.3))
manlint: man-dep
	@for f in $(MAN_PAGES); do \
	  if head -n 1 $$f | grep -q '^\.so '; then \
	    t=$$(sed -n 's|^\.so man3/\(.*\)$$|man/\1|p' $$f); \
	    [ "$$(wc -l <$$f)" = 1 ] && [ -n "$$t" ] && [ -f "$$t" ] || { echo "$$f: not a .so link to a page in man/"; exit 1; }; \
	  else \
	    out=$$(mandoc -Tlint -Wall $$f 2>&1); [ -z "$$out" ] || { echo "$$out"; exit 1; }; \
	  fi; \
	done; echo "manlint: $(words $(MAN_PAGES)) pages, no warning"

# The same tree as CMake's install (packaging/install.cmake), under lib/,
# include/ and share/man/. ucw-asio.pc finds the prefix from its own place
# (pkgconf's ${pcfiledir}), so the tree may be moved; under /usr it names /usr.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^project.ucw-asio VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
PC_PREFIX = $(if $(filter /usr,$(PREFIX)),/usr,$${pcfiledir}/../..)
INSTALL_SUBST = sed -e 's|@prefix@|$(PC_PREFIX)|g' -e 's|@libdir@|lib|g' -e 's|@includedir@|include|g' \
	-e 's|@version@|$(VERSION)|g' -e 's|@config_to_prefix@|../../..|g'
D := $(DESTDIR)$(PREFIX)
# Everything install puts under the prefix, which uninstall removes.
INSTALLED := lib/libucw-asio.so.1 lib/libucw-asio-go.so.1 lib/libucw-asio.so include/ucw/asio.h \
	lib/pkgconfig/ucw-asio.pc lib/cmake/ucw-asio/ucw-asioConfig.cmake lib/cmake/ucw-asio/ucw-asioConfigVersion.cmake \
	$(patsubst man/%,share/man/man3/%,$(MAN_PAGES))

install: $(LIB) $(ENGINE_LIB)
	install -d $(D)/lib/pkgconfig $(D)/lib/cmake/ucw-asio $(D)/include/ucw $(D)/share/man/man3
	install -m 755 $(LIB) $(D)/lib/libucw-asio.so.1
	install -m 755 $(ENGINE_LIB) $(D)/lib/libucw-asio-go.so.1
	ln -sf libucw-asio.so.1 $(D)/lib/libucw-asio.so
	install -m 644 include/ucw/asio.h $(D)/include/ucw/asio.h
	$(INSTALL_SUBST) packaging/ucw-asio.pc.in >$(D)/lib/pkgconfig/ucw-asio.pc
	$(INSTALL_SUBST) packaging/ucw-asioConfig.cmake.in >$(D)/lib/cmake/ucw-asio/ucw-asioConfig.cmake
	$(INSTALL_SUBST) packaging/ucw-asioConfigVersion.cmake.in >$(D)/lib/cmake/ucw-asio/ucw-asioConfigVersion.cmake
	chmod 644 $(D)/lib/pkgconfig/ucw-asio.pc $(D)/lib/cmake/ucw-asio/*.cmake
	install -m 644 $(MAN_PAGES) $(D)/share/man/man3

# The files above, then our own directories if nothing else is in them; the
# standard ones (lib/pkgconfig, share/man/man3, ...) stay.
uninstall:
	rm -f $(addprefix $(D)/,$(INSTALLED))
	for d in $(D)/lib/cmake/ucw-asio $(D)/include/ucw; do [ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done

# Debian packages (debian/), built from this tree with dpkg-buildpackage;
# the .deb, .buildinfo and .changes files are moved from .. to $(BUILD)/deb.
# Needs dpkg-dev, debhelper and Go (docs/PACKAGING.md).
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
deb:
	dpkg-buildpackage -us -uc -b
	debian/rules clean
	mkdir -p $(BUILD)/deb
	for f in ../libucw-asio1_$(DEB_VERSION)_*.deb ../libucw-asio1-dbgsym_$(DEB_VERSION)_*.deb \
	  ../libucw-asio-dev_$(DEB_VERSION)_*.deb ../ucw-asio_$(DEB_VERSION)_*.buildinfo ../ucw-asio_$(DEB_VERSION)_*.changes; do \
	  [ ! -e "$$f" ] || mv "$$f" $(BUILD)/deb/; done
	@ls $(BUILD)/deb

clean:
	rm -rf $(BUILD)

include bench/bench.mk
