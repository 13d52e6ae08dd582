# Shared by scripts/test.sh and bench scripts: installs the Snowflake emulator (fakesnow, from PyPI,
# pinned versions) into a venv and runs it on a free loopback port. Source it; after
# start_fakesnow, CUTOVER_SNOWFLAKE_URL points at the emulator.

# Known to work together; snowflake-connector-python 5.x breaks fakesnow 0.12.1 at import.
FAKESNOW_PACKAGES=(
  "fakesnow==0.12.1"
  "snowflake-connector-python==4.8.1"
  "duckdb==2.0.0"
  "sqlglot==30.22.0"
  "pyarrow==26.0.1"
  "starlette==1.10.0"
  "uvicorn==0.54.0"
)
FAKESNOW_VENV="${FAKESNOW_VENV:-$ROOT/.venv-fakesnow}"
FAKESNOW_PID=""
FAKESNOW_LOG=""

# Any HTTP answer (a 404 on /) means the server is up.
fakesnow_answers() {
  python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
except urllib.error.HTTPError:
    sys.exit(0)
except Exception:
    sys.exit(1)
PY
}

ensure_fakesnow() {
  if [[ ! -x "$FAKESNOW_VENV/bin/fakesnow" ]]; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
      say "installing python3-venv from Debian's packages"
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
    fi
    say "installing the Snowflake emulator (fakesnow) into $FAKESNOW_VENV"
    python3 -m venv "$FAKESNOW_VENV"
    "$FAKESNOW_VENV/bin/pip" install -q --disable-pip-version-check "${FAKESNOW_PACKAGES[@]}" >&2
  fi
}

stop_fakesnow() {
  if [[ -n "$FAKESNOW_PID" ]] && kill -0 "$FAKESNOW_PID" 2>/dev/null; then
    kill -INT "$FAKESNOW_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$FAKESNOW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$FAKESNOW_PID" 2>/dev/null || true
    rm -f "$FAKESNOW_LOG"
    say "stopped the Snowflake emulator"
  fi
  FAKESNOW_PID=""
}

start_fakesnow() {
  ensure_fakesnow
  local port
  port=$(free_port)
  FAKESNOW_LOG=$(mktemp /tmp/cutover-fakesnow.XXXXXX)
  "$FAKESNOW_VENV/bin/fakesnow" -s --host 127.0.0.1 -p "$port" >"$FAKESNOW_LOG" 2>&1 &
  FAKESNOW_PID=$!
  for _ in $(seq 1 150); do
    if fakesnow_answers "$port"; then
      say "Snowflake emulator on 127.0.0.1:$port"
      export CUTOVER_SNOWFLAKE_URL="snowflake://cutover:emulator@fakesnow/CUTOVER/PUBLIC?host=127.0.0.1&port=$port&protocol=http"
      return 0
    fi
    kill -0 "$FAKESNOW_PID" 2>/dev/null || break
    sleep 0.2
  done
  say "the Snowflake emulator did not start; its log:"
  cat "$FAKESNOW_LOG" >&2
  exit 1
}
