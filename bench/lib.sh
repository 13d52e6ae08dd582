# Shared by bench/*.sh: a scratch folder, a release build, a throwaway PostgreSQL and a timer.
# Source it from the repository root; it sets WORK, CUTOVER, BASE (a postgres:// URL without a
# database) and the PG* variables psql reads.
say() { printf '== %s\n' "$*" >&2; }
# shellcheck source=scripts/lib-postgres.sh
source scripts/lib-postgres.sh
WORK=$(mktemp -d /tmp/cutover-bench.XXXXXX)
cleanup() { stop_postgres; rm -rf "$WORK"; }
trap cleanup EXIT

# bench_setup [postgres settings...]: packages, a release build, PostgreSQL with the given settings.
bench_setup() {
  ensure_packages
  say "release build"
  swift build -c release --product cutover >/dev/null
  CUTOVER="$(swift build -c release --show-bin-path)/cutover"
  start_postgres "$@"
  export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=cutover_test PGPASSWORD=$PG_PASSWORD
  BASE="postgres://cutover_test:$PG_PASSWORD@127.0.0.1:$PG_PORT"
}

# time_it [--may-fail] NAME COMMAND: appends "NAME seconds peak-RSS-kB" to $WORK/results; the
# command's output goes to $WORK/NAME.out and .err. Without --may-fail a failing command stops the bench.
time_it() {
  local may_fail=0
  if [[ $1 == --may-fail ]]; then may_fail=1; shift; fi
  local name=$1; shift
  if ! /usr/bin/time -f "%e %M" -o "$WORK/$name.time" bash -o pipefail -c "$*" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    ((may_fail)) || { cat "$WORK/$name.err" >&2; exit 1; }
  fi
  # GNU time puts "Command exited with non-zero status" first when the command fails.
  read -r secs rss < <(tail -n1 "$WORK/$name.time")
  printf '%s %s %s\n' "$name" "$secs" "$rss" >>"$WORK/results"
}

# check_diff_report FILE LABEL: the diff benchmarks change rows step, 2·step … of $ROWS rows (10
# changed, ids 11–15·step deleted, ROWS+1…ROWS+5 inserted); checks `cutover diff --format json`
# in FILE found exactly those keys. Needs ROWS and step.
check_diff_report() {
  local changed missing extra
  changed=$(for i in 1 2 3 4 5 6 7 8 10; do echo $((i * step)); done; echo $((9 * step + 5)))
  missing=$(for i in 11 12 13 14 15; do echo $((i * step)); done)
  extra=$(for g in 1 2 3 4 5; do echo $((ROWS + g)); done)
  python3 - "$1" "$2" "$changed" "$missing" "$extra" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
table = report["tables"][0] if "tables" in report else report
keys = lambda text: sorted(int(k) for k in text.split())
counts = table["counts"]
changed = sorted(int(row["key"].split("=")[1]) for row in table["changed"])
missing = sorted(int(k.split("=")[1]) for k in table["missing"])
extra = sorted(int(k.split("=")[1]) for k in table["extra"])
ok = (changed == keys(sys.argv[3]) and missing == keys(sys.argv[4]) and extra == keys(sys.argv[5])
      and {k: counts[k] for k in ("changed", "missing", "extra")} == {"changed": 10, "missing": 5, "extra": 5})
print(f"   {sys.argv[2]}: counts {counts}; keys {'exact' if ok else 'WRONG'}; {table.get('method', '')}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# print_results REF NAME=LABEL…: the results as a table, each run with its label and its ratio to
# run REF measured in the same bench.
print_results() {
  local ref_name=$1 pair width=34 ref
  shift
  declare -A labels
  for pair in "$@"; do
    labels[${pair%%=*}]=${pair#*=}
    ((${#pair} > width)) && width=${#pair}
  done
  ref=$(awk -v n="$ref_name" '$1==n{print $2}' "$WORK/results")
  echo
  printf "%-${width}s %9s %9s %10s\n" "run ($ROWS rows, $(nproc) cores)" "seconds" "ratio" "peak RSS"
  while read -r name secs rss; do
    printf "%-${width}s %9.2f %8.2fx %7d MB\n" "${labels[$name]:-$name}" "$secs" "$(awk -v a="$secs" -v b="$ref" 'BEGIN{print a/b}')" $((rss / 1024))
  done <"$WORK/results"
}
