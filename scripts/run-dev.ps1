# Run Flowdesk on Windows with the embedded SQLite databases and demo data:
# creates .venv, installs requirements.txt, migrates, seeds demo data, serves on :5000 (or $env:PORT).
# Usage (PowerShell, from the repository folder):  .\scripts\run-dev.ps1
$ErrorActionPreference = 'Stop'
Set-Location (Split-Path -Parent $PSScriptRoot)

if (-not (Test-Path .venv\Scripts\python.exe)) { py -3 -m venv .venv }
& .venv\Scripts\python.exe -m pip install -q --disable-pip-version-check -r requirements.txt
if ($LASTEXITCODE -ne 0) { throw 'pip install failed' }

$env:FLASK_APP = 'flasky'
if (-not $env:FLASK_CONFIG) { $env:FLASK_CONFIG = 'development' }
& .venv\Scripts\flask.exe db upgrade
if ($LASTEXITCODE -ne 0) { throw 'flask db upgrade failed' }
& .venv\Scripts\flask.exe seed-demo
if ($LASTEXITCODE -ne 0) { Write-Host 'Kept the existing data (seed-demo refused: see above).' }
$port = if ($env:PORT) { $env:PORT } else { '5000' }
Write-Host "Flowdesk runs at http://127.0.0.1:$port  (Ctrl+C stops it)"
& .venv\Scripts\flask.exe run --host 127.0.0.1 --port $port
