"""Text in error reasons: the statements behind a search, for both ways of finding matches.

Each distinct reason is stored once in the error-reason dictionary (``error_reasons``, see
app/error_reasons.py) and each response names its reason by hash (``responses.reason_hash``).
A reason *contains* the search text when ``LIKE '%text%'`` says so (PostgreSQL ``ILIKE``;
SQLite's ``LIKE`` and SQL Server's default collations ignore case), with ``%``, ``_``, ``[``
and ``\\`` in the text taken literally. Two ways find the same rows (app/browse/text_plan.py
chooses):

- **lookup** (rare text): the matching dictionary entries, found through the dictionary's text
  index (app/reason_text_index.py: SQLite FTS5 trigram, PostgreSQL pg_trgm), then their
  responses through the partial index ``ix_responses_reason_time (reason_hash, responded_at,
  response_id) WHERE reason_hash IS NOT NULL``;
- **walk** (common text): the responses in page order through the time (or filter) index,
  keeping those whose own ``error_reason`` contains the text, until the page is full.

Both ways agree exactly: the walk applies ``contains`` to each row, the lookup to each
dictionary entry (through the text index, which answers exactly what ``LIKE`` does).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, and_, column, func, literal, literal_column, select, table
from sqlalchemy.sql import ColumnElement, Select

from ..models import ErrorReason, Response
from ..reason_text_index import WORDS_TABLE

WORDS = table(WORDS_TABLE, column('rowid', BigInteger))


def escape_like(text: str) -> str:
    return text.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_').replace('[', '\\[')


def contains(dialect: str, reason_column, text: str) -> ColumnElement:
    """``reason_column`` contains ``text``: the one definition both ways share."""
    pattern = '%' + escape_like(text) + '%'
    if dialect == 'postgresql':
        return reason_column.ilike(pattern, escape='\\')
    return reason_column.like(pattern, escape='\\')


#: Folds ASCII letters only, as SQLite's LIKE and lower() do.
_ASCII_LOWER = str.maketrans('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')


def phrase_query(text: str) -> str:
    """The FTS5 query for reasons containing ``text``: the text with ASCII letters lowered (the
    index holds lowered reasons) as one quoted phrase, so no character of it is syntax."""
    return '"' + text.translate(_ASCII_LOWER).replace('"', '""') + '"'


def dictionary_matches(dialect: str, text: str, indexed: bool) -> Select:
    """The hashes (column ``reason_hash``) of the dictionary's reasons that contain ``text``.
    SQLite's text index gives them in hash order (its rowid is the hash), which makes any
    first slice of the result a random sample of the matches; the phrase of trigrams matches
    exactly where LIKE does (app/reason_text_index.py), so nothing is re-checked."""
    if dialect == 'sqlite' and indexed and len(text) >= 3:
        return (select(WORDS.c.rowid.label('reason_hash'))
                .where(literal_column(WORDS_TABLE).op('MATCH')(phrase_query(text)))
                .order_by(WORDS.c.rowid))
    return select(ErrorReason.reason_hash).where(
        contains(dialect, ErrorReason.error_reason, text))


def row_contains(dialect: str, text: str) -> ColumnElement:
    """The walk's condition: the response's own reason contains the text."""
    return contains(dialect, Response.error_reason, text)


def reason_in(hashes) -> ColumnElement:
    """The lookup's condition: the response names one of ``hashes`` (a list or a select).
    The explicit IS NOT NULL lets every engine use the partial (filtered) reason index."""
    return and_(Response.reason_hash.is_not(None), Response.reason_hash.in_(hashes))


def limited_count(where, limit: int, source=None, newest_first: bool = False) -> Select:
    """How many responses (or rows of ``source``, a subquery of them) meet ``where``, up to
    ``limit + 1`` (more than ``limit``); ``newest_first``: reading the responses in time order
    from the newest, which the engine does through a time-ordered index."""
    limited = (select(literal(1)).select_from(Response.__table__ if source is None else source)
               .where(*where))
    if newest_first:
        limited = limited.order_by(Response.responded_at.desc(), Response.response_id.desc())
    return select(func.count()).select_from(limited.limit(limit + 1).subquery())
