#!/usr/bin/env bash
# Install everything the tests need and run the whole suite (the command CI runs).
# - system packages (Debian/Ubuntu, as root): unixODBC for pyodbc, Chromium + ChromeDriver for
#   the browser tests; without them the affected tests skip with a reason.
# - .venv with requirements.txt
# - the PostgreSQL tier when a server answers on 127.0.0.1:5432 (user postgres): two databases
#   are created and TEST_DATABASE_URL / TEST_OPS_DATABASE_URL point at them.
# Usage: bash scripts/test.sh [flask test options, e.g. tests.unit.test_config]
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] || return 0
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing system packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
      echo "Could not install ${missing[*]}; tests that need them will skip." >&2
  }
}
apt_install unixodbc chromium chromium-driver

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt

PG_HOST="${PG_HOST:-127.0.0.1}" PG_PORT="${PG_PORT:-5432}" PG_USER="${PG_USER:-postgres}"
if [ -z "${TEST_DATABASE_URL:-}" ] && .venv/bin/python - "$PG_HOST" "$PG_PORT" "$PG_USER" <<'PY'
import sys, psycopg
host, port, user = sys.argv[1:4]
try:
    with psycopg.connect(host=host, port=int(port), user=user, dbname='postgres',
                         connect_timeout=3, autocommit=True) as conn:
        for name in ('flowdesk_ci_app', 'flowdesk_ci_ops'):
            if not conn.execute('SELECT 1 FROM pg_database WHERE datname = %s', (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
except Exception as exc:
    print(f'PostgreSQL tier off: no server at {host}:{port} ({type(exc).__name__})', file=sys.stderr)
    sys.exit(1)
PY
then
  export TEST_DATABASE_URL="postgresql+psycopg://${PG_USER}@${PG_HOST}:${PG_PORT}/flowdesk_ci_app"
  export TEST_OPS_DATABASE_URL="postgresql+psycopg://${PG_USER}@${PG_HOST}:${PG_PORT}/flowdesk_ci_ops"
  echo "PostgreSQL tier on: ${PG_HOST}:${PG_PORT} (flowdesk_ci_app, flowdesk_ci_ops)"
fi

# Lint: ruff with the rules in pyproject.toml; any finding fails the run (README "Tests").
echo "ruff: checking the whole tree"
.venv/bin/ruff check --quiet .

# Static analysis: any medium or high bandit finding fails the run (justify exceptions inline
# with `# nosec Bxxx  # reason`; README "Security").
echo "bandit: scanning app/, config.py, flasky.py (medium and high severity)"
.venv/bin/bandit -q -r app config.py flasky.py -ll

# Windows differences (text encodings, POSIX-only calls, os.rename, slash-built paths, files
# moved while open, csv newlines): any finding fails the run (docs/deploy-iis.md "Windows specifics").
.venv/bin/python scripts/check_windows.py app config.py flasky.py

exec .venv/bin/flask --app flasky test "$@"
