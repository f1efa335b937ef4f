"""The error-reason dictionary loses the reasons no stored response names any more, as a purge
deletes their rows.

Each distinct reason is stored once in ``error_reasons`` (app/error_reasons.py) and searched
through it, so a dictionary that kept the reasons of every purged response would grow for as
long as Flowdesk runs, and every text search with it. Each batch a purge deletes returns the
reason hashes of its rows; in the same transaction, the entries among them that no remaining
response names are removed. Memory stays at one batch, a daily purge checks only a day's
reasons, and a purge stopped midway leaves no entry behind that the next one would not see.
Prior versions keep their own text, and undo, like every load, gives back the entries of the
rows it restores (``ReasonDictionary.add_missing_from``). SQLite's text index follows through
its delete trigger, PostgreSQL's trigram index by itself."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, exists

from ..models import ErrorReason, Response

#: Hashes per statement (SQL Server takes at most 2,100 parameters).
CHUNK = 1_000


def orphans(hashes: list[int]):
    """The condition for the entries among ``hashes`` that no response names (each checked
    through the reason index; the IS NOT NULL lets every engine use that partial index)."""
    named = exists().where(Response.reason_hash.is_not(None),
                           Response.reason_hash == ErrorReason.reason_hash)
    return ErrorReason.reason_hash.in_(hashes) & ~named


def prune_reasons(connection, hashes: Iterable[int | None]) -> int:
    """Remove the entries among ``hashes`` (the reasons of rows just deleted, on the deleting
    connection and inside its transaction) that no response names any more; returns how many."""
    distinct = sorted({value for value in hashes if value is not None})
    removed = 0
    for start in range(0, len(distinct), CHUNK):
        removed += connection.execute(
            delete(ErrorReason).where(orphans(distinct[start:start + CHUNK]))).rowcount
    return removed
