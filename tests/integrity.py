"""Helpers for the reliability and security suites: a checksum of every table's contents (to
prove that a refused request or a failed load changed nothing) and a database outage that can
be switched on and off for real (SQLite file gone, PostgreSQL refusing connections)."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import unittest
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from config import sqlite_url
from tests.base import PG_SKIP_REASON, FlowdeskTestCase, postgres_urls, reset_postgres_schema


def table_checksums() -> dict[str, tuple[int, str]]:
    """``{table: (row count, sha256 of the rows in primary-key order)}`` for every table of
    both binds, read through fresh connections (never the test's own session)."""
    sums = {}
    for bind_key, metadata in db.metadatas.items():
        with db.engines[bind_key].connect() as connection:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                digest = hashlib.sha256()
                count = 0
                for row in connection.execute(select(table).order_by(*order)):
                    digest.update(repr(tuple(row)).encode('utf-8'))
                    count += 1
                sums[f'{bind_key or "app"}.{table.name}'] = (count, digest.hexdigest())
    return sums


#: Tables a refused or failed load writes to by design: its own history record and problems.
LOAD_RECORD_TABLES = {'ops.load_batches', 'ops.load_errors'}


def data_checksums() -> dict[str, tuple[int, str]]:
    """Checksums of the loaded data and everything derived from it (flows, responses, their
    prior versions, the daily summary): what a refused, failed or killed load must not
    change."""
    return {name: value for name, value in table_checksums().items()
            if name.startswith('ops.') and name not in LOAD_RECORD_TABLES}


def admin_engine(url: str):
    """An AUTOCOMMIT engine on the server's maintenance database (for CREATE/ALTER DATABASE)."""
    return create_engine(make_url(url).set(database='postgres'), isolation_level='AUTOCOMMIT')


class OpsOutage:
    """An ops database that the test can take away and bring back.

    SQLite: ops.db lives alone in a folder that ``down()`` renames, so the file cannot be
    opened any more; an outage also drops the connections already open, which the pool is
    emptied to stand for (SQLite would otherwise keep using the renamed file through its open
    handle). PostgreSQL: a database of its own (``<TEST_OPS_DATABASE_URL's database>_outage``, so
    the shared test databases never go offline) that ``down()`` closes with ``ALTER DATABASE
    ... WITH ALLOW_CONNECTIONS false`` and ``pg_terminate_backend`` of its sessions.

    ``settings`` are the environment settings that point an app's ops bind at it.
    """

    def __init__(self, backend: str):
        self.backend = backend
        self.is_down = False
        if backend == 'sqlite':
            self.root = Path(tempfile.mkdtemp(prefix='flowdesk-outage-'))
            self.volume = self.root / 'ops-volume'
            self.volume.mkdir()
            self.away = self.root / 'ops-volume.unmounted'
            self.settings = {'OPS_DATABASE_URL': sqlite_url(self.volume / 'ops.db')}
            return
        urls = postgres_urls()
        if urls is None:
            raise unittest.SkipTest(PG_SKIP_REASON)
        base = make_url(urls[1])
        self.database = f'{base.database}_outage'
        self.url = base.set(database=self.database).render_as_string(hide_password=False)
        self.admin = admin_engine(urls[1])
        with self.admin.connect() as connection:
            exists = connection.scalar(text('SELECT 1 FROM pg_database WHERE datname = :name'),
                                       {'name': self.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{self.database}"'))
            # A run that died half-way may have left it closed.
            connection.execute(text(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS true'))
        schema = os.environ.get('TEST_OPS_SCHEMA', 'flowdesk_ops')
        reset_postgres_schema(self.url, schema)
        self.settings = {'OPS_DATABASE_URL': self.url, 'OPS_SCHEMA': schema}

    def down(self) -> None:
        db.session.remove()
        if self.backend == 'sqlite':
            self.volume.rename(self.away)
            db.engines['ops'].dispose()
        else:
            with self.admin.connect() as connection:
                connection.execute(
                    text(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS false'))
                connection.execute(text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = :name AND pid <> pg_backend_pid()'), {'name': self.database})
        self.is_down = True

    def up(self) -> None:
        if not self.is_down:
            return
        if self.backend == 'sqlite':
            self.away.rename(self.volume)
        else:
            with self.admin.connect() as connection:
                connection.execute(
                    text(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS true'))
        self.is_down = False

    def cleanup(self) -> None:
        self.up()
        if self.backend == 'sqlite':
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            self.admin.dispose()


class OpsOutageTestCase(FlowdeskTestCase):
    """A test class whose app's ops bind is an ``OpsOutage`` (``cls.outage``): tests call
    ``self.outage.down()``; it is back up after each test."""

    @classmethod
    def setUpClass(cls):
        cls.outage = OpsOutage(cls.backend)
        cls.SETTINGS = {**cls.SETTINGS, **cls.outage.settings}
        try:
            super().setUpClass()
        except BaseException:
            cls.outage.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.outage.up()
        super().tearDownClass()
        cls.outage.cleanup()

    def setUp(self):
        super().setUp()
        self.addCleanup(self.outage.up)
