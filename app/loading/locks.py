"""One load (or undo) of a dataset at a time, across processes and servers.

The lock lives in the database, never in a Python lock (docs/architecture.md §8), and is held
by its own connection for the whole load, so the load's batch record can be committed as
"running" before the load's transaction starts and other admins see "a load of responses is
running since …".
A process that dies loses its connection and with it the lock; a batch still marked running
whose lock nobody holds was interrupted.

The lock connection holds its lock at session level and sits idle *outside* any transaction, so
server timeouts for idle transactions (``idle_in_transaction_session_timeout``, or a DBA's
"kill sessions idle in transaction" job) never end a load half-way:

- PostgreSQL: ``pg_advisory_lock`` on a key derived from the schema and dataset, on an
  autocommit connection; ``lock_timeout`` bounds the wait, and ``idle_session_timeout``
  (PostgreSQL 14+) is turned off for that session. ``pg_advisory_unlock`` releases it.
- SQL Server: ``sp_getapplock`` (Exclusive, owner Session, ``@LockTimeout``) on an autocommit
  connection; ``sp_releaseapplock`` releases it. The batch starts with ``SET NOCOUNT ON`` so
  that the driver's first result is the ``SELECT @result``, not a row count.
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
    "SET NOCOUNT ON; "
    "DECLARE @result int; "
    "EXEC @result = sp_getapplock @Resource = :resource, @LockMode = 'Exclusive', "
    "@LockOwner = 'Session', @LockTimeout = :timeout_ms; "
    "SELECT @result")
MSSQL_RELEASEAPPLOCK = (
    "SET NOCOUNT ON; "
    "EXEC sp_releaseapplock @Resource = :resource, @LockOwner = 'Session'")
#: Session settings the PostgreSQL lock connection changes, reset before it goes back to the pool.
PG_SESSION_SETTINGS = ('lock_timeout', 'idle_session_timeout')


def lock_resource(dataset: str) -> str:
    return f'flowdesk.load.{schema_for("ops") or "default"}.{dataset}'


def advisory_key(dataset: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
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
        if self.dialect not in ('postgresql', 'mssql'):
            raise RuntimeError(f'Flowdesk cannot lock loads on a {self.dialect} database')
        connection = self.engine.connect().execution_options(isolation_level='AUTOCOMMIT')
        try:
            acquired = (self._acquire_postgresql(connection) if self.dialect == 'postgresql'
                        else self._acquire_mssql(connection))
        except DBAPIError as error:
            self._close(connection)
            if getattr(error.orig, 'sqlstate', None) == '55P03':  # lock_not_available
                return False
            raise
        if not acquired:
            self._close(connection)
            return False
        self._connection = connection
        return True

    def _acquire_postgresql(self, connection) -> bool:
        # lock_timeout 0 would mean "wait forever": never ask for less than 1 ms.
        wait_ms = max(1, int(self.wait_seconds * 1000))
        connection.execute(text("SELECT set_config('lock_timeout', :wait, false)"),
                           {'wait': f'{wait_ms}ms'})
        if connection.dialect.server_version_info >= (14,):
            connection.execute(text("SELECT set_config('idle_session_timeout', '0', false)"))
        connection.execute(text('SELECT pg_advisory_lock(:key)'),
                           {'key': advisory_key(self.dataset)})
        return True

    def _acquire_mssql(self, connection) -> bool:
        result = connection.execute(text(MSSQL_GETAPPLOCK), {
            'resource': lock_resource(self.dataset),
            'timeout_ms': int(self.wait_seconds * 1000)}).scalar()
        return result is not None and result >= 0

    def _acquire_sqlite(self) -> bool:
        self._sqlite = take_file_lock(sqlite_lock_path(self.engine.url), self.wait_seconds)
        return self._sqlite is not None

    def release(self) -> None:
        if self._sqlite is not None:
            handle, self._sqlite = self._sqlite, None
            drop_file_lock(handle)
        if self._connection is not None:
            connection, self._connection = self._connection, None
            if self.dialect == 'postgresql':
                statement, values = 'SELECT pg_advisory_unlock(:key)', {
                    'key': advisory_key(self.dataset)}
            else:
                statement, values = MSSQL_RELEASEAPPLOCK, {'resource': lock_resource(self.dataset)}
            try:
                connection.execute(text(statement), values)
            except DBAPIError:
                # The server ends a session's locks with the session: dropping the connection
                # releases the lock as surely as the unlock would have.
                connection.invalidate()
            self._close(connection)

    def _close(self, connection) -> None:
        """Put the connection back in the pool as it came, or drop it when that fails."""
        if connection.invalidated:
            connection.close()
            return
        try:
            if self.dialect == 'postgresql':
                for setting in PG_SESSION_SETTINGS:
                    connection.execute(text(f'RESET {setting}'))
        except DBAPIError:
            connection.invalidate()
        connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.release()


def take_file_lock(path, wait_seconds: float) -> sqlite3.Connection | None:
    """SQLite's lock: a write transaction (``BEGIN IMMEDIATE``) held open on a small database
    file beside the data. Returns the connection holding it, or None when another process
    holds it for longer than ``wait_seconds``."""
    handle = sqlite3.connect(str(path), timeout=wait_seconds, isolation_level=None)
    try:
        handle.execute('BEGIN IMMEDIATE')
    except sqlite3.OperationalError as error:
        handle.close()
        if 'locked' in str(error) or 'busy' in str(error):
            return None
        raise
    return handle


def drop_file_lock(handle: sqlite3.Connection) -> None:
    try:
        handle.execute('ROLLBACK')
    finally:
        handle.close()
