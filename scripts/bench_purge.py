"""Benchmark of the purge (retention) against the engine's own delete of the same rows.

    .venv/bin/python scripts/bench_purge.py                          # SQLite, 1,000,000 rows
    .venv/bin/python scripts/bench_purge.py --rows 20000000 --instance /tmp/bp   # issue 16's case
    .venv/bin/python scripts/bench_purge.py --instance /tmp/bp --repeat 2   # reuse the seeded data
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/flowdesk_bench_app \\
    BENCH_OPS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/flowdesk_bench_ops \\
        .venv/bin/python scripts/bench_purge.py             # SQLite, then PostgreSQL too

Seeds N responses (app.seeding.seed_demo, realistic shape: 500 flows over a year) once, in a
temporary or --instance folder (SQLite) and, when BENCH_DATABASE_URL/BENCH_OPS_DATABASE_URL are
set, in PostgreSQL (schemas BENCH_APP_SCHEMA/BENCH_OPS_SCHEMA, default flowdesk_app/flowdesk_ops;
an unchanged table is kept in the schema bench_purge_pristine so a run can restore it). Then,
each on its own copy of the same data, the cutoff being the time that leaves the newer half:
- the product: ``purge_responses`` (what ``flask purge`` and the ``retention`` job run): the
  monthly archive files written, then the rows deleted in batches of PURGE_BATCH_ROWS; with the
  CPU time of its two threads (archiving, deleting) apart;
- reference (a), the bare engine: ``DELETE FROM responses WHERE responded_at < ?`` in one
  statement and one transaction, same table, same indexes, no archive (SQLite: the sqlite3
  module, the library the product uses, with its defaults; PostgreSQL: psycopg); on SQLite
  also (a2): the same with the settings the purge gives its deleting connection (page cache,
  secure_delete);
- reference (b): the product's archive writing alone (no delete), into a folder of its own.
SQLite copies are file copies of the seeded databases (checkpointed); the PostgreSQL reference
table is ``CREATE TABLE (LIKE ... INCLUDING ALL)`` filled from the pristine copy
(scripts/bench_purge_copies.py).
Each measurement runs in its own process, which reports its CPU time and peak RSS (POSIX only:
``resource``). On PostgreSQL the delete's CPU is the server's: wall-clock ratios only.

Target (docs/architecture.md §10, issue 16): ≥ 100,000 rows/s purging 10M of 20M on SQLite,
archive written; the ratios to (a) say how close the purge is to the engine's own limit.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_common import best, main_or_child, settle, spread  # noqa: E402 (scripts/ is on the path)
from bench_common import run_child as run_script_child  # noqa: E402
from bench_purge_copies import REFERENCE_SCHEMA, copy_sqlite, pg_copies, pg_environ, pg_restore, psql_url  # noqa: E402

TARGET_ROWS_PER_S = 100_000


# -- the app in a child process --------------------------------------------------------------
def make_app(backend: str, folder: str, archive: str | None = None, batch_rows: int = 0):
    from app import create_app
    environ = {'FLOWDESK_INSTANCE_PATH': folder, 'LOG_LEVEL': 'WARNING',
               'ARCHIVE_FOLDER': archive or str(Path(folder) / 'archive')}
    if batch_rows:
        environ['PURGE_BATCH_ROWS'] = str(batch_rows)
    if backend == 'postgresql':
        environ.update(pg_environ())
    return create_app('development', environ=environ)


def stored_time(value: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (so the reference compares like the product)."""
    return value.isoformat(' ', 'microseconds')


def child_seed(backend: str, folder: str, rows: str) -> dict:
    """The seeded data (seeded unless it is already there); the cutoff leaving the newer half."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app.datasets import RESPONSES
    from app.extensions import db
    from app.seeding import seed_demo
    app, rows = make_app(backend, folder), int(rows)
    table = RESPONSES.table
    with app.app_context():
        upgrade(directory=str(ROOT / 'migrations'))
        engine = db.engines['ops']
        with engine.connect() as connection:
            have = connection.scalar(select(func.count()).select_from(table))
        seeded = have != rows
        if seeded:
            seed_demo(responses=rows, force=True, shape='realistic')
        with engine.connect() as connection:
            cutoff = connection.scalar(select(table.c.responded_at)
                                       .order_by(table.c.responded_at).offset(rows // 2).limit(1))
            older = connection.scalar(select(func.count()).select_from(table)
                                      .where(table.c.responded_at < cutoff))
        settle(engine)
    return {'seeded': seeded, 'cutoff': cutoff.isoformat(), 'older': older}


class ThreadClock:
    """CPU seconds spent in a function, summed over calls, on whichever thread runs it."""

    def __init__(self):
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.thread_time() - started
        return timed


def child_product(backend: str, folder: str, spec: str) -> dict:
    """Flowdesk's purge: archive and delete everything older than the cutoff."""
    from app.retention import purge
    options = json.loads(spec)
    app = make_app(backend, folder, options['archive'], options['batch_rows'])
    archiving, deleting = ThreadClock(), ThreadClock()
    purge.archive_planned = archiving.wrap(purge.archive_planned)
    purge.delete_planned = deleting.wrap(purge.delete_planned)
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        outcome = purge.purge_responses(datetime.fromisoformat(options['cutoff']), actor='bench')
        return {'seconds': time.perf_counter() - started, 'rows': outcome.responses,
                'purge_cpu_seconds': time.process_time() - cpu, 'months': len(outcome.months),
                'archive_cpu_seconds': archiving.seconds, 'delete_cpu_seconds': deleting.seconds,
                'archive_mb': sum(path.stat().st_size for path
                                  in Path(options['archive']).glob('*.csv.gz')) / 1e6}


def child_archive(backend: str, folder: str, spec: str) -> dict:
    """Reference (b): the product's archive writing alone, nothing deleted."""
    from app.database import engine_for
    from app.retention import purge
    options = json.loads(spec)
    app = make_app(backend, folder, options['archive'])
    cutoff = datetime.fromisoformat(options['cutoff'])
    with app.app_context():
        engine = engine_for('ops')
        started, cpu = time.perf_counter(), time.process_time()
        with engine.connect() as connection:
            oldest = purge.oldest_time(connection, cutoff)
        written = sum(purge.archive_month(engine, Path(options['archive']), month, start, end)
                      for month, start, end in purge.month_ranges(oldest, cutoff))
        return {'seconds': time.perf_counter() - started, 'rows': written,
                'purge_cpu_seconds': time.process_time() - cpu}


def child_engine_delete(backend: str, folder: str, spec: str, cache_kib: int = 0) -> dict:
    """Reference (a): the engine's own delete of the same rows, one statement, no archive;
    with ``cache_kib`` (a2), with the settings the purge gives its deleting connection (that
    page cache, secure_delete FAST)."""
    options = json.loads(spec)
    cutoff = datetime.fromisoformat(options['cutoff'])
    if backend == 'sqlite':
        connection = sqlite3.connect(Path(folder) / 'ops.db', isolation_level=None)
        connection.execute('PRAGMA synchronous = NORMAL')  # as the app's connections
        if cache_kib:
            from app.retention.purge import PURGE_SECURE_DELETE
            connection.execute(f'PRAGMA cache_size = -{int(cache_kib)}')
            connection.execute(f'PRAGMA secure_delete = {PURGE_SECURE_DELETE}')
        started, cpu = time.perf_counter(), time.process_time()
        connection.execute('BEGIN')
        rows = connection.execute('DELETE FROM responses WHERE responded_at < ?',
                                  (stored_time(cutoff),)).rowcount
        connection.execute('COMMIT')
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        connection.close()
        return {'seconds': seconds, 'rows': rows, 'purge_cpu_seconds': cpu}
    import psycopg
    with psycopg.connect(psql_url(os.environ['BENCH_OPS_DATABASE_URL'])) as connection:
        started = time.perf_counter()
        rows = connection.execute(f'DELETE FROM {REFERENCE_SCHEMA}.responses '  # nosec B608
                                  'WHERE responded_at < %s', (cutoff,)).rowcount
        connection.commit()
    return {'seconds': time.perf_counter() - started, 'rows': rows}


def child_engine_settings(backend: str, folder: str, spec: str) -> dict:
    """Reference (a2): (a) with the purge's settings for its batch size."""
    from app.retention.purge import purge_cache_kib
    batch_rows = (json.loads(spec)['batch_rows']
                  or make_app(backend, folder).config['PURGE_BATCH_ROWS'])
    return child_engine_delete(backend, folder, spec, purge_cache_kib(batch_rows))


CHILDREN = {'seed': child_seed, 'product': child_product, 'archive': child_archive,
            'engine': child_engine_delete, 'engine-cache': child_engine_settings}
#: What runs, in order, and on which copy of the seeded data (SQLite: a folder of its own for
#: each copy that a delete consumes; PostgreSQL: the reference schema, the product's schema).
STEPS = {'sqlite': [('archive', 'reference'), ('engine', 'reference'),
                    ('engine-cache', 'reference-cache'), ('product', 'product')],
         'postgresql': [('archive', 'product'), ('engine', 'reference'), ('product', 'product')]}


def run_child(kind: str, backend: str, folder: Path, spec: str) -> dict:
    """One measurement (CHILDREN) in a process of its own."""
    return run_script_child(__file__, kind, backend, folder, spec)


# -- the run -----------------------------------------------------------------------------------
def measure(backend: str, args, work: Path) -> dict:
    print(f'\n== {backend}: preparing {args.rows:,} realistic responses …', flush=True)
    pristine = work / 'pristine'
    pristine.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if backend == 'postgresql':
        pg_restore(args.rows)
    seeded = run_child('seed', backend, pristine, str(args.rows))
    print(f'   {"seeded" if seeded["seeded"] else "reusing"} ({time.perf_counter() - started:.0f}'
          f' s); cutoff {seeded["cutoff"]}, {seeded["older"]:,} rows older', flush=True)
    steps = STEPS[backend]
    runs: dict[str, list[dict]] = {kind: [] for kind, _copy in steps}
    for round_ in range(args.repeat):
        if backend == 'sqlite':
            for copy in {copy for _kind, copy in steps}:
                copy_sqlite(pristine, work / copy)
        else:
            pg_copies(first=seeded['seeded'] and round_ == 0, refill=round_ > 0)
        for kind, copy in steps:
            archive = work / f'archive-{kind}'
            shutil.rmtree(archive, ignore_errors=True)
            spec = json.dumps({'cutoff': seeded['cutoff'], 'archive': str(archive),
                               'batch_rows': args.batch_rows})
            folder = work / copy if backend == 'sqlite' else pristine
            runs[kind].append(run_child(kind, backend, folder, spec))
            shutil.rmtree(archive, ignore_errors=True)
            if kind != 'archive' and runs[kind][-1]['rows'] != seeded['older']:
                raise SystemExit(f'{kind} deleted {runs[kind][-1]["rows"]:,} rows, not '
                                 f'{seeded["older"]:,}')
    return runs


def line(name: str, run: dict, runs: list[dict]) -> str:
    rate = run['rows'] / run['seconds']
    cpu = f'  CPU {run["purge_cpu_seconds"]:6.1f} s' if 'purge_cpu_seconds' in run else ''
    return (f'{name:<34} {run["seconds"]:7.1f} s {rate:>10,.0f} rows/s{cpu}'
            f'   peak RSS {run["max_rss_mb"]:.0f} MB{spread(runs)}')


REFERENCES = {'engine': '(a) engine DELETE, one statement',
              'engine-cache': '(a2) the same, purge\'s settings'}


def ratios(product: dict, engine: dict) -> str:
    """The purge's speed as a multiple of an engine delete's, by wall-clock and CPU time."""
    text = f'{(engine["seconds"] / product["seconds"]):.2f}x by wall-clock time'
    if 'purge_cpu_seconds' in engine:
        text += f', {engine["purge_cpu_seconds"] / product["purge_cpu_seconds"]:.2f}x by CPU time'
    return text


def report(backend: str, runs: dict) -> bool:
    """Print one backend's figures; whether the target was met."""
    product, archive = best(runs['product']), best(runs['archive'])
    rate = product['rows'] / product['seconds']
    print(f'\n== {backend}: purging {product["rows"]:,} rows ({product["months"]} monthly '
          f'archives, {product["archive_mb"]:.1f} MB) ==')
    print(line('flowdesk purge (archive + delete)', product, runs['product']))
    print(f'{"  CPU archiving / deleting":<34} {product["archive_cpu_seconds"]:7.1f} s / '
          f'{product["delete_cpu_seconds"]:.1f} s (each on its own thread)')
    references = [kind for kind in REFERENCES if runs.get(kind)]
    for kind in references:
        print(line(REFERENCES[kind], best(runs[kind]), runs[kind]))
    print(line('(b) archive writing alone', archive, runs['archive']))
    for kind in references:
        print(f'{"purge / " + REFERENCES[kind][:4].strip():<34} '
              f'{ratios(product, best(runs[kind]))}')
    engine = best(runs['engine'])
    print(f'{"target":<34} {TARGET_ROWS_PER_S:>9,} rows/s: the purge {rate / TARGET_ROWS_PER_S:.2f}x'
          f', the engine\'s own delete (a) {engine["rows"] / engine["seconds"] / TARGET_ROWS_PER_S:.2f}x')
    return rate >= TARGET_ROWS_PER_S if backend == 'sqlite' else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000,
                        help='responses seeded; the older half is purged (issue 16: 20000000)')
    parser.add_argument('--instance', type=Path,
                        help='keep the data here and reuse it when it has --rows responses '
                             '(default: a temporary folder, removed at the end)')
    parser.add_argument('--backend', choices=['sqlite', 'postgresql', 'both'],
                        help='default: SQLite, and PostgreSQL too when BENCH_DATABASE_URL and '
                             'BENCH_OPS_DATABASE_URL are set')
    parser.add_argument('--batch-rows', type=int, default=0,
                        help='PURGE_BATCH_ROWS for the product (default: the setting\'s)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='measure N times on fresh copies, best of each')
    args = parser.parse_args(argv)
    have_pg = bool(os.environ.get('BENCH_DATABASE_URL') and os.environ.get('BENCH_OPS_DATABASE_URL'))
    choice = args.backend or ('both' if have_pg else 'sqlite')
    backends = {'sqlite': ['sqlite'], 'postgresql': ['postgresql'],
                'both': ['sqlite', 'postgresql']}[choice]
    if 'postgresql' in backends and not have_pg:
        parser.error('PostgreSQL needs BENCH_DATABASE_URL and BENCH_OPS_DATABASE_URL')
    work = args.instance or Path(tempfile.mkdtemp(prefix='flowdesk-bench-purge-'))
    met = None
    try:
        for backend in backends:
            outcome = report(backend, measure(backend, args, work / backend))
            met = outcome if outcome is not None else met
    finally:
        if not args.instance:
            shutil.rmtree(work, ignore_errors=True)
    print({True: '\nTarget met.', None: '\nThe target is for SQLite, not measured in this run.',
           False: f'\nMissed: SQLite below {TARGET_ROWS_PER_S:,} rows/s.'}[met])
    return 1 if met is False else 0


if __name__ == '__main__':
    sys.exit(main_or_child(main, CHILDREN))
