# LEBEN — build, run, test and benchmark.
#
#   make            install missing Debian packages, build build/leben
#   make run        build, create a demo node home (once) and start a single node
#   make check      build everything and run every test; ends with "N passed, N failed"
#   make bench      ledger and node benchmark (figures in docs/performance.md)
#   make bench-soak a node under steady load for 10 minutes, its memory sampled (SOAK_SECONDS)
#   make bench-X    benchmark of module X (knowledge, data, crypto, ...)
#   make fuzz       run every fuzz harness for FUZZ_SECONDS (default 60) each
#   make privacy    the privacy attack suite (one node and a 3-node consortium): the table of
#                   values each attack recovers (tests/privacy/README.md)
#   make ed25519-differential  Ed25519 batch vs single verification over ED25519_SIGS signatures
#                   (default 2,000,000; docs/security.md §9)
#   make crash-test kill -9 a node 20 times under load on the three chains, count accepted txs lost
#                   (CRASH_CYCLES=N; make check runs it too; docs/performance.md)
#   make fault      consortium fault suite (kill -9, SIGSTOP, no etcd quorum, damaged block, partition; docs/consortium.md)
#   make clean      remove build/
#
# Options (make VAR=value):
#   SANITIZE=1       build with AddressSanitizer + UBSan (-fno-sanitize-recover) into build/asan
#   WERROR=1         treat warnings as errors (CI sets it)
#   FUZZ_SECONDS=N   seconds per fuzz harness (make check uses CHECK_FUZZ_SECONDS, default 8)
#   HOME_DIR=DIR     node home for make run (default .leben-demo)
#   PORT=N           API port for make run (default: the home's config.json, 7800 when new)
#   DEPS=0           do not run scripts/deps.sh
#   WEB=0            build leben without the web app (it then answers / with a note; docs/web.md)

CC       ?= cc
FUZZCC   ?= clang
PKGS     := libsodium sqlite3 libmicrohttpd gnutls jansson libcurl openssl gmp lua5.4 libseccomp libpng libjpeg zlib
PKGS     += libmagic
# poppler is loaded with dlopen when a PDF is read (src/data/pdf.c): its headers only
DLPKGS   := poppler-glib
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wno-unused-parameter
CSTD     := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
OPT      ?= -O2 -g
ifeq ($(WERROR),1)
WARN     += -Werror
endif
DEPS     ?= 1

ifeq ($(SANITIZE),1)
B        := build/asan
OPT      := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
else
B        := build
SANFLAGS :=
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DLPKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS_ALL := $(CSTD) $(OPT) $(WARN) $(SANFLAGS) -Iinclude -Isrc $(PKG_CFLAGS) -pthread -MMD -MP
LIBS       := $(PKG_LIBS) -lm -pthread

SRCS      := $(sort $(wildcard src/*/*.c))
OBJS      := $(SRCS:%.c=$(B)/obj/%.o)
CLI_SRCS  := $(sort $(wildcard cli/*.c))
CLI_OBJS  := $(CLI_SRCS:%.c=$(B)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
BENCH_SRCS:= $(sort $(wildcard bench/bench_*.c))
BENCH_BINS:= $(BENCH_SRCS:bench/%.c=$(B)/bench/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJS := $(SRCS:%.c=build/fuzz/obj/%.o)
FUZZFLAGS := $(CSTD) -O1 -g -Iinclude -Isrc $(PKG_CFLAGS) -pthread \
             -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

.PHONY: all deps run check unit fuzz-build fuzz bench fault privacy clean web ed25519-differential crash-test
.DEFAULT_GOAL := all

all: deps $(B)/leben

deps:
ifeq ($(DEPS),1)
	@scripts/deps.sh
endif

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libleben.a: $(OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The web app (web/, docs/web.md): npm ci from web/package-lock.json, vite build into
# build/web/dist, then embedded in build/leben by a generated table (web/scripts/embed.mjs).
WEB      ?= 1
ifeq ($(WEB),1)
WEB_SRCS := $(shell find web/src web/index.html web/vite.config.js web/scripts -type f 2>/dev/null)
WEB_OBJS := $(B)/obj/web/web_assets.o $(B)/obj/web/web_data.o
endif

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund --prefer-offline
	@touch $@

build/web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRCS)
	cd web && npx vite build --logLevel warn --outDir ../build/web/dist --emptyOutDir

build/web/gen/web_assets.c: build/web/dist/index.html web/scripts/embed.mjs
	node web/scripts/embed.mjs build/web/dist build/web/gen/web_assets

$(B)/obj/web/web_assets.o: build/web/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/obj/web/web_data.o: build/web/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) -c build/web/gen/web_assets.S -o $@

web: $(WEB_OBJS)

# switching WEB relinks build/leben
$(B)/.web-$(WEB):
	@mkdir -p $(B) && rm -f $(B)/.web-* && touch $@

$(B)/leben: $(CLI_OBJS) $(WEB_OBJS) $(B)/libleben.a $(B)/.web-$(WEB)
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJS) $(WEB_OBJS) $(B)/libleben.a $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libleben.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(B)/libleben.a $(LIBS) -lcmocka

$(B)/bench/%: bench/%.c $(B)/libleben.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libleben.a $(LIBS)

unit: $(UNIT_BINS)

# LEBEN's side of the PROformajs differential test (tests/integration/test_knowledge_diff)
$(B)/tests/proforma_trace: tests/oracles/proforma_trace.c $(B)/libleben.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libleben.a $(LIBS)
unit: $(B)/tests/proforma_trace

# LEBEN's side of the BLS12-381 differential test (tests/integration/test_crypto_bls12_381)
$(B)/tests/bls12_381_diff: tests/oracles/bls12_381_diff.c $(B)/libleben.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libleben.a $(LIBS)
unit: $(B)/tests/bls12_381_diff

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZFLAGS) -MMD -MP -c $< -o $@

build/fuzz/libleben.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libleben.a
	$(FUZZCC) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libleben.a $(LIBS)

# make ed25519-differential: Ed25519 batch verification against libsodium's single verification
# over ED25519_SIGS random valid and malformed signatures (default 2,000,000; make check runs
# 150,000 of them)
ed25519-differential: $(B)/tests/test_crypto_ed25519_batch
	ED25519_BATCH_SIGS=$${ED25519_SIGS:-2000000} $(B)/tests/test_crypto_ed25519_batch

fuzz-build: $(FUZZ_BINS)

# Everything `make check` runs: normal build, sanitizer build, fuzzers, then the suite
# (scripts/check.sh: several programs at a time, CHECK_JOBS). The builds run nproc jobs at a
# time unless make was given -j.
CHECK_MAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))
check:
ifeq ($(DEPS),1)
	@scripts/deps.sh --test
endif
	@$(CHECK_MAKE) DEPS=0 all unit $(BENCH_BINS)
	@$(CHECK_MAKE) DEPS=0 SANITIZE=1 unit
	@$(CHECK_MAKE) DEPS=0 fuzz-build
	@scripts/check.sh

FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	@FUZZ_ONLY=1 CHECK_FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/check.sh

HOME_DIR ?= .leben-demo
PORT     ?=
run: all
	@scripts/run.sh $(B)/leben $(HOME_DIR) $(PORT)

bench: all $(BENCH_BINS)
	@scripts/bench.sh

# make bench-knowledge, bench-data, bench-crypto, ...: runs build/bench/bench_<name>
bench-%: all $(BENCH_BINS)
	@if [ -x scripts/bench-$*.sh ]; then scripts/bench-$*.sh; else $(B)/bench/bench_$*; fi

# The consortium fault suite: a real 3-member cluster per scenario (FAULT="NAME ..." to pick).
fault: all $(B)/bench/bench_cluster
	@tests/fault/fault_cluster.py $(FAULT)

# Accepted means durable: kill -9 cycles of a node under load on all three chains, accepted txs
# lost counted and printed (tests/integration/test_node_crash.py, also run by make check).
crash-test: all
	@CRASH_CYCLES=$${CRASH_CYCLES:-20} LEBEN_BIN=$(CURDIR)/$(B)/leben \
		tests/integration/test_node_crash.py

# The privacy attack suite (issue 11): every attack family against a real node and a real
# three-node consortium; prints family | attack | scope | values recovered | verdict.
privacy: all
	@LEBEN_BIN=$(CURDIR)/$(B)/leben LEBEN_ROOT=$(CURDIR) tests/privacy/run --table

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_BINS:=.d)
-include $(FUZZ_OBJS:.o=.d)
