"""Writing a load to the database in bulk, per dialect, inside the caller's transaction.

Never the ORM row by row:
- SQLite: ``executemany`` of tuples on the raw DBAPI cursor (one transaction, BEGIN IMMEDIATE).
- PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy()`` / ``write_row``).
- SQL Server: pyodbc ``executemany`` with ``fast_executemany`` (parameter arrays); IN lists
  are chunked to stay under SQL Server's 2,100-parameter limit.

What all of them do is app/loading/bulk_writer.py; SQLite's own is app/loading/sqlite_writer.py.
"""
from __future__ import annotations

from sqlalchemy.engine import Connection

from ..datasets import DatasetSpec
from .bulk_writer import IN_LIST_CHUNK, KEEP_TABLE, BulkWriter
from .sqlite_writer import SqliteWriter


def writer_for(connection: Connection, spec: DatasetSpec, batch_id: int) -> BulkWriter:
    name = connection.dialect.name
    cls = {'sqlite': SqliteWriter, 'postgresql': PostgresWriter, 'mssql': MssqlWriter}.get(name)
    if cls is None:
        raise RuntimeError(f'Flowdesk cannot load into a {name} database')
    return cls(connection, spec, batch_id)


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
