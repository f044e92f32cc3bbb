# bench/lib.sh — shared set-up for the benchmarks (sourced, not run):
# builds a release doppel, prepares the input (rails-commits events repeated
# $copies times, default 8 ≈ 436 MB) and a key in a scratch directory, and
# defines run NAME CMD... which times CMD on the input on one core (best of
# DOPPEL_BENCH_REPS runs, default 3, output to /dev/null) and prints a row.
copies="${copies:-8}"
src=../shared/data/rails-commits/events.jsonl.gz
[ -r "$src" ] || { echo "bench: $src not found (../shared/data is needed)" >&2; exit 1; }
for t in python3 /usr/bin/time taskset; do
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
printf '%-40s %9s %10s %12s %10s\n' tool seconds MB/s events/s peak_MB

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
    'BEGIN { if (s < 0.01) s = 0.01; printf "%-40s %9.2f %10.1f %12.0f %10.1f\n", n, s, b/s/1e6, e/s, kb/1024 }'
  echo "$name $best" >> "$work/results"
}

reps="${DOPPEL_BENCH_REPS:-3}"
