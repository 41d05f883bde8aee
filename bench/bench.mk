# The benchmark suite (bench/), included by the top-level Makefile.
#
#   make bench                    the full suite (5 rounds, 1 GiB files): a Markdown report
#   make bench-quick              the same in under a minute (64 MiB files, short runs)
#   make bench BENCH_ARGS='--rounds 7 --only pingpong,stream'
#   BENCH_DIR=/mnt/disk make bench   where the data files go (a real disk; default build/bench-data)
#   make bench-build              only build the programs into build/bench/
#
# bench-floor is the design's floor: bench-ucw's program on a copy of the public
# library (libucw-asio.so.1) that loads, from build/bench/floor/, an engine doing
# nothing but the system call (bench/floor/, its own Go module, built only here).
# bench-uring-fixed is bench-uring with registered buffers (sys_uring.c with -DURING_FIXED).

BENCH_BIN    := $(BUILD)/bench
BENCH_DIR    ?= $(BUILD)/bench-data
BENCH_ARGS   ?=
BENCH_CFLAGS := -std=gnu99 -O2 -Wall -Wextra -Werror -Iinclude -pthread
BENCH_COMMON := bench/main.c bench/common.c
BENCH_DEPS   := $(BENCH_COMMON) bench/common.h bench/sys.h
BENCH_PROGS  := $(addprefix $(BENCH_BIN)/,bench-ucw bench-floor bench-plain bench-uring bench-uring-fixed bench-aio tiny driver)
FLOOR_DIR    := $(BENCH_BIN)/floor
BENCH_RUN     = $(BENCH_BIN)/driver --bin $(BENCH_BIN) --lib $(BUILD)/libucw-asio.so --dir $(BENCH_DIR)

.PHONY: bench bench-quick bench-build uring-dep

bench: bench-build
	@$(BENCH_RUN) $(BENCH_ARGS)

bench-quick: bench-build
	@$(BENCH_RUN) --quick $(BENCH_ARGS)

bench-build: $(BENCH_PROGS)

$(BENCH_BIN):
	mkdir -p $@

$(BENCH_BIN)/bench-ucw: $(BENCH_DEPS) bench/sys_ucw.c include/ucw/asio.h $(LIB) | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_COMMON) bench/sys_ucw.c -L$(BUILD) -lucw-asio -Wl,-rpath,'$$ORIGIN/..' -o $@

# The floor: the same program and public library, the floor engine beside that
# library's copy (the library loads libucw-asio-go.so.1 from its own directory).
$(BENCH_BIN)/bench-floor: $(BENCH_DEPS) bench/sys_ucw.c include/ucw/asio.h $(LIB) \
		$(FLOOR_DIR)/libucw-asio.so.1 $(FLOOR_DIR)/libucw-asio-go.so.1 | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) -DBENCH_FLOOR $(BENCH_COMMON) bench/sys_ucw.c -L$(BUILD) -lucw-asio \
	  -Wl,-rpath,'$$ORIGIN/floor' -o $@

$(FLOOR_DIR):
	mkdir -p $@

$(FLOOR_DIR)/libucw-asio.so.1: $(LIB) | $(FLOOR_DIR)
	cp $(LIB) $@

$(FLOOR_DIR)/libucw-asio-go.so.1: bench/floor/floor.go bench/floor/set_die.c bench/floor/go.mod capi/goasio.h \
		capi/goasio.map include/ucw/asio.h | $(FLOOR_DIR)
	cd bench/floor && $(GO) build -buildmode=c-shared -trimpath \
	  -ldflags "-extldflags '-Wl,-soname,libucw-asio-go.so.1 -Wl,--version-script=$(abspath capi/goasio.map)'" \
	  -o $(abspath $@) .
	rm -f $(FLOOR_DIR)/libucw-asio-go.so.h $(FLOOR_DIR)/libucw-asio-go.h

$(BENCH_BIN)/bench-plain: $(BENCH_DEPS) bench/sys_plain.c | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_COMMON) bench/sys_plain.c -o $@

$(BENCH_BIN)/bench-uring: $(BENCH_DEPS) bench/sys_uring.c | $(BENCH_BIN) uring-dep
	$(CC) $(BENCH_CFLAGS) $(BENCH_COMMON) bench/sys_uring.c -luring -o $@

# The same peer with registered buffers (READ_FIXED / WRITE_FIXED).
$(BENCH_BIN)/bench-uring-fixed: $(BENCH_DEPS) bench/sys_uring.c | $(BENCH_BIN) uring-dep
	$(CC) $(BENCH_CFLAGS) -DURING_FIXED $(BENCH_COMMON) bench/sys_uring.c -luring -o $@

$(BENCH_BIN)/bench-aio: $(BENCH_DEPS) bench/sys_aio.c | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $(BENCH_COMMON) bench/sys_aio.c -lrt -o $@

$(BENCH_BIN)/tiny: bench/tiny.c | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) $< -o $@

$(BENCH_BIN)/driver: bench/driver.c bench/common.c bench/common.h | $(BENCH_BIN)
	$(CC) $(BENCH_CFLAGS) bench/driver.c bench/common.c -o $@

# liburing's headers are the one thing the peers need beyond gcc and glibc.
uring-dep:
	@test -f /usr/include/liburing.h || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing liburing-dev with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liburing-dev >/dev/null; \
	  else \
	    echo "liburing-dev is needed for the benchmark: sudo apt-get install -y liburing-dev"; exit 1; \
	  fi; }
