"""The SQLite bulk writer: ``executemany`` of tuples on the raw DBAPI cursor (one transaction,
BEGIN IMMEDIATE), with the table's secondary indexes built once at the end of a large load."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..datasets import DatasetSpec
from ..models import ResponseDaily
from .bulk_writer import BulkWriter

#: On SQLite, a load that inserts at least this many rows, and at least this share of the rows
#: the table held before, builds the table's secondary indexes once at the end instead of
#: entry by entry: sorting once is several times cheaper than a million random index inserts.
DEFER_INDEXES_MIN_ROWS = 50_000
DEFER_INDEXES_SHARE = 0.25
#: Helper threads SQLite may use to sort while it builds the deferred indexes.
INDEX_BUILD_THREADS = 2


def _sqlite_datetime(value: datetime) -> str:
    """The text form SQLAlchemy stores SQLite timestamps in (always with microseconds), so rows
    written in bulk compare and sort exactly like rows written through SQLAlchemy."""
    return value.isoformat(' ', 'microseconds')


sqlite3.register_adapter(datetime, _sqlite_datetime)
sqlite3.register_adapter(date, date.isoformat)


class SqliteWriter(BulkWriter):
    """Large loads defer the table's secondary indexes: past DEFER_INDEXES_MIN_ROWS inserted
    rows (and DEFER_INDEXES_SHARE of the table), the plain, non-unique indexes are dropped
    inside the load's transaction and created again in ``finish_writes``. The primary key stays,
    so key lookups are unaffected. So are readers: in WAL mode they keep reading the last
    committed state, indexes included, until the load commits; a rejected, failed or killed
    load rolls the drop back with everything else."""

    def __init__(self, connection: Connection, spec: DatasetSpec, batch_id: int):
        super().__init__(connection, spec, batch_id)
        self.rows_inserted = 0
        self.rows_before: int | None = None
        self.indexes_deferred = False
        #: CREATE INDEX statements of the indexes dropped for this load, to run at the end.
        self.deferred_indexes: list[str] = []

    def insert(self, rows) -> None:
        if rows and not self.indexes_deferred:
            self.rows_inserted += len(rows)
            if self.rows_inserted >= self.defer_threshold():
                self.defer_indexes()
        super().insert(rows)

    def defer_threshold(self) -> int:
        if self.rows_before is None:
            self.rows_before = self.estimate_rows()
        return max(DEFER_INDEXES_MIN_ROWS, int(self.rows_before * DEFER_INDEXES_SHARE))

    def estimate_rows(self) -> int:
        """How many rows the table holds, without counting a large table row by row: a dataset
        with a daily summary has the count there (kept in step with its rows; after a purge it
        still counts the purged rows, which only defers less often), and the others are small
        enough to count. (``max(rowid)`` no longer estimates it: the rowid is the response id.)"""
        if self.spec.time_column:
            query = select(func.coalesce(func.sum(ResponseDaily.responses), 0))
        else:
            query = select(func.count()).select_from(self.table)
        return self.connection.execute(query).scalar()

    def plain_indexes(self, table=None) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the table's indexes made by CREATE INDEX, not UNIQUE:
        dropping those cannot let a bad row in."""
        return [tuple(row) for row in self.connection.exec_driver_sql(
            'SELECT m.name, m.sql FROM sqlite_master AS m '
            'JOIN pragma_index_list(?) AS i ON i.name = m.name '
            "WHERE m.type = 'index' AND i.origin = 'c' AND NOT i.\"unique\" ORDER BY i.seq DESC",
            ((table if table is not None else self.table).name,))]

    def drop_plain_indexes(self, table=None) -> list[str]:
        """Drop the table's plain indexes; their CREATE statements, to build them again."""
        indexes = self.plain_indexes(table)
        for name, _sql in indexes:
            self.connection.exec_driver_sql(f'DROP INDEX {self.quote(name)}')
        return [sql for _name, sql in indexes]

    def defer_indexes(self) -> None:
        self.deferred_indexes = self.drop_plain_indexes()
        self.indexes_deferred = True

    def finish_writes(self) -> None:
        self.finish_dictionaries()
        self.build_indexes(self.deferred_indexes)
        self.deferred_indexes = []

    def build_indexes(self, statements: list[str]) -> None:
        if not statements:
            return
        # Index builds sort; SQLite may sort with helper threads (a no-op where it cannot).
        self.connection.exec_driver_sql(f'PRAGMA threads = {INDEX_BUILD_THREADS}')
        try:
            for sql in statements:
                self.connection.exec_driver_sql(sql)
        finally:
            self.connection.exec_driver_sql('PRAGMA threads = 0')

    def refresh_summaries(self, days: set[date]) -> None:
        """A load large enough to defer the table's indexes rewrites a large share of the daily
        summary too (a row per day, flow and status: 256,000 for a year of 500 flows), so that
        summary's own plain indexes are built again after it rather than entry by entry."""
        if not self.indexes_deferred:
            return super().refresh_summaries(days)
        statements = self.drop_plain_indexes(ResponseDaily.__table__)
        super().refresh_summaries(days)
        self.build_indexes(statements)

    def keep_table_ddl(self, key_type: str) -> str:
        return (f'CREATE TEMP TABLE IF NOT EXISTS {self.quote(self.keep_table_name)} '
                f'(k {key_type} PRIMARY KEY, line INTEGER)')
