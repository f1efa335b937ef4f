"""Retention: responses older than a cutoff are archived, then deleted, month by month.

For each month (oldest first) the rows past the cutoff are first written to that month's
archive file (archive.py), then deleted in batches of PURGE_BATCH_ROWS, each its own short
transaction, by each dialect's cheapest row address: SQLite's ``rowid``, PostgreSQL's ``ctid``
(a TID scan), SQL Server ``TOP`` on the key. Readers keep reading between and during batches
(SQLite WAL, PostgreSQL MVCC). The prior versions kept for undo of those rows go too. The
daily summary (response_daily) is not touched: the dashboard's history survives. While a month
is deleted (on a thread of its own), the next month's archive is written.

The purge holds the responses load lock, so no load or undo adds rows to a month between its
archiving and its deletion: every deleted row is in a complete archive file, even when the
purge is killed midway (the next run finds the rest of the month already archived).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, any_, func, literal_column, select, type_coerce
from sqlalchemy.types import NullType

from .. import audit
from ..database import engine_for
from ..datasets import RESPONSES
from ..extensions import db
from ..loading.locks import DatasetLock
from .archive import archived_ids, month_file, write_month
from .reasons import prune_reasons

#: SQLite page cache (KiB) of the connection that deletes: PURGE_CACHE_KIB_PER_ROW per row of
#: a batch, at least PURGE_CACHE_KIB; and SQLite's default (pages). See sqlite_settings.
PURGE_CACHE_KIB = 65_536
PURGE_CACHE_KIB_PER_ROW = 12
SQLITE_DEFAULT_CACHE = -2000
#: SQLite's secure_delete while the purge deletes (see sqlite_settings); the values
#: ``PRAGMA secure_delete`` reads, as the names it is set back with.
PURGE_SECURE_DELETE = 'FAST'
SECURE_DELETE_NAMES = {0: 'OFF', 1: 'ON', 2: 'FAST'}
#: Test hook (testing configuration only): after the first deleted batch, create this file and
#: wait, so a test can kill a purge at a known point without timing guesses.
HOLD_ENV = 'FLOWDESK_TEST_PURGE_HOLD'


class PurgeRefused(RuntimeError):
    """The purge cannot start (a load is running); nothing was changed."""


@dataclass
class MonthPurge:
    """One month's part of a purge: rows in [start, end), counted, then deleted."""
    month: date
    start: datetime
    end: datetime
    responses: int
    versions: int
    archived: int = 0
    archive: Path | None = None
    #: error reasons its deleted rows named and no stored response names any more
    reasons: int = 0


@dataclass
class PurgeOutcome:
    cutoff: datetime
    dry_run: bool
    months: list[MonthPurge] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def responses(self) -> int:
        return sum(month.responses for month in self.months)

    @property
    def versions(self) -> int:
        return sum(month.versions for month in self.months)

    @property
    def reasons(self) -> int:
        """Error reasons that left the dictionary: no stored response names them any more."""
        return sum(month.reasons for month in self.months)

    def summary(self) -> str:
        text = (f'{"Would delete" if self.dry_run else "Deleted"} {self.responses:,} responses '
                f'older than {self.cutoff:%Y-%m-%d %H:%M} UTC and {self.versions:,} prior '
                'versions')
        if self.months and not self.dry_run:
            text += f'; archived in {len(self.months)} monthly file(s)'
        if self.reasons:
            text += (f'; {self.reasons:,} error reasons no response names any more left the '
                     'search dictionary')
        return text


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_ranges(oldest: datetime, cutoff: datetime) -> list[tuple[date, datetime, datetime]]:
    """(month, start, end) covering [oldest, cutoff), one per calendar month (UTC)."""
    ranges, month = [], date(oldest.year, oldest.month, 1)
    while datetime(month.year, month.month, 1) < cutoff:
        following = next_month(month)
        end = min(datetime(following.year, following.month, 1), cutoff)
        ranges.append((month, datetime(month.year, month.month, 1), end))
        month = following
    return ranges


def in_range(table, start: datetime, end: datetime):
    return and_(table.c.responded_at >= start, table.c.responded_at < end)


def oldest_time(connection, cutoff: datetime) -> datetime | None:
    times = [connection.scalar(select(func.min(table.c.responded_at)).where(
        table.c.responded_at < cutoff)) for table in (RESPONSES.table, RESPONSES.version_table)]
    times = [value for value in times if value is not None]
    return min(times) if times else None


def count_in(connection, table, start: datetime, end: datetime) -> int:
    return connection.scalar(select(func.count()).select_from(table).where(
        in_range(table, start, end)))


def batch_delete(dialect: str, table, condition, batch_rows: int):
    """One bounded DELETE of rows matching ``condition``, in the dialect's efficient form."""
    if dialect == 'sqlite':
        rowid = literal_column('rowid')
        return table.delete().where(rowid.in_(
            select(rowid).select_from(table).where(condition).limit(batch_rows)))
    if dialect == 'postgresql':
        ctid = literal_column('ctid')
        chosen = select(ctid).select_from(table).where(condition).limit(batch_rows)
        return table.delete().where(ctid == any_(func.ARRAY(chosen.scalar_subquery())))
    key = table.c.response_id
    return table.delete().where(condition, key.in_(
        select(key).where(condition).limit(batch_rows)))


def delete_in_batches(engine, table, condition, batch_rows: int,
                      after_batch: Callable[[], None] | None = None,
                      returning=None, on_deleted: Callable | None = None) -> int:
    """Delete the rows matching ``condition``, ``batch_rows`` at a time, each batch its own
    transaction on one connection (on SQLite with the settings of sqlite_settings). With
    ``returning``, each batch returns that column of its rows to ``on_deleted(connection,
    values)``, inside the batch's transaction."""
    statement = batch_delete(engine.dialect.name, table, condition, batch_rows)
    if returning is not None:
        statement = statement.returning(returning)
    total = 0
    with engine.connect() as connection, sqlite_settings(connection, batch_rows):
        while True:
            with connection.begin():
                result = connection.execute(statement)
                if returning is None:
                    deleted = result.rowcount
                else:
                    values = result.scalars().all()
                    deleted = len(values)
                    on_deleted(connection, values)
            total += deleted
            if deleted and after_batch is not None:
                after_batch()
            if deleted < batch_rows:
                return total


def purge_cache_kib(batch_rows: int) -> int:
    return max(PURGE_CACHE_KIB, batch_rows * PURGE_CACHE_KIB_PER_ROW)


@contextmanager
def sqlite_settings(connection, batch_rows: int):
    """On SQLite, a batch deletes from the table and each of its indexes. The indexes in time
    order lose a few neighbouring pages' worth of entries per batch, but those in another order
    (duration, message id, correlation id, reason) lose entries spread all over them: up to a
    page each per deleted row, about 3 pages of 4 KiB per row in all. When a batch's pages do
    not fit in the page cache, SQLite writes them out part-way through it and reads them back
    (the 2 MB default holds those of about 170 rows). So while it deletes, the connection gets:

    - a page cache of PURGE_CACHE_KIB_PER_ROW per row of a batch (240 MB for 20,000 rows; at
      1,000,000 responses, 64 MB cost about 20 % more CPU per deleted row);
    - ``secure_delete = FAST`` where the SQLite build turns secure_delete on (Debian's does;
      the default build does not): deleted rows are still zeroed on the pages a batch writes
      anyway, but pages that empty are not written again only to be zeroed (about 15 % of the
      deleting CPU). The rows deleted are those just written to the archive, so zeroing them
      in the database file would keep nothing from anyone that the archive does not hold.

    Both come back to the connection's own values after, which frees the cached pages."""
    if connection.dialect.name != 'sqlite':
        yield
        return
    secure_delete = connection.exec_driver_sql('PRAGMA secure_delete').scalar()
    connection.exec_driver_sql(f'PRAGMA cache_size = -{purge_cache_kib(batch_rows)}')
    connection.exec_driver_sql(f'PRAGMA secure_delete = {PURGE_SECURE_DELETE}')
    connection.commit()  # the pragmas began SQLAlchemy's transaction; each batch has its own
    try:
        yield
    finally:
        connection.exec_driver_sql(f'PRAGMA cache_size = {SQLITE_DEFAULT_CACHE}')
        connection.exec_driver_sql(f'PRAGMA secure_delete = {SECURE_DELETE_NAMES[secure_delete]}')
        connection.commit()


def archive_month(engine, folder: Path, month: date, start: datetime, end: datetime) -> int:
    """Write the month's rows in [start, end) to its archive file; returns rows newly written."""
    path = month_file(folder, month)
    known = archived_ids(path)
    table = RESPONSES.table
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=20_000).execute(
            select(*archive_columns(table)).where(in_range(table, start, end))
            .order_by(table.c.responded_at, table.c.response_id))
        return write_month(path, result.partitions(), known)


def archive_columns(table) -> list:
    """The columns of an archive row, the time as the driver returns it: SQLAlchemy would parse
    SQLite's stored text into a datetime only for the archive to format it back (archive_time
    takes either), about a third of the archive's time."""
    return [type_coerce(table.c[name], NullType()).label(name) if name == 'responded_at'
            else table.c[name] for name in RESPONSES.column_names]


def archive_planned(engine, folder: Path, planned: MonthPurge) -> None:
    if planned.responses:  # a month with only prior versions left gets no archive file
        planned.archived = archive_month(engine, folder, planned.month, planned.start,
                                         planned.end)
        planned.archive = month_file(folder, planned.month)


def delete_planned(engine, planned: MonthPurge, batch_rows: int,
                   after_batch: Callable[[], None] | None) -> None:
    start, end = planned.start, planned.end

    def prune(connection, hashes) -> None:
        planned.reasons += prune_reasons(connection, hashes)

    table = RESPONSES.table
    planned.responses = delete_in_batches(engine, table, in_range(table, start, end),
                                          batch_rows, after_batch, table.c.reason_hash, prune)
    versions = RESPONSES.version_table
    planned.versions = delete_in_batches(engine, versions, in_range(versions, start, end),
                                         batch_rows)


def purge_months(engine, folder: Path, months: list[MonthPurge], batch_rows: int,
                 hold: PurgeHold | None, record: Callable[[MonthPurge], None]) -> None:
    """Archive each month, then delete it. While one month's rows are deleted, on a thread of
    its own, the next month's archive is written: the deletes run inside the database and the
    archive in Python, so on two cores they overlap. A month's deletion starts only once its
    archive file is complete, and each month is recorded once its deletion has finished."""
    deleting: tuple[MonthPurge, Future] | None = None

    def finish() -> None:
        if deleting is not None:
            if hold is not None:
                hold.idle.set()
            deleting[1].result()
            record(deleting[0])

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix='purge-delete') as deleter:
        try:
            for planned in months:
                archive_planned(engine, folder, planned)
                finish()
                deleting = (planned, deleter.submit(delete_planned, engine, planned,
                                                    batch_rows, hold))
        finally:
            finish()


def purge_responses(cutoff: datetime, *, dry_run: bool = False, actor: str | None = None,
                    lock_wait_seconds: float = 5.0) -> PurgeOutcome:
    """Archive and delete the responses older than ``cutoff`` (naive UTC)."""
    config = current_app.config
    folder = Path(config['ARCHIVE_FOLDER'])
    batch_rows = config['PURGE_BATCH_ROWS']
    started = time.perf_counter()
    outcome = PurgeOutcome(cutoff=cutoff, dry_run=dry_run)
    engine = engine_for('ops')
    lock = DatasetLock(RESPONSES.name, wait_seconds=lock_wait_seconds)
    if not lock.acquire():
        raise PurgeRefused('A load or undo of responses is running; the purge did not start '
                           'and nothing was changed. Run it again once the load has finished.')
    try:
        with engine.connect() as connection:
            oldest = oldest_time(connection, cutoff)
            for month, start, end in month_ranges(oldest, cutoff) if oldest else []:
                outcome.months.append(MonthPurge(
                    month, start, end, count_in(connection, RESPONSES.table, start, end),
                    count_in(connection, RESPONSES.version_table, start, end)))
        if not dry_run:
            purge_months(engine, folder, outcome.months, batch_rows, hold_for_tests(config),
                         lambda planned: record_month(planned, cutoff, actor))
    finally:
        lock.release()
    outcome.seconds = time.perf_counter() - started
    return outcome


def record_month(planned: MonthPurge, cutoff: datetime, actor: str | None) -> None:
    audit.record(audit.RESPONSES_PURGED, target=f'{planned.month:%Y-%m}', actor=actor, detail=(
        f'{planned.responses:,} responses older than {cutoff:%Y-%m-%d %H:%M} UTC deleted, '
        f'{planned.versions:,} prior versions pruned, {planned.reasons:,} error reasons no '
        f'stored response names removed from the search dictionary; archive '
        f'{planned.archive or "(none)"} ({planned.archived:,} rows added)'))
    db.session.commit()


class PurgeHold:
    """Test hook (testing configuration only): after the first deleted batch, once the archive
    writer is idle (so no archive is half-written), create the marker file and wait forever,
    so a test can kill a purge at a known point without timing guesses."""

    def __init__(self, marker: str):
        self.marker = marker
        #: set when the archive writer waits for the deletes
        self.idle = threading.Event()

    def __call__(self) -> None:
        self.idle.wait()
        Path(self.marker).write_text('deleted a batch\n', encoding='utf-8')
        threading.Event().wait()


def hold_for_tests(config) -> PurgeHold | None:
    marker = os.environ.get(HOLD_ENV) if config.get('TESTING') else None
    return PurgeHold(marker) if marker else None
