# Shared by scripts/test.sh and bench/*.sh: install what is missing and run a throwaway
# PostgreSQL cluster on a free loopback port. Source it; it sets CUTOVER_PG_URL after start_postgres.

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

# Extra server settings may be passed as arguments, e.g. start_postgres -c shared_buffers=512MB
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
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements $*" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; exit 1; }
  export CUTOVER_PG_URL="postgres://cutover_test:$password@127.0.0.1:$port/postgres"
  PG_PORT=$port PG_PASSWORD=$password
  say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

