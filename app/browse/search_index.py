"""The search index behind "text in error reasons": substring search that stays fast at
millions of responses.

- SQLite: an FTS5 table with the trigram tokenizer (``response_search``, contentless, rowid =
  response_id), kept in step by triggers on ``responses``, so every writer (loads, undo, seed)
  maintains it inside its own transaction without calling anything. Trigram queries need at
  least 3 characters; the filters enforce that.
- PostgreSQL: a GIN index with ``gin_trgm_ops`` (extension pg_trgm) on ``error_reason``, used
  by ``ILIKE '%text%'``; PostgreSQL maintains it like any index.
- SQL Server: ``LIKE N'%text%'`` (collations are case-insensitive by default). For large tables
  the documented equivalent is a full-text index on ``error_reason`` (``CREATE FULLTEXT INDEX``,
  word and prefix search with ``CONTAINS``); a normal index cannot help, since NVARCHAR(4000)
  exceeds the 1,700-byte index key limit and a leading wildcard cannot seek anyway.

Neither object is part of the SQLAlchemy metadata (neither is portable): migration 0003_browse
creates them, ``db.create_all()`` creates them through the DDL listeners below, and
``include_object`` keeps Alembic's autogenerate from proposing to drop them.
"""
from __future__ import annotations

from sqlalchemy import DDL, column, event, func, literal_column, select, table
from sqlalchemy.sql import ColumnElement

from ..models import Response

FTS_TABLE = 'response_search'
TRGM_INDEX = 'ix_responses_error_reason_trgm'

SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "error_reason, content='', tokenize='trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS responses_search_insert AFTER INSERT ON responses
WHEN new.error_reason IS NOT NULL BEGIN
  INSERT INTO {FTS_TABLE}(rowid, error_reason) VALUES (new.response_id, new.error_reason);
END""",  # nosec B608  # DDL naming a constant table, no outside input
    f"""CREATE TRIGGER IF NOT EXISTS responses_search_delete AFTER DELETE ON responses
WHEN old.error_reason IS NOT NULL BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, error_reason)
  VALUES ('delete', old.response_id, old.error_reason);
END""",  # nosec B608  # DDL naming a constant table, no outside input
    f"""CREATE TRIGGER IF NOT EXISTS responses_search_update
AFTER UPDATE OF response_id, error_reason ON responses
WHEN old.error_reason IS NOT new.error_reason OR old.response_id != new.response_id BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, error_reason)
  SELECT 'delete', old.response_id, old.error_reason WHERE old.error_reason IS NOT NULL;
  INSERT INTO {FTS_TABLE}(rowid, error_reason)
  SELECT new.response_id, new.error_reason WHERE new.error_reason IS NOT NULL;
END""",
]
#: Fill the index from rows already there (migration on an existing database).
SQLITE_FILL = (f"INSERT INTO {FTS_TABLE}(rowid, error_reason) SELECT response_id, error_reason "
               "FROM responses WHERE error_reason IS NOT NULL")  # nosec B608  # constant names
SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS responses_search_insert',
    'DROP TRIGGER IF EXISTS responses_search_delete',
    'DROP TRIGGER IF EXISTS responses_search_update',
    f'DROP TABLE IF EXISTS {FTS_TABLE}',
]


def postgresql_create(qualified_responses: str) -> list[str]:
    return [
        'CREATE EXTENSION IF NOT EXISTS pg_trgm',
        f'CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON {qualified_responses} '
        'USING gin (error_reason gin_trgm_ops)',
    ]


def _after_create(target, connection, **_kw):
    """Runs as DDL elements, so a mock engine (DDL compiled for review) sees them too."""
    dialect = connection.dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_DROP + SQLITE_CREATE + [SQLITE_FILL]:
            connection.execute(DDL(statement))
    elif dialect == 'postgresql':
        preparer = connection.dialect.identifier_preparer
        schema = connection.schema_for_object(target)
        name = preparer.quote(target.name)
        qualified = f'{preparer.quote_schema(schema)}.{name}' if schema else name
        for statement in postgresql_create(qualified):
            connection.execute(DDL(statement))


def _before_drop(target, connection, **_kw):
    if connection.dialect.name == 'sqlite':
        for statement in SQLITE_DROP:
            connection.execute(DDL(statement))


event.listen(Response.__table__, 'after_create', _after_create)
event.listen(Response.__table__, 'before_drop', _before_drop)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic autogenerate filter: the search index objects are managed by migration
    0003_browse, not by the models."""
    if type_ == 'table' and reflected and compare_to is None and name and \
            str(name).startswith(FTS_TABLE):
        return False
    if type_ == 'index' and name == TRGM_INDEX:
        return False
    return True


_fts = table(FTS_TABLE, column('rowid'))


def _fts_phrase(text: str) -> str:
    """The search text as one FTS5 string: a substring match, operators taken literally."""
    return '"' + text.replace('"', '""') + '"'


def sqlite_match_count(connection_execute, text: str) -> int:
    statement = select(func.count()).select_from(_fts).where(
        literal_column(FTS_TABLE).op('MATCH')(_fts_phrase(text)))
    return connection_execute(statement)[0][0]


def reason_matches(dialect: str, text: str, scan: bool = False) -> ColumnElement:
    """A condition: the response's error reason contains ``text`` (case-insensitive).

    ``scan`` (SQLite): the text is common, so reading rows in the page order and probing the
    match set finds a page sooner than fetching every match and sorting it; ``response_id + 0``
    keeps SQLite from choosing the match set as the driving index."""
    if dialect == 'sqlite':
        matching = select(_fts.c.rowid).where(
            literal_column(FTS_TABLE).op('MATCH')(_fts_phrase(text)))
        key = (Response.response_id + 0) if scan else Response.response_id
        return key.in_(matching)
    pattern = '%' + escape_like(text) + '%'
    if dialect == 'postgresql':
        return Response.error_reason.ilike(pattern, escape='\\')
    return Response.error_reason.like(pattern, escape='\\')


def escape_like(text: str) -> str:
    return text.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_').replace('[', '\\[')
