# bench/lib.sh — shared set-up for the benchmarks (sourced, not run):
# builds a release doppel, prepares the input (rails-commits events repeated
# $copies times, default 8 ≈ 436 MB) and a key in a scratch directory, and
# defines run NAME CMD... which times CMD on the input on one core (best of
# DOPPEL_BENCH_REPS runs, default 3, output to /dev/null), prints a row and
# appends "NAME SECONDS" to $work/results ("NAME CPU_SECONDS" to results.cpu).
#
# For benchmarks with other inputs or none (profile, synth):
#   bench_input=none           set before sourcing: no input, no input header
#   make_input FILE N          rails-commits events repeated N times into FILE
#   measure IN CMD...          runs CMD < IN > /dev/null $reps times on core 0;
#                              sets best (least wall seconds), bestcpu (least
#                              user+sys seconds) and bestkb (largest peak RSS, KB);
#                              with measure_out=FILE the output goes to FILE
#                              instead (for a check afterwards)
#   row NAME SECS BYTES EVENTS KB [CPU]   prints one row of the table
#   table_header               prints the column names
#   load_note                  prints the load average (the machine is shared)
# Rates (MB/s, events/s) are per wall second as before; cpu_s (user+sys) and
# the rates per CPU second (cpu_MB/s, cpu_ev/s) tell a loaded machine from a
# slow tool: the machine is shared, and a busy core stretches the wall time.
copies="${copies:-8}"
bench_input="${bench_input:-rails}"
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
reps="${DOPPEL_BENCH_REPS:-3}"

make_input() { # file, copies — rails-commits decompressed and repeated
  local out="$1" n="$2"
  [ -s "$work/one.jsonl" ] || zcat "$src" > "$work/one.jsonl"
  for _ in $(seq "$n"); do cat "$work/one.jsonl"; done > "$out"
  cat "$out" > /dev/null  # warm the page cache
}

load_note() {
  awk -v n="$(nproc)" '{ printf "load average: %s %s %s on %d cores\n", $1, $2, $3, n }' /proc/loadavg
}

table_header() {
  printf '%-40s %8s %7s %9s %11s %9s %11s %8s\n' tool seconds cpu_s MB/s events/s cpu_MB/s cpu_ev/s peak_MB
}

row() { # name, seconds, bytes, events, peak KB [, cpu seconds] — rates per wall and per CPU second
  awk -v n="$1" -v s="$2" -v b="$3" -v e="$4" -v kb="$5" -v c="${6:-}" 'BEGIN {
    if (s < 0.01) s = 0.01
    if (c == "") cs = "-"; else { cs = sprintf("%.2f", c); if (c < 0.01) c = 0.01 }
    printf "%-40s %8.2f %7s %9.1f %11.0f", n, s, cs, b/s/1e6, e/s
    if (c == "") printf " %9s %11s", "-", "-"; else printf " %9.1f %11.0f", b/c/1e6, e/c
    printf " %8.1f\n", kb/1024 }'
}

measure() { # input, command... — best of $reps runs on core 0, output to /dev/null
  local in="$1"; shift
  best="" bestcpu="" bestkb=0
  local secs usr sys kb cpu
  for _ in $(seq "$reps"); do
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" taskset -c 0 "$@" < "$in" > "${measure_out:-/dev/null}" 2>"$work/err" \
      || { echo "bench: '$*' failed:"; cat "$work/err"; exit 1; }
    read -r secs usr sys kb < "$work/time"
    cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
    if [ -z "$bestcpu" ] || awk -v a="$cpu" -v b="$bestcpu" 'BEGIN { exit !(a < b) }'; then bestcpu=$cpu; fi
    [ "$kb" -gt "$bestkb" ] && bestkb=$kb
  done
  return 0
}

if [ "$bench_input" != none ]; then
  make_input "$work/in.jsonl" "$copies"
  rm "$work/one.jsonl"
  bytes=$(stat -c %s "$work/in.jsonl")
  events=$(wc -l < "$work/in.jsonl")
  awk -v b="$bytes" -v e="$events" -v c="$copies" 'BEGIN { printf "input: %d bytes (%.0f MB), %d events (rails-commits x%d)\n", b, b/1e6, e, c }'
  load_note
  echo
  table_header
fi

run() { # name, command... — best of $reps runs on the input, output to /dev/null
  local name="$1"; shift
  measure "$work/in.jsonl" "$@"
  row "$name" "$best" "$bytes" "$events" "$bestkb" "$bestcpu"
  echo "$name $best" >> "$work/results"
  echo "$name $bestcpu" >> "$work/results.cpu"
}
