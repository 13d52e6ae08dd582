#!/usr/bin/env bash
# Mover benchmark: one PostgreSQL cluster, one run, references measured next to cutover.
#
#   bench/run.sh            # 1,000,000 rows (ROWS=200000 bench/run.sh for a quick look)
#
# Prints each time, the ratio to its reference pipe, and cutover's peak RSS. Needs a release build
# (it makes one). Record results in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min

for db in src ref_pg cut_pg ref_lite cut_lite; do psql -qX -d postgres -c "CREATE DATABASE $db" ; done

say "generating $ROWS rows × 12 columns"
psql -qX -v ON_ERROR_STOP=1 -v rows="$ROWS" -d src -f bench/items.sql
psql -qX -d src -c "SELECT pg_size_pretty(pg_total_relation_size('items')) AS size" -tA | sed 's/^/   table size: /' >&2
DDL=$(PGDATABASE=src pg_dump --schema-only -t items | grep -v '^--' )

say "making the SQLite copy (not timed)"
"$CUTOVER" migrate --source "$BASE/src" --target "sqlite:$WORK/items.db" --no-validate --store "sqlite:$WORK/store.db" --out "$WORK/runs" >/dev/null

say "reference: psql binary COPY pipe PG→PG"
PGDATABASE=ref_pg psql -qX <<<"$DDL" >/dev/null
time_it ref_pg "psql -qX -d src -c '\\copy (SELECT * FROM items) TO STDOUT (FORMAT binary)' | psql -qX -d ref_pg -c '\\copy items FROM STDIN (FORMAT binary)'"

say "cutover migrate PG→PG"
time_it cut_pg "'$CUTOVER' migrate --source '$BASE/src' --target '$BASE/cut_pg' --no-validate --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"

say "reference: sqlite3 -csv | psql COPY csv"
PGDATABASE=ref_lite psql -qX <<<"$DDL" >/dev/null
# sqlite3 prints REALs with 15 digits (1.7976931348623157e308 would overflow): ask for 17.
LITE_SELECT="SELECT id, qty, price, name, note, created, created_tz, day, active, uid, doc, CASE WHEN typeof(score) = 'real' THEN printf('%.17g', score) ELSE score END FROM items"
time_it ref_lite "sqlite3 -csv '$WORK/items.db' \"$LITE_SELECT\" | psql -qX -d ref_lite -c '\\copy items FROM STDIN (FORMAT csv)'"

say "cutover migrate SQLite→PG"
time_it cut_lite "'$CUTOVER' migrate --source 'sqlite:$WORK/items.db' --target '$BASE/cut_lite' --no-validate --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"

say "checking the copies"
for db in ref_pg cut_pg ref_lite cut_lite; do
  n=$(psql -qXtA -d "$db" -c "SELECT count(*) FROM items")
  [[ "$n" == "$ROWS" ]] || { say "$db has $n rows, expected $ROWS"; exit 1; }
done
a=$(psql -qXtA -d src -c "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM items t")
b=$(psql -qXtA -d cut_pg -c "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM items t")
[[ "$a" == "$b" ]] || { say "PG→PG copy differs from the source"; exit 1; }

echo
printf '%-34s %9s %9s %10s\n' "run ($ROWS rows, $(nproc) cores)" "seconds" "ratio" "peak RSS"
while read -r name secs rss; do
  case $name in
    ref_pg) label="psql binary pipe PG→PG"; ref=$secs ;;
    cut_pg) label="cutover migrate PG→PG"; ref=$(awk '$1=="ref_pg"{print $2}' "$WORK/results") ;;
    ref_lite) label="sqlite3 csv | psql PG (reference)"; ref=$secs ;;
    cut_lite) label="cutover migrate SQLite→PG"; ref=$(awk '$1=="ref_lite"{print $2}' "$WORK/results") ;;
  esac
  printf '%-34s %9.2f %8.2fx %7d MB\n' "$label" "$secs" "$(awk -v a="$secs" -v b="$ref" 'BEGIN{print a/b}')" $((rss / 1024))
done <"$WORK/results"
