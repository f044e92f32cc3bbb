#!/usr/bin/env bash
# tests/valgrind.sh — valgrind memcheck over the CLI: runs the golden CLI
# cases of tests/cli/ (build/test_cli) with every `doppel` run under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
# through the DOPPEL_CLI_WRAPPER hook of tests/test_util.h, and fails on any
# memcheck error (invalid read/write, use of uninitialised memory, bad free)
# or definite/indirect leak: valgrind then exits 99, the case's exit code
# check fails, and its report is printed from the per-process logs.
# (Runs that setup/check scripts start through {BIN} are not wrapped.)
#
#   bash tests/valgrind.sh [--all] [BUILD_DIR]
#     --all      also the malformed-input corpus (test_malformed: 71 cases x
#                3 verbs, 100 MB inputs among them) and the canary audit
#                (test_canary): 252 runs, about 15 minutes on 2 cores
#     BUILD_DIR  a non-sanitized build with tests (default: build; it is
#                configured and built when missing)
# DOPPEL_VALGRIND_ARGS adds valgrind options (e.g. --track-origins=yes to see
# where an uninitialised value came from; it doubles the time). Not a ctest
# test; `bash setup.sh test` runs it (without --all) after the gcc suite.
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
if [[ "${1:-}" == --all ]]; then all=1; shift; fi
build="${1:-build}"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
if [[ ! -x "$build/test_cli" ]]; then
  cmake -S . -B "$build" -DDOPPEL_WERROR=ON >/dev/null
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
fi
if grep -q '^DOPPEL_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "valgrind.sh: $build is an ASan build; valgrind needs a plain one" >&2
  exit 2
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
export DOPPEL_CLI_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full \
--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
--num-callers=30 ${DOPPEL_VALGRIND_ARGS:-} --log-file=$logs/memcheck.%p.log"

jobs="$(nproc 2>/dev/null || echo 2)"
status=0
start=$SECONDS
# the golden cases, split over one test_cli process per core
echo "valgrind.sh: test_cli under memcheck ($jobs shards)"
pids=()
for ((i = 0; i < jobs; i++)); do
  DOPPEL_CLI_SHARD="$i/$jobs" "$build/test_cli" >"$logs/test_cli.$i.out" 2>&1 &
  pids+=($!)
done
for ((i = 0; i < jobs; i++)); do
  wait "${pids[$i]}" || { status=1; echo "valgrind.sh: test_cli shard $i/$jobs FAILED"; grep -v ' ok$' "$logs/test_cli.$i.out" | tail -n 60; }
done
if ((all)); then
  for p in test_canary test_malformed; do
    echo "valgrind.sh: $p under memcheck"
    "$build/$p" >"$logs/$p.out" 2>&1 || { status=1; echo "valgrind.sh: $p FAILED"; grep -v ' ok$' "$logs/$p.out" | tail -n 60; }
  done
fi
runs=$(find "$logs" -name 'memcheck.*.log' | wc -l)
reports=0
for f in "$logs"/memcheck.*.log; do
  [[ -s "$f" ]] || continue
  reports=$((reports + 1))
  echo "--- $(basename "$f")"
  cat "$f"
done
echo "valgrind.sh: $runs doppel runs under memcheck in $((SECONDS - start)) s, $reports with reports"
if ((status || reports || runs == 0)); then
  echo "valgrind.sh: FAILED" >&2
  exit 1
fi
echo "valgrind.sh: no memcheck errors, no definite or indirect leaks"
