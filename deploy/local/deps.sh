#!/usr/bin/env bash
# Installs the Debian 12 packages the build, tests and local runs need. Idempotent: packages that
# are already installed are skipped, so a warm machine spends no time here.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config clang-format clang-tidy
  # clang with libFuzzer and the sanitizer runtimes (make fuzz, make test-asan)
  clang-14 libclang-rt-14-dev valgrind
  # libraries
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libabsl-dev
  libpq-dev prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libphonenumber-dev
  libicu-dev libssl-dev nlohmann-json3-dev libspdlog-dev libcsv-dev libcurl4-openssl-dev
  libcivetweb-dev libexpat1-dev
  # Boost.Beast/Asio: the gateway's event-driven HTTP server (headers only)
  libboost-dev
  # googleapis protos (google.api.http annotations, google.rpc status and details)
  golang-github-grpc-ecosystem-grpc-gateway-dev
  # embedded PostgreSQL for runs and tests, pgbench for the benchmark baseline
  postgresql postgresql-contrib
  # libfaketime: make test-dates (and make test) run the suites with the clock shifted
  faketime libfaketime
  # tools the scripts use; Chromium for the browser test of the API docs and charts
  curl openssl chromium python3-yaml
  # promtool for the alert-rule tests, and a real Prometheus for the scrape test
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm for the gateway's Swagger UI (Debian's npm, unless a Node.js with npm is already there).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Swagger UI for the gateway's /docs, from the npm registry into .deps/ (never a CDN at run time);
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# buf checks the API contract (make lint, and the api_contract test).
if [ ! -f "$ROOT/.deps/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ] ||
   [ ! -x "$ROOT/.deps/node_modules/.bin/buf" ]; then
  echo "installing swagger-ui-dist and @bufbuild/buf into .deps/"
  npm install --prefix "$ROOT/.deps" --no-audit --no-fund --silent swagger-ui-dist@5.35.0 \
    @bufbuild/buf@1 >/dev/null
fi
