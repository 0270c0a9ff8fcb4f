# Rust reference plugins for Fluent Bit.
#   make plugins   stripped release .so files into target/plugins/ (in_gdummy.so, out_gstdout.so,
#                  in_gtail.so), each with its debug info in NAME.so.debug
#   make demo      plugins + C host, gdummy into gstdout for a few seconds
#   make test      every test (Rust, C host, sanitizers, bench smoke run)
#   make sanitize  the SDK's lifetime and boundary tests under ThreadSanitizer and AddressSanitizer, and
#                  the worker test plugin, gdummy -> gstdout (4 workers) and gtail under rotation with
#                  pause/resume through a ThreadSanitizer flb-host (c-host/tsan/run.sh)
#   make fuzz      each libFuzzer target of fuzz/ (nightly) for FUZZ_SECONDS (60) on a copy of its seed
#                  corpus, stopping at the first crash; FUZZ_TARGETS=decoder picks targets,
#                  FUZZ_SECONDS=600 is the long run (README "Fuzzing")
#   make miri      the SDK's host-free code (decoder, cursor, encoder, buffers, instance registry) under Miri
#                  (nightly's miri component; .ci/run runs it after make test where the toolchain has it)
#   make headers   regenerate include/flb_plugin.h with cbindgen (tools/gen-header; cargo test -p gen-header,
#                  part of make test, fails while the checked-in header is stale)
#   make bench     benchmarks: Rust against Go against C floor, and against native plugins inside the
#                  Fluent Bit FLUENT_BIT_BIN names (about 15 minutes, 25 with FLUENT_BIT_BIN; it prints
#                  its estimate first), rewrites README.md's benchmark section and bench/results/latest.*
#   make clean
CARGO ?= cargo
PLUGIN_DIR := target/plugins
TEST_PLUGIN_DIR := target/test-plugins
# package:library pairs; the .so is named after the library, as Fluent Bit users know them.
PLUGINS := in-gdummy:in_gdummy out-gstdout:out_gstdout in-gtail:in_gtail
TEST_PLUGINS := in-sdktest:in_sdktest out-sdktest:out_sdktest in-sdkworker:in_sdkworker

.PHONY: all plugins test-plugins host demo test headers bench bench-quick clean lint sanitize fuzz miri

all: plugins

-include c-host/host.mk

define copy_libs
	@mkdir -p $(2)
	@for p in $(1); do lib=$${p#*:}; cp target/release/lib$$lib.so $(2)/$$lib.so; echo "  $(2)/$$lib.so"; done
endef

# The plugins users install are stripped: debug info is about 90% of each release .so (5 MB of
# gdummy's 6). It goes to NAME.so.debug beside the .so, which names it in a .gnu_debuglink section
# (file name + CRC), so gdb, valgrind and perf load it when it lies next to the .so, in a .debug/
# directory there, or under /usr/lib/debug/ + the .so's directory. --strip-debug keeps the symbol
# table (about 130 KB): panic backtraces and profiles name functions even without the .debug file.
# The test plugins keep their debug info in place (copy_libs): sanitizer and valgrind reports.
OBJCOPY ?= objcopy
define copy_stripped
	@mkdir -p $(2)
	@for p in $(1); do lib=$${p#*:}; src=target/release/lib$$lib.so; dst=$(2)/$$lib.so; \
		rm -f $$dst $$dst.debug; \
		$(OBJCOPY) --only-keep-debug $$src $$dst.debug && \
		$(OBJCOPY) --strip-debug --add-gnu-debuglink=$$dst.debug $$src $$dst || exit 1; \
		echo "  $$dst ($$(du -k $$dst | cut -f1) KiB; debug info in $$lib.so.debug)"; done
endef

plugins:
	$(CARGO) build --release $(foreach p,$(PLUGINS),-p $(firstword $(subst :, ,$(p))))
	$(call copy_stripped,$(PLUGINS),$(PLUGIN_DIR))

test-plugins:
	$(CARGO) build --release $(foreach p,$(TEST_PLUGINS),-p $(firstword $(subst :, ,$(p))))
	$(call copy_libs,$(TEST_PLUGINS),$(TEST_PLUGIN_DIR))

host: $(FLB_HOST)

demo: plugins host
	$(FLB_HOST) -e $(PLUGIN_DIR)/in_gdummy.so -e $(PLUGIN_DIR)/out_gstdout.so \
		-i gdummy -p 'dummy={"message":"hello from Rust"}' -p rate=2 -t demo \
		-o gstdout -m '*' --duration 4

test: plugins test-plugins host
	plugins/check-exports.sh $(PLUGIN_DIR)/*.so $(TEST_PLUGIN_DIR)/*.so
	$(CARGO) test --workspace --profile ci
	$(MAKE) --no-print-directory sanitize
	$(CARGO) bench -p flb-bench --profile ci -- --test
	$(MAKE) --no-print-directory bench-quick

# Sanitizers need the nightly toolchain (-Z flags). std stays uninstrumented (no rust-src here for
# -Zbuild-std): the SDK announces its own lock hand-overs to TSan (--cfg flb_tsan, src/sync.rs) and
# plugins/sdk/tsan.supp names the std internals TSan cannot see into. One test at a time: the tests
# take turns on the fake host through a test-side std Mutex TSan cannot see; each stress test runs
# its own threads. Missing nightly fails in CI.
SAN_TARGET := $(shell rustc -vV | sed -n 's/^host: //p')
SAN_TESTS := -p flb-plugin-sdk --test lifetime --test boundary --test tsan_locks
# c-host/tsan/run.sh runs these through a ThreadSanitizer flb-host; one cargo invocation builds them
# all (they share the SDK and its dependencies).
TSAN_PLUGINS := in-sdkworker out-sdktest in-gdummy out-gstdout in-gtail
# TSan builds keep line tables only (reports still name file:line): full debug info made building
# gdummy, gstdout and gtail (SQLite, regex, encoding_rs) take half as long again (166 s against
# 111 s here on a cold target dir).
TSAN_ENV := CARGO_PROFILE_DEV_DEBUG=line-tables-only RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer --cfg flb_tsan"
sanitize:
	@if ! $(CARGO) +nightly --version >/dev/null 2>&1; then \
		if [ "$$CI" = true ]; then echo "FAIL sanitize: no nightly toolchain"; exit 1; fi; \
		echo "skipped: make sanitize needs the nightly toolchain (rustup toolchain install nightly)"; exit 0; fi; \
	$(TSAN_ENV) TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/plugins/sdk/tsan.supp" \
		$(CARGO) +nightly test $(SAN_TESTS) --target $(SAN_TARGET) --target-dir target/tsan -- --test-threads=1 && \
	$(TSAN_ENV) \
		$(CARGO) +nightly build $(foreach p,$(TSAN_PLUGINS),-p $(p)) --target $(SAN_TARGET) --target-dir target/tsan && \
	c-host/tsan/run.sh target/tsan/$(SAN_TARGET)/debug && \
	RUSTFLAGS="-Zsanitizer=address -Cunsafe-allow-abi-mismatch=sanitizer" \
	ASAN_OPTIONS="detect_leaks=1" \
		$(CARGO) +nightly test $(SAN_TESTS) --target $(SAN_TARGET) --target-dir target/asan -- --test-threads=1

# The flags cargo-fuzz passes (sanitizer coverage for libFuzzer, AddressSanitizer, debug assertions
# and overflow checks, --cfg fuzzing), built for an explicit --target so build scripts stay
# uninstrumented. std is not rebuilt with ASan (no rust-src here), hence the ABI-mismatch allowance,
# as in `make sanitize`. Each target runs on target/fuzz/corpus/<target> (new inputs land there;
# fuzz/corpus/ keeps the small checked-in seeds, fuzz/regressions/ the crashes found, both read
# too); a crash stops `make fuzz` with libFuzzer's report and the input in target/fuzz/artifacts/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= decoder gstdout_formats config_getters gdummy_json tail_lines tail_db_resume tail_multiline json_object
FUZZ_FLAGS ?=
FUZZ_DIR := $(CURDIR)/target/fuzz
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Zsanitizer=address \
	-Cunsafe-allow-abi-mismatch=sanitizer -Cdebug-assertions -Coverflow-checks
fuzz:
	@if ! $(CARGO) +nightly --version >/dev/null 2>&1; then \
		echo "make fuzz needs the nightly toolchain (rustup toolchain install nightly)"; exit 1; fi
	cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" $(CARGO) +nightly build --release --bins \
		--target $(SAN_TARGET) --target-dir $(FUZZ_DIR)/build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t fuzz/regressions/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		ASAN_OPTIONS=detect_leaks=1 $(FUZZ_DIR)/build/$(SAN_TARGET)/release/$$t \
			-max_total_time=$(FUZZ_SECONDS) -timeout=60 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ $(FUZZ_FLAGS) \
			$(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t fuzz/regressions/$$t || exit 1; \
	done

# Miri runs the SDK code that needs no host: the event decoder, cursor and encoder, the buffers
# handed to the host (MallocBuf, malloc/free), the instance registry's lock-free slots with threads,
# the config map. What calls into C (the fake host of the boundary and lifetime tests, the
# process_vm_readv read of instance tags) cannot run under Miri: the ASan, TSan and valgrind runs of
# flb-host and the SDK's sanitizer tests cover it. Isolation off: the tests read the clock. The
# every-prefix tests are skipped (quadratic: an hour interpreted; the native run has them), the
# property tests run 4 cases each, and codec_cursor (2 min interpreted; the cursor's unit tests are
# in --lib) and codec_roundtrip (64 KiB values: tens of minutes; the encoder's unit tests in --lib
# round-trip every type) are left to the native run: `make miri MIRI_EXTRA="--test codec_cursor"`
# adds one. Permissive provenance: the registry turns an instance key back into its pointer
# (exposed on purpose, see boundary/registry.rs).
MIRI_EXTRA ?=
MIRI_TESTS := -p flb-plugin-sdk --lib --test codec_garbage $(MIRI_EXTRA)
miri:
	@if ! $(CARGO) +nightly miri --version >/dev/null 2>&1; then \
		echo "skipped: make miri needs nightly's miri component (rustup component add miri --toolchain nightly)"; exit 0; fi; \
	MIRIFLAGS="-Zmiri-disable-isolation -Zmiri-permissive-provenance" $(CARGO) +nightly miri test $(MIRI_TESTS) --target-dir target/miri -- --skip every_prefix

headers:
	$(CARGO) run -q -p gen-header

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The estimate comes first, before anything is built; bench/run.py then says which files it rewrote.
bench:
	@python3 bench/run.py --estimate
	@$(MAKE) --no-print-directory plugins host
	python3 bench/run.py --no-estimate

bench-quick: plugins host
	python3 bench/run.py --quick

clean:
	$(CARGO) clean
	rm -rf bench/results/*.tmp
