"""Column types that stay correct on SQL Server as well as on SQLite and PostgreSQL.

- Text is always ``Unicode``/``UnicodeText``: plain ``String`` becomes VARCHAR on SQL Server and
  mangles non-Latin text.
- Timestamps are ``DATETIME2`` on SQL Server (plain DATETIME rounds to 3 ms steps). Every stored
  timestamp is naive UTC.
"""
from sqlalchemy import BigInteger, Date, DateTime, Integer, UnicodeText
from sqlalchemy.dialects import mssql

#: A calendar day: DATE on SQL Server too (without a server to ask, the dialect says DATETIME).
Day = Date().with_variant(mssql.DATE(), 'mssql')

#: Unlimited text: NVARCHAR(max) on SQL Server (UnicodeText would be the deprecated NTEXT there).
LongText = UnicodeText().with_variant(mssql.NVARCHAR(), 'mssql')

UtcDateTime = DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql')

#: A 64-bit key that is SQLite's rowid: only ``INTEGER PRIMARY KEY`` is the rowid there (64-bit
#: too), which auto-increments and needs no separate key index. BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), 'sqlite')



def table_args(schema_key: str, *items, **options):
    """``__table_args__`` for a Flowdesk table: the symbolic schema, and quoted identifiers so
    that SQL Server scripts read ``[ops].[responses]`` whatever the names are (``options``:
    further table keywords, e.g. ``sqlite_autoincrement``)."""
    return (*items, {'schema': schema_key, 'quote': True, 'quote_schema': True, **options})


__all__ = ['Day', 'UtcDateTime', 'BigId', 'LongText', 'table_args']
