#!/usr/bin/env bash
# bench_pseudonymize.sh — throughput and peak memory of `doppel pseudonymize`
# beside `jq -c .` (parse + re-serialize only, no hashing) and a Python
# standard-library json+hmac pseudonymizer doing the same job, on the same
# input, in one run. Single core for every tool (taskset -c 0).
#
#   bash bench/bench_pseudonymize.sh [COPIES]
#
# Input: ../shared/data/rails-commits/events.jsonl.gz decompressed and
# repeated COPIES times (default 8: about 436 MB, 795,432 events). Each tool
# runs DOPPEL_BENCH_REPS times (default 3) writing to /dev/null; the best
# time is shown (peak RSS: the largest seen). doppel's output is then written
# once to a file and checked (line count, no original e-mail).
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-8}"
src=../shared/data/rails-commits/events.jsonl.gz
[ -r "$src" ] || { echo "bench: $src not found (../shared/data is needed)" >&2; exit 1; }
for t in jq python3 /usr/bin/time taskset; do
  command -v "$t" >/dev/null || { echo "bench: '$t' is missing (apt-get install jq python3 time util-linux)" >&2; exit 1; }
done

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDOPPEL_TESTS=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
doppel=build-bench/doppel

work="$(mktemp -d /tmp/doppel-bench-XXXXXX)"
trap 'rm -rf "$work"' EXIT
python3 -c "print(bytes(range(32)).hex())" > "$work/bench.key"
chmod 600 "$work/bench.key"
zcat "$src" > "$work/one.jsonl"
for _ in $(seq "$copies"); do cat "$work/one.jsonl"; done > "$work/in.jsonl"
rm "$work/one.jsonl"
bytes=$(stat -c %s "$work/in.jsonl")
events=$(wc -l < "$work/in.jsonl")
cat "$work/in.jsonl" > /dev/null  # warm the page cache
awk -v b="$bytes" -v e="$events" -v c="$copies" 'BEGIN { printf "input: %d bytes (%.0f MB), %d events (rails-commits x%d)\n\n", b, b/1e6, e, c }'
printf '%-34s %9s %10s %12s %10s\n' tool seconds MB/s events/s peak_MB

run() { # name, command... — best of $reps runs, output to /dev/null
  local name="$1"; shift
  local best="" bestkb=0
  for _ in $(seq "$reps"); do
    /usr/bin/time -f '%e %M' -o "$work/time" taskset -c 0 "$@" < "$work/in.jsonl" > /dev/null 2>"$work/err" \
      || { echo "bench: $name failed:"; cat "$work/err"; exit 1; }
    read -r secs kb < "$work/time"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
    [ "$kb" -gt "$bestkb" ] && bestkb=$kb
  done
  awk -v n="$name" -v s="$best" -v b="$bytes" -v e="$events" -v kb="$bestkb" \
    'BEGIN { if (s < 0.01) s = 0.01; printf "%-34s %9.2f %10.1f %12.0f %10.1f\n", n, s, b/s/1e6, e/s, kb/1024 }'
  echo "$name $best" >> "$work/results"
}

reps="${DOPPEL_BENCH_REPS:-3}"
run "doppel pseudonymize" "$doppel" pseudonymize - -o - --key "$work/bench.key" -q
run "jq -c . (parse+print only)" jq -c .
run "python3 json+hmac pseudonymizer" python3 bench/py_pseudonymize.py
"$doppel" pseudonymize "$work/in.jsonl" -o "$work/doppel.out" --key "$work/bench.key" -q

# sanity: doppel's output has every line, and no original e-mail of the first record survives
[ "$(wc -l < "$work/doppel.out")" -eq "$events" ] || { echo "bench: doppel output line count differs"; exit 1; }
first_email=$(head -n 1 "$work/in.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["user_id"])')
if grep -qF "$first_email" "$work/doppel.out"; then echo "bench: an original e-mail survived"; exit 1; fi

d=$(awk '/^doppel/ {print $NF}' "$work/results")
j=$(awk '/^jq/ {print $NF}' "$work/results")
p=$(awk '/^python3/ {print $NF}' "$work/results")
echo
awk -v d="$d" -v j="$j" -v p="$p" 'BEGIN { printf "doppel is %.1fx faster than jq -c . and %.1fx faster than the Python pseudonymizer\n", j/d, p/d }'
