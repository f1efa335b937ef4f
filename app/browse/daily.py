"""Responses per day by status, read from the summaries (``response_day_totals`` over every
flow, ``response_daily`` per flow), never from the responses themselves: the dashboard, flow
pages and the API chart millions of rows this way. Days are UTC calendar days, as the
summaries keep them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select

from ..database import ops_session_execute
from ..models import STATUSES, ResponseDaily, ResponseDayTotal

CHART_DAYS = (30, 90)


@dataclass
class DailySeries:
    days: list[date]
    counts: dict[str, list[int]]       # status -> one count per day

    def as_chart(self) -> dict:
        return {'labels': [day.isoformat() for day in self.days],
                'series': [{'status': status, 'counts': self.counts[status]}
                           for status in STATUSES]}

    @property
    def total(self) -> int:
        return sum(sum(values) for values in self.counts.values())


def daily_series(today: date, days: int, flow_code: str | None = None) -> DailySeries:
    first = today - timedelta(days=days - 1)
    rows = daily_rows(first, today, flow_codes=[flow_code] if flow_code else None)
    all_days = [first + timedelta(days=offset) for offset in range(days)]
    position = {day: index for index, day in enumerate(all_days)}
    counts = {status: [0] * days for status in STATUSES}
    for day, status, responses, _duration in rows:
        if status in counts and day in position:
            counts[status][position[day]] += responses
    return DailySeries(all_days, counts)


def daily_rows(first: date, last: date, flow_codes=None, statuses=None):
    """(day, status, responses, duration_ms_sum) summed over flows, from ``first`` to ``last``
    inclusive: over every flow from the day totals (a few rows a day), over chosen flows from
    the daily summary through its (flow_code, day) index."""
    if flow_codes:
        table = ResponseDaily
        statement = (select(table.day, table.status, func.sum(table.responses),
                            func.sum(table.duration_ms_sum))
                     .where(table.flow_code.in_(flow_codes))
                     .group_by(table.day, table.status))
    else:
        table = ResponseDayTotal
        statement = select(table.day, table.status, table.responses, table.duration_ms_sum)
    statement = (statement.where(table.day >= first, table.day <= last)
                 .order_by(table.day, table.status))
    if statuses:
        statement = statement.where(table.status.in_(statuses))
    return [(row[0], row[1], int(row[2] or 0), None if row[3] is None else int(row[3]))
            for row in ops_session_execute(statement)]


def error_rates_since(first: date, flow_codes=None) -> dict[str, tuple[int, int]]:
    """flow_code -> (responses, errors) from ``first`` (a UTC day) on."""
    errors = func.sum(case((ResponseDaily.status == 'ERROR', ResponseDaily.responses), else_=0))
    statement = (select(ResponseDaily.flow_code, func.sum(ResponseDaily.responses), errors)
                 .where(ResponseDaily.day >= first).group_by(ResponseDaily.flow_code))
    if flow_codes is not None:
        statement = statement.where(ResponseDaily.flow_code.in_(list(flow_codes)))
    return {code: (int(total or 0), int(errs or 0))
            for code, total, errs in ops_session_execute(statement)}
