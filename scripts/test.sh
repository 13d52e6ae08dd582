#!/usr/bin/env bash
# The one test command: installs what is missing, starts a throwaway PostgreSQL on a free loopback
# port, builds once, runs every test, and stops only what it started (also on failure).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --filter Chinook   # extra arguments go to `swift test`
#
# Env: CUTOVER_TEST_PG_URL  use this PostgreSQL (a superuser URL) instead of starting one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '== %s\n' "$*" >&2; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

ensure_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [[ -f /usr/include/postgresql/libpq-fe.h ]] || missing+=(libpq-dev)
  [[ -f /usr/include/sqlite3.h ]] || missing+=(libsqlite3-dev)
  command -v sqlite3 >/dev/null || missing+=(sqlite3)
  command -v psql >/dev/null || missing+=(postgresql-client)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} from Debian's packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

PG_DIR=""
PG_BIN=""
pg_run() {
  # initdb and postgres refuse to run as root: use the postgres system user then.
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_postgres() {
  if [[ -n "$PG_DIR" && -d "$PG_DIR" ]]; then
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    say "stopped the test PostgreSQL"
  fi
}
trap stop_postgres EXIT

start_postgres() {
  PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
  PG_DIR=$(mktemp -d /tmp/cutover-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PG_DIR"
  local port password=cutover-test-secret
  port=$(free_port)
  echo "$password" > "$PG_DIR/pw"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PG_DIR/pw"
  pg_run "$PG_BIN/initdb" -D "$PG_DIR/data" -U cutover_test --pwfile="$PG_DIR/pw" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; exit 1; }
  export CUTOVER_TEST_PG_URL="postgres://cutover_test:$password@127.0.0.1:$port/postgres"
  say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

ensure_packages
if [[ -z "${CUTOVER_TEST_PG_URL:-}" ]]; then start_postgres; else say "using PostgreSQL from CUTOVER_TEST_PG_URL"; fi
# Tests that need a server fail (not skip) when this says it is there.
export CUTOVER_TEST_REQUIRE_SERVERS=1

say "building (once, with the tests)"
BUILD_LOG=$(mktemp /tmp/cutover-build.XXXXXX)
if ! swift build --build-tests >"$BUILD_LOG" 2>&1; then
  grep -E 'error:' "$BUILD_LOG" | sort -u | head -50 >&2 || true
  tail -20 "$BUILD_LOG" >&2
  say "build failed"
  exit 1
fi
rm -f "$BUILD_LOG"
export CUTOVER_BIN="$(swift build --show-bin-path)/cutover"
[[ -x "$CUTOVER_BIN" ]] || { say "build failed: $CUTOVER_BIN is missing"; exit 1; }

say "testing"
swift test --skip-build "$@"
