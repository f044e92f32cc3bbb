#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] — build every libFuzzer target (clang) and run each
# for SECONDS (default 600) on a scratch copy of its seed corpus. Stops at
# the first finding and prints where the crashing input was saved. CI runs
# the same targets for 20 s each through setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DDOPPEL_FUZZ=ON -DDOPPEL_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)"
out="$(mktemp -d /tmp/doppel-fuzz-XXXXXX)"
for f in build-fuzz/fuzz_*; do
  name="$(basename "$f")"; corpus="fuzz/corpus/${name#fuzz_}"
  mkdir -p "$out/$name"
  [ -d "$corpus" ] && cp -r "$corpus/." "$out/$name/"
  echo "fuzz: $name for ${secs}s (corpus $out/$name)"
  "$f" -max_total_time="$secs" -max_len=65536 -timeout=10 -artifact_prefix="$out/$name-" "$out/$name" \
    2>"$out/$name.log" || { tail -n 40 "$out/$name.log"; echo "fuzz: $name found a failure; inputs in $out"; exit 1; }
  grep -E "^Done" "$out/$name.log" || true
done
echo "fuzz: no findings (grown corpora in $out)"
