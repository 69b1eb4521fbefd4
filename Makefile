# Thin wrapper over CMake. `make demo` and `make test` are the two commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
PACKAGES = cmake pkg-config liblua5.4-dev lua5.4 libuv1-dev libsqlite3-dev sqlite3 \
           libcurl4-openssl-dev libssl-dev libmicrohttpd-dev lua-busted lua-cjson tzdata curl \
           python3 openssl libjemalloc-dev dpkg-dev valgrind
JOBS ?= $(shell nproc)
MAKEFLAGS += --no-print-directory # (no "Entering directory" lines from the build)

PREFIX ?= /usr/local

.PHONY: all deps build demo test install asan crash fuzz bench clean

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Lua for the binary is built once with profile feedback (tools/lua_pgo.sh,
# from Debian's source package, trained through drip_host.so); without the
# network for that, Debian's own liblua5.4.a.
build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target drip_host_module
	@tools/lua_pgo.sh $(BUILD) || echo "drip links Debian's liblua5.4.a instead"
	@cmake -S . -B $(BUILD) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	./$(BUILD)/drip simulate --journeys scripts --events examples/events.jsonl

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# PREFIX/bin/drip, its Lua stdlib in PREFIX/share/drip, drip_host.so (for
# `drip test`) in PREFIX/lib/drip, a sample config and systemd unit in
# PREFIX/share/doc/drip/examples. DESTDIR stages it for a package.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# The C unit tests and the end-to-end tests again, built with ASan + UBSan.
asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DDRIP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -L sanitize

# The long crash tests: 100 kill -9 of `drip run` while 6,000 contacts stream in,
# and 100 while it delivers 6,000 webhooks.
crash: deps build
	tests/crash/crash.sh $(BUILD)/drip 100 6000
	tests/crash/deliver_crash.sh $(BUILD)/drip 100 3000

# Fuzz the ingest path (tests/fuzz) with libFuzzer for FUZZ_SECONDS; findings land in $(FUZZ_BUILD).
fuzz: deps
	@dpkg -s clang libclang-rt-14-dev >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev)
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DDRIP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_ingest
	mkdir -p $(FUZZ_BUILD)/corpus
	cd $(FUZZ_BUILD) && ASAN_OPTIONS=detect_leaks=0 ./tests/fuzz_ingest -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=65536 corpus ../tests/fuzz/corpus

bench: deps build
	@dpkg -s wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	tests/bench/run.sh $(BUILD)
	tests/bench/serve.sh $(BUILD)
	tests/bench/deliver.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
