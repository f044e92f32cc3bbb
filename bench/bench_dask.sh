#!/usr/bin/env bash
# bench_dask.sh — speed-up of the Dask driver (contrib/dask/doppel_dask.py)
# from 1 to 2 workers on this machine, for `profile` (per-partition states +
# one merge) and for `synth` (shards), beside one plain doppel process doing
# the same job, and beside the same per-partition commands run as 1 or 2
# plain parallel processes (xargs -P, no Dask: the machine's own headroom).
# Each driver run starts its own LocalCluster (processes, one
# thread each, loopback); the table gives the whole command's wall time
# (Python start, cluster start, work, shutdown) and the work alone (submit to
# manifest, the manifest's elapsed_s). The three runs of a job (plain, 1 worker,
# 2 workers) are interleaved, DOPPEL_BENCH_REPS rounds (default 5), so that
# load from other processes falls on all three alike; the table gives the
# median and best of each, and the speed-up is the median of the per-round
# ratios (with their range).
#
#   bash bench/bench_dask.sh [COPIES] [EVENTS]
#     COPIES: profile input = rails-commits events, one partition file per copy (default 8, ~436 MB)
#     EVENTS: synth output = about EVENTS events from profiles/ecommerce.json in 8 shards (default 4M)
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-8}"
events="${2:-4M}"
shards=8
reps="${DOPPEL_BENCH_REPS:-5}"
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
now() { date +%s.%N; }
timed() { # ROUND NAME CMD... — one run; appends "NAME<TAB>wall<TAB>work<TAB>round" to results
  local round="$1" name="$2"; shift 2
  rm -rf "$work/out" "$work"/single.*
  local t0 t1 w k
  t0=$(now)
  "$@" > /dev/null 2> "$work/err" || { echo "bench: $name failed:"; cat "$work/err"; exit 1; }
  t1=$(now)
  w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  k=-
  [ -f "$work/out/manifest.json" ] && k=$("$py" -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["elapsed_s"])' "$work/out/manifest.json")
  printf '%s\t%s\t%s\t%s\n' "$name" "$w" "$k" "$round" >> "$work/results"
}

prof=profiles/ecommerce.json
# the control: the same per-partition commands as N plain parallel processes
# (xargs -P N, no Dask) — what the machine itself gives from 1 to 2 processes
plain_profile() { # N
  mkdir -p "$work/single.st"
  (cd "$work/in" && ls ./*.jsonl | xargs -P "$1" -I{} "$doppel" profile {} --state-out "$work/single.st/{}.state" -q)
  "$doppel" merge "$work"/single.st/*.state -o "$work/single.json" -q
}
plain_synth() { # N
  mkdir -p "$work/single.sh"
  seq 0 $((shards - 1)) | xargs -P "$1" -I{} "$doppel" synth "$prof" --events "$events" --seed 1 --shard "{}/$shards" \
    -o "$work/single.sh/part-{}.jsonl" -q
}
for r in $(seq "$reps"); do
  echo "round $r of $reps: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  timed "$r" "doppel profile (one process)" "$doppel" profile "$work"/in/*.jsonl -o "$work/single.json" -q
  for n in 1 2; do
    timed "$r" "xargs -P $n: doppel profile per partition + merge" plain_profile "$n"
    timed "$r" "doppel_dask.py profile, $n worker(s)" "$py" "$driver" profile "$work/in/*.jsonl" --out "$work/out" \
      --workers "$n" --doppel "$doppel" -q
  done
  timed "$r" "doppel synth (one process)" "$doppel" synth "$prof" --events "$events" --seed 1 -o "$work/single.jsonl" -q
  for n in 1 2; do
    timed "$r" "xargs -P $n: doppel synth --shard, $shards shards" plain_synth "$n"
    timed "$r" "doppel_dask.py synth, $n worker(s), $shards shards" "$py" "$driver" synth "$prof" --events "$events" \
      --seed 1 --shards "$shards" --out "$work/out" --workers "$n" --doppel "$doppel" -q
  done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
"$py" - "$work/results" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
names = list(dict.fromkeys(r[0] for r in rows))
val = lambda x: None if x == "-" else float(x)
print("%-52s %12s %10s %12s" % ("run (seconds)", "wall median", "wall best", "work median"))
for n in names:
    w = [float(r[1]) for r in rows if r[0] == n]
    k = [val(r[2]) for r in rows if r[0] == n and val(r[2]) is not None]
    print("%-52s %12.2f %10.2f %12s" % (n, statistics.median(w), min(w), "%.2f" % statistics.median(k) if k else "-"))
print()
def ratios(prefix1, prefix2, col):
    one = {r[3]: r for r in rows if r[0].startswith(prefix1)}
    two = {r[3]: r for r in rows if r[0].startswith(prefix2)}
    x = [float(one[k][col]) / float(two[k][col]) for k in one]
    return "%.2fx (rounds %.2f-%.2f)" % (statistics.median(x), min(x), max(x))
for job in ("profile", "synth"):
    print("speed-up of %-7s from 1 to 2 workers: wall %s, work %s; control (xargs -P 1 to 2): %s"
          % (job, ratios("doppel_dask.py %s, 1 " % job, "doppel_dask.py %s, 2 " % job, 1),
             ratios("doppel_dask.py %s, 1 " % job, "doppel_dask.py %s, 2 " % job, 2),
             ratios("xargs -P 1: doppel %s" % job, "xargs -P 2: doppel %s" % job, 1)))
PY
