# ucw-asio: libucw's asynchronous I/O on a Go engine, as a C shared library.
#
#   make          build build/libucw-asio.so (SONAME libucw-asio.so.1)
#   make demo     build it and run the demo: an O_DIRECT copy of 256 MiB, verified, with MB/s
#   make test     go vet, go test -race, then the C suite with CMake and ctest
#   make clean

GO      ?= go
BUILD   ?= build
CC      ?= cc
DEMO_MIB ?= 256

GO_SOURCES := go.mod go.sum $(wildcard capi/*.go capi/*.map engine/*.go workqueue/*.go) include/ucw/asio.h scripts/build-lib.sh
LIB := $(BUILD)/libucw-asio.so.1

.PHONY: all demo test gotest ctest cmake-dep clean

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

# CMake is the one tool a fresh Debian machine with Go and gcc lacks.
cmake-dep:
	@command -v cmake >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing cmake with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null; \
	  else \
	    echo "cmake is needed for the C tests: sudo apt-get install -y cmake"; exit 1; \
	  fi; }

clean:
	rm -rf $(BUILD)
