# ucw-asio: libucw's asynchronous I/O on a Go engine, as a C shared library.
#
#   make          build build/libucw-asio.so (SONAME libucw-asio.so.1, small, C) and the engine it
#                 loads on first use, build/libucw-asio-go.so.1 (Go)
#   make demo     build it and run the demo: an O_DIRECT copy of 256 MiB, verified, with MB/s
#   make test     go vet, go test -race, a few seconds of fuzzing, then the C suite with CMake and
#                 ctest, and again built with ASan/UBSan
#   make fuzz, make stress, make leakcheck: longer reliability runs (see Reliability below)
#   make install  PREFIX=/usr/local (DESTDIR honoured): the two libraries, the header, ucw-asio.pc and
#                 the CMake package (find_package(ucw-asio) -> target ucw-asio::ucw-asio)
#   make bench    the benchmark suite against plain syscalls, liburing and POSIX AIO (bench/bench.mk);
#                 make bench-quick: the same in under a minute
#   make clean

GO      ?= go
BUILD   ?= build
CC      ?= cc
DEMO_MIB ?= 256

GO_SOURCES := go.mod go.sum $(wildcard capi/*.go capi/*.c capi/*.h capi/*.map engine/*.go workqueue/*.go) include/ucw/asio.h scripts/build-lib.sh
GO_SOURCES += $(wildcard capi/stub/*.c capi/stub/*.h capi/stub/*.map)
LIB := $(BUILD)/libucw-asio.so.1
ENGINE_LIB := $(BUILD)/libucw-asio-go.so.1

.PHONY: all demo test gotest ctest cmake-dep clean install

all: $(LIB) $(ENGINE_LIB)

$(LIB) $(ENGINE_LIB) &: $(GO_SOURCES)
	CC="$(CC)" scripts/build-lib.sh $(BUILD)

$(BUILD)/direct_copy: examples/direct_copy.c include/ucw/asio.h $(LIB)
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude $< -L$(BUILD) -lucw-asio -Wl,-rpath,'$$ORIGIN' -o $@

demo: $(BUILD)/direct_copy $(ENGINE_LIB)
	$(BUILD)/direct_copy $(DEMO_MIB) $(BUILD)

test: gotest fuzz-short ctest test-asan

gotest:
	@test -z "$$(gofmt -l capi engine workqueue)" || { echo "gofmt would change: $$(gofmt -l capi engine workqueue)"; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 ./engine/... ./workqueue/...

ctest: cmake-dep
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD)/cmake -j2
	cd $(BUILD)/cmake && ctest --output-on-failure -j2

# Reliability (README, Reliability): the engine against its reference model
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

fuzz-short:
	$(GO) test -run '^$$' -fuzz FuzzEngineMatchesModel -fuzztime 10s -fuzzminimizetime 5s ./engine

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzEngineMatchesModel -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./engine

c-build: cmake-dep
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD)/cmake -j2

stress: c-build
	$(C_TESTS)/t_stress $(STRESS_THREADS) $(STRESS_QUEUES) $(STRESS_SECONDS)
	$(C_TESTS)/t_stress $(STRESS_THREADS) $(STRESS_QUEUES) $$(( $(STRESS_SECONDS) / 3 )) signals
	$(C_TESTS)/t_exhaust 10000 100000

leakcheck: c-build
	$(C_TESTS)/t_leak 1000000 100000

test-asan: cmake-dep
	cmake -S . -B $(BUILD)/cmake-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUCW_ASIO_SANITIZE=address,undefined
	cmake --build $(BUILD)/cmake-asan -j2
	cd $(BUILD)/cmake-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j2 -E '$(ASAN_EXCLUDE)'

# CMake (and pkg-config, for the install test) are what a fresh Debian machine
# with Go and gcc lacks.
cmake-dep:
	@missing=""; \
	command -v cmake >/dev/null || missing="$$missing cmake"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "needed for the C tests:$$missing (sudo apt-get install -y$$missing)"; exit 1; \
	  fi; }

# The same tree as CMake's install (packaging/install.cmake), under lib/ and include/.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^project.ucw-asio VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
INSTALL_SUBST = sed -e 's|@prefix@|$(PREFIX)|g' -e 's|@libdir@|lib|g' -e 's|@includedir@|include|g' \
	-e 's|@version@|$(VERSION)|g' -e 's|@config_to_prefix@|../../..|g'

install: $(LIB) $(ENGINE_LIB)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/ucw-asio $(DESTDIR)$(PREFIX)/include/ucw
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libucw-asio.so.1
	install -m 755 $(ENGINE_LIB) $(DESTDIR)$(PREFIX)/lib/libucw-asio-go.so.1
	ln -sf libucw-asio.so.1 $(DESTDIR)$(PREFIX)/lib/libucw-asio.so
	install -m 644 include/ucw/asio.h $(DESTDIR)$(PREFIX)/include/ucw/asio.h
	$(INSTALL_SUBST) packaging/ucw-asio.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/ucw-asio.pc
	$(INSTALL_SUBST) packaging/ucw-asioConfig.cmake.in >$(DESTDIR)$(PREFIX)/lib/cmake/ucw-asio/ucw-asioConfig.cmake
	$(INSTALL_SUBST) packaging/ucw-asioConfigVersion.cmake.in \
	  >$(DESTDIR)$(PREFIX)/lib/cmake/ucw-asio/ucw-asioConfigVersion.cmake
	chmod 644 $(DESTDIR)$(PREFIX)/lib/pkgconfig/ucw-asio.pc $(DESTDIR)$(PREFIX)/lib/cmake/ucw-asio/*.cmake

clean:
	rm -rf $(BUILD)

include bench/bench.mk
