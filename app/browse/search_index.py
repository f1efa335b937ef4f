"""Text in error reasons: substring search that stays fast at millions of responses without a
full-text index that every load would have to maintain row by row.

Each distinct reason is stored once in the error-reason dictionary (``error_reasons``, see
app/error_reasons.py) and each response names its reason by hash (``responses.reason_hash``).
A search reads the dictionary (small: reasons come from templates and platform messages) with a
case-insensitive substring match, then the responses of the matching hashes through the partial
index ``ix_responses_reason_time (reason_hash, responded_at, response_id) WHERE reason_hash IS
NOT NULL``:

- SQLite: ``LIKE`` (case-insensitive for ASCII letters);
- PostgreSQL: ``ILIKE``;
- SQL Server: ``LIKE`` (default collations are case-insensitive); the partial index is a
  filtered index there. No full-text index is needed: the scan is over the dictionary only.
"""
from __future__ import annotations

from sqlalchemy import and_, func, literal, select
from sqlalchemy.sql import ColumnElement, Select

from ..models import ErrorReason, Response


def escape_like(text: str) -> str:
    return text.replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_').replace('[', '\\[')


def matching_reasons(dialect: str, text: str) -> Select:
    """The hashes of the dictionary's reasons that contain ``text`` (case-insensitive)."""
    pattern = '%' + escape_like(text) + '%'
    reason = ErrorReason.error_reason
    contains = (reason.ilike(pattern, escape='\\') if dialect == 'postgresql'
                else reason.like(pattern, escape='\\'))
    return select(ErrorReason.reason_hash).where(contains)


def reason_matches(dialect: str, text: str, scan: bool = False) -> ColumnElement:
    """A condition: the response's error reason contains ``text`` (case-insensitive).

    ``scan`` (SQLite): the text is common, so reading rows in the page order and probing the
    set of matching hashes finds a page sooner than fetching every match and sorting it;
    ``reason_hash + 0`` keeps SQLite from choosing the reason index as the driving index. (Any
    engine, with an exact id: the id indexes drive the query, see responses.conditions.)"""
    hashes = matching_reasons(dialect, text)
    if scan:
        return (Response.reason_hash + 0).in_(hashes)
    # The explicit IS NOT NULL lets every engine use the partial (filtered) index.
    return and_(Response.reason_hash.is_not(None), Response.reason_hash.in_(hashes))


def reason_match_count(dialect: str, text: str, limit: int) -> Select:
    """A select of how many responses have the text in their reason, read from the reason
    index alone, up to ``limit + 1`` (more than ``limit``: at least that many)."""
    limited = (select(literal(1)).select_from(Response.__table__)
               .where(reason_matches(dialect, text)).limit(limit + 1).subquery())
    return select(func.count()).select_from(limited)
