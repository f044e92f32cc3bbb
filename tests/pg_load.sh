#!/bin/sh
# pg_load.sh — loads `doppel synth --format sql` output into a real
# PostgreSQL: initdb in a temporary directory, a server on a Unix socket in
# it (no TCP), psql -f the generated file, then checks the row count and
# the count per event name against the same events generated as JSON Lines.
# Skips (exit 77) when PostgreSQL's server binaries are not installed.
# usage: pg_load.sh DOPPEL_BINARY SOURCE_DIR
set -eu
doppel="$1"
src="$2"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || ! command -v psql >/dev/null 2>&1; then
  echo "pg_load: skipped: PostgreSQL server binaries not installed (apt-get install postgresql)"
  exit 77
fi
work=$(mktemp -d /tmp/doppel-pg-XXXXXX)
chmod 755 "$work"
run_pg() { # the server refuses to run as root: use the postgres account when root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  run_pg "$bindir/pg_ctl" -D "$work/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/db" "$work/sock"
[ "$(id -u)" = 0 ] && chown postgres "$work/db" "$work/sock"
run_pg "$bindir/initdb" -D "$work/db" -U doppel -A trust >/dev/null
run_pg "$bindir/pg_ctl" -D "$work/db" -o "-k $work/sock -c listen_addresses=''" -w -l "$work/db/log" start >/dev/null
profile="$src/profiles/ecommerce.json"
"$doppel" synth "$profile" --events 100000 --seed 42 --format sql --table synth_events -o "$work/events.sql" -q
"$doppel" synth "$profile" --events 100000 --seed 42 -o "$work/events.jsonl" -q
chmod 644 "$work/events.sql"
psql -h "$work/sock" -U doppel -d postgres -v ON_ERROR_STOP=1 -q -f "$work/events.sql" >/dev/null
rows=$(psql -h "$work/sock" -U doppel -d postgres -At -c "SELECT count(*) FROM synth_events")
want=$(wc -l < "$work/events.jsonl")
echo "pg_load: $rows rows loaded, $want events generated"
[ "$rows" = "$want" ] || { echo "pg_load: row count differs"; exit 1; }
[ "$rows" -ge 90000 ] || { echo "pg_load: expected about 100,000 events"; exit 1; }
psql -h "$work/sock" -U doppel -d postgres -At -F ' ' -c "SELECT event, count(*) FROM synth_events GROUP BY event ORDER BY event" > "$work/db_counts"
sed -n 's/.*"event":"\([^"]*\)".*/\1/p' "$work/events.jsonl" | sort | uniq -c | awk '{print $2, $1}' | sort > "$work/file_counts"
sort "$work/db_counts" > "$work/db_sorted"
if ! cmp -s "$work/db_sorted" "$work/file_counts"; then
  echo "pg_load: counts per event name differ:"; diff "$work/db_sorted" "$work/file_counts" || true; exit 1
fi
# the JSON columns are valid jsonb and queryable
n=$(psql -h "$work/sock" -U doppel -d postgres -At -c "SELECT count(*) FROM synth_events WHERE properties ? 'platform'")
[ "$n" -gt 0 ] || { echo "pg_load: properties are not queryable"; exit 1; }
# insert ids are unique
d=$(psql -h "$work/sock" -U doppel -d postgres -At -c "SELECT count(DISTINCT insert_id) FROM synth_events")
[ "$d" = "$rows" ] || { echo "pg_load: insert ids are not unique ($d of $rows)"; exit 1; }
# shards load one after the other into one table (CREATE TABLE IF NOT EXISTS)
"$doppel" synth "$profile" --users 3000 --seed 7 --format sql --table shard_events --shard 0/2 -o "$work/s0.sql" -q
"$doppel" synth "$profile" --users 3000 --seed 7 --format sql --table shard_events --shard 1/2 -o "$work/s1.sql" -q
"$doppel" synth "$profile" --users 3000 --seed 7 -o "$work/s.jsonl" -q
psql -h "$work/sock" -U doppel -d postgres -v ON_ERROR_STOP=1 -q -f "$work/s0.sql" -f "$work/s1.sql" >/dev/null
srows=$(psql -h "$work/sock" -U doppel -d postgres -At -c "SELECT count(*) FROM shard_events")
swant=$(wc -l < "$work/s.jsonl")
[ "$srows" = "$swant" ] || { echo "pg_load: two shards loaded $srows rows, expected $swant"; exit 1; }
cat "$work/db_sorted" | sed 's/^/pg_load:   /'
echo "pg_load: ok (and two SQL shards: $srows rows)"
