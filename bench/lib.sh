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
