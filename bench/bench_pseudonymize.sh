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
command -v jq >/dev/null || { echo "bench: 'jq' is missing (apt-get install jq)" >&2; exit 1; }
source bench/lib.sh

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
