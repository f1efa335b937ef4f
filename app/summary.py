"""The daily summary (``response_daily``): responses per UTC day, flow and status.

Whatever changes responses (a load, an undo, the demo seed) calls ``refresh_daily`` in the same
transaction, for the days it touched, so employees never see a summary that disagrees with the
rows. Recomputing whole days from the ``(responded_at, response_id)`` index is cheap and cannot
drift, unlike adding and subtracting counts.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, delete, func, insert, select
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


def refresh_after_write(connection: Connection, days: set[date] | None = None) -> None:
    """Everything derived from responses, brought up to date for the days a writer touched
    (None: everything). Loads, undo and the demo seed call this inside their transaction."""
    refresh_daily(connection, days=days)


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

