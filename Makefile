# ucw-asio: libucw's asynchronous I/O on a Go engine, as a C shared library.
#
#   make          build build/libucw-asio.so (SONAME libucw-asio.so.1)
#   make demo     build it and run the demo: an O_DIRECT copy of 256 MiB, verified, with MB/s
#   make test     go vet, go test -race, then the C suite with CMake and ctest
#   make install  PREFIX=/usr/local (DESTDIR honoured): the library, its header, ucw-asio.pc and
#                 the CMake package (find_package(ucw-asio) -> target ucw-asio::ucw-asio)
#   make bench    the benchmark suite against plain syscalls, liburing and POSIX AIO (bench/bench.mk);
#                 make bench-quick: the same in under a minute
#   make clean

GO      ?= go
BUILD   ?= build
CC      ?= cc
DEMO_MIB ?= 256

GO_SOURCES := go.mod go.sum $(wildcard capi/*.go capi/*.c capi/*.h capi/*.map engine/*.go workqueue/*.go) include/ucw/asio.h scripts/build-lib.sh
LIB := $(BUILD)/libucw-asio.so.1

.PHONY: all demo test gotest ctest cmake-dep clean install

all: $(LIB)

$(LIB): $(GO_SOURCES)
	scripts/build-lib.sh $(BUILD)

$(BUILD)/direct_copy: examples/direct_copy.c include/ucw/asio.h $(LIB)
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -Iinclude $< -L$(BUILD) -lucw-asio -Wl,-rpath,'$$ORIGIN' -o $@

demo: $(BUILD)/direct_copy
	$(BUILD)/direct_copy $(DEMO_MIB) $(BUILD)

test: gotest ctest

gotest:
	@test -z "$$(gofmt -l capi engine workqueue)" || { echo "gofmt would change: $$(gofmt -l capi engine workqueue)"; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 ./engine/... ./workqueue/...

ctest: cmake-dep
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD)/cmake -j2
	cd $(BUILD)/cmake && ctest --output-on-failure -j2

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

install: $(LIB)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/cmake/ucw-asio $(DESTDIR)$(PREFIX)/include/ucw
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libucw-asio.so.1
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
