#!/usr/bin/env bash
# bench_synth.sh — generation speed (events/s, MB/s) and peak memory of
# `doppel synth` to JSON Lines and to CSV, beside @faker-js/faker
# (bench/faker_synth.js) and a Python standard-library generator
# (bench/py_synth.py) writing the same schema and the same number of events,
# in one run: one core per tool (taskset -c 0), best of 3 runs (see
# bench/lib.sh), output to /dev/null, every output's line count checked
# in a separate run. Then shard scaling: --shard 0/2 and 1/2 at once on
# cores 0 and 1 against one process doing every user on core 0, and a check
# that the shards concatenated are the unsharded output byte for byte.
#
#   bash bench/bench_synth.sh [EVENTS]     (default 5000000)
#
# EVENTS is passed to `doppel synth --events` (about that many: users =
# EVENTS / the profile's mean events per user); faker and Python then make
# exactly as many events as doppel made. Profiles: profiles/ecommerce.json
# (hand-written; the reference generators copy its schema and mixes) and the
# learned profiles/nasa-http.json (doppel only). The reference generators
# run at ~50-100k events/s, so the default takes about half an hour;
# DOPPEL_BENCH_REPS=1 or a smaller EVENTS shortens it.
#
# Needs node and npm: @faker-js/faker is installed from the npm registry
# into the scratch directory at run time (the only network access).
# DOPPEL_BENCH_REFS=0 leaves faker and Python out (doppel's rows, shard
# scaling and the checks only: a few minutes, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
events_req="${1:-5000000}"
refs="${DOPPEL_BENCH_REFS:-1}"
tools="md5sum"
[ "$refs" = 0 ] || tools="node npm md5sum"
for t in $tools; do
  command -v "$t" >/dev/null || { echo "bench: '$t' is missing (apt-get install nodejs npm coreutils)" >&2; exit 1; }
done
bench_input=none
source bench/lib.sh

if [ "$refs" != 0 ]; then
  echo "installing @faker-js/faker into the scratch directory (npm) ..."
  npm_config_cache="$work/npm-cache" npm install --prefix "$work/npm" --no-audit --no-fund --no-save --loglevel=error \
    @faker-js/faker > "$work/npm.log" 2>&1 || { echo "bench: npm install @faker-js/faker failed:"; cat "$work/npm.log"; exit 1; }
  faker_version=$(node -p "require('$work/npm/node_modules/@faker-js/faker/package.json').version")
  rm -rf "$work/npm-cache"
  echo "@faker-js/faker $faker_version, node $(node --version), $(python3 --version)"
fi
load_note

count() { # command... — lines and bytes of its output (a run outside the timing)
  taskset -c 0 "$@" 2>"$work/err" | wc -lc > "$work/count" || { echo "bench: '$*' failed:"; cat "$work/err"; exit 1; }
  read -r lines obytes < "$work/count"
}

synth_row() { # name, header lines, expected events (empty: take doppel's summary), command...
  local name="$1" hdr="$2" want="$3"; shift 3
  count "$@"
  local ev=$((lines - hdr))
  if [ -z "$want" ]; then
    # doppel: its own summary says how many events it made
    want=$(sed -n 's/^doppel synth: .* sessions, \([0-9,]*\) events .*/\1/p' "$work/err" | tr -d ,)
    [ -n "$want" ] || { echo "bench: no summary from '$*'"; cat "$work/err"; exit 1; }
  fi
  [ "$ev" -eq "$want" ] || { echo "bench: $name wrote $ev events, expected $want"; exit 1; }
  measure /dev/null "$@"
  row "$name" "$best" "$obytes" "$ev" "$bestkb" "$bestcpu"
  echo "$name|$best|$bestcpu|$ev" >> "$work/synth"
}


echo
echo "ecommerce schema (profiles/ecommerce.json), doppel synth --events $events_req:"
table_header
synth_row "doppel synth -> JSONL" 0 "" "$doppel" synth profiles/ecommerce.json --events "$events_req" -o -
E=$(awk -F'|' '$1 == "doppel synth -> JSONL" {print $4}' "$work/synth")
synth_row "doppel synth -> CSV" 1 "$E" "$doppel" synth profiles/ecommerce.json --events "$events_req" --format csv -o -
if [ "$refs" != 0 ]; then
  synth_row "@faker-js/faker $faker_version -> JSONL" 0 "$E" node bench/faker_synth.js "$E" jsonl 7 "$work/npm"
  synth_row "@faker-js/faker $faker_version -> CSV" 1 "$E" node bench/faker_synth.js "$E" csv 7 "$work/npm"
  synth_row "python3 stdlib generator -> JSONL" 0 "$E" python3 bench/py_synth.py "$E" jsonl 7
  synth_row "python3 stdlib generator -> CSV" 1 "$E" python3 bench/py_synth.py "$E" csv 7
fi
echo
echo "learned profile (profiles/nasa-http.json), doppel synth --events $events_req:"
table_header
synth_row "doppel synth nasa-http -> JSONL" 0 "" "$doppel" synth profiles/nasa-http.json --events "$events_req" -o -
synth_row "doppel synth nasa-http -> CSV" 1 "" "$doppel" synth profiles/nasa-http.json --events "$events_req" --format csv -o -

echo
awk -F'|' '
  { s[$1] = $2; c[$1] = $3; e[$1] = $4 }
  END {
    j = "doppel synth -> JSONL"; v = "doppel synth -> CSV"
    for (k in s) { if (k ~ /^@faker.*JSONL/) fj = k; if (k ~ /^@faker.*CSV/) fc = k }
    pj = "python3 stdlib generator -> JSONL"; pc = "python3 stdlib generator -> CSV"
    printf "doppel synth -> JSONL: %.2fM events/s per wall second, %.2fM per CPU second (target: 3M on one core)\n", e[j]/s[j]/1e6, e[j]/c[j]/1e6
    if (!fj) exit
    printf "doppel is %.1fx faker and %.1fx the Python generator to JSONL (per CPU second: %.1fx, %.1fx)\n", s[fj]/s[j], s[pj]/s[j], c[fj]/c[j], c[pj]/c[j]
    printf "doppel is %.1fx faker and %.1fx the Python generator to CSV (per CPU second: %.1fx, %.1fx)\n", s[fc]/s[v], s[pc]/s[v], c[fc]/c[v], c[pc]/c[v]
  }' "$work/synth"

# shard scaling: one process for every user on core 0, then the two halves
# at once on cores 0 and 1; alternated, best of $reps each. CPU seconds show
# the split of the work apart from what the other users of the cores take.
echo
echo "shard scaling (profiles/ecommerce.json, --events $events_req, JSONL to /dev/null):"
one="" onecpu="" two="" slow="" twocpu=""
for _ in $(seq "$reps"); do
  /usr/bin/time -f '%e %U %S' -o "$work/t1" taskset -c 0 "$doppel" synth profiles/ecommerce.json --events "$events_req" -q -o - > /dev/null \
    || { echo "bench: unsharded run failed"; exit 1; }
  /usr/bin/time -f '%e' -o "$work/t2" bash -c '
    /usr/bin/time -f "%e %U %S" -o "$1.0" taskset -c 0 "$2" synth profiles/ecommerce.json --events "$3" --shard 0/2 -q -o - > /dev/null & p0=$!
    /usr/bin/time -f "%e %U %S" -o "$1.1" taskset -c 1 "$2" synth profiles/ecommerce.json --events "$3" --shard 1/2 -q -o - > /dev/null & p1=$!
    wait $p0 && wait $p1' _ "$work/ts" "$doppel" "$events_req" || { echo "bench: sharded run failed"; exit 1; }
  read -r a ua sa < "$work/t1"
  b=$(cat "$work/t2")
  s=$(awk '{print $1}' "$work/ts.0" "$work/ts.1" | sort -g | tail -n 1)
  c1=$(awk -v u="$ua" -v s="$sa" 'BEGIN { printf "%.2f", u + s }')
  c2=$(awk '{printf "%.2f\n", $2 + $3}' "$work/ts.0" "$work/ts.1" | sort -g | tail -n 1)
  if [ -z "$one" ] || awk -v x="$a" -v y="$one" 'BEGIN { exit !(x < y) }'; then one=$a; fi
  if [ -z "$onecpu" ] || awk -v x="$c1" -v y="$onecpu" 'BEGIN { exit !(x < y) }'; then onecpu=$c1; fi
  if [ -z "$two" ] || awk -v x="$b" -v y="$two" 'BEGIN { exit !(x < y) }'; then two=$b; slow=$s; fi
  if [ -z "$twocpu" ] || awk -v x="$c2" -v y="$twocpu" 'BEGIN { exit !(x < y) }'; then twocpu=$c2; fi
done
awk -v a="$one" -v b="$two" -v s="$slow" -v e="$E" -v c1="$onecpu" -v c2="$twocpu" 'BEGIN {
  printf "one process, all users, core 0:        %6.2f s  %5.2fM events/s  (%.2f CPU s)\n", a, e/a/1e6, c1
  printf "--shard 0/2 + 1/2 at once, cores 0, 1:  %6.2f s  %5.2fM events/s  (slower shard %.2f s, %.2f CPU s)\n", b, e/b/1e6, s, c2
  printf "speed-up with 2 shards on 2 cores: %.2fx wall (ideal 2.00x); %.2fx by CPU seconds (what two idle cores would give)\n", a/b, c1/c2 }'

# shards concatenated = the unsharded output, byte for byte (a smaller run)
for fmt in jsonl csv; do
  "$doppel" synth profiles/ecommerce.json --users 20000 --seed 11 --format "$fmt" -q -o "$work/all.$fmt"
  "$doppel" synth profiles/ecommerce.json --users 20000 --seed 11 --format "$fmt" --shard 0/2 -q -o "$work/s0.$fmt"
  "$doppel" synth profiles/ecommerce.json --users 20000 --seed 11 --format "$fmt" --shard 1/2 -q -o "$work/s1.$fmt"
  skip=1; [ "$fmt" = csv ] && skip=2  # every CSV shard has the header
  a=$(md5sum < "$work/all.$fmt" | cut -d' ' -f1)
  b=$( (cat "$work/s0.$fmt"; tail -n +"$skip" "$work/s1.$fmt") | md5sum | cut -d' ' -f1)
  [ "$a" = "$b" ] || { echo "bench: $fmt shards concatenated differ from the unsharded output"; exit 1; }
  echo "check: $fmt --users 20000: shard 0/2 + shard 1/2 = unsharded, md5 $a ($(wc -l < "$work/all.$fmt") lines)"
  rm -f "$work/all.$fmt" "$work/s0.$fmt" "$work/s1.$fmt"
done
load_note
