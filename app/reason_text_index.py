"""The text index over the error-reason dictionary (``error_reasons``), never over responses.

Text search looks a rare word up here and then reads the matching responses through
``ix_responses_reason_time`` (see app/browse/text_plan.py). Each engine's form:

- SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34 or later), contentless, whose
  rowid *is* the reason hash, so a match gives the hash directly. It indexes ``lower(reason)``
  (SQLite's ``lower`` folds ASCII letters only) case-sensitively, and a search asks for the
  lowered text as one phrase: a phrase of trigrams matches exactly where the text is a
  substring, so the index answers exactly what ``LIKE`` (which ignores the case of ASCII
  letters only) answers, and no match needs re-checking. A trigger on ``error_reasons`` keeps
  it in step for single inserts (migrations, tests); the bulk writers (loads, the demo seed)
  set the trigger aside inside their transaction and index their new reasons in one sorted
  statement before committing (``defer_words``/``catch_up_words``): one entry at a time cost a
  1M-row load several times more.
- PostgreSQL: a GIN index with ``gin_trgm_ops`` (extension pg_trgm) on the dictionary's text;
  PostgreSQL maintains it and uses it for ``ILIKE '%word%'``. Creating the extension needs the
  right to (a database owner may, pg_trgm being a trusted extension since PostgreSQL 13); when it
  cannot be created the index is left out, a warning is logged and search reads the dictionary
  with a plain ``ILIKE`` scan (correct, slower for rare words). The DBA fix: ``CREATE EXTENSION
  pg_trgm;`` in the ops database, then ``flask db upgrade`` or ``flask search-index``.
- SQL Server: none. A full-text index matches words and prefixes, not any substring, so it
  cannot answer ``LIKE '%word%'`` exactly; the dictionary is scanned with ``LIKE``.

Whether an engine has its index is looked up once per engine (``has_text_index``).
"""
from __future__ import annotations

import logging
import sqlite3
import weakref

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.mock import MockConnection
from sqlalchemy.exc import DBAPIError

from .database import qualified_name

WORDS_TABLE = 'error_reason_words'
WORDS_TRIGGERS = ('error_reason_words_add', 'error_reason_words_remove')
TRGM_INDEX = 'ix_error_reasons_trgm'
#: Names of the text index's own objects (the FTS5 table makes shadow tables named after it):
#: schema comparisons leave them out, since no model describes them.
TEXT_INDEX_NAMES = (WORDS_TABLE, TRGM_INDEX)

log = logging.getLogger(__name__)
_PRESENT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_text_index_object(name: str | None) -> bool:
    return bool(name) and any(name == known or name.startswith(known + '_')
                              for known in TEXT_INDEX_NAMES)


def sqlite_supports_trigram() -> bool:
    """FTS5's trigram tokenizer arrived in SQLite 3.34 (and FTS5 must be compiled in); the
    index also relies on ``lower()`` folding ASCII letters only, as LIKE does (no ICU)."""
    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    probe = sqlite3.connect(':memory:')
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        return probe.execute("SELECT lower('\u00c9A')").fetchone()[0] == '\u00c9a'
    except sqlite3.Error:
        return False
    finally:
        probe.close()


def _reasons(connection: Connection) -> str:
    from .models import ErrorReason  # noqa: PLC0415 (models import this module's users)
    return qualified_name(ErrorReason.__table__, 'ops', connection.dialect)


#: Keeps the FTS5 table in step with single inserts (tests, migrations, anything but a bulk
#: writer, which defers it: ``defer_words``).
ADD_TRIGGER = ('CREATE TRIGGER IF NOT EXISTS error_reason_words_add AFTER INSERT ON '
               'error_reasons BEGIN INSERT INTO error_reason_words (rowid, error_reason) '
               'VALUES (new.reason_hash, lower(new.error_reason)); END')
#: FTS5 gathers this many bytes of new entries in memory before writing a segment (default
#: 1 MB): fewer, larger segments make a load's bulk insert about a third cheaper.
HASH_SIZE_SQL = ("INSERT INTO error_reason_words (error_reason_words, rank) "
                 "VALUES ('hashsize', 16777216)")

#: FTS5 merges its segments once this many have piled up at a level (default 4; 16 is where it
#: merges anyway): a 1M-row load's new reasons indexed 1.7 s instead of 3.1 s of CPU, with 9
#: segments instead of 7 and searches as fast. A setting of the table, stored with it.
AUTOMERGE_SQL = ("INSERT INTO error_reason_words (error_reason_words, rank) "
                 "VALUES ('automerge', 16)")


def sqlite_ddl(fill: bool = True) -> list[str]:
    """The FTS5 table, its triggers and (``fill``) the entries already in the dictionary."""
    statements = [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {WORDS_TABLE} USING fts5(error_reason, "
        "content='', columnsize=0, tokenize='trigram case_sensitive 1')",
        HASH_SIZE_SQL,
        ADD_TRIGGER,
        # A purge removes the entries no response names any more (app/retention/reasons.py);
        # their words go too (a contentless table forgets a row given the exact values).
        'CREATE TRIGGER IF NOT EXISTS error_reason_words_remove AFTER DELETE ON error_reasons '
        'BEGIN INSERT INTO error_reason_words (error_reason_words, rowid, error_reason) '
        "VALUES ('delete', old.reason_hash, lower(old.error_reason)); END",
    ]
    if fill:
        statements.append('INSERT INTO error_reason_words (rowid, error_reason) SELECT '
                          'reason_hash, lower(error_reason) FROM error_reasons ORDER BY reason_hash')
    return statements


def defer_words(connection: Connection) -> int | None:
    """A bulk writer's start (SQLite with the text index): the per-entry trigger is dropped
    inside the writer's transaction (a rollback brings it back) and the dictionary's highest
    rowid is noted; ``catch_up_words`` then indexes the new entries in one sorted statement.
    Returns the mark, or None when there is nothing to defer."""
    if connection.dialect.name != 'sqlite' or not has_text_index(connection):
        return None
    mark = connection.exec_driver_sql('SELECT coalesce(max(rowid), 0) FROM error_reasons').scalar()
    connection.exec_driver_sql('DROP TRIGGER IF EXISTS error_reason_words_add')
    return int(mark)


def catch_up_words(connection: Connection, mark: int) -> None:
    """Index the entries added since ``mark`` (new rows get higher rowids), sorted by hash so
    FTS5 writes them as few runs, and put the trigger back; inside the writer's transaction."""
    connection.exec_driver_sql(AUTOMERGE_SQL)
    connection.exec_driver_sql(
        'INSERT INTO error_reason_words (rowid, error_reason) SELECT reason_hash, '
        'lower(error_reason) FROM error_reasons WHERE rowid > ? ORDER BY reason_hash', (mark,))
    connection.exec_driver_sql(ADD_TRIGGER)


def sqlite_drop_ddl() -> list[str]:
    return ([f'DROP TRIGGER IF EXISTS {name}' for name in WORDS_TRIGGERS]
            + [f'DROP TABLE IF EXISTS {WORDS_TABLE}'])


def postgresql_index_ddl(reasons: str, extension_schema: str | None) -> str:
    opclass = f'"{extension_schema}".gin_trgm_ops' if extension_schema else 'gin_trgm_ops'
    return f'CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON {reasons} USING gin (error_reason {opclass})'


def _pg_extension_schema(connection: Connection) -> str | None:
    return connection.scalar(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"))


def create_text_index(connection: Connection) -> bool:
    """Build the dictionary's text index where the engine can (fills it from the entries
    already there); returns whether the index exists afterwards. A mock connection (DDL
    printed, not run) has no database to ask, so it gets no index."""
    if isinstance(connection, MockConnection):
        return False
    name = connection.dialect.name
    if name == 'sqlite':
        if not sqlite_supports_trigram():
            log.warning('SQLite %s has no FTS5 trigram tokenizer (3.34 or later needed): text '
                        'search reads the error-reason dictionary without an index.',
                        sqlite3.sqlite_version)
            return False
        for statement in sqlite_ddl():
            connection.exec_driver_sql(statement)
        return True
    if name == 'postgresql':
        return _create_pg_index(connection)
    return False


def _create_pg_index(connection: Connection) -> bool:
    schema = _pg_extension_schema(connection)
    if schema is None:
        try:
            with connection.begin_nested():
                connection.exec_driver_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        except DBAPIError as problem:
            log.warning('Text search runs without its trigram index: the extension pg_trgm '
                        'could not be created (%s). Ask a DBA to run CREATE EXTENSION pg_trgm in '
                        'this database, then run flask search-index.',
                        str(problem.orig).strip().splitlines()[0])
            return False
        schema = _pg_extension_schema(connection)
    connection.exec_driver_sql(postgresql_index_ddl(_reasons(connection), schema))
    return True


def drop_text_index(connection: Connection) -> None:
    if isinstance(connection, MockConnection):
        return
    name = connection.dialect.name
    if name == 'sqlite':
        for statement in sqlite_drop_ddl():
            connection.exec_driver_sql(statement)
    elif name == 'postgresql':
        connection.exec_driver_sql(f'DROP INDEX IF EXISTS {_trgm_index_name(connection)}')
    forget(connection.engine)


def _trgm_index_name(connection: Connection) -> str:
    """The PostgreSQL text index's name, in the dictionary's own schema."""
    reasons = _reasons(connection)
    schema = reasons.rsplit('.', 1)[0] + '.' if '.' in reasons else ''
    return f'{schema}{TRGM_INDEX}'


def has_text_index(connection: Connection) -> bool:
    """Whether this engine's dictionary has its text index (looked up once per engine)."""
    engine = connection.engine
    if engine not in _PRESENT:
        _PRESENT[engine] = _look_up(connection)
    return _PRESENT[engine]


def forget(engine) -> None:
    _PRESENT.pop(engine, None)


def _look_up(connection: Connection) -> bool:
    name = connection.dialect.name
    if name == 'sqlite':
        return connection.scalar(text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {'name': WORDS_TABLE}) == 1
    if name == 'postgresql':
        # The dictionary's own schema only: a database can hold several Flowdesk schemas.
        return connection.scalar(text('SELECT to_regclass(:name) IS NOT NULL'),
                                 {'name': _trgm_index_name(connection)})
    return False
