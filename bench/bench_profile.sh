#!/usr/bin/env bash
# bench_profile.sh — throughput (MB/s, events/s) and peak memory of
# `doppel profile` beside a pandas profiler (bench/py_profile_pandas.py:
# read_json(lines=True), json_normalize of the properties, describe(),
# value_counts()), in one run, one core per tool (taskset -c 0), best of 3
# runs (see bench/lib.sh); then the RSS-flat check: doppel's peak RSS on the
# same users with 10x the events must stay within 1.5x (exit 1 otherwise).
#
#   bash bench/bench_profile.sh [COPIES] [PANDAS_COPIES]     (defaults: 8, 1)
#
# Input: ../shared/data/rails-commits/events.jsonl.gz decompressed and
# repeated COPIES times (default 8: about 436 MB, 795,432 events). pandas
# holds the whole input in memory (about 16x its size, ~880 MB for one copy)
# and runs at a few MB/s, so it runs on PANDAS_COPIES copies (default 1:
# 54.5 MB, 99,429 events); its row says so, doppel is shown on that input
# too, and each tool's MB/s is over the input it processed. The RSS-flat
# check profiles 1 and 10 copies: repetition keeps the 6,843 users fixed.
#
# Needs Debian's python3-pandas (apt-get install python3-pandas), run by
# /usr/bin/python3 (or $DOPPEL_PANDAS_PYTHON). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-8}"
pandas_copies="${2:-1}"
py="${DOPPEL_PANDAS_PYTHON:-/usr/bin/python3}"
if ! "$py" -c 'import pandas' 2>/dev/null; then
  echo "bench: pandas is missing for $py; install it with: apt-get install python3-pandas" >&2
  exit 1
fi
source bench/lib.sh
pandas_version=$("$py" -c 'import pandas, platform; print(pandas.__version__, "on Python", platform.python_version())')

# doppel's profile goes to a file for the check below (the same few hundred kB as to /dev/null)
measure_out="$work/p.json" run "doppel profile" "$doppel" profile - -o - -q

make_input "$work/x1.jsonl" 1
if [ "$pandas_copies" -eq 1 ]; then ln "$work/x1.jsonl" "$work/pandas.jsonl"; else make_input "$work/pandas.jsonl" "$pandas_copies"; fi
p_bytes=$(stat -c %s "$work/pandas.jsonl")
p_events=$(wc -l < "$work/pandas.jsonl")
x1_bytes=$(stat -c %s "$work/x1.jsonl")
x1_events=$(wc -l < "$work/x1.jsonl")

measure "$work/x1.jsonl" "$doppel" profile - -o - -q
x1_kb=$bestkb
row "doppel profile (x1 input)" "$best" "$x1_bytes" "$x1_events" "$bestkb" "$bestcpu"
d1=$best d1cpu=$bestcpu
measure_out="$work/pandas.out" measure "$work/pandas.jsonl" "$py" bench/py_profile_pandas.py
row "pandas profiler (x$pandas_copies input)" "$best" "$p_bytes" "$p_events" "$bestkb" "$bestcpu"
p=$best pcpu=$bestcpu
echo "(pandas $pandas_version, run on x$pandas_copies = $p_bytes bytes, $p_events events: it holds its whole input in memory)"

# sanity: doppel profiled every record and user; pandas read every record
echo
python3 - "$work/p.json" "$events" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["format"] == "doppel-profile/1", "not a profile"
src = p["source"]
assert src["records"] == int(sys.argv[2]), f"records {src['records']} != {sys.argv[2]}"
users = p["population"]["users"]["estimate"]
assert users == 6843, f"users {users} != 6843"
print(f"check: doppel profiled {src['events']:,} of {src['records']:,} records "
      f"({src['skipped']['no_user']} without a user id), {users:,} users, "
      f"{len(p['properties'])} properties, {len(p['warnings'])} warnings")
PY
out=$(cat "$work/pandas.out")
echo "check: pandas: $out"
case "$out" in "records $p_events,"*) ;; *) echo "bench: pandas did not read every record"; exit 1 ;; esac

d=$(awk '$1 == "doppel" {print $NF}' "$work/results")
dc=$(awk '$1 == "doppel" {print $NF}' "$work/results.cpu")
awk -v d="$d" -v dc="$dc" -v d1="$d1" -v d1c="$d1cpu" -v p="$p" -v pc="$pcpu" -v b="$bytes" -v b1="$x1_bytes" \
    -v pb="$p_bytes" -v c="$copies" -v pn="$pandas_copies" 'BEGIN {
  printf "doppel profile: %.1f MB/s per wall second, %.1f MB/s per CPU second (x%d; target: 120 MB/s on one core)\n", b/d/1e6, b/dc/1e6, c
  printf "pandas:         %.1f MB/s per wall second, %.1f MB/s per CPU second (x%d)\n", pb/p/1e6, pb/pc/1e6, pn
  printf "doppel is %.1fx faster than pandas per wall second, %.1fx per CPU second (target: 20x);\n", (b/d)/(pb/p), (b/dc)/(pb/pc)
  printf "on the same x1 input: %.1fx and %.1fx\n", (b1/d1)/(pb/p), (b1/d1c)/(pb/pc) }'

# RSS-flat: the same 6,843 users with 1x and 10x the events
make_input "$work/x10.jsonl" 10
x10_bytes=$(stat -c %s "$work/x10.jsonl")
x10_events=$(wc -l < "$work/x10.jsonl")
echo
echo "RSS-flat check (the same users, 10x the events):"
table_header
row "doppel profile x1" "$d1" "$x1_bytes" "$x1_events" "$x1_kb" "$d1cpu"
measure "$work/x10.jsonl" "$doppel" profile - -o - -q
x10_kb=$bestkb
row "doppel profile x10" "$best" "$x10_bytes" "$x10_events" "$x10_kb" "$bestcpu"
rm -f "$work/x10.jsonl"
awk -v a="$x1_kb" -v b="$x10_kb" 'BEGIN {
  r = b / a; printf "peak RSS %.1f MB (x1) -> %.1f MB (x10): ratio %.2f (limit 1.50)\n", a/1024, b/1024, r
  exit !(r <= 1.5) }' || { echo "bench: FAIL: peak RSS grew more than 1.5x with 10x the events"; exit 1; }
load_note
