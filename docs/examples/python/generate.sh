#!/usr/bin/env bash
# Generates Python message and gRPC stubs from proto/ (Debian: python3-grpc-tools).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
GOOGLEAPIS=/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis
mkdir -p "$HERE/gen"
python3 -m grpc_tools.protoc -I"$ROOT/proto" -I"$GOOGLEAPIS" -I/usr/include \
  --python_out="$HERE/gen" --grpc_python_out="$HERE/gen" \
  $(cd "$ROOT/proto" && find crm -name '*.proto') \
  google/api/annotations.proto google/api/http.proto google/rpc/status.proto \
  google/rpc/error_details.proto google/rpc/code.proto
find "$HERE/gen" -type d -exec touch {}/__init__.py \;
echo "generated into $HERE/gen"
