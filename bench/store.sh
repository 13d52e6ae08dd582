#!/usr/bin/env bash
# Metadata store benchmarks, both measured against a physical reference in the same run.
#
# import: `cutover store import` of IMPORT_LINES unified-log CSV lines (TIMESTAMP, PLUGIN,
#   MATERIAL_NUMBER, FIELD, EXTRA, STATUS, NOTE) into an embedded SQLite store and a PostgreSQL
#   store, against `sqlite3 .import` and `psql \copy` of the same file into a plain table.
# overview: a PostgreSQL store holding 1,000,000 validation results and 5,000,000 log lines over
#   24 months (plus 100,000 runs and validation runs). Times the monthly overview rebuilt from the
#   records, served from the store's cache, and with only the current month expired; the reference
#   is psql running the same aggregate queries in the same run.
#
#   bench/store.sh                 # both parts: IMPORT_LINES=1000000 RESULTS=1000000 LOGS=5000000
#   PART=import bench/store.sh     # or PART=overview; smaller: RESULTS=100000 LOGS=500000
set -euo pipefail
cd "$(dirname "$0")/.."
PART=${PART:-all}
IMPORT_LINES=${IMPORT_LINES:-1000000}
RESULTS=${RESULTS:-1000000}
LOGS=${LOGS:-5000000}
RUNS=$((RESULTS / 10))
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup -c shared_buffers=512MB -c max_wal_size=4GB -c work_mem=64MB

if [[ $PART == all || $PART == import ]]; then
  say "generating $IMPORT_LINES unified-log lines"
  mkdir -p "$WORK/logs"
  python3 - "$IMPORT_LINES" "$WORK/logs/Unified_Logs_2025-01.csv" <<'PY'
import datetime, sys
# In time order, as log exports are (shuffled lines cost more: every index insert lands at random).
n, path = int(sys.argv[1]), sys.argv[2]
start = datetime.datetime(2025, 1, 1)
with open(path, "w") as f:
    f.write("TIMESTAMP,PLUGIN,MATERIAL_NUMBER,FIELD,EXTRA,STATUS,NOTE\n")
    for i in range(n):
        t = start + datetime.timedelta(milliseconds=i * 2417)
        f.write(f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d},rectifier,M{i % 50000:06d},"
                f"field_{i % 40},\"x,{i}\",{'Failed' if i % 7 == 0 else 'Success'},note {i}\n")
PY
  psql -qX -d postgres -c "CREATE DATABASE import_ref" -c "CREATE DATABASE import_store"
  psql -qX -d import_ref -c 'CREATE TABLE logs ("TIMESTAMP" text, "PLUGIN" text, "MATERIAL_NUMBER" text, "FIELD" text, "EXTRA" text, "STATUS" text, "NOTE" text)'
  "$CUTOVER" store stats --store "$BASE/import_store" >/dev/null  # creates the schema
  say "reference: sqlite3 .import and psql \\copy of the CSV into a plain table"
  time_it import_sqlite3 "sqlite3 '$WORK/ref.db' -cmd '.mode csv' '.import $WORK/logs/Unified_Logs_2025-01.csv logs'"
  time_it import_psql "psql -qX -d import_ref -c \"\\\\copy logs FROM '$WORK/logs/Unified_Logs_2025-01.csv' WITH (FORMAT csv, HEADER true)\""
  say "cutover store import (times parsed, lines deduplicated, two indexes)"
  time_it import_cutover_sqlite "'$CUTOVER' store import '$WORK/logs' --store 'sqlite:$WORK/store.db'"
  time_it import_cutover_postgres "'$CUTOVER' store import '$WORK/logs' --store '$BASE/import_store'"
  [[ $(sqlite3 "$WORK/store.db" "SELECT count(*) FROM logs") == "$IMPORT_LINES" ]] || { say "the SQLite store does not hold every line"; exit 1; }
  [[ $(psql -qXtA -d import_store -c "SELECT count(*) FROM logs") == "$IMPORT_LINES" ]] || { say "the PostgreSQL store does not hold every line"; exit 1; }
  ratio() { awk -v a="$(awk -v n="$1" '$1==n{print $2}' "$WORK/results")" -v b="$(awk -v n="$2" '$1==n{print $2}' "$WORK/results")" 'BEGIN{printf "%.2f s, %.1fx", a, a/b}'; }
  echo
  echo "store import of $IMPORT_LINES log lines ($(nproc) cores)"
  echo "  sqlite3 .import (reference)        $(ratio import_sqlite3 import_sqlite3)"
  echo "  cutover store import, SQLite store  $(ratio import_cutover_sqlite import_sqlite3)"
  echo "  psql \\copy (reference)             $(ratio import_psql import_psql)"
  echo "  cutover store import, PostgreSQL    $(ratio import_cutover_postgres import_psql)"
fi
[[ $PART == all || $PART == overview ]] || exit 0

psql -qX -d postgres -c "CREATE DATABASE store"
STORE="$BASE/store"
"$CUTOVER" store stats --store "$STORE" >/dev/null  # creates the schema

say "generating $RUNS runs, $RESULTS validation results and $LOGS log lines over 24 months"
psql -qX -v ON_ERROR_STOP=1 -d store <<SQL
CREATE FUNCTION iso(t timestamptz) RETURNS text IMMUTABLE LANGUAGE sql AS \$\$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') \$\$;
-- Spread over the 24 months before now, newest last.
CREATE FUNCTION at_of(i bigint, n bigint) RETURNS timestamptz IMMUTABLE LANGUAGE sql AS \$\$ SELECT now() - interval '730 days' * (1 - i::float8 / n) \$\$;
INSERT INTO runs (id, kind, status, started_at, finished_at)
  SELECT 'r' || g, (ARRAY['migrate', 'validate', 'pipeline', 'analyze'])[1 + g % 4], CASE WHEN g % 17 = 0 THEN 'failed' ELSE 'succeeded' END,
         iso(at_of(g, $RUNS)), iso(at_of(g, $RUNS) + interval '5 minutes')
  FROM generate_series(1, $RUNS) g;
INSERT INTO chunks (run_id, table_name, chunk_no, bounds, state, rows, attempts)
  SELECT 'r' || g, 'public.t', 0, '{}', 'done', 1000 + g % 5000, 1 FROM generate_series(1, $RUNS) g WHERE g % 4 = 1;
INSERT INTO validation_runs (id, suite, started_at, finished_at, status, passed, failed, warned, origin)
  SELECT 'r' || g, 'nightly', iso(at_of(g, $RUNS)), iso(at_of(g, $RUNS)), 'passed', 9, 1, 0, 'bench' FROM generate_series(1, $RUNS) g;
INSERT INTO validation_results (validation_run_id, step, check_name, table_name, status, message, source_rows, target_rows, details, at)
  SELECT 'r' || (1 + g / 10), g % 10, 'row_count', 'public.t' || (g % 50),
         CASE WHEN g % 10 = 0 THEN 'failed' WHEN g % 20 = 1 THEN 'warning' ELSE 'passed' END, 'ok', 100, 100, '{"n": 1}',
         iso(at_of(g, $RESULTS))
  FROM generate_series(1, $RESULTS) g;
INSERT INTO logs (at, level, run_id, table_name, event, message)
  SELECT iso(at_of(g, $LOGS)), CASE WHEN g % 50 = 0 THEN 'error' ELSE 'info' END, 'r' || (1 + g / 50), 'public.t', 'chunk.done', 'chunk done'
  FROM generate_series(1, $LOGS) g;
VACUUM ANALYZE;
SQL
psql -qX -d store -tAc "SELECT pg_size_pretty(pg_database_size('store'))" | sed 's/^/   store size: /' >&2

# The aggregates the overview needs, as plain SQL: the floor for a rebuild.
cat >"$WORK/reference.sql" <<'SQL'
SELECT substr(started_at, 1, 7), COUNT(*), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), SUM(CASE WHEN kind IN ('migrate', 'demo') THEN 1 ELSE 0 END) FROM runs GROUP BY 1;
SELECT substr(r.started_at, 1, 7), SUM(c.rows) FROM chunks c JOIN runs r ON r.id = c.run_id WHERE c.state = 'done' GROUP BY 1;
SELECT substr(started_at, 1, 7), COUNT(*) FROM validation_runs GROUP BY 1;
SELECT substr(at, 1, 7), COUNT(*), SUM(CASE WHEN status = 'passed' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'warning' THEN 1 ELSE 0 END) FROM validation_results GROUP BY 1;
SQL
overview() { "$CUTOVER" store overview --store "$STORE" "$@" | tail -1 | sed -E 's/^\(([a-z]+), ([0-9]+) ms.*/\1 \2/'; }

say "reference: psql, the same aggregates"
time_it reference "psql -qX -d store -f '$WORK/reference.sql'"
say "cutover store overview --refresh (every month recomputed)"
read -r how_full full_ms < <(overview --refresh)
say "cutover store overview (from the store's cache)"
read -r how_cached cached_ms < <(overview)
say "one new result this month, then the overview (the current month recomputed)"
psql -qX -d store -c "INSERT INTO validation_results (validation_run_id, check_name, status, at) VALUES ('r1', 'row_count', 'failed', '$(date -u +%Y-%m-%dT%H:%M:%S.000Z)')"
"$CUTOVER" store stats --store "$STORE" >/dev/null
# Cutover's writes drop the month themselves; this insert came from psql, so drop it the same way.
psql -qX -d store -c "DELETE FROM overview_cache WHERE month = '$(date -u +%Y-%m)'"
read -r how_month month_ms < <(overview)
time_it stats "'$CUTOVER' store stats --store '$STORE'"

ref=$(awk '$1=="reference"{print $2 * 1000}' "$WORK/results")
echo
printf '%-58s %9s %9s\n' "overview ($RESULTS results, $LOGS logs, $(nproc) cores)" "ms" "vs psql"
printf '%-58s %9.0f %9s\n' "psql: the aggregate queries (reference, incl. psql start)" "$ref" "1.00x"
for row in "rebuilt, every month ($how_full)|$full_ms" "cache ($how_cached)|$cached_ms" "current month recomputed ($how_month)|$month_ms"; do
  printf '%-58s %9d %8.2fx\n' "cutover: ${row%%|*}" "${row##*|}" "$(awk -v a="${row##*|}" -v b="$ref" 'BEGIN{print a/b}')"
done
printf '%-58s %9.0f\n' "cutover store stats (counts every table; wall time)" "$(awk '$1=="stats"{print $2 * 1000}' "$WORK/results")"
[[ $how_full == rebuilt && $how_cached == cache && $how_month == rebuilt ]] || { say "the overview was not served the expected way"; exit 1; }
