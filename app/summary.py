"""The daily summary (``response_daily``): responses per UTC day, flow and status.

Whatever changes responses (a load, an undo, the demo seed) calls ``refresh_after_write`` in the
same transaction, so employees never see a summary that disagrees with the rows. A change that
updated or deleted rows recomputes the whole days it touched from the ``(responded_at,
response_id)`` index, which cannot drift. A load that only inserted rows adds its own rows to
the days the summary did not have yet (``add_batch``: one grouped statement over the batch's
rows, merged by an upsert), so a first load of a year does not read its rows back day by day;
days the summary already had are recomputed, because retention keeps the summary of purged
rows, and a re-loaded archive must not be counted twice.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .models import Response, ResponseDaily


class day_of(FunctionElement):
    """The calendar day of a timestamp column, per dialect."""
    type = Date()
    inherit_cache = True


@compiles(day_of)
def _day_of_default(element, compiler, **kw):
    return f'CAST({compiler.process(element.clauses, **kw)} AS DATE)'


@compiles(day_of, 'sqlite')
def _day_of_sqlite(element, compiler, **kw):
    return f'date({compiler.process(element.clauses, **kw)})'


def as_day(value) -> date:
    """A value ``day_of`` selected, as a date (SQLite returns it as text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def refresh_daily(connection: Connection, days: set[date] | None = None,
                  since: date | None = None) -> None:
    """Recompute the summary for the given days, for every day from ``since`` on, or (neither
    given) for everything."""
    if days is not None and not days:
        return
    table = ResponseDaily.__table__
    day = day_of(Response.responded_at)
    select_rows = select(
        day.label('day'), Response.flow_code, Response.status,
        func.count().label('responses'), func.sum(Response.duration_ms).label('duration_ms_sum'),
    ).group_by(day, Response.flow_code, Response.status)
    remove = delete(table)
    ranges = []
    if days is not None:
        ranges = [(d, d + timedelta(days=1)) for d in sorted(days)]
    elif since is not None:
        ranges = [(since, None)]
    if not ranges:
        connection.execute(remove)
        connection.execute(insert(table).from_select(
            ['day', 'flow_code', 'status', 'responses', 'duration_ms_sum'], select_rows))
        return
    for start, end in _merge_ranges(ranges):
        where_time = [Response.responded_at >= datetime.combine(start, time.min)]
        where_day = [table.c.day >= start]
        if end is not None:
            where_time.append(Response.responded_at < datetime.combine(end, time.min))
            where_day.append(table.c.day < end)
        connection.execute(remove.where(*where_day))
        connection.execute(insert(table).from_select(
            ['day', 'flow_code', 'status', 'responses', 'duration_ms_sum'],
            select_rows.where(*where_time)))


def refresh_after_write(connection: Connection, days: set[date] | None = None,
                        inserted_by: int | None = None) -> None:
    """Everything derived from responses, brought up to date for the days a writer touched
    (None: everything). With ``inserted_by``, the batch that wrote those days only inserted
    rows: days the summary did not have yet get the batch's rows added (``add_batch``), and
    days it had are recomputed (they may hold history of purged rows, which a re-loaded archive
    must not count twice). Loads, undo and the demo seed call this inside their transaction."""
    if inserted_by is not None and days:
        summarised = summarised_days(connection, days)
        add_batch(connection, inserted_by, days)
        days = summarised
    refresh_daily(connection, days=days)


def summarised_days(connection: Connection, days: set[date]) -> set[date]:
    """Which of ``days`` the summary already has rows for."""
    table = ResponseDaily.__table__
    found = connection.execute(select(table.c.day).where(
        table.c.day >= min(days), table.c.day <= max(days)).distinct())
    return {as_day(row[0]) for row in found} & days


#: Dialects whose INSERT ... SELECT takes ON CONFLICT DO UPDATE (the others recompute days).
UPSERT_INSERTS = {'sqlite': sqlite.insert, 'postgresql': postgresql.insert}


def add_batch(connection: Connection, batch_id: int, days: set[date]) -> None:
    """Add the rows of a batch that only inserted rows (on ``days``) to the summary: one
    grouped statement, upserted (SQLite and PostgreSQL ``ON CONFLICT DO UPDATE``). SQL Server
    recomputes the days instead."""
    upsert = UPSERT_INSERTS.get(connection.dialect.name)
    if upsert is None:
        refresh_daily(connection, days=days)
        return
    day = day_of(Response.responded_at)
    grouped = select(
        day, Response.flow_code, Response.status, func.count(), func.sum(Response.duration_ms),
    ).where(Response.batch_id == batch_id).group_by(day, Response.flow_code, Response.status)
    table = ResponseDaily.__table__
    statement = upsert(table).from_select(
        ['day', 'flow_code', 'status', 'responses', 'duration_ms_sum'], grouped)
    added = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day, table.c.flow_code, table.c.status],
        set_={'responses': table.c.responses + added.responses,
              # sum() of no durations is NULL: a NULL side adds nothing.
              'duration_ms_sum': func.coalesce(table.c.duration_ms_sum + added.duration_ms_sum,
                                               table.c.duration_ms_sum, added.duration_ms_sum)})
    connection.execute(statement)


def _merge_ranges(ranges):
    """Join adjacent day ranges so a load touching 60 consecutive days runs one statement."""
    merged = []
    for start, end in sorted(ranges, key=lambda r: r[0]):
        if merged and merged[-1][1] is not None and start <= merged[-1][1]:
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, None if end is None else max(end, last_end))
        else:
            merged.append((start, end))
    return merged

