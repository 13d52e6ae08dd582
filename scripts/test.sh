#!/usr/bin/env bash
# The one test command: installs what is missing, starts a throwaway PostgreSQL and the Snowflake
# emulator (fakesnow, from PyPI, in .venv-fakesnow) on free loopback ports, installs schemathesis (PyPI,
# in .venv-schemathesis) to fuzz the API, builds once, runs every test, and stops only what it started
# (also on failure).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --filter Chinook   # extra arguments go to `swift test`
#
# Env: CUTOVER_TEST_PG_URL         use this PostgreSQL (a superuser URL) instead of starting one.
#      CUTOVER_TEST_SNOWFLAKE_URL  use this Snowflake (emulator) URL instead of starting one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '== %s\n' "$*" >&2; }

# shellcheck source=scripts/lib-postgres.sh
source scripts/lib-postgres.sh
# shellcheck source=scripts/lib-fakesnow.sh
source scripts/lib-fakesnow.sh
trap 'stop_fakesnow; stop_postgres' EXIT

ensure_packages
# The web console test drives Debian's Chromium through chromedriver; PDF reports are printed by
# Chromium and read back with poppler's pdftotext/pdftoppm.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v pdftotext >/dev/null; then
  say "installing chromium, chromium-driver and poppler-utils from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null
fi
# The SQL Server connector loads FreeTDS's DB-Library at run time; its tests drive the real library
# (connection errors, timeouts). No SQL Server runs here: the live tests need CUTOVER_TEST_SQLSERVER_URL.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libsybdb\.so\.5'; then
  say "installing libsybdb5 (FreeTDS's DB-Library) from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libsybdb5 >/dev/null
fi
if [[ -z "${CUTOVER_TEST_PG_URL:-}" ]]; then
  start_postgres
  export CUTOVER_TEST_PG_URL="$CUTOVER_PG_URL"
else
  say "using PostgreSQL from CUTOVER_TEST_PG_URL"
fi
if [[ -z "${CUTOVER_TEST_SNOWFLAKE_URL:-}" ]]; then
  start_fakesnow
  export CUTOVER_TEST_SNOWFLAKE_URL="$CUTOVER_SNOWFLAKE_URL"
else
  say "using Snowflake from CUTOVER_TEST_SNOWFLAKE_URL"
fi
# The API is fuzzed through its OpenAPI document by schemathesis (PyPI, pinned) in its own venv.
SCHEMATHESIS_VENV="$ROOT/.venv-schemathesis"
if [[ ! -x "$SCHEMATHESIS_VENV/bin/schemathesis" ]]; then
  say "installing schemathesis into $SCHEMATHESIS_VENV"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5" >&2
fi
export CUTOVER_TEST_SCHEMATHESIS="$SCHEMATHESIS_VENV/bin/schemathesis"

# Operations tests parse /metrics with Prometheus' reference parser and receive alert e-mail with a
# real SMTP server; sign-in tests run a real OpenID Connect provider on loopback (oidc-provider-mock).
# All from PyPI, pinned, in their own venv; the tests start and stop these servers themselves.
OPS_VENV="$ROOT/.venv-ops"
# The T-SQL Cutover writes is parsed by sqlglot's T-SQL parser (no SQL Server runs here).
if [[ ! -x "$OPS_VENV/bin/python" ]] || ! "$OPS_VENV/bin/python" -c 'import prometheus_client, aiosmtpd, oidc_provider_mock, sqlglot' 2>/dev/null; then
  say "installing prometheus-client, aiosmtpd, oidc-provider-mock and sqlglot into $OPS_VENV"
  python3 -m venv "$OPS_VENV"
  "$OPS_VENV/bin/pip" install -q --disable-pip-version-check "prometheus-client==0.26.0" "aiosmtpd==1.4.6" \
    "oidc-provider-mock==0.3.4" "Authlib==1.9.10" "Flask==3.1.3" "Werkzeug==3.1.9" "uvicorn==0.54.0" "pydantic==2.14.4" \
    "sqlglot==30.30.0" >&2
fi
export CUTOVER_TEST_OPS_PYTHON="$OPS_VENV/bin/python"
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
