#!/usr/bin/env bash
# Snowflake load path on the local emulator: the 12-column benchmark table from PostgreSQL into
# Snowflake with each staging mode — gzip-compressed CSV files on a stage (the default), plain CSV
# files, and array-bound INSERTs (load=binds) — measured in one run next to the floor of any load:
# reading the source whole (psql COPY out to /dev/null). Each load is then validated row by row
# (not timed) so a fast mode that changed a value cannot win.
#
#   bench/snowflake-load.sh     # 200,000 rows (ROWS=50000 for a quick look; BINDS=1 adds load=binds)
#
# The emulator runs on this machine: a smaller upload saves no network time here, so this measures
# what compression costs, not what it saves on a WAN to a real account.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROWS=${ROWS:-200000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=scripts/lib-fakesnow.sh
source scripts/lib-fakesnow.sh
cleanup() { stop_fakesnow; stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT
bench_setup -c shared_buffers=256MB
start_fakesnow

psql -qX -d postgres -c "CREATE DATABASE src"
say "generating $ROWS rows × 12 columns"
psql -qX -v ON_ERROR_STOP=1 -v rows="$ROWS" -d src -f bench/items.sql

time_it floor "psql -qX -d src -c '\\copy (SELECT * FROM items) TO STDOUT' >/dev/null"
# The emulator's bind path runs at ~200 rows/s (its Python, not the protocol): only with BINDS=1.
modes=(gzip none)
[[ "${BINDS:-0}" == 1 ]] && modes+=(binds)
for mode in "${modes[@]}"; do
  case $mode in
    binds) url="${CUTOVER_SNOWFLAKE_URL/CUTOVER\/PUBLIC/LOAD_$mode/PUBLIC}&load=binds" ;;
    *) url="${CUTOVER_SNOWFLAKE_URL/CUTOVER\/PUBLIC/LOAD_$mode/PUBLIC}&stage_compression=$mode" ;;
  esac
  say "cutover migrate PG→Snowflake, staging: $mode"
  time_it "$mode" "'$CUTOVER' migrate --source '$BASE/src' --target '$url' --no-validate --store 'sqlite:$WORK/store.db' --out '$WORK/runs'"
  grep -q "1/1 tables moved, $(python3 -c "print(f'{$ROWS:,}')") rows" "$WORK/$mode.out" || { cat "$WORK/$mode.out" >&2; say "$mode: wrong row count"; exit 1; }
  say "validating the $mode copy (not timed)"
  "$CUTOVER" validate --source "$BASE/src" --target "$url" --store "sqlite:$WORK/store.db" --out "$WORK/runs" >"$WORK/$mode.validate" 2>&1 \
    || { cat "$WORK/$mode.validate" >&2; say "$mode: the copy differs"; exit 1; }
done

print_results floor "floor=floor: psql COPY out of the source" "gzip=cutover, gzip CSV on a stage (default)" \
  "none=cutover, plain CSV on a stage" "binds=cutover, array-bound INSERTs"
