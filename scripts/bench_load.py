"""Benchmark of Flowdesk's load path against the engines' own bulk tools and pandas.

    .venv/bin/python scripts/bench_load.py --rows 1000000 \
        [--pg postgresql+psycopg://postgres@127.0.0.1/flowdesk_bench] [--skip-pandas]

Generates N responses deterministically (app.demo_data, fixed seed and end time) as CSV, then,
in the same run and each into a freshly migrated database (the product's real schema, with
the flows loaded first):
- the product: ``run_load`` (the path of ``flask load`` and the upload page): streaming
  validation, bulk write, undo bookkeeping and the daily summary, in one transaction;
- SQLite: the sqlite3 command-line tool's ``.import`` of the same rows (no validation);
  needs the sqlite3 CLI (Debian: ``apt-get install -y sqlite3``);
- PostgreSQL (with --pg): raw ``COPY ... FROM STDIN`` of the same rows (no validation);
  both bulk tools get the rows with the batch id and the reason hash filled, so they write
  exactly what the product writes (the error-reason dictionary aside);
- pandas ``read_csv`` + ``to_sql`` (pandas is a benchmark-only dependency, not in
  requirements.txt: ``.venv/bin/pip install pandas``; --skip-pandas to leave it out).
Each measurement runs in its own subprocess, which reports its peak RSS (POSIX only: this
script uses ``resource``; the app itself does not).

With ``--inbox``: ``flask jobs run`` over an inbox holding the file against ``flask load`` of
it (scripts/bench_inbox.py; target: within 10 %).

With ``--mapped``: a load mapped by a source profile (the same rows in the layout of SAP
Integration Suite message processing logs) against the native load (scripts/bench_mapped.py;
target: at most 15 % slower, memory as flat).

Targets (docs/architecture.md §10): product ≥ 0.5× the engine's bulk tool (stretch 0.8×), ≥ 2.5× pandas,
peak RSS ≤ 150 MB whatever N is.
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNTIL = datetime(2026, 11, 1)
SCHEMAS = {'APP_SCHEMA': 'bench_app', 'OPS_SCHEMA': 'bench_ops'}
COLUMNS = ('response_id', 'flow_code', 'responded_at', 'status', 'result_code', 'duration_ms',
           'error_reason', 'payload_bytes')
#: What a load stores per row (the file's columns, the batch id, the derived reason hash).
STORED_COLUMNS = COLUMNS + ('batch_id', 'reason_hash')


# -- data -----------------------------------------------------------------------------------
def generate(folder: Path, rows: int, shape: str = 'demo') -> dict[str, Path]:
    from app.demo_data import iter_responses
    from app.demo_shapes import SHAPES
    from app.error_reasons import reason_hash
    profile = SHAPES[shape]
    flows = profile.make_flows(seed=7)
    paths = {'flows': folder / 'flows.csv', 'responses': folder / 'responses.csv',
             'responses9': folder / 'responses_for_import.csv'}
    with open(paths['flows'], 'w', encoding='utf-8', newline='') as handle:
        writer = csv.writer(handle)
        keys = list(flows[0].as_row())
        writer.writerow(keys)
        writer.writerows([flow.as_row()[key] for key in keys] for flow in flows)
    with open(paths['responses'], 'w', encoding='utf-8', newline='') as plain, \
            open(paths['responses9'], 'w', encoding='utf-8', newline='') as with_batch:
        out, out9 = csv.writer(plain), csv.writer(with_batch)
        out.writerow(COLUMNS)
        for row in iter_responses(flows, rows, until=UNTIL, seed=7,
                                  **profile.response_options()):
            out.writerow(row)
            # The engines' bulk tools store what the product stores: the batch id and the
            # derived reason hash too (sqlite3 .import fills columns by position).
            out9.writerow(row + (0, reason_hash(row[6])))
    return paths


# -- children (each measurement in its own process) -----------------------------------------
def child_environ(backend: str, target: str) -> dict[str, str]:
    if backend == 'sqlite':
        return {'FLOWDESK_INSTANCE_PATH': target, 'LOG_LEVEL': 'WARNING'}
    return {'FLOWDESK_INSTANCE_PATH': tempfile.mkdtemp(prefix='bench-load-'),
            'DATABASE_URL': target, 'OPS_DATABASE_URL': target, 'LOG_LEVEL': 'WARNING',
            **SCHEMAS}


def make_app(backend: str, target: str):
    from app import create_app
    return create_app('development', environ=child_environ(backend, target))


def child_prepare(backend: str, target: str, flows: str) -> dict:
    """A freshly migrated database with the flows loaded."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text
    if backend == 'postgresql':
        engine = create_engine(target, isolation_level='AUTOCOMMIT')
        with engine.connect() as connection:
            for schema in SCHEMAS.values():
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    app = make_app(backend, target)
    with app.app_context():
        upgrade(directory=str(ROOT / 'migrations'))
        from app.loading import LoadRequest, run_load
        outcome = run_load(LoadRequest('flows', 'append', Path(flows), 'flows.csv', 'bench'))
        assert outcome.ok, outcome.message
    return {}


def child_product(backend: str, target: str, responses: str) -> dict:
    app = make_app(backend, target)
    with app.app_context():
        from app.loading import LoadRequest, run_load
        started, cpu = time.perf_counter(), time.process_time()
        outcome = run_load(LoadRequest('responses', 'append', Path(responses), 'responses.csv',
                                       'bench'))
        seconds = time.perf_counter() - started
        assert outcome.ok, outcome.message
        return {'seconds': seconds, 'rows': outcome.counts.inserted,
                'cpu_seconds': time.process_time() - cpu}


def child_copy(backend: str, target: str, responses: str) -> dict:
    """PostgreSQL's raw COPY of the same file (no validation), into the same table."""
    import psycopg
    from sqlalchemy.engine import make_url
    url = make_url(target).set(drivername='postgresql')
    started = time.perf_counter()
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        with connection.cursor() as cursor:
            columns = ', '.join(STORED_COLUMNS)
            with cursor.copy(f'COPY "{SCHEMAS["OPS_SCHEMA"]}".responses ({columns}) FROM STDIN '
                             '(FORMAT csv)') as copy, open(responses, 'rb') as handle:
                while block := handle.read(1 << 20):
                    copy.write(block)
        connection.commit()
    return {'seconds': time.perf_counter() - started}


def child_pandas(backend: str, target: str, responses: str) -> dict:
    import pandas
    from sqlalchemy import create_engine
    if backend == 'sqlite':
        engine, schema = create_engine(f'sqlite:///{target}/ops.db'), None
    else:
        engine, schema = create_engine(target), SCHEMAS['OPS_SCHEMA']
    started = time.perf_counter()
    frame = pandas.read_csv(responses)
    frame['responded_at'] = pandas.to_datetime(frame['responded_at'], format='ISO8601')
    frame.to_sql('responses', engine, schema=schema, if_exists='append', index=False)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {'seconds': seconds}


def child_mapped(backend: str, target: str, responses: str) -> dict:
    import bench_mapped
    return bench_mapped.child(backend, target, responses)


CHILDREN = {'prepare': child_prepare, 'product': child_product, 'copy': child_copy,
            'pandas': child_pandas, 'mapped': child_mapped}


def run_child(kind: str, backend: str, target: str, path: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, '--child', kind, backend, target, str(path)],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f'{kind} on {backend} failed:\n{result.stderr[-3000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


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


def sqlite_import(target: str, path: Path) -> dict:
    if shutil.which('sqlite3') is None:
        raise SystemExit('The sqlite3 command-line tool is missing: apt-get install -y sqlite3')
    database = Path(target) / 'ops.db'
    started = time.perf_counter()
    subprocess.run(['sqlite3', str(database), '.mode csv', f'.import {path} responses'],
                   check=True, capture_output=True)
    return {'seconds': time.perf_counter() - started}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rows', type=int, default=1_000_000)
    parser.add_argument('--shape', choices=['demo', 'realistic'], default='demo',
                        help='realistic: 500 flows over a year, mostly distinct error reasons')
    parser.add_argument('--pg', help='PostgreSQL URL (a database of its own; schemas '
                                     'bench_app/bench_ops are dropped and recreated)')
    parser.add_argument('--skip-pandas', action='store_true')
    parser.add_argument('--skip-sqlite', action='store_true')
    parser.add_argument('--workdir', type=Path, help='where to write data (default: a temp dir)')
    parser.add_argument('--inbox', action='store_true',
                        help='compare flask jobs run over an inbox with flask load instead '
                             '(scripts/bench_inbox.py)')
    parser.add_argument('--mapped', action='store_true',
                        help='compare a load mapped by a source profile with the native load '
                             'of the same rows instead (scripts/bench_mapped.py)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='with --inbox or --mapped: alternate the two N times, best of each')
    args = parser.parse_args()
    if args.inbox or args.mapped:
        args.skip_pandas = True
    if not args.skip_pandas:
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise SystemExit('pandas is a benchmark-only dependency: .venv/bin/pip install pandas '
                             '(or run with --skip-pandas)') from None
    work = args.workdir or Path(tempfile.mkdtemp(prefix='flowdesk-bench-load-'))
    work.mkdir(parents=True, exist_ok=True)
    print(f'Generating {args.rows:,} responses in {work} …', flush=True)
    paths = generate(work, args.rows, args.shape)
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
        results = {}
        target = fresh_target(backend, args.pg, work, 'product', paths['flows'])
        results['product'] = run_child('product', backend, target, paths['responses'])
        target = fresh_target(backend, args.pg, work, 'reference', paths['flows'])
        if backend == 'sqlite':
            reference_name = 'sqlite3 .import'
            results['reference'] = sqlite_import(target, paths['responses9'])
        else:
            reference_name = 'COPY'
            results['reference'] = run_child('copy', backend, target, paths['responses9'])
        if not args.skip_pandas:
            target = fresh_target(backend, args.pg, work, 'pandas', paths['flows'])
            results['pandas'] = run_child('pandas', backend, target, paths['responses'])
        product = results['product']
        rate = args.rows / product['seconds']
        print(f'\n== {backend}: {args.rows:,} rows ({size_mb:,.1f} MB) ==')
        print(f'{"flowdesk load (validated)":<28} {product["seconds"]:8.1f} s {rate:>12,.0f} rows/s'
              f'   peak RSS {product["max_rss_mb"]:.0f} MB')
        reference = args.rows / results['reference']['seconds']
        ratio = rate / reference
        print(f'{reference_name + " (no checks)":<28} {results["reference"]["seconds"]:8.1f} s '
              f'{reference:>12,.0f} rows/s   ratio {ratio:.2f}x (target >= 0.5x, stretch 0.8x)')
        if ratio < 0.5:
            failures.append(f'{backend}: {ratio:.2f}x {reference_name}')
        if 'pandas' in results:
            pandas_rate = args.rows / results['pandas']['seconds']
            pandas_ratio = rate / pandas_rate
            print(f'{"pandas read_csv+to_sql":<28} {results["pandas"]["seconds"]:8.1f} s '
                  f'{pandas_rate:>12,.0f} rows/s   ratio {pandas_ratio:.2f}x (target >= 2.5x)'
                  f'   peak RSS {results["pandas"]["max_rss_mb"]:.0f} MB')
            if pandas_ratio < 2.5:
                failures.append(f'{backend}: {pandas_ratio:.2f}x pandas')
        if product['max_rss_mb'] > 150:
            failures.append(f'{backend}: peak RSS {product["max_rss_mb"]:.0f} MB')
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    print('\nAll targets met.' if not failures else '\nMissed: ' + '; '.join(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        kind, backend, target, path = sys.argv[2:6]
        outcome = CHILDREN[kind](backend, target, path)
        outcome['max_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(outcome))
        sys.exit(0)
    sys.exit(main())
