"""The measurements of scripts/bench_load.py, each run in a process of its own (``bench_load.py
--child KIND BACKEND TARGET PATH``, see bench_common.run_child): a freshly migrated database
with the flows loaded, the product's load, PostgreSQL's raw COPY, pandas, and the load mapped
by a source profile (scripts/bench_mapped.py). ``TARGET`` is an instance folder (SQLite) or
the PostgreSQL URL, whose schemas are SCHEMAS.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench_common import ROOT
from bench_load_data import STORED_COLUMNS

SCHEMAS = {'APP_SCHEMA': 'bench_app', 'OPS_SCHEMA': 'bench_ops'}


def child_environ(backend: str, target: str) -> dict[str, str]:
    # --parse-process: large loads check their rows in a second process (off by default).
    parse = {'LOAD_PARSE_PROCESS': os.environ.get('BENCH_LOAD_PARSE_PROCESS', '0')}
    if backend == 'sqlite':
        return {'FLOWDESK_INSTANCE_PATH': target, 'LOG_LEVEL': 'WARNING', **parse}
    return {'FLOWDESK_INSTANCE_PATH': tempfile.mkdtemp(prefix='bench-load-'),
            'DATABASE_URL': target, 'OPS_DATABASE_URL': target, 'LOG_LEVEL': 'WARNING',
            **SCHEMAS, **parse}


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
