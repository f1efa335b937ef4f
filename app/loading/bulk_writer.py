"""What every dialect's bulk writer does (app/loading/writers.py picks the dialect's): the
rows a load inserts and updates, their prior versions, the keep table and the rows a replace
deletes, inside the caller's transaction.

Set-based work (the rows a replace deletes, undo) is SQLAlchemy Core, so it compiles for every
dialect. Derived columns (the reason hash) arrive computed in each row; their dictionaries (the
error-reason dictionary) get the new values before the rows are written, in the same
transaction. The "keep" table is a temporary table of the keys a load left unchanged: it tells
a replace which rows to keep, and spots a key repeated in the file after an unchanged row.
"""
from __future__ import annotations

from datetime import date
from operator import itemgetter

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    column,
    exists,
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
from ..models.load_models import CHANGE_DELETED, CHANGE_UPDATED
from ..summary import as_day, day_of, refresh_after_write

#: IN lists stay far below SQL Server's 2,100 parameters per statement.
IN_LIST_CHUNK = 1000
KEEP_TABLE = 'flowdesk_keep'


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
        # (index of the derived value and of its source in a stored row, the dictionary) per
        # dictionary column
        self.dictionaries = [
            (itemgetter(spec.stored_columns.index(column.name),
                        spec.stored_columns.index(column.source)),
             column.dictionary(connection))
            for column in spec.derived if column.dictionary is not None]
        for _entry, dictionary in self.dictionaries:
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
        for entry, dictionary in self.dictionaries:
            dictionary.add_hashed(map(entry, rows))

    def insert(self, rows) -> None:
        if rows:
            self.add_to_dictionaries(rows)
            self.bulk_insert(self.table, self.spec.stored_columns, rows)

    def finish_writes(self) -> None:
        """Called once every row is written, before the daily summary is refreshed and the
        transaction commits; a writer that deferred work does it here."""
        self.finish_dictionaries()

    def refresh_summaries(self, days: set[date]) -> None:
        """The summaries of the days the load changed, after ``finish_writes``."""
        refresh_after_write(self.connection, days)

    def finish_dictionaries(self) -> None:
        """The dictionaries' deferred upkeep (the error-reason text index), in the writer's
        transaction."""
        for _entry, dictionary in self.dictionaries:
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
