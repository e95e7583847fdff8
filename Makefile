# Two commands do all set-up on a fresh clone: `make train` and `make test`.
SWIFT ?= swift
# Extra flags for the default training run, e.g. make train ARGS="--data my.csv --threads 16"
ARGS ?=

.PHONY: deps mpi-deps build train test bench clean onnx-proto fuzz fuzz-build-c fuzz-build-swift test-sanitize test-asan test-tsan

# LLVM's OpenMP runtime and header (Debian's libomp-dev): installed when missing and we are root.
# Package.swift looks for it, and SwiftPM keeps both that look's result (its manifest cache) and the
# build plan made from it (.build/*.yaml), so after installing we drop both: otherwise an earlier
# `swift build` in this clone would go on building without OpenMP.
SWIFTPM_MANIFEST_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/org.swift.swiftpm/manifests
deps:
	@if ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing libomp-dev (LLVM's OpenMP) with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libomp-dev >/dev/null; \
	    rm -rf .build/*.yaml "$(SWIFTPM_MANIFEST_CACHE)"; \
	  else \
	    echo "error: LLVM's OpenMP is missing. Install it with: sudo apt-get install libomp-dev" >&2; exit 1; \
	  fi; \
	fi

# Open MPI (Debian's openmpi-bin, libopenmpi-dev) for the multi-process tests (MPITests): train opens
# it at run time only with --distributed mpi, so building and single-process training do not need it.
mpi-deps:
	@if ! command -v mpirun >/dev/null 2>&1 || ! ls /usr/lib/*/libmpi.so.40 >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing openmpi-bin and libopenmpi-dev (Open MPI) with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin libopenmpi-dev >/dev/null; \
	  else \
	    echo "error: Open MPI is missing. Install it with: sudo apt-get install openmpi-bin libopenmpi-dev" >&2; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build -c release

train: build
	.build/release/train $(ARGS)

test: deps mpi-deps
	$(SWIFT) test

bench: build
	.build/release/bench

# Regenerates Sources/ONNXProto/onnx.pb.swift from the official onnx.proto (Sources/ONNXProto/README.md).
onnx-proto:
	Sources/ONNXProto/regenerate.sh

# Fuzzing (README, "What the trainer guarantees"): libFuzzer with AddressSanitizer (and UBSan for the
# C target) from the Swift toolchain's clang. `make fuzz FUZZ_SECONDS=600` fuzzes each target 10 min;
# FUZZ_TARGETS=csv builds and runs only the C target (its build takes under a minute, the Swift
# targets' about ten on a busy 2-core machine).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= csv checkpoint metadata activation
TOOLCHAIN_BIN := $(dir $(realpath $(shell command -v $(SWIFT))))
FUZZ_SANITIZERS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

fuzz-build-c: deps
	@mkdir -p .build/fuzz
	$(TOOLCHAIN_BIN)clang -std=gnu11 -O1 -g -fuse-ld=lld $(FUZZ_SANITIZERS) -ICKernels/include -ICKernels \
	  Fuzz/csv_fuzz.c CKernels/csv.c CKernels/csv_chunks.c CKernels/csv_table.c CKernels/value_table.c CKernels/parse_float.c \
	  CKernels/csv_format.c CKernels/dispatch.c CKernels/cleanup.c -lm -o .build/fuzz/csv

fuzz-build-swift: deps
	@mkdir -p .build/fuzz
	$(SWIFT) build --package-path Fuzz --scratch-path .build/fuzz-swift --sanitize=fuzzer --sanitize=address
	cp .build/fuzz-swift/debug/FuzzCheckpoint .build/fuzz/checkpoint
	cp .build/fuzz-swift/debug/FuzzMetadata .build/fuzz/metadata
	cp .build/fuzz-swift/debug/FuzzActivation .build/fuzz/activation

fuzz: $(if $(filter csv,$(FUZZ_TARGETS)),fuzz-build-c) $(if $(filter-out csv,$(FUZZ_TARGETS)),fuzz-build-swift)
	Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Sanitizers (README, "What the trainer guarantees"), each in its own build directory. The whole
# suite under AddressSanitizer, with LeakSanitizer: Sanitizers/lsan.supp names the leaks that are not
# ours (each with why). The data-parallel tests under ThreadSanitizer: the worker pool's steps, the
# shard tree, the fused blocks, the OpenMP CSV passes and the MPI jobs (whose train processes are
# built with ThreadSanitizer too). LLVM's OpenMP runtime is not instrumented; its OMPT tool Archer
# (libarcher.so, in libomp-dev) tells ThreadSanitizer about its barriers and tasks, so OpenMP regions
# are checked without false reports (Sanitizers/tsan.supp has the rest, each with why).
SANITIZERS := $(CURDIR)/Sanitizers
ARCHER := $(firstword $(wildcard /usr/lib/llvm-*/lib/libarcher.so))
TSAN_TESTS ?= DeterminismTests|ShardTreeTests|NarrowBlockTests|WorkerCountTests|CSVTests|TabularCSVTests|MPITests

test-asan: deps mpi-deps
	LSAN_OPTIONS=suppressions=$(SANITIZERS)/lsan.supp:print_suppressions=0 ASAN_OPTIONS=fast_unwind_on_malloc=0 \
	  OMPI_MCA_mca_base_component_disable_dlclose=1 \
	  $(SWIFT) test --scratch-path .build/asan --sanitize=address

test-tsan: deps mpi-deps
	OMP_TOOL_LIBRARIES=$(ARCHER) TSAN_OPTIONS=suppressions=$(SANITIZERS)/tsan.supp:ignore_noninstrumented_modules=1 \
	  $(SWIFT) test --scratch-path .build/tsan --sanitize=thread --filter '$(TSAN_TESTS)'

test-sanitize: test-asan test-tsan

clean:
	rm -rf .build
