#!/usr/bin/env bash
# bench_sample.sh — throughput and peak memory of `doppel sample --users RATE`
# with pseudonymization off (--raw) and on, beside a Python standard-library
# user-consistent sampler doing the --raw job, on the same input, in one run.
# Single core for every tool; best of 3 runs (see bench/lib.sh).
#
#   bash bench/bench_sample.sh [COPIES] [RATE]      (defaults: 8, 0.1)
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-8}"
rate="${2:-0.1}"
source bench/lib.sh

run "doppel sample --users (--raw)" "$doppel" sample - -o - --key "$work/bench.key" --users "$rate" --raw -q
run "doppel sample --users (pseudonymized)" "$doppel" sample - -o - --key "$work/bench.key" --users "$rate" -q
run "python3 json+hmac sampler (raw)" python3 bench/py_sample.py "$rate"

# sanity: the kept share of users is near the rate, and every kept user keeps all its events
"$doppel" sample "$work/in.jsonl" -o "$work/s.jsonl" --key "$work/bench.key" --users "$rate" --raw 2>"$work/summary" >/dev/null
grep -E "users: " "$work/summary"
python3 - "$work/in.jsonl" "$work/s.jsonl" <<'PY'
import json, sys
def per_user(path):
    c = {}
    for line in open(path):
        u = json.loads(line).get("user_id")
        c[u] = c.get(u, 0) + 1
    return c
a, b = per_user(sys.argv[1]), per_user(sys.argv[2])
assert all(a[u] == n for u, n in b.items()), "a kept user lost events"
print(f"check: {len(b)} of {len(a)} users kept, each with all its events")
PY

r=$(awk '/^doppel sample --users \(--raw\)/ {print $NF}' "$work/results")
p=$(awk '/^python3/ {print $NF}' "$work/results")
awk -v r="$r" -v p="$p" 'BEGIN { printf "doppel sample --raw is %.1fx faster than the Python sampler\n", p/r }'
