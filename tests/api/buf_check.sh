#!/usr/bin/env bash
# The API contract as a product: `buf lint` on the protoc-built image of proto/, and
# `buf breaking` against the image of the previous commit on main (when the clone has it), so
# no change breaks a generated client.
#   buf_check.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
ROOT=$1
BUILD=$2
BUF="$ROOT/.deps/node_modules/.bin/buf"
GOOGLEAPIS=/usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis
CONFIG="$ROOT/proto/buf.yaml"
image="$BUILD/proto/crm_descriptor_set.pb"
[ -x "$BUF" ] || { echo "buf is missing: run make deps"; exit 1; }
"$BUF" lint "$image#format=binpb" --path crm --config "$(cat "$CONFIG")"
echo "buf lint: ok"

previous=$(git -C "$ROOT" rev-parse --verify --quiet HEAD~1 || true)
if [ -z "$previous" ]; then
  echo "buf breaking: no previous commit in this clone; skipped"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$ROOT" archive "$previous" proto | tar -x -C "$work"
protos=$(cd "$work/proto" && find crm -name '*.proto' | sort)
protoc -I"$work/proto" -I"$GOOGLEAPIS" -I/usr/include --include_imports \
  --descriptor_set_out="$work/previous.binpb" $protos
"$BUF" breaking "$image#format=binpb" --against "$work/previous.binpb#format=binpb" \
  --path crm --config "$(cat "$CONFIG")" --against-config "$(cat "$CONFIG")"
echo "buf breaking against $(git -C "$ROOT" rev-parse --short "$previous"): ok"
