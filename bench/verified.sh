#!/usr/bin/env bash
# Verified moves (issue 21, goal 2): `cutover migrate` with its default validation against the
# unverified references measured in the same run — the psql binary COPY pipe for PG→PG (into a
# table with its primary key, as pg_dump's DDL makes it) and pgloader for SQLite→PG (which checks
# nothing after the load). The 12-column table of bench/items.sql.
#
#   bench/verified.sh       # 1,000,000 rows (ROWS=200000 bench/verified.sh for a quick look)
#
# Each cutover run must pass its own validation (exit 0); the copies are also checked by count and,
# PG→PG, by an md5 over every row. pgloader comes from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
command -v pgloader >/dev/null || { say "installing pgloader from Debian's packages"; as_root apt-get install -y -qq pgloader >/dev/null; }
bench_setup -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min

for db in src ref_pg plain_pg cut_pg ref_lite cut_lite; do psql -qX -d postgres -c "CREATE DATABASE $db"; done
say "generating $ROWS rows × 12 columns"
psql -qX -v ON_ERROR_STOP=1 -v rows="$ROWS" -d src -f bench/items.sql
DDL=$(PGDATABASE=src pg_dump --schema-only -t items | grep -v '^--')
say "making the SQLite copy (not timed)"
"$CUTOVER" migrate --source "$BASE/src" --target "sqlite:$WORK/items.db" --no-validate --store "sqlite:$WORK/store.db" --out "$WORK/runs" >/dev/null
# Not validated: SQLite reads -0.0 back as 0.0. The SQLite file is the source of the SQLite→PG runs.

say "reference: psql binary COPY pipe PG→PG (primary key in the table)"
PGDATABASE=ref_pg psql -qX <<<"$DDL" >/dev/null
time_it ref_pg "psql -qX -d src -c '\\copy (SELECT * FROM items) TO STDOUT (FORMAT binary)' | psql -qX -d ref_pg -c '\\copy items FROM STDIN (FORMAT binary)'"
say "cutover migrate PG→PG --no-validate"
time_it plain_pg "'$CUTOVER' migrate --source '$BASE/src' --target '$BASE/plain_pg' --no-validate --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"
say "cutover migrate PG→PG, validated"
time_it cut_pg "'$CUTOVER' migrate --source '$BASE/src' --target '$BASE/cut_pg' --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"

say "reference: pgloader SQLite→PG (into the same DDL, data only)"
# pgloader 3.6 cannot write ±Infinity or NaN (it prints Lisp's #.DOUBLE-FLOAT-POSITIVE-INFINITY):
# its copy has those scores NULL — the same rows, 20 % of one column's values empty.
cp "$WORK/items.db" "$WORK/pgloader.db"
sqlite3 "$WORK/pgloader.db" "UPDATE items SET score = NULL WHERE typeof(score) <> 'real' OR abs(score) > 1.7976931348623157e308; DROP TABLE IF EXISTS sqlite_stat1"
PGDATABASE=ref_lite psql -qX <<<"$DDL" >/dev/null
printf 'LOAD DATABASE FROM sqlite://%s INTO %s/ref_lite WITH data only;\n' "$WORK/pgloader.db" "$BASE" >"$WORK/pgloader.load"
time_it ref_lite "pgloader --on-error-stop '$WORK/pgloader.load'"
say "cutover migrate SQLite→PG, validated"
time_it cut_lite "'$CUTOVER' migrate --source 'sqlite:$WORK/items.db' --target '$BASE/cut_lite' --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"

say "checking the copies"
for db in ref_pg plain_pg cut_pg ref_lite cut_lite; do
  n=$(psql -qXtA -d "$db" -c "SELECT count(*) FROM items")
  [[ "$n" == "$ROWS" ]] || { say "$db has $n rows, expected $ROWS"; exit 1; }
done
a=$(psql -qXtA -d src -c "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM items t")
for db in plain_pg cut_pg; do
  b=$(psql -qXtA -d "$db" -c "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM items t")
  [[ "$a" == "$b" ]] || { say "$db differs from the source"; exit 1; }
done
for name in cut_pg cut_lite; do
  grep -q "rows identical" "$WORK/$name.out" || { say "$name: no validation in its output"; cat "$WORK/$name.out" >&2; exit 1; }
  grep -o '\[checksum[^]]*\]\|\[row hash[^]]*\]' "$WORK/$name.out" | sed "s/^/   $name: /" >&2 || true
done

print_results ref_pg "ref_pg=psql binary pipe PG→PG (reference)" "plain_pg=cutover migrate PG→PG, not validated" \
  "cut_pg=cutover migrate PG→PG, validated" "ref_lite=pgloader SQLite→PG (not validated)" \
  "cut_lite=cutover migrate SQLite→PG, validated"
lite=$(awk '$1=="cut_lite"{c=$2} $1=="ref_lite"{r=$2} END{printf "%.2f", c/r}' "$WORK/results")
echo "verified SQLite→PG / pgloader: ${lite}x"
