"""One load (or undo) of a dataset at a time, across processes and servers.

The lock lives in the database, never in a Python lock (docs/architecture.md §8), and is held
by its own connection for the whole load, so the load's batch record can be committed as
"running" before the load's transaction starts and other admins see "a load of responses is
running since …".
A process that dies loses its connection and with it the lock; a batch still marked running
whose lock nobody holds was interrupted.

- PostgreSQL: ``pg_advisory_xact_lock`` on a key derived from the schema and dataset, held by
  the lock connection's open transaction (``lock_timeout`` bounds the wait).
- SQL Server: ``sp_getapplock`` (Exclusive, owner Transaction, ``@LockTimeout``).
- SQLite: ``BEGIN IMMEDIATE`` on a small lock database beside the ops database file. SQLite
  allows one writer per file anyway, so this one lock covers every dataset.
"""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ..database import engine_for, schema_for

#: How long a second load waits for the first before it is told a load is running.
DEFAULT_WAIT_SECONDS = 2.0

MSSQL_GETAPPLOCK = (
    "DECLARE @result int; "
    "EXEC @result = sp_getapplock @Resource = :resource, @LockMode = 'Exclusive', "
    "@LockOwner = 'Transaction', @LockTimeout = :timeout_ms; "
    "SELECT @result")


def lock_resource(dataset: str) -> str:
    return f'flowdesk.load.{schema_for("ops") or "default"}.{dataset}'


def advisory_key(dataset: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock."""
    digest = hashlib.sha256(lock_resource(dataset).encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big', signed=True)


def sqlite_lock_path(url) -> Path:
    database = make_url(url).database
    return Path(database).with_name(Path(database).name + '.load-lock')


class DatasetLock:
    """``acquire()`` → True when this process may load the dataset; ``release()`` at the end.
    ``covers`` names the datasets whose running batches holding this lock proves dead (None:
    all of them)."""

    def __init__(self, dataset: str, wait_seconds: float = DEFAULT_WAIT_SECONDS):
        self.dataset = dataset
        self.wait_seconds = wait_seconds
        self.engine = engine_for('ops')
        self.dialect = self.engine.dialect.name
        self.covers: set[str] | None = None if self.dialect == 'sqlite' else {dataset}
        self._connection = None
        self._sqlite = None

    def acquire(self) -> bool:
        if self.dialect == 'sqlite':
            return self._acquire_sqlite()
        connection = self.engine.connect()
        try:
            connection.begin()
            if self.dialect == 'postgresql':
                # lock_timeout 0 would mean "wait forever": never ask for less than 1 ms.
                wait_ms = max(1, int(self.wait_seconds * 1000))
                connection.execute(text(f"SET LOCAL lock_timeout = '{wait_ms}ms'"))
                connection.execute(text('SELECT pg_advisory_xact_lock(:key)'),
                                   {'key': advisory_key(self.dataset)})
            elif self.dialect == 'mssql':
                result = connection.execute(text(MSSQL_GETAPPLOCK), {
                    'resource': lock_resource(self.dataset),
                    'timeout_ms': int(self.wait_seconds * 1000)}).scalar()
                if result is None or result < 0:
                    connection.rollback()
                    connection.close()
                    return False
            else:
                raise RuntimeError(f'Flowdesk cannot lock loads on a {self.dialect} database')
        except DBAPIError as error:
            connection.rollback()
            connection.close()
            if getattr(error.orig, 'sqlstate', None) == '55P03':  # lock_not_available
                return False
            raise
        self._connection = connection
        return True

    def _acquire_sqlite(self) -> bool:
        path = sqlite_lock_path(self.engine.url)
        handle = sqlite3.connect(str(path), timeout=self.wait_seconds, isolation_level=None)
        try:
            handle.execute('BEGIN IMMEDIATE')
        except sqlite3.OperationalError as error:
            handle.close()
            if 'locked' in str(error) or 'busy' in str(error):
                return False
            raise
        self._sqlite = handle
        return True

    def release(self) -> None:
        if self._sqlite is not None:
            try:
                self._sqlite.execute('ROLLBACK')
            finally:
                self._sqlite.close()
                self._sqlite = None
        if self._connection is not None:
            try:
                self._connection.rollback()
            finally:
                self._connection.close()
                self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.release()
