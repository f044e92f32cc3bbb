#!/usr/bin/env bash
# setup.sh — install what is missing (Debian 12, as root), build, and either
# run the demo or run every test.
#
#   bash setup.sh demo   install, build (release), synthesize a shop from profiles/
#   bash setup.sh test   install, build with gcc -Werror and run the test suite
#                        (fault injection included), then the golden CLI cases
#                        under valgrind memcheck; again under ASan+UBSan; again
#                        with clang; then short fuzz runs. Exits non-zero when
#                        anything fails.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-demo}"
jobs="$(nproc 2>/dev/null || echo 2)"

packages=(cmake gcc g++ make pkg-config libjansson-dev libssl-dev zlib1g-dev libcmocka-dev
          libpcg-cpp-dev clang libclang-rt-14-dev python3 jq time)
# the tests also open doppel's HTML reports in headless Chromium, load synthetic
# SQL into a real PostgreSQL, check profiles against the JSON Schema, run the
# CLI cases under valgrind and the Dask driver on a local cluster; the demo
# needs none of that
if [[ "$mode" == test ]]; then
  packages+=(chromium postgresql python3-jsonschema valgrind python3-dask python3-distributed)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build() { # build DIR [cmake args...]
  local dir="$1"; shift
  cmake -S . -B "$dir" -DDOPPEL_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

case "$mode" in
  demo)
    build build -DCMAKE_BUILD_TYPE=Release -DDOPPEL_TESTS=OFF
    demo="$(mktemp -d)"
    trap 'rm -rf "$demo"' EXIT
    echo "--- doppel synth profiles/ecommerce.json --users 2000 --seed 1 -o $demo/shop.jsonl"
    ./build/doppel synth profiles/ecommerce.json --users 2000 --seed 1 -o "$demo/shop.jsonl"
    echo "--- the first 3 synthetic events"
    head -n 3 "$demo/shop.jsonl"
    echo "--- doppel profile $demo/shop.jsonl -o $demo/shop.profile.json (what the data looks like)"
    ./build/doppel profile "$demo/shop.jsonl" -o "$demo/shop.profile.json"
    echo "--- doppel synth profiles/ecommerce.json --users 3 --format csv -o -"
    ./build/doppel synth profiles/ecommerce.json --users 3 --format csv -o - -q | head -n 4
    ;;
  test)
    echo "== gcc build + tests"
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd build && ctest --output-on-failure -j "$jobs")
    echo "== valgrind memcheck over the golden CLI cases"
    bash tests/valgrind.sh build
    echo "== ASan+UBSan build + tests"
    build build-asan -DCMAKE_BUILD_TYPE=Debug -DDOPPEL_SANITIZE=ON
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$jobs")
    echo "== clang build + tests"
    build build-clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd build-clang && ctest --output-on-failure -j "$jobs")
    echo "== fuzz targets (clang, libFuzzer)"
    build build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DDOPPEL_FUZZ=ON -DDOPPEL_TESTS=OFF
    for f in build-fuzz/fuzz_*; do
      name="$(basename "$f")"; corpus="fuzz/corpus/${name#fuzz_}"
      mkdir -p "$corpus"
      work="$(mktemp -d)"
      echo "fuzz: $name for ${DOPPEL_FUZZ_SECONDS:-20}s"
      "$f" -max_total_time="${DOPPEL_FUZZ_SECONDS:-20}" -max_len=4096 -timeout=10 \
           -artifact_prefix="$work/" "$work" "$corpus" 2>"$work/log" \
        || { tail -n 40 "$work/log"; echo "fuzz: $name found a failure"; exit 1; }
      rm -rf "$work"
    done
    echo "setup: all tests passed"
    ;;
  *)
    echo "usage: bash setup.sh demo|test" >&2
    exit 2
    ;;
esac
