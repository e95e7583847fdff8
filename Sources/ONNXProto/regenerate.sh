#!/usr/bin/env bash
# Regenerates onnx.pb.swift from the official onnx.proto (see README.md beside this script).
# Needs: protoc (Debian's protobuf-compiler), pip (only to download the onnx wheel, which ships
# onnx.proto), and this package's swift-protobuf checkout (swift package resolve).
# Usage: Sources/ONNXProto/regenerate.sh   (or: make onnx-proto). PROTOC_GEN_SWIFT=path skips
# building the plugin (about 3 minutes on 2 cores).
set -euo pipefail
ONNX_VERSION=1.23.2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v protoc >/dev/null || { echo "error: protoc is missing: apt-get install protobuf-compiler" >&2; exit 1; }
plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
    (cd "$root" && swift package resolve)
    swift build --package-path "$root/.build/checkouts/swift-protobuf" --scratch-path "$work/build" --product protoc-gen-swift
    plugin="$work/build/debug/protoc-gen-swift"
fi
pip download --quiet --no-deps --only-binary=:all: "onnx==$ONNX_VERSION" -d "$work/wheel"
python3 -m zipfile -e "$work"/wheel/onnx-*.whl "$work/onnx"
# ONNX's proto2 schema, package onnx; public so that the trainer and the tests can use the types.
protoc --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$work/onnx/onnx" --swift_opt=Visibility=Public --swift_out="$here" onnx.proto
echo "wrote $here/onnx.pb.swift from onnx $ONNX_VERSION's onnx.proto"
