"""The dashboard's figures. Each is one index range read or a read of the daily summary, so the
page stays fast at millions of responses.

"Failing now" rule (stated on the page): a flow is failing now when it has at least
FAILING_MIN_RESPONSES responses in the last FAILING_WINDOW and at least FAILING_ERROR_SHARE of
them are errors.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..database import dialect_name, ops_session_execute, unindexed
from ..models import Flow, Response, ResponseDaily, ResponseHourly

FAILING_WINDOW = timedelta(hours=3)
FAILING_MIN_RESPONSES = 3
FAILING_ERROR_SHARE = 0.5
TOP_DAYS = 7
REASONS_WINDOW = timedelta(hours=24)
TOP_LIMIT = 10
HOUR = timedelta(hours=1)


@dataclass
class Period:
    responses: int
    errors: int

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.responses if self.responses else None

    def __add__(self, other: Period) -> Period:
        return Period(self.responses + other.responses, self.errors + other.errors)


@dataclass
class FlowErrors:
    flow_code: str
    name: str
    responses: int
    errors: int

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.responses if self.responses else None


def period(start: datetime, end: datetime) -> Period:
    return periods((start, end))[0]


def periods(*windows: tuple[datetime, datetime]) -> list[Period]:
    """Responses and errors in each [start, end) window, in two plain statements: the whole
    UTC hours from the hourly summary (one range of its key, a few dozen rows a day, added up
    here), the part-hours at either end counted from the responses (index ranges of under an
    hour of rows each, all in one statement). The cost does not grow with the table, only with
    the rows of an hour. (Asking the database to pick the hours by (day, hour) bounds made
    PostgreSQL spend longer planning than running.)"""
    hours = [_whole_hours(start, end) for start, end in windows]
    parts = [_part_hours(start, end, whole) for (start, end), whole in zip(windows, hours, strict=True)]
    summary = _hourly_rows([whole for whole in hours if whole])
    columns = [column for window in parts for pair in window for column in pair]
    values = iter(ops_session_execute(select(*columns))[0] if columns else ())
    found = []
    for whole, window in zip(hours, parts, strict=True):
        total = errors = 0
        if whole:
            for moment, status, responses in summary:
                if whole[0] <= moment < whole[1]:
                    total += responses
                    errors += responses if status == 'ERROR' else 0
        for _pair in window:
            total += int(next(values) or 0)
            errors += int(next(values) or 0)
        found.append(Period(total, errors))
    return found


def _whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The whole UTC hours [first, last) inside [start, end), or None when there are none."""
    first, last = _hour_down(start), _hour_down(end)
    if first != start:
        first += HOUR
    return (first, last) if first < last else None


def _part_hours(start: datetime, end: datetime, whole) -> list[tuple]:
    """(responses, errors) scalar subqueries counting what ``whole`` leaves out."""
    if whole is None:
        return [_counted(start, end)] if start < end else []
    return [_counted(part_start, part_end)
            for part_start, part_end in ((start, whole[0]), (whole[1], end))
            if part_start < part_end]


def _hour_down(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _counted(start: datetime, end: datetime) -> tuple:
    """From the responses: the (responded_at) and (status, responded_at) indexes."""
    in_range = (Response.responded_at >= start, Response.responded_at < end)
    return (select(func.count()).select_from(Response).where(*in_range).scalar_subquery(),
            select(func.count()).select_from(Response)
            .where(Response.status == 'ERROR', *in_range).scalar_subquery())


def _hourly_rows(ranges) -> list[tuple[datetime, str, int]]:
    """(hour, status, responses) of the hourly summary over the days the ranges span."""
    if not ranges:
        return []
    first = min(first for first, _last in ranges).date()
    last = max(last for _first, last in ranges).date()
    rows = ops_session_execute(
        select(ResponseHourly.day, ResponseHourly.hour, ResponseHourly.status,
               ResponseHourly.responses)
        .where(ResponseHourly.day >= first, ResponseHourly.day <= last))
    return [(datetime.combine(day, time(hour)), status, int(responses))
            for day, hour, status, responses in rows]


def failing_now(now: datetime) -> list[FlowErrors]:
    """Flows whose recent responses are mostly errors (the rule in the module docstring).

    First the window's errors (a short range of the (status, responded_at) index, then each
    error's row by its key), then, for the flows with enough errors to qualify, their totals
    (one statement, a seek per flow in the (flow_code, responded_at) index): cheap whatever
    the number of flows or rows. The errors are picked by key on purpose: asked for their flow
    directly, SQLite would rather skip-scan the (flow_code, status, responded_at) index, one
    seek per flow of the table (50 times slower at 500 flows)."""
    window = (Response.responded_at >= now - FAILING_WINDOW, Response.responded_at < now)
    error_ids = select(Response.response_id).where(Response.status == 'ERROR', *window)
    errors = Counter(code for (code,) in ops_session_execute(
        select(Response.flow_code).where(Response.response_id.in_(error_ids))))
    candidates = sorted(code for code, count in errors.items()
                        if count >= FAILING_MIN_RESPONSES * FAILING_ERROR_SHARE)
    if not candidates:
        return []
    in_window = (select(func.count()).select_from(Response)
                 .where(Response.flow_code == Flow.flow_code, *window).scalar_subquery())
    totals = ops_session_execute(select(Flow.flow_code, Flow.name, in_window)
                                 .where(Flow.flow_code.in_(candidates)))
    found = [FlowErrors(code, name or '', int(total), errors[code])
             for code, name, total in totals
             if total >= FAILING_MIN_RESPONSES and errors[code] / total >= FAILING_ERROR_SHARE]
    return sorted(found, key=lambda flow: (-flow.error_rate, -flow.errors, flow.flow_code))


def top_failing_flows(today, limit: int = TOP_LIMIT) -> list[FlowErrors]:
    """Flows with the most errors over the last TOP_DAYS UTC days (daily summary): the week's
    errors per flow (``week_errors``), then the totals and names of the flows shown (one
    statement, through the (flow_code, day) index)."""
    first = today - timedelta(days=TOP_DAYS - 1)
    errors = week_errors(first)
    ranked = sorted(((code, int(errs)) for code, errs in errors.items() if errs),
                    key=lambda item: (-item[1], item[0]))[:limit]
    if not ranked:
        return []
    name = select(Flow.name).where(Flow.flow_code == ResponseDaily.flow_code).scalar_subquery()
    shown = {code: (int(total), name) for code, total, name in ops_session_execute(
        select(ResponseDaily.flow_code, func.sum(ResponseDaily.responses), name)
        .where(ResponseDaily.flow_code.in_([code for code, _errs in ranked]),
               ResponseDaily.day >= first)
        .group_by(ResponseDaily.flow_code))}
    return [FlowErrors(code, shown[code][1] or '', shown[code][0], errs)
            for code, errs in ranked]


def week_errors(first) -> Counter:
    """flow_code -> errors from the UTC day ``first`` on, read from the (status, day, flow_code,
    responses) index of the daily summary alone. PostgreSQL and SQL Server add them up; SQLite,
    asked to group them, would walk the (flow_code, day) index and read every summary row of
    the week instead, so there the few thousand ERROR rows are added up here."""
    where = (ResponseDaily.status == 'ERROR', ResponseDaily.day >= first)
    if dialect_name() != 'sqlite':
        return Counter(dict(ops_session_execute(
            select(ResponseDaily.flow_code, func.sum(ResponseDaily.responses))
            .where(*where).group_by(ResponseDaily.flow_code))))
    errors = Counter()
    for code, responses in ops_session_execute(
            select(ResponseDaily.flow_code, ResponseDaily.responses).where(*where)):
        errors[code] += responses
    return errors


def top_error_reasons(now: datetime, limit: int = TOP_LIMIT) -> list[tuple[str, int]]:
    """The most frequent error reasons over the last REASONS_WINDOW, most frequent first.

    The error rows of the window (the (status, responded_at) index) are grouped by their
    reason's hash, not by its text: most reasons are distinct, and sorting thousands of long
    texts in the database's collation cost PostgreSQL more than reading the rows (at 20M
    realistic responses, 9,800 error rows a day: 9 ms grouped by text, 4 ms by hash). The hash
    is grouped in a form no index serves: SQLite would otherwise walk the whole reason index
    for its order (50 times slower). Each reason shown is then read from one of its rows
    through the reason index. Reasons as frequent as the last one shown but left out are left
    out by hash, which is arbitrary but stable; those shown are ordered by count, then text."""
    rows = ops_session_execute(top_reasons_statement(now - REASONS_WINDOW, limit))
    return sorted(((text, int(count)) for text, count in rows),
                  key=lambda item: (-item[1], item[0]))


def top_reasons_statement(since: datetime, limit: int):
    """(reason, count) of the ``limit`` most frequent reasons of error rows since ``since``."""
    reason_hash = unindexed(Response.reason_hash)
    top = (select(reason_hash.label('reason_hash'), func.count().label('n'))
           .where(Response.status == 'ERROR', Response.responded_at >= since,
                  Response.reason_hash.is_not(None))
           .group_by(reason_hash)
           .order_by(func.count().desc(), reason_hash)
           .limit(limit).subquery())
    named = aliased(Response)
    reason = (select(named.error_reason)
              .where(named.reason_hash == top.c.reason_hash, named.reason_hash.is_not(None))
              .limit(1).scalar_subquery())
    return select(reason, top.c.n)
