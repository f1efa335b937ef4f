"""The summaries of responses: per UTC day, flow and status (``response_daily``), that summed
over flows (``response_day_totals``) and per UTC hour and status (``response_hourly``).

Whatever changes responses (a load, an undo, the demo seed) calls ``refresh_after_write`` in
the same transaction, for the days it touched, so employees never see a summary that disagrees
with the rows. Recomputing whole days from the ``(responded_at, response_id)`` index is cheap
and cannot drift, unlike adding and subtracting counts. A purge leaves the summaries alone:
the dashboard's history survives the rows.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, SmallInteger, delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .models import Response, ResponseDaily, ResponseDayTotal, ResponseHourly


def _per_dialect(name: str, sql_type, templates: dict[str | None, str]):
    """A SQL function of one column written per dialect: ``templates`` maps a dialect name
    (None: every other dialect, SQL Server included) to its SQL, ``{}`` standing for the
    column."""
    function = type(name, (FunctionElement,), {'type': sql_type, 'inherit_cache': True})
    for dialect, template in templates.items():
        def render(element, compiler, template=template, **kw):
            return template.format(compiler.process(element.clauses, **kw))
        compiles(function, *([dialect] if dialect else []))(render)
    return function


#: The UTC calendar day of a timestamp column. SQLite stores timestamps as ISO text without
#: an offset ('2026-03-01 14:05:09.000000'), so the day and the hour are cut out of the text:
#: the same as date() and strftime(), which parse the whole text (a 1M-row load's summaries
#: take 0.2 s less).
day_of = _per_dialect('day_of', Date(), {None: 'CAST({} AS DATE)', 'sqlite': 'substr({}, 1, 10)'})
#: The hour of the day (0-23) of a timestamp column.
hour_of = _per_dialect('hour_of', SmallInteger(), {
    None: 'DATEPART(hour, {})',
    'postgresql': 'CAST(EXTRACT(HOUR FROM {}) AS SMALLINT)',
    'sqlite': 'CAST(substr({}, 12, 2) AS INTEGER)',
})


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
    day = day_of(Response.responded_at)
    rows = select(day, Response.flow_code, Response.status, func.count(),
                  func.sum(Response.duration_ms)).group_by(day, Response.flow_code,
                                                          Response.status)
    _recompute(connection, ResponseDaily.__table__, rows, _response_times, days, since)


def refresh_day_totals(connection: Connection, days: set[date] | None = None,
                       since: date | None = None) -> None:
    """The daily summary summed over flows (``response_day_totals``), for the same days: read
    from ``response_daily`` itself, so both agree whatever the responses table still holds."""
    daily = ResponseDaily.__table__.c
    rows = select(daily.day, daily.status, func.sum(daily.responses),
                  func.sum(daily.duration_ms_sum)).group_by(daily.day, daily.status)
    _recompute(connection, ResponseDayTotal.__table__, rows, _summary_days, days, since)


def refresh_hourly(connection: Connection, days: set[date] | None = None,
                   since: date | None = None) -> None:
    """Responses per UTC hour and status (``response_hourly``) for the given days."""
    day, hour = day_of(Response.responded_at), hour_of(Response.responded_at)
    rows = select(day, hour, Response.status, func.count()).group_by(day, hour, Response.status)
    _recompute(connection, ResponseHourly.__table__, rows, _response_times, days, since)


def refresh_after_write(connection: Connection, days: set[date] | None = None) -> None:
    """Everything derived from responses, brought up to date for the days a writer touched
    (None: everything). Loads, undo and the demo seed call this inside their transaction."""
    refresh_daily(connection, days=days)
    refresh_day_totals(connection, days=days)
    refresh_hourly(connection, days=days)


def _response_times(start: date, end: date | None) -> list:
    where = [Response.responded_at >= datetime.combine(start, time.min)]
    if end is not None:
        where.append(Response.responded_at < datetime.combine(end, time.min))
    return where


def _summary_days(start: date, end: date | None) -> list:
    where = [ResponseDaily.day >= start]
    if end is not None:
        where.append(ResponseDaily.day < end)
    return where


def _recompute(connection: Connection, table, rows, source_range, days: set[date] | None,
               since: date | None) -> None:
    """Replace ``table``'s rows of the given days (or of every day from ``since``, or all of
    them) by ``rows``: a grouped SELECT of the table's columns in order, which
    ``source_range(start, end)`` narrows to its source rows of the days [start, end)."""
    if days is not None and not days:
        return
    columns = [column.name for column in table.columns]
    if days is not None:
        ranges = [(d, d + timedelta(days=1)) for d in sorted(days)]
    elif since is not None:
        ranges = [(since, None)]
    else:
        connection.execute(delete(table))
        connection.execute(insert(table).from_select(columns, rows))
        return
    for start, end in _merge_ranges(ranges):
        where_day = [table.c.day >= start]
        if end is not None:
            where_day.append(table.c.day < end)
        connection.execute(delete(table).where(*where_day))
        connection.execute(insert(table).from_select(columns, rows.where(*source_range(start,
                                                                                     end))))


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

