#!/usr/bin/env bash
# Worker scale-out (issue 21, goal 7): one SQLite → PostgreSQL migration of the 12-column table
# (bench/items.sql, moved into SQLite first), loaded by `cutover migrate` alone and then helped by
# 1 and 3 `cutover worker` processes (2 and 4 processes in all) sharing the run's chunk ledger in a
# PostgreSQL store. Prints seconds, rows/s, chunks per process and what must hold whatever the core
# count: every chunk loaded exactly once (one attempt, no chunk left), every row in the target
# exactly once. On a 2-core machine it is not expected to scale; it must not collapse.
#
#   bench/workers.sh        # 1,000,000 rows in chunks of 25,000 (ROWS=200000 for a quick look)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
CHUNK_ROWS=${CHUNK_ROWS:-25000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_connections=200

psql -qX -d postgres -c "CREATE DATABASE src"
say "generating $ROWS rows × 12 columns, moved into SQLite (not timed)"
psql -qX -v ON_ERROR_STOP=1 -v rows="$ROWS" -d src -f bench/items.sql
"$CUTOVER" migrate --source "$BASE/src" --target "sqlite:$WORK/items.db" --no-validate --store "sqlite:$WORK/store.db" --out "$WORK/runs" >/dev/null

# run_with PROCESSES: the coordinator plus PROCESSES-1 workers joining as soon as its chunks exist.
run_with() {
  local processes=$1 db="t$1" store="s$1" id="" pids=()
  psql -qX -d postgres -c "CREATE DATABASE $db" -c "CREATE DATABASE $store"
  local common=(--source "sqlite:$WORK/items.db" --target "$BASE/$db" --store "$BASE/$store" --parallel 1)
  local started
  started=$(date +%s.%N)
  "$CUTOVER" migrate "${common[@]}" --chunk-rows "$CHUNK_ROWS" --no-validate --out "$WORK/runs" >"$WORK/coord$processes.out" 2>&1 &
  local coordinator=$!
  for _ in $(seq 1 400); do
    id=$(psql -qXtA -d "$store" -c "SELECT r.id FROM runs r WHERE r.status = 'running' AND EXISTS (SELECT 1 FROM chunks c WHERE c.run_id = r.id)" 2>/dev/null || true)
    [[ -n "$id" ]] && break
    sleep 0.05
  done
  [[ -n "$id" ]] || { say "the run did not start"; cat "$WORK/coord$processes.out" >&2; exit 1; }
  for ((w = 1; w < processes; w++)); do
    "$CUTOVER" worker --run "$id" "${common[@]}" >"$WORK/worker$processes.$w.out" 2>&1 &
    pids+=($!)
  done
  wait "$coordinator" || { cat "$WORK/coord$processes.out" >&2; exit 1; }
  for pid in "${pids[@]}"; do wait "$pid" || { say "a worker failed"; cat "$WORK"/worker"$processes".*.out >&2; exit 1; }; done
  local seconds
  seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}')
  local chunks left retried rows distinct helped
  read -r chunks left retried < <(psql -qXtA -F ' ' -d "$store" -c "SELECT count(*), count(*) FILTER (WHERE state <> 'done'), count(*) FILTER (WHERE attempts <> 1) FROM chunks WHERE run_id = '$id'")
  read -r rows distinct < <(psql -qXtA -F ' ' -d "$db" -c "SELECT count(*), count(DISTINCT id) FROM items")
  helped=$(cat "$WORK"/worker"$processes".*.out 2>/dev/null | sed -n 's/^worker done: loaded \([0-9]*\) chunk.*/\1/p' | paste -sd+ - || true)
  [[ "$left" == 0 && "$retried" == 0 && "$rows" == "$ROWS" && "$distinct" == "$ROWS" ]] || {
    say "$processes process(es): $left chunk(s) not done, $retried loaded more than once, $rows rows ($distinct distinct) of $ROWS"
    exit 1
  }
  printf '%-10s %9s %12s %8s %-24s %s\n' "$processes" "$seconds" "$(awk -v r="$ROWS" -v s="$seconds" 'BEGIN{printf "%d", r/s}')" "$chunks" \
    "${helped:-0} (workers)" "every chunk once, every row once" >>"$WORK/table"
}

for processes in 1 2 4; do
  say "$processes process(es)"
  run_with "$processes"
done
echo
printf '%-10s %9s %12s %8s %-24s %s\n' processes seconds rows/s chunks "chunks loaded by" ledger
cat "$WORK/table"
