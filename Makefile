# lua-stt build. `make` builds the C core for Lua 5.4; `make LUA=luajit` for LuaJIT 2.1 (OpenResty).
LUA       ?= lua5.4
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
SANITIZE  ?=

# The Debian packages the project needs, in one place (`make deps` installs them).
DEB_PACKAGES = gcc make pkg-config lua5.4 liblua5.4-dev lua-cjson lua-busted lua-check \
               libcurl4-openssl-dev nginx libnginx-mod-http-lua libluajit2-5.1-dev luajit2 \
               ffmpeg espeak-ng luarocks openssl curl valgrind libxml2-utils bsdutils \
               clang libclang-rt-14-dev wrk lua-dkjson lua-argparse libssl-dev time \
               redis-server libhiredis-dev chromium fonts-noto-cjk python3

ifeq ($(LUA),luajit)
  LUA_INC     ?= $(shell pkg-config --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
  LUA_BIN     ?= luajit
  LUA_ABI     = 5.1
  BUILD       = build/luajit
else
  LUA_INC     ?= $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
  LUA_BIN     ?= lua5.4
  LUA_ABI     = 5.4
  BUILD       = build/lua5.4
endif

CURL_CFLAGS ?= $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   ?= $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
# OpenSSL's libcrypto: SHA-256 and HMAC (digests of uploads, AWS SigV4 signing)
CRYPTO_LIBS ?= $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
# hiredis: the Redis client (csrc/redis.c, over its async API in the engine's event loop)
HIREDIS_LIBS ?= $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
WARN        = -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(SANITIZE),1)
  OPT       = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow \
              -fno-sanitize-recover=undefined,float-cast-overflow
else
  OPT       ?= -O2 -g
endif
CFLAGS_ALL  = $(WARN) $(OPT) -fPIC -D_POSIX_C_SOURCE=200809L $(LUA_INC) $(CURL_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = -shared $(OPT) $(LDFLAGS)

SRCS   = $(wildcard csrc/*.c) $(wildcard csrc/providers/*.c)
HDRS   = $(wildcard csrc/*.h) $(wildcard csrc/providers/*.h)
OBJS   = $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
CORE   = $(BUILD)/stt/core.so
LUA_SRCS = $(shell find lua -name '*.lua')

INST_LUADIR = $(DESTDIR)$(PREFIX)/share/lua/$(LUA_ABI)
INST_LIBDIR = $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_ABI)
INST_BINDIR = $(DESTDIR)$(PREFIX)/bin

.PHONY: all test unit portable-test docs demo sim sim-stop check install install-modules rock rock-install clean deps sanitize-test valgrind-test luajit bench soak readme fuzz
all: $(CORE)

$(BUILD)/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(CORE): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(OBJS) $(CURL_LIBS) $(CRYPTO_LIBS) $(HIREDIS_LIBS)

# The whole test suite: builds the core for Lua 5.4, LuaJIT and the engine's portable path
# (curl_multi_perform + curl_multi_poll, used where there is no epoll; built on Linux with
# STT_NO_EPOLL), then spec/run-suite runs every pass against a fresh simulator each, and ends with
# one total over all of them (a failing pass does not stop the others).
test: $(CORE)
	$(MAKE) --no-print-directory LUA=luajit all
	$(MAKE) --no-print-directory BUILD=build/portable CFLAGS=-DSTT_NO_EPOLL all
	spec/run-suite

# The pure specs (spec/unit/: the C core, every wire schema, subtitles, hot words, option tables,
# the capability table, docs/api.md): no simulator, no nginx, a few seconds. The rockspec's test
# (`luarocks test`) runs this tier; `make test` runs it too, with everything else.
unit: $(CORE)
	STT_CPATH='$(BUILD)/?.so' $(LUA_BIN) /usr/bin/busted spec/unit

# The engine and client specs on the portable path only.
portable-test:
	$(MAKE) --no-print-directory BUILD=build/portable CFLAGS=-DSTT_NO_EPOLL all
	STT_CPATH='build/portable/?.so' STT_LABEL=portable spec/run-tests spec/engine_spec.lua spec/dashscope_spec.lua

# Refresh the generated documents that are committed, on purpose (a test run writes build/ only):
# the fault matrices (docs/fault-matrix.md, docs/fault-matrix-redis.md) and README's provider table.
docs: $(CORE)
	STT_DOCS_DIR=docs spec/run-tests spec/fault_matrix_spec.lua spec/redis_faults_spec.lua
	$(MAKE) --no-print-directory readme

# The whole suite with the core built under AddressSanitizer + UBSan (memory errors and undefined
# behaviour abort the run). Leaks are checked by valgrind below: LeakSanitizer's ptrace-based
# tracer crashes now and then on this platform at exit, which would make CI flaky.
sanitize-test:
	$(MAKE) --no-print-directory SANITIZE=1 BUILD=build/asan all
	STT_CPATH='build/asan/?.so' STT_PRELOAD="$$($(CC) -print-file-name=libasan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 STT_LABEL=asan spec/run-tests

# The C-heavy specs under valgrind memcheck: any invalid access or a definite/indirect leak fails.
# busted closes the Lua state at exit, so every engine and arena has been collected by then.
VALGRIND_SPECS = spec/unit/core_spec.lua spec/unit/dashscope_schema_spec.lua spec/unit/volcengine_schema_spec.lua \
  spec/unit/volcengine_auc_schema_spec.lua spec/unit/turing_schema_spec.lua spec/unit/capabilities_spec.lua \
  spec/engine_spec.lua spec/dashscope_spec.lua spec/vocabulary_spec.lua spec/redis_engine_spec.lua \
  spec/unit/score_spec.lua
valgrind-test: $(CORE)
	STT_LABEL=valgrind STT_LUA="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --show-leak-kinds=definite,indirect --error-exitcode=99 lua5.4" spec/run-tests $(VALGRIND_SPECS)

# libFuzzer targets (spec/fuzz/*.c) over the pure C sources: the JSON parser/writer, every
# provider's build and parse (response headers included, Retry-After among them), the SigV4
# signer and the scorer's units and aligner. Each runs
# FUZZ_SECONDS on a copy of its committed seed corpus
# (spec/fuzz/corpus/<target>/; new inputs land in build/fuzz/corpus/), with the dictionary
# spec/fuzz/<target>.dict when there is one. Any crash, leak, sanitizer report or violated
# invariant fails; the input that did it is saved as build/fuzz/artifacts/<target>-*.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 16384
FUZZ_FLAGS    = $(WARN) -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all -D_POSIX_C_SOURCE=200809L -Icsrc
FUZZ_SRCS     = csrc/buf.c csrc/json.c csrc/providers.c csrc/digest.c csrc/sigv4.c csrc/score.c $(wildcard csrc/providers/*.c)
FUZZ_OBJS     = $(patsubst csrc/%.c,build/fuzz/obj/%.o,$(FUZZ_SRCS))
FUZZ_TARGETS  = $(patsubst spec/fuzz/%.c,%,$(wildcard spec/fuzz/*.c))
FUZZ_BINS     = $(patsubst %,build/fuzz/bin/%,$(FUZZ_TARGETS))

build/fuzz/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FUZZ_BINS): build/fuzz/bin/%: spec/fuzz/%.c spec/fuzz/fuzz.h $(FUZZ_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJS) $(CRYPTO_LIBS)

fuzz: $(FUZZ_BINS)
	@mkdir -p build/fuzz/artifacts; \
	for t in $(FUZZ_TARGETS); do \
	  rm -rf build/fuzz/corpus/$$t && mkdir -p build/fuzz/corpus/$$t && \
	  cp spec/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/ || exit 1; \
	  dict=; if [ -f spec/fuzz/$$t.dict ]; then dict=-dict=spec/fuzz/$$t.dict; fi; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: build/fuzz/$$t.log)"; \
	  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    build/fuzz/bin/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -timeout=20 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/$$t- $$dict \
	    build/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant violated' build/fuzz/$$t.log; then \
	    tail -n 60 build/fuzz/$$t.log; echo "fuzz: $$t FAILED (exit $$rc; log: build/fuzz/$$t.log)"; exit 1; \
	  fi; \
	  grep -E 'DONE +cov:' build/fuzz/$$t.log | tail -n 1; \
	  grep -E 'stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' build/fuzz/$$t.log | tr '\n' ' '; echo; \
	done

demo: $(CORE)
	examples/demo

# The simulator for trying things by hand: `eval "$$(make -s sim)"` starts it (build/sim) and
# sets the keys, base URLs, sample media and Lua paths; `make sim-stop` stops it.
sim: $(CORE)
	@examples/sim start

sim-stop:
	@examples/sim stop

# The benchmarks (spec/bench/, not part of the tests): throughput against Node and wrk, memory with
# 10,000 jobs in flight, the polling schedule against the DashScope SDK's, parse + SRT against
# pure Lua. Each prints a table; BENCH_RUNS (default 3) runs per figure, the median is shown.
bench: $(CORE)
	spec/bench/run

# The soak (bench 5): 100,000 zero-delay jobs in one process, RSS after every 10,000 (SOAK_JOBS=N).
soak: $(CORE)
	BENCH_ONLY=5 spec/bench/run

# Rewrites the provider table in README.md (between the providers:begin/end markers) from the
# capability table the schemas carry; spec/unit/capabilities_spec.lua fails when the two disagree.
readme: $(CORE)
	$(LUA_BIN) -e 'package.path = "lua/?.lua;" .. package.path; package.cpath = "$(BUILD)/?.so;" .. package.cpath; assert(require("stt.capabilities").write_readme("README.md"))'

check:
	luacheck lua spec examples $(wildcard bin)
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory LUA=luajit all

install: $(CORE) install-modules
	install -d $(INST_BINDIR)
	install -m 755 bin/stt $(INST_BINDIR)/stt

# The Lua modules (every file under lua/, sub-packages included) and the core.
install-modules: $(CORE)
	cd lua && find stt -name '*.lua' | while read -r f; do install -D -m 644 "$$f" "$(INST_LUADIR)/$$f" || exit 1; done
	install -D -m 755 $(CORE) $(INST_LIBDIR)/stt/core.so

# luarocks (lua-stt-scm-1.rockspec, build type "make") runs `make rock LUA_INCDIR=...`, then
# `make rock-install INST_LUADIR=... INST_LIBDIR=...` (it installs bin/stt itself). The build stays
# under build/rock/, never beside the sources, and a Lua the core does not support is refused
# with a message: Debian's luarocks builds for Lua 5.1 unless given --lua-version=5.4.
rock:
	@if [ ! -f "$(LUA_INCDIR)/lua.h" ]; then echo "lua-stt: no lua.h in '$(LUA_INCDIR)'" >&2; exit 1; fi
	@if ! grep -Eq '^#define[[:space:]]+LUA_VERSION_NUM[[:space:]]+504' "$(LUA_INCDIR)/lua.h" \
	   && [ ! -f "$(LUA_INCDIR)/luajit.h" ]; then \
	  echo "lua-stt needs Lua 5.4 or LuaJIT 2.1, but luarocks is building for the Lua in $(LUA_INCDIR)" \
	    "($$(sed -n 's/^#define[[:space:]]*LUA_RELEASE[[:space:]]*//p' "$(LUA_INCDIR)/lua.h" | tr -d '"'))." >&2; \
	  echo "Run: luarocks --lua-version=5.4 make   (Debian's luarocks defaults to Lua 5.1)" >&2; exit 1; \
	fi
	$(MAKE) --no-print-directory BUILD=build/rock LUA_INC=-I$(LUA_INCDIR) all

rock-install:
	$(MAKE) --no-print-directory BUILD=build/rock LUA_INC=-I$(LUA_INCDIR) install-modules

# Everything a build leaves: build/, and what an older `luarocks make` (builtin type) left beside
# the sources (stt/core.so would shadow build/ for a lua started in the checkout).
clean:
	rm -rf build stt/core.so
	find csrc -name '*.o' -delete
	-rmdir stt 2>/dev/null

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	  echo "deps: missing packages; run as root:"; echo "  apt-get install -y" $$missing; exit 1; \
	fi
