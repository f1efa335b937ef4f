"""Benchmark of Flowdesk's load path against the engines' own fastest bulk path and pandas.

    .venv/bin/python scripts/bench_load.py --rows 1000000 [--shape realistic] \
        [--pg postgresql+psycopg://postgres@127.0.0.1/flowdesk_bench] [--skip-pandas] [--repeat N]

Generates N responses deterministically (app.demo_data, fixed seed and end time) as CSV
(scripts/bench_load_data.py), then, in the same run and each into a freshly migrated database
(the product's real schema, with the flows loaded first):
- the product: ``run_load`` (the path of ``flask load`` and the upload page): streaming
  validation, bulk write, undo bookkeeping, the error-reason dictionary and the daily summary,
  in one transaction;
- the reference, the engine's fastest path with no validation at all:
  - SQLite: the sqlite3 command-line tool's ``.import`` into the bare responses table (the
    migrated table with its secondary indexes dropped), then ``CREATE INDEX`` for the same
    secondary indexes (``PRAGMA threads`` as the product's index build); needs the sqlite3 CLI
    (Debian: ``apt-get install -y sqlite3``);
  - PostgreSQL (with --pg): raw ``COPY ... FROM STDIN`` into the same table, indexes live;
  both get the rows with the batch id and the reason hash filled, so they write what the
  product writes (the error-reason dictionary and the daily summary aside);
- pandas ``read_csv`` + ``to_sql``, for information only (pandas is a benchmark-only
  dependency, not in requirements.txt: ``.venv/bin/pip install pandas``; left out with a note
  when it is not installed, or with --skip-pandas).
With ``--parse-process`` (``LOAD_PARSE_PROCESS=1``), the load checks its rows in a second
process (app/loading/parse_process.py): its CPU time is added to the load's and printed on
its own.
Each measurement runs in its own process (scripts/bench_load_children.py), which reports its
peak RSS (POSIX only: this script uses ``resource``; the app itself does not). With
``--repeat N`` the product and the reference alternate N times and the best time of each
counts (the spread is printed): on a shared machine the noise of other processes is larger
than the differences measured.

With ``--inbox``: ``flask jobs run`` over an inbox holding the file against ``flask load`` of
it (scripts/bench_inbox.py; target: within 10 %).

With ``--mapped``: a load mapped by a source profile (the same rows in the layout of SAP
Integration Suite message processing logs) against the native load (scripts/bench_mapped.py;
target: at most 15 % slower, memory as flat).

Targets (docs/architecture.md §10): product ≥ 0.5× the engine's fastest path (stretch 0.8×),
peak RSS ≤ 150 MB whatever N is.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_common import best, cpu_seconds, main_or_child, spread  # noqa: E402 (scripts/ is on the path)
from bench_common import run_child as run_script_child  # noqa: E402
from bench_load_children import CHILDREN  # noqa: E402
from bench_load_data import data_paths, generate  # noqa: E402


def run_child(kind: str, backend: str, target: str, path: Path) -> dict:
    """One measurement (bench_load_children.CHILDREN) in a process of its own."""
    return run_script_child(__file__, kind, backend, target, path)


# -- the run ----------------------------------------------------------------------------------
def fresh_target(backend: str, pg_url: str | None, work: Path, name: str, flows: Path) -> str:
    if backend == 'sqlite':
        target = work / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        target = str(target)
    else:
        target = pg_url
    run_child('prepare', backend, target, flows)
    return target


def secondary_indexes(database: Path) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the responses table's secondary indexes."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'responses' "
            'AND sql IS NOT NULL ORDER BY name').fetchall()


def sqlite_import(target: str, path: Path) -> dict:
    """SQLite's fastest path: ``.import`` into the bare table, then the same CREATE INDEX
    statements. ``.import`` stores an empty field as '' (it has no NULL), so the partial
    reason index is given the condition that selects the same rows ('' where the product
    stores NULL)."""
    if shutil.which('sqlite3') is None:
        raise SystemExit('The sqlite3 command-line tool is missing: apt-get install -y sqlite3')
    database = Path(target) / 'ops.db'
    indexes = secondary_indexes(database)
    with sqlite3.connect(database) as connection:
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
    create = [sql.replace('reason_hash IS NOT NULL', "reason_hash <> ''") + ';'
              for _name, sql in indexes]
    cpu_before = cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(['sqlite3', str(database), '.mode csv', f'.import {path} responses'],
                   check=True, capture_output=True)
    imported = time.perf_counter()
    script = '\n'.join(['PRAGMA threads = 2;', 'BEGIN;', *create, 'COMMIT;'])
    subprocess.run(['sqlite3', str(database)], input=script, text=True, check=True,
                   capture_output=True)
    finished = time.perf_counter()
    return {'seconds': finished - started, 'import_seconds': imported - started,
            'cpu_seconds': cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before,
            'index_seconds': finished - imported}


def pandas_available() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def measure(backend: str, args, work: Path, paths: dict) -> dict[str, list[dict]]:
    """Each measurement ``args.repeat`` times, alternating, each into a fresh database."""
    results: dict[str, list[dict]] = {'product': [], 'reference': [], 'pandas': []}
    for _round in range(args.repeat):
        target = fresh_target(backend, args.pg, work, 'product', paths['flows'])
        results['product'].append(run_child('product', backend, target, paths['responses']))
        target = fresh_target(backend, args.pg, work, 'reference', paths['flows'])
        if backend == 'sqlite':
            results['reference'].append(sqlite_import(target, paths['responses9']))
        else:
            results['reference'].append(run_child('copy', backend, target, paths['responses9']))
        if not args.skip_pandas:
            target = fresh_target(backend, args.pg, work, 'pandas', paths['flows'])
            results['pandas'].append(run_child('pandas', backend, target, paths['responses']))
    return results


def report(backend: str, rows: int, size_mb: float, results: dict) -> list[str]:
    """Print one backend's figures; the targets it missed."""
    failures = []
    product, reference = best(results['product']), best(results['reference'])
    rate = rows / product['seconds']
    peak = max(run['max_rss_mb'] for run in results['product'])
    name = 'sqlite3 .import + CREATE INDEX' if backend == 'sqlite' else 'COPY'
    print(f'\n== {backend}: {rows:,} rows ({size_mb:,.1f} MB) ==')
    print(f'{"flowdesk load (validated)":<31} {product["seconds"]:8.1f} s {rate:>10,.0f} rows/s'
          f'   peak RSS {peak:.0f} MB{spread(results["product"])}')
    reference_rate = rows / reference['seconds']
    ratio = rate / reference_rate
    print(f'{name:<31} {reference["seconds"]:8.1f} s {reference_rate:>10,.0f} rows/s'
          f'{spread(results["reference"])}')
    if 'index_seconds' in reference:
        print(f'{"  of which .import / indexes":<31} {reference["import_seconds"]:8.1f} s '
              f'/ {reference["index_seconds"]:.1f} s')
    print(f'{"ratio to the reference":<31} {ratio:8.2f}x  (target >= 0.5x, stretch 0.8x)')
    if product.get('child_cpu_seconds', 0) >= 0.05:
        # Its own peak RSS is not known here: ru_maxrss of a child keeps the high-water mark
        # of the process it was forked from (about 70 MB measured alone, flat).
        print(f'{"  of which the second process":<31} {product["child_cpu_seconds"]:8.1f} s CPU'
              ' (checking the rows)')
    if backend == 'sqlite':
        # SQLite works inside these processes, so their CPU time is the work itself, and its
        # ratio holds up on a busy machine where the wall-clock ratio does not.
        product_cpu = min(run['cpu_seconds'] for run in results['product'])
        reference_cpu = min(run['cpu_seconds'] for run in results['reference'])
        print(f'{"ratio by CPU time":<31} {reference_cpu / product_cpu:8.2f}x  '
              f'({product_cpu:.1f} s against {reference_cpu:.1f} s; the product\'s includes '
              'starting the app)')
    else:
        product_cpu = min(run['cpu_seconds'] for run in results['product'])
        print(f'{"CPU time of the load":<31} {product_cpu:8.1f} s  (its processes; the '
              'server\'s work is not counted)')
    if ratio < 0.5:
        failures.append(f'{backend}: {ratio:.2f}x {name}')
    if results['pandas']:
        pandas = best(results['pandas'])
        pandas_rate = rows / pandas['seconds']
        print(f'{"pandas read_csv+to_sql":<31} {pandas["seconds"]:8.1f} s {pandas_rate:>10,.0f} '
              f'rows/s   ratio {rate / pandas_rate:.2f}x (for information)   peak RSS '
              f'{pandas["max_rss_mb"]:.0f} MB')
    if peak > 150:
        failures.append(f'{backend}: peak RSS {peak:.0f} MB')
    return failures


def parse_args():
    """The options, settled: --parse-process passed on to the children, pandas left out when
    it is not installed (with a note) or not compared."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--shape', choices=['demo', 'realistic'], default='demo',
                        help='realistic: 500 flows over a year, mostly distinct error reasons')
    parser.add_argument('--pg', help='PostgreSQL URL (a database of its own; schemas '
                                     'bench_app/bench_ops are dropped and recreated)')
    parser.add_argument('--skip-pandas', action='store_true')
    parser.add_argument('--skip-sqlite', action='store_true')
    parser.add_argument('--workdir', type=Path, help='where to write data (default: a temp dir)')
    parser.add_argument('--reuse', action='store_true',
                        help='with --workdir: use the files an earlier run generated there')
    parser.add_argument('--inbox', action='store_true',
                        help='compare flask jobs run over an inbox with flask load instead '
                             '(scripts/bench_inbox.py)')
    parser.add_argument('--mapped', action='store_true',
                        help='compare a load mapped by a source profile with the native load '
                             'of the same rows instead (scripts/bench_mapped.py)')
    parser.add_argument('--parse-process', action='store_true',
                        help='the load checks its rows in a second process '
                             '(LOAD_PARSE_PROCESS=1; off by default)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='alternate the product and the reference N times, best of each '
                             '(with --inbox or --mapped: the two loads)')
    args = parser.parse_args()
    if args.parse_process:
        os.environ['BENCH_LOAD_PARSE_PROCESS'] = '1'
    if args.inbox or args.mapped:
        args.skip_pandas = True
    if not args.skip_pandas and not pandas_available():
        print('pandas is not installed, so its figure is left out (it is for information '
              'only: .venv/bin/pip install pandas to include it).')
        args.skip_pandas = True
    return args


def data_files(args) -> tuple[Path, dict[str, Path]]:
    """The work folder and the files in it: generated, or an earlier run's with --reuse."""
    work = args.workdir or Path(tempfile.mkdtemp(prefix='flowdesk-bench-load-'))
    work.mkdir(parents=True, exist_ok=True)
    if args.reuse and args.workdir and (work / 'responses.csv').exists():
        paths = data_paths(work)
        print(f'Reusing the files in {work}', flush=True)
    else:
        print(f'Generating {args.rows:,} responses ({args.shape} shape) in {work} …', flush=True)
        paths = generate(work, args.rows, args.shape)
    return work, paths


def main() -> int:
    args = parse_args()
    work, paths = data_files(args)
    size_mb = paths['responses'].stat().st_size / 1e6
    print(f'responses.csv: {size_mb:,.1f} MB', flush=True)
    backends = ([] if args.skip_sqlite else ['sqlite']) + (['postgresql'] if args.pg else [])
    failures = []
    if args.inbox:
        import bench_inbox
        failures = bench_inbox.run(sys.modules[__name__], backends, args.pg, work, paths,
                                   args.rows, args.repeat)
        backends = []
    elif args.mapped:
        import bench_mapped
        failures = bench_mapped.run(sys.modules[__name__], backends, args.pg, work, paths,
                                    args.rows, args.repeat)
        backends = []
    for backend in backends:
        failures += report(backend, args.rows, size_mb, measure(backend, args, work, paths))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print('\nAll targets met.' if not failures else '\nMissed: ' + '; '.join(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main_or_child(main, CHILDREN))
