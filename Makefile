# Two commands do all set-up on a fresh clone: `make train` and `make test`.
SWIFT ?= swift
# Extra flags for the default training run, e.g. make train ARGS="--data my.csv --threads 16"
ARGS ?=

.PHONY: deps build train test bench clean onnx-proto

# LLVM's OpenMP runtime and header (Debian's libomp-dev): installed when missing and we are root.
deps:
	@if ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing libomp-dev (LLVM's OpenMP) with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libomp-dev >/dev/null; \
	  else \
	    echo "error: LLVM's OpenMP is missing. Install it with: sudo apt-get install libomp-dev" >&2; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build -c release

train: build
	.build/release/train $(ARGS)

test: deps
	$(SWIFT) test

bench: build
	.build/release/bench

# Regenerates Sources/ONNXProto/onnx.pb.swift from the official onnx.proto (Sources/ONNXProto/README.md).
onnx-proto:
	Sources/ONNXProto/regenerate.sh

clean:
	rm -rf .build
