"""Writing a load to the database in bulk, per dialect, inside the caller's transaction.

Never the ORM row by row:
- SQLite: ``executemany`` of tuples on the raw DBAPI cursor (one transaction, BEGIN IMMEDIATE).
- PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy()`` / ``write_row``).
- SQL Server: pyodbc ``executemany`` with ``fast_executemany`` (parameter arrays); IN lists
  are chunked to stay under SQL Server's 2,100-parameter limit.

Set-based work (the rows a replace deletes, undo) is SQLAlchemy Core, so it compiles for every
dialect. Derived columns (the reason hash) arrive computed in each row; their dictionaries (the
error-reason dictionary) get the new values before the rows are written, in the same
transaction. The "keep" table is a temporary table of the keys a load left unchanged: it tells
a replace which rows to keep, and spots a key repeated in the file after an unchanged row.
"""
from __future__ import annotations

import sqlite3
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    column,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Connection

from ..database import qualified_name
from ..datasets import DatasetSpec
from ..models import ResponseDaily
from ..models.load_models import CHANGE_DELETED, CHANGE_UPDATED
from ..summary import as_day, day_of

#: IN lists stay far below SQL Server's 2,100 parameters per statement.
IN_LIST_CHUNK = 1000
KEEP_TABLE = 'flowdesk_keep'
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


def writer_for(connection: Connection, spec: DatasetSpec, batch_id: int) -> BulkWriter:
    name = connection.dialect.name
    cls = {'sqlite': SqliteWriter, 'postgresql': PostgresWriter, 'mssql': MssqlWriter}.get(name)
    if cls is None:
        raise RuntimeError(f'Flowdesk cannot load into a {name} database')
    return cls(connection, spec, batch_id)


class BulkWriter:
    placeholder = '?'

    def __init__(self, connection: Connection, spec: DatasetSpec, batch_id: int):
        self.connection = connection
        self.spec = spec
        self.batch_id = batch_id
        self.table = spec.table
        self.key_column = self.table.c[spec.key]
        self.stored = [self.table.c[name] for name in spec.stored_columns]
        self.key_index = spec.stored_columns.index(spec.key)
        self.version_names = ['superseded_by', 'change'] + spec.stored_columns
        key_type = BigInteger() if spec.key_kind == 'int' else self.key_column.type
        self.keep = table_clause(self.keep_table_name, column('k', key_type),
                                 column('line', Integer()))
        self.kept_keys = 0
        # (index of the source value in a stored row, its dictionary) per dictionary column
        self.dictionaries = [
            (spec.stored_columns.index(column.source), column.dictionary(connection))
            for column in spec.derived if column.dictionary is not None]
        for _index, dictionary in self.dictionaries:
            dictionary.defer_text_index()

    keep_table_name = KEEP_TABLE

    # -- raw DBAPI access ------------------------------------------------------------------
    def cursor(self):
        return self.connection.connection.cursor()

    def quoted(self, table) -> str:
        """The table's real schema-qualified name in this connection's dialect."""
        return qualified_name(table, 'ops', self.connection.dialect)

    def quote(self, name: str) -> str:
        return self.connection.dialect.identifier_preparer.quote(name)

    def insert_sql(self, table, names) -> str:
        columns = ', '.join(self.quote(name) for name in names)
        marks = ', '.join([self.placeholder] * len(names))
        # Names are the dialect-quoted table and columns of the spec; every value is bound.
        return f'INSERT INTO {self.quoted(table)} ({columns}) VALUES ({marks})'  # nosec B608

    def update_sql(self) -> str:
        names = [name for name in self.spec.stored_columns if name != self.spec.key]
        sets = ', '.join(f'{self.quote(name)} = {self.placeholder}' for name in names)
        return (f'UPDATE {self.quoted(self.table)} SET {sets} '  # nosec B608  # quoted names
                f'WHERE {self.quote(self.spec.key)} = {self.placeholder}')

    def bulk_insert(self, table, names, rows) -> None:
        cursor = self.cursor()
        try:
            cursor.executemany(self.insert_sql(table, names), rows)
        finally:
            cursor.close()

    # -- what a load writes ----------------------------------------------------------------
    def add_to_dictionaries(self, rows) -> None:
        """Dictionary entries first, for the values the rows are about to store."""
        for index, dictionary in self.dictionaries:
            dictionary.add(row[index] for row in rows)

    def insert(self, rows) -> None:
        if rows:
            self.add_to_dictionaries(rows)
            self.bulk_insert(self.table, self.spec.stored_columns, rows)

    def finish_writes(self) -> None:
        """Called once every row is written, before the daily summary is refreshed and the
        transaction commits; a writer that deferred work does it here."""
        self.finish_dictionaries()

    def finish_dictionaries(self) -> None:
        """The dictionaries' deferred upkeep (the error-reason text index), in the writer's
        transaction."""
        for _index, dictionary in self.dictionaries:
            dictionary.finish()

    def update(self, rows) -> None:
        """Rewrite changed rows (values in stored-column order, key first)."""
        if not rows:
            return
        self.add_to_dictionaries(rows)
        key_index = self.spec.stored_columns.index(self.spec.key)
        params = [[value for i, value in enumerate(row) if i != key_index] + [row[key_index]]
                  for row in rows]
        cursor = self.cursor()
        try:
            cursor.executemany(self.update_sql(), params)
        finally:
            cursor.close()

    def save_versions(self, old_rows, change: str = CHANGE_UPDATED) -> None:
        if old_rows:
            prefix = (self.batch_id, change)
            self.bulk_insert(self.spec.version_table, self.version_names,
                             [prefix + tuple(row) for row in old_rows])

    # -- lookups -----------------------------------------------------------------------------
    def _key_filters(self, column_, keys):
        """WHERE clauses that together cover ``keys``: one BETWEEN for a dense run of integer
        keys, else IN lists of at most IN_LIST_CHUNK keys."""
        if self.spec.key_kind == 'int':
            low, high = min(keys), max(keys)
            if high - low < 4 * len(keys) + 1024:
                return [column_.between(low, high)]
        ordered = sorted(keys)
        return [column_.in_(ordered[i:i + IN_LIST_CHUNK])
                for i in range(0, len(ordered), IN_LIST_CHUNK)]

    def fetch_existing(self, keys) -> dict:
        """Stored rows (stored-column order) for these keys, by key."""
        found = {}
        if not keys:
            return found
        for where in self._key_filters(self.key_column, keys):
            for row in self.connection.execute(select(*self.stored).where(where)):
                found[row[self.key_index]] = tuple(row)
        return found

    # -- the keep table --------------------------------------------------------------------
    def create_keep_table(self) -> None:
        key_type = self.keep.c.k.type.compile(dialect=self.connection.dialect)
        self.connection.exec_driver_sql(self.keep_table_ddl(key_type))

    def keep_table_ddl(self, key_type: str) -> str:
        return (f'CREATE TEMPORARY TABLE {self.quote(self.keep_table_name)} '
                f'(k {key_type} PRIMARY KEY, line BIGINT)')

    def drop_keep_table(self) -> None:
        self.connection.exec_driver_sql(f'DROP TABLE IF EXISTS {self.quote(self.keep_table_name)}')

    def keep_rows(self, key_lines) -> None:
        """Remember keys (with their line) the load leaves unchanged."""
        if not key_lines:
            return
        self.kept_keys += len(key_lines)
        cursor = self.cursor()
        try:
            cursor.executemany(f'INSERT INTO {self.quote(self.keep_table_name)} (k, line) '  # nosec B608
                               f'VALUES ({self.placeholder}, {self.placeholder})', key_lines)
        finally:
            cursor.close()

    def kept_lines(self, keys) -> dict:
        if not self.kept_keys or not keys:
            return {}
        found = {}
        for where in self._key_filters(self.keep.c.k, keys):
            query = select(self.keep.c.k, self.keep.c.line).where(where)
            for key, line in self.connection.execute(query):
                found[key] = line
        return found

    # -- replace: rows that are not in the file ----------------------------------------------
    def _not_in_file(self):
        batch = self.table.c.batch_id
        return and_(or_(batch.is_(None), batch != self.batch_id),
                    not_(exists().where(self.keep.c.k == self.key_column)))

    def rows_not_in_file_referenced(self, referencing: DatasetSpec, column_name: str) -> list:
        """Keys a replace would delete that rows of another dataset still name."""
        other = referencing.table
        doomed = select(self.key_column).where(self._not_in_file())
        query = (select(other.c[column_name], literal(1)).where(other.c[column_name].in_(doomed))
                 .group_by(other.c[column_name]).order_by(other.c[column_name]).limit(20))
        return [row[0] for row in self.connection.execute(query)]

    def days_not_in_file(self) -> set[date]:
        time_column = self.spec.time_column
        if not time_column:
            return set()
        day = day_of(self.table.c[time_column])
        return {as_day(row[0]) for row in self.connection.execute(
            select(day).where(self._not_in_file()).distinct())}

    def delete_not_in_file(self) -> int:
        """Keep prior versions of, then delete, the rows a replace does not keep."""
        versions = self.spec.version_table
        source = select(literal(self.batch_id), literal(CHANGE_DELETED), *self.stored).where(
            self._not_in_file())
        self.connection.execute(insert(versions).from_select(self.version_names, source))
        result = self.connection.execute(self.table.delete().where(self._not_in_file()))
        return result.rowcount


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

    def plain_indexes(self) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the table's indexes made by CREATE INDEX, not UNIQUE:
        dropping those cannot let a bad row in."""
        return [tuple(row) for row in self.connection.exec_driver_sql(
            'SELECT m.name, m.sql FROM sqlite_master AS m '
            'JOIN pragma_index_list(?) AS i ON i.name = m.name '
            "WHERE m.type = 'index' AND i.origin = 'c' AND NOT i.\"unique\" ORDER BY i.seq DESC",
            (self.table.name,))]

    def defer_indexes(self) -> None:
        indexes = self.plain_indexes()
        for name, _sql in indexes:
            self.connection.exec_driver_sql(f'DROP INDEX {self.quote(name)}')
        self.deferred_indexes = [sql for _name, sql in indexes]
        self.indexes_deferred = True

    def finish_writes(self) -> None:
        self.finish_dictionaries()
        if not self.deferred_indexes:
            return
        # Index builds sort; SQLite may sort with helper threads (a no-op where it cannot).
        self.connection.exec_driver_sql(f'PRAGMA threads = {INDEX_BUILD_THREADS}')
        try:
            for sql in self.deferred_indexes:
                self.connection.exec_driver_sql(sql)
        finally:
            self.connection.exec_driver_sql('PRAGMA threads = 0')
        self.deferred_indexes = []

    def keep_table_ddl(self, key_type: str) -> str:
        return (f'CREATE TEMP TABLE IF NOT EXISTS {self.quote(self.keep_table_name)} '
                f'(k {key_type} PRIMARY KEY, line INTEGER)')


class PostgresWriter(BulkWriter):
    placeholder = '%s'

    def bulk_insert(self, table, names, rows) -> None:
        columns = ', '.join(self.quote(name) for name in names)
        cursor = self.cursor()
        try:
            with cursor.copy(f'COPY {self.quoted(table)} ({columns}) FROM STDIN') as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
        finally:
            cursor.close()

    def keep_table_ddl(self, key_type: str) -> str:
        return (f'CREATE TEMPORARY TABLE IF NOT EXISTS {self.quote(self.keep_table_name)} '
                f'(k {key_type} PRIMARY KEY, line BIGINT) ON COMMIT DROP')

    def keep_rows(self, key_lines) -> None:
        if key_lines:
            self.kept_keys += len(key_lines)
            cursor = self.cursor()
            try:
                copy_sql = f'COPY {self.quote(self.keep_table_name)} (k, line) FROM STDIN'
                with cursor.copy(copy_sql) as copy:
                    for row in key_lines:
                        copy.write_row(row)
            finally:
                cursor.close()


class MssqlWriter(BulkWriter):
    """SQL Server through pyodbc: the engine is created with ``fast_executemany=True``
    (config.engine_options), which sends each ``executemany`` as one parameter array."""
    keep_table_name = '#' + KEEP_TABLE

    def cursor(self):
        cursor = self.connection.connection.cursor()
        cursor.fast_executemany = True
        return cursor

    def keep_table_ddl(self, key_type: str) -> str:
        return (f"IF OBJECT_ID('tempdb..{self.keep_table_name}') IS NULL "
                f'CREATE TABLE {self.quote(self.keep_table_name)} '
                f'(k {key_type} PRIMARY KEY, line BIGINT)')

    def drop_keep_table(self) -> None:
        self.connection.exec_driver_sql(
            f"IF OBJECT_ID('tempdb..{self.keep_table_name}') IS NOT NULL "
            f'DROP TABLE {self.quote(self.keep_table_name)}')


__all__ = ['writer_for', 'BulkWriter', 'SqliteWriter', 'PostgresWriter', 'MssqlWriter',
           'IN_LIST_CHUNK']
