"""The error-reason dictionary: each distinct reason stored once (``error_reasons``), each
response naming its reason by hash (``responses.reason_hash``).

Text search finds rare words in the dictionary (through its text index, app/reason_text_index.py)
and then the responses of the matching hashes through one partial index, so loads never
maintain a per-row full-text index (app/browse/text_plan.py chooses per search). Whatever writes
responses (loads, undo, the demo seed) fills ``reason_hash`` with ``reason_hash()`` and adds the
new reasons with ``ReasonDictionary.add`` in the same transaction as the rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from hashlib import blake2b

from sqlalchemy import exists, insert, select
from sqlalchemy.engine import Connection

from .database import qualified_name
from .models import ErrorReason
from .reason_text_index import catch_up_words, defer_words

#: Hash lookups per statement stay far below SQL Server's 2,100 parameters.
LOOKUP_CHUNK = 1000
#: Hashes a dictionary remembers having sent before it starts afresh (about 4 MB).
KNOWN_LIMIT = 50_000


#: Reasons repeat, so a small cache saves most hashing; kept small because a reason can be
#: 4,000 characters long and a load must stay within its memory budget.
@lru_cache(maxsize=1024)
def reason_hash(reason: str | None) -> int | None:
    """A stable signed 64-bit hash of a reason's exact text (None for no reason). The same on
    every platform and Python run, so hashes written by any process agree."""
    if reason is None:
        return None
    digest = blake2b(reason.encode('utf-8'), digest_size=8).digest()
    return int.from_bytes(digest, 'big', signed=True)


class ReasonDictionary:
    """Adds the reasons a writer is about to store, on the writer's connection and inside its
    transaction. SQLite and PostgreSQL send a chunk's new reasons in one bulk insert that skips
    the entries already there (``INSERT OR IGNORE``, ``ON CONFLICT DO NOTHING``): the database
    finds them in its primary key, which is far cheaper than asking first when most reasons are
    distinct. SQL Server looks the hashes up and inserts the missing ones. Hashes already sent
    by this load are remembered (up to KNOWN_LIMIT, so memory stays flat however many distinct
    reasons a file has), so a repeated reason is sent once."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.known: set[int] = set()
        self.bulk_sql = bulk_insert_sql(connection.dialect)
        self.words_mark: int | None = None

    def defer_text_index(self) -> None:
        """A bulk writer's choice: the dictionary's text index catches up once, in ``finish``,
        instead of entry by entry (app/reason_text_index.py)."""
        self.words_mark = defer_words(self.connection)

    def finish(self) -> None:
        """Called once the writer has added everything, inside its transaction."""
        if self.words_mark is not None:
            catch_up_words(self.connection, self.words_mark)
            self.words_mark = None

    def add(self, reasons: Iterable[str | None]) -> int:
        """Make sure each reason has its dictionary entry; returns how many were new."""
        return self.add_hashed((reason_hash(reason), reason) for reason in reasons
                               if reason is not None)

    def add_hashed(self, entries: Iterable[tuple[int | None, str | None]]) -> int:
        """``add`` for (hash, reason) pairs whose hash is already known (a load's rows carry
        it), so a million-row load does not hash its reasons twice; (None, None) is skipped."""
        known = self.known
        fresh = {hashed: reason for hashed, reason in entries
                 if hashed is not None and hashed not in known}
        if not fresh:
            return 0
        if self.bulk_sql is not None:
            added = self.connection.exec_driver_sql(self.bulk_sql, sorted(fresh.items())).rowcount
        else:
            added = self.look_up_and_insert(fresh)
        if len(known) + len(fresh) > KNOWN_LIMIT:
            known.clear()
        known.update(fresh)
        return added

    def add_missing_from(self, table, where) -> int:
        """Add the entries that rows of ``table`` meeting ``where`` name but the dictionary
        lacks: undo restores rows from their prior versions, and a purge may since have
        removed an entry no stored row named (app/retention/reasons.py)."""
        named = table.c.reason_hash
        missing = (select(table.c.error_reason).distinct()
                   .where(where, named.is_not(None),
                          ~exists().where(ErrorReason.reason_hash == named)))
        return self.add([reason for (reason,) in self.connection.execute(missing)])

    def look_up_and_insert(self, fresh: dict[int, str]) -> int:
        hashes = list(fresh)
        stored: set[int] = set()
        column = ErrorReason.reason_hash
        for start in range(0, len(hashes), LOOKUP_CHUNK):
            stored.update(self.connection.execute(
                select(column).where(column.in_(hashes[start:start + LOOKUP_CHUNK]))).scalars())
        # Sorted by hash: the dictionary's text index (SQLite FTS5, keyed by hash) then writes
        # the whole list as one run instead of one small segment per out-of-order entry.
        new = [{'reason_hash': hashed, 'error_reason': fresh[hashed]}
               for hashed in sorted(fresh) if hashed not in stored]
        if new:
            self.connection.execute(insert(ErrorReason), new)
        return len(new)


def bulk_insert_sql(dialect) -> str | None:
    """The dialect's insert that skips existing entries (None: look up first)."""
    if dialect.name not in ('sqlite', 'postgresql'):
        return None
    name = qualified_name(ErrorReason.__table__, 'ops', dialect)
    # The name is the dialect-quoted table of the model; every value is bound.
    if dialect.name == 'sqlite':
        return f'INSERT OR IGNORE INTO {name} (reason_hash, error_reason) VALUES (?, ?)'  # nosec B608
    return (f'INSERT INTO {name} (reason_hash, error_reason) VALUES (%s, %s) '  # nosec B608
            'ON CONFLICT (reason_hash) DO NOTHING')
