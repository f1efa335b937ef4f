"""The copies of the seeded data that scripts/bench_purge.py measures on, one for each
measurement that deletes: on SQLite file copies of the seeded databases; on PostgreSQL an
unchanged copy of the responses table kept in the schema PRISTINE_SCHEMA (so that a later run
can restore a purged table instead of seeding again) and the reference table in
REFERENCE_SCHEMA, with the same columns, indexes and rows as the product's.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

PRISTINE_SCHEMA = 'bench_purge_pristine'
REFERENCE_SCHEMA = 'bench_purge_reference'
DATABASES = ('app.db', 'ops.db')


def pg_environ() -> dict[str, str]:
    return {'DATABASE_URL': os.environ['BENCH_DATABASE_URL'],
            'OPS_DATABASE_URL': os.environ['BENCH_OPS_DATABASE_URL'],
            'APP_SCHEMA': os.environ.get('BENCH_APP_SCHEMA', 'flowdesk_app'),
            'OPS_SCHEMA': os.environ.get('BENCH_OPS_SCHEMA', 'flowdesk_ops')}


def psql_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).set(drivername='postgresql').render_as_string(hide_password=False)


def copy_sqlite(pristine: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in DATABASES:
        shutil.copyfile(pristine / name, target / name)


def pg_statements(statements: list[str]) -> None:
    import psycopg
    with psycopg.connect(psql_url(os.environ['BENCH_OPS_DATABASE_URL']),
                         autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def pg_restore(rows: int) -> None:
    """An earlier run's purged table refilled from its pristine copy, when that has ``rows``."""
    import psycopg
    with psycopg.connect(psql_url(os.environ['BENCH_OPS_DATABASE_URL'])) as connection:
        kept = connection.execute('SELECT to_regclass(%s)', (f'{PRISTINE_SCHEMA}.responses',))
        if kept.fetchone()[0] is None or connection.execute(
                f'SELECT count(*) FROM {PRISTINE_SCHEMA}.responses').fetchone()[0] != rows:
            return
    pg_copies(first=False, refill=True, copy=False)


def pg_copies(first: bool, refill: bool, copy: bool = True) -> None:
    """The pristine table (``first``: taken afresh from the seeded one), the product's table
    refilled from it (``refill``: after a purge), and (``copy``) the reference table: the same
    columns and indexes, the same rows."""
    schema = pg_environ()['OPS_SCHEMA']
    ops = f'"{schema}".responses'
    pristine, reference = f'{PRISTINE_SCHEMA}.responses', f'{REFERENCE_SCHEMA}.responses'
    statements = [f'CREATE SCHEMA IF NOT EXISTS {PRISTINE_SCHEMA}',
                  f'CREATE SCHEMA IF NOT EXISTS {REFERENCE_SCHEMA}']
    if first:
        statements.append(f'DROP TABLE IF EXISTS {pristine}')
    if refill:
        statements += [f'DELETE FROM "{schema}".response_versions',
                       f'TRUNCATE {ops}', f'INSERT INTO {ops} SELECT * FROM {pristine}']
    else:
        statements.append(f'CREATE TABLE IF NOT EXISTS {pristine} AS SELECT * FROM {ops}')
    if copy:
        statements += [f'DROP TABLE IF EXISTS {reference}',
                       f'CREATE TABLE {reference} (LIKE {ops} INCLUDING ALL)',
                       f'INSERT INTO {reference} SELECT * FROM {pristine}',
                       f'VACUUM ANALYZE {ops}', f'VACUUM ANALYZE {reference}']
    pg_statements(statements)
