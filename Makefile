# SPDX-License-Identifier: MIT
# A thin wrapper: Meson does the real work in build/ (and build-asan/).
BUILD ?= build
MESON ?= meson

.PHONY: all test unit e2e asan clean deps demo bench fuzz

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

unit: all
	$(MESON) test -C $(BUILD) --suite unit --print-errorlogs

e2e: all
	/usr/bin/python3 -m pytest -q tests/e2e

# Unit tests and end-to-end tests against the ASan/UBSan build.
asan:
	[ -f build-asan/build.ninja ] || $(MESON) setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MESON) test -C build-asan --suite unit --print-errorlogs
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		VIGIA=$(CURDIR)/build-asan/vigia /usr/bin/python3 -m pytest -q tests/e2e

test:
	scripts/test.sh

# Every libFuzzer target for FUZZ_SECONDS (default 300) each, one at a time,
# at low priority; FUZZ_RUNS=N runs N executions each instead, FUZZ_TARGETS
# picks targets. docs/fuzzing.md lists them and what they survived.
FUZZ_SECONDS ?= 300
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) nice -n 15 tests/fuzz/run.sh

deps:
	scripts/deps.sh

demo:
	scripts/deps.sh
	$(MAKE) all
	./$(BUILD)/vigia demo

bench: all
	bench/scan_loopback.sh

clean:
	rm -rf $(BUILD) build-asan
