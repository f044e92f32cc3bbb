#!/usr/bin/env bash
# bench_dask.sh — speed-up of the Dask driver (contrib/dask/doppel_dask.py)
# from 1 to 2 workers on this machine, for `profile` (per-partition states +
# one merge) and for `synth` (shards), beside one plain doppel process doing
# the same job. Each driver run starts its own LocalCluster (processes, one
# thread each, loopback); the table gives the whole command's wall time
# (Python start, cluster start, work, shutdown) and the work alone (submit to
# manifest, the manifest's elapsed_s). Best of DOPPEL_BENCH_REPS runs (3).
#
#   bash bench/bench_dask.sh [COPIES] [EVENTS]
#     COPIES: profile input = rails-commits events, one partition file per copy (default 8, ~436 MB)
#     EVENTS: synth output = about EVENTS events from profiles/ecommerce.json in 8 shards (default 4M)
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-8}"
events="${2:-4M}"
shards=8
reps="${DOPPEL_BENCH_REPS:-3}"
py=/usr/bin/python3
src=../shared/data/rails-commits/events.jsonl.gz
[ -r "$src" ] || { echo "bench: $src not found (../shared/data is needed)" >&2; exit 1; }
"$py" -c "import distributed" 2>/dev/null \
  || { echo "bench: Dask distributed is missing (apt-get install python3-dask python3-distributed)" >&2; exit 1; }

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDOPPEL_TESTS=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
doppel="$PWD/build-bench/doppel"
driver=contrib/dask/doppel_dask.py

work="$(mktemp -d /tmp/doppel-bench-dask-XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/in"
zcat "$src" > "$work/in/part-0.jsonl"
for i in $(seq 1 $((copies - 1))); do cp "$work/in/part-0.jsonl" "$work/in/part-$i.jsonl"; done
cat "$work"/in/*.jsonl > /dev/null  # warm the page cache
bytes=$(cat "$work"/in/*.jsonl | wc -c)
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "profile input: $copies partitions of rails-commits ($((bytes / 1000000)) MB, $((copies * 99429)) events)"
echo "synth output: about $events events from profiles/ecommerce.json, $shards shards"
echo
printf '%-46s %9s %9s\n' run wall_s work_s

now() { date +%s.%N; }
best() { # NAME CMD... — best wall time of $reps runs; work time from the manifest when there is one
  local name="$1"; shift
  local bw="" bk=""
  for _ in $(seq "$reps"); do
    rm -rf "$work/out" "$work/single"*
    local t0 t1 w k
    t0=$(now)
    "$@" > /dev/null 2> "$work/err" || { echo "bench: $name failed:"; cat "$work/err"; exit 1; }
    t1=$(now)
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    k=-
    [ -f "$work/out/manifest.json" ] && k=$("$py" -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["elapsed_s"])' "$work/out/manifest.json")
    if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$w; bk=$k; fi
  done
  printf '%-46s %9s %9s\n' "$name" "$bw" "$bk"
  echo "$name $bw $bk" >> "$work/results"
}

best "doppel profile (one process)" "$doppel" profile "$work"/in/*.jsonl -o "$work/single.json" -q
for n in 1 2; do
  best "doppel_dask.py profile, $n worker(s)" "$py" "$driver" profile "$work/in/*.jsonl" --out "$work/out" \
    --workers "$n" --doppel "$doppel" -q
done
prof=profiles/ecommerce.json
best "doppel synth (one process)" "$doppel" synth "$prof" --events "$events" --seed 1 -o "$work/single.jsonl" -q
for n in 1 2; do
  best "doppel_dask.py synth, $n worker(s), $shards shards" "$py" "$driver" synth "$prof" --events "$events" \
    --seed 1 --shards "$shards" --out "$work/out" --workers "$n" --doppel "$doppel" -q
done

echo
awk '
  /^doppel_dask.py profile, 1/ { p1w = $(NF-1); p1k = $NF }
  /^doppel_dask.py profile, 2/ { p2w = $(NF-1); p2k = $NF }
  /^doppel_dask.py synth, 1/   { s1w = $(NF-1); s1k = $NF }
  /^doppel_dask.py synth, 2/   { s2w = $(NF-1); s2k = $NF }
  END {
    printf "speed-up from 1 to 2 workers: profile %.2fx (work %.2fx), synth %.2fx (work %.2fx)\n",
      p1w / p2w, p1k / p2k, s1w / s2w, s1k / s2k
  }' "$work/results"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
