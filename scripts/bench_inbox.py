"""``scripts/bench_load.py --inbox``: ``flask jobs run`` over an inbox holding one N-row file
against ``flask load`` of the same file, each as the real command in its own process and into
a freshly migrated database (flows loaded first). Target: the inbox within 10 % of
``flask load``; both include the command's start-up, the SHA-256 of the file and the load.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench_load_children import child_environ

ROOT = Path(__file__).resolve().parent.parent
#: The inbox may be at most this much slower than ``flask load``.
TOLERANCE = 0.10


def flask_environ(child_environ: dict[str, str]) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(('FLASK_', 'FLOWDESK_', 'DATABASE_URL', 'OPS_', 'INBOX_'))}
    environ.update(child_environ, FLASK_APP='flasky', FLASK_CONFIG='development',
                   FLOWDESK_DEV_USER='CORP\\bench', INBOX_SETTLE_SECONDS='0',
                   INBOX_TICK_SECONDS='3600', PYTHONPATH=str(ROOT))
    return environ


def timed_flask(args: list[str], environ: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, '-m', 'flask', *args], cwd=ROOT, env=environ,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f'flask {" ".join(args)} failed:\n{result.stdout[-2000:]}'
                         f'{result.stderr[-3000:]}')
    return seconds


def define_inbox(environ: dict[str, str], folder: Path) -> None:
    script = ('from flasky import app\n'
              'from app.extensions import db\n'
              'from app.models import Inbox\n'
              'with app.app_context():\n'
              f'    db.session.add(Inbox(name="bench", folder={str(folder)!r}, '
              'dataset="responses", mode="append", pattern="*.csv", active=True))\n'
              '    db.session.commit()\n')
    subprocess.run([sys.executable, '-c', script], cwd=ROOT, env=environ, check=True)


def time_load(bench, backend, pg_url, work: Path, paths: dict) -> float:
    target = bench.fresh_target(backend, pg_url, work, 'by-load', paths['flows'])
    environ = flask_environ(child_environ(backend, target))
    return timed_flask(['load', 'responses', str(paths['responses']), '--mode', 'append'],
                       environ)


def time_inbox(bench, backend, pg_url, work: Path, paths: dict) -> float:
    target = bench.fresh_target(backend, pg_url, work, 'by-inbox', paths['flows'])
    environ = flask_environ(child_environ(backend, target))
    folder = work / 'inbox folder'
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copy(paths['responses'], folder / 'responses.csv')
    define_inbox(environ, folder)
    seconds = timed_flask(['jobs', 'run', 'inbox', '--force'], environ)
    if not any((folder / 'processed').glob('*/responses.csv')):
        raise SystemExit('the inbox did not load the file (it is not in processed/)')
    return seconds


def run(bench, backends: list[str], pg_url: str | None, work: Path, paths: dict,
        rows: int, repeat: int = 1) -> list[str]:
    """``bench`` is the bench_load module (fresh databases). With ``repeat``
    the two commands alternate that many times and the best time of each counts (on a busy
    machine the other processes' noise is larger than the difference measured)."""
    failures = []
    for backend in backends:
        loads, inboxes = [], []
        for _round in range(repeat):
            loads.append(time_load(bench, backend, pg_url, work, paths))
            inboxes.append(time_inbox(bench, backend, pg_url, work, paths))
        load_seconds, inbox_seconds = min(loads), min(inboxes)
        ratio = inbox_seconds / load_seconds
        print(f'\n== {backend}: {rows:,} rows, whole command incl. start-up, best of {repeat} ==')
        print(f'{"flask load":<28} {load_seconds:8.1f} s {rows / load_seconds:>12,.0f} rows/s'
              f'   (all: {", ".join(f"{s:.1f}" for s in loads)})')
        print(f'{"flask jobs run (inbox)":<28} {inbox_seconds:8.1f} s '
              f'{rows / inbox_seconds:>12,.0f} rows/s   {ratio:.2f}x the time of flask load '
              f'(target <= {1 + TOLERANCE:.2f}x)   (all: {", ".join(f"{s:.1f}" for s in inboxes)})')
        if ratio > 1 + TOLERANCE:
            failures.append(f'{backend}: inbox {ratio:.2f}x flask load')
    return failures
