#!/usr/bin/env bash
# Row-diff benchmark: two copies of the 12-column benchmark table in two PostgreSQL databases, the
# second with 10 rows changed, 5 deleted and 5 inserted. Times `cutover diff` (all columns) and, in
# the same run, reladiff's hashdiff (PyPI reladiff[postgresql], in .venv-bench) on the columns it
# handles; checks both found exactly the 20 differing keys.
#
#   bench/diff.sh            # 1,000,000 rows (ROWS=200000 bench/diff.sh for a quick look)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
# shellcheck source=bench/lib.sh
source bench/lib.sh

if [[ ! -x .venv-bench/bin/reladiff ]]; then
  say "installing reladiff into .venv-bench"
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q --disable-pip-version-check "reladiff[postgresql]" >&2
fi
bench_setup -c shared_buffers=256MB -c max_wal_size=4GB

say "generating $ROWS rows × 12 columns, then the changed copy"
psql -qX -d postgres -c "CREATE DATABASE a"
psql -qX -v ON_ERROR_STOP=1 -v rows="$ROWS" -d a -f bench/items.sql
psql -qX -d postgres -c "CREATE DATABASE b TEMPLATE a"
step=$((ROWS / 20))
psql -qX -v ON_ERROR_STOP=1 -d b <<SQL
UPDATE items SET qty = qty + 1          WHERE id = 1 * $step;
UPDATE items SET price = price + 0.01   WHERE id = 2 * $step;
UPDATE items SET name = 'renamed'       WHERE id = 3 * $step;
UPDATE items SET note = 'changed note'  WHERE id = 4 * $step;
UPDATE items SET created = created + interval '1 microsecond' WHERE id = 5 * $step;
UPDATE items SET created_tz = created_tz + interval '1 second' WHERE id = 6 * $step;
UPDATE items SET active = NOT active    WHERE id = 7 * $step;
UPDATE items SET uid = md5('x')::uuid   WHERE id = 8 * $step;
UPDATE items SET score = 42.5           WHERE id = 9 * $step + 5;
UPDATE items SET day = day + 1          WHERE id = 10 * $step;
DELETE FROM items WHERE id IN (11 * $step, 12 * $step, 13 * $step, 14 * $step, 15 * $step);
INSERT INTO items (id, qty, name) SELECT $ROWS + g, g, 'new ' || g FROM generate_series(1, 5) g;
VACUUM ANALYZE items;
SQL

# reladiff handles these columns (float8 ±Infinity breaks its checksum query: numeric overflow).
COLUMNS="qty price name note created created_tz day active uid doc"
say "reladiff hashdiff ($COLUMNS)"
time_it --may-fail reladiff ".venv-bench/bin/reladiff '${BASE/postgres:/postgresql:}/a' items '${BASE/postgres:/postgresql:}/b' items -k id $(printf -- '-c %s ' $COLUMNS) --algorithm hashdiff --stats"
say "cutover diff (all 12 columns)"
time_it --may-fail cutover "'$CUTOVER' diff --source '$BASE/a' --target '$BASE/b' --table public.items --format json --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"

say "checking both results"
check_diff_report "$WORK/cutover.out" cutover
reladiff_found=$(grep -E "exclusive|updated" "$WORK/reladiff.out" | awk '{print $1}' | paste -sd/)
# The score change is outside reladiff's columns: it can see 9 of the 10 updates.
say "reladiff: $reladiff_found rows only in a / only in b / updated (5/5/9 expected)"
[[ "$reladiff_found" == "5/5/9" ]] || { cat "$WORK/reladiff.out" "$WORK/reladiff.err" >&2; say "reladiff's result is not the expected one"; }

print_results reladiff "reladiff=reladiff hashdiff (10 columns)" "cutover=cutover diff (12 columns)"
