#!/usr/bin/env bash
# Run Flowdesk on this machine with the embedded SQLite databases and demo data:
# creates .venv, installs requirements.txt, migrates, seeds demo data, serves on :5000 (or PORT).
# Usage: bash scripts/run-dev.sh        (then open the address it prints; PORT=5088 to move it)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Flowdesk needs Python 3.11 or newer as python3." >&2; exit 1
fi
# pyodbc (the SQL Server driver) needs the unixODBC library to import on Linux.
if ! ldconfig -p 2>/dev/null | grep -q libodbc.so.2 && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q unixodbc >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q unixodbc >/dev/null; }
  else echo "Note: install unixODBC (sudo apt-get install unixodbc) to use SQL Server URLs." >&2; fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt

export FLASK_APP=flasky FLASK_CONFIG="${FLASK_CONFIG:-development}"
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo || echo "Kept the existing data (seed-demo refused: see above)."
PORT="${PORT:-5000}"
echo "Flowdesk runs at http://127.0.0.1:${PORT}  (Ctrl+C stops it)"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT}"
