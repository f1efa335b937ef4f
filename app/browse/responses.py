"""Responses matching a ResponseFilter: one page (keyset), a count that stays cheap, one
response, and every row for exports."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from ..database import dialect_name, ops_scalar, ops_session_execute
from ..models import Flow, Response, ResponseDaily, ResponseDayTotal
from . import keyset, text_plan, text_search
from .filters import ResponseFilter
from .search_index import limited_count
from .trace import id_matches

#: Above this many matching rows the count says "10,000+" instead of counting on.
COUNT_CAP = 10_000
#: A duration sort with filters beyond the time range sorts the matching rows, up to this many;
#: past it, the person is asked to narrow the filters (``duration_plan``).
SORT_CAP = 50_000

LIST_COLUMNS = (Response.response_id, Response.flow_code, Response.responded_at, Response.status,
                Response.result_code, Response.duration_ms, Response.error_reason,
                Response.payload_bytes, Response.message_id, Response.correlation_id)


def total_responses() -> int:
    """Every response the summaries count (purged ones too), from the day totals: a few rows
    a day of history, whatever the number of responses or flows."""
    return text_search.memo('total', lambda: int(ops_scalar(
        select(func.coalesce(func.sum(ResponseDayTotal.responses), 0)))))


def conditions(flt: ResponseFilter, need: int = COUNT_CAP + 1) -> list:
    """WHERE conditions for a filter; ``need``: how many rows the statement reads at most
    (a page, or a count up to its cap), which decides how a text search finds its rows.

    An exact id is the most selective filter there is, so its two indexes drive the query
    (app/browse/trace.py): the other conditions then test each row the id finds (the text
    by walking, never through the dictionary)."""
    where = other_conditions(flt)
    if flt.text:
        strategy = (text_plan.WALK if flt.exact_id
                    else text_search.page_strategy(flt, need))
        where.append(text_search.condition(flt, strategy))
    return where


def other_conditions(flt: ResponseFilter) -> list:
    """The filter's conditions besides the text. With an exact id, the flow, status and
    result-code conditions are written so that no index serves them
    (``text_search.untimed_conditions``), which keeps a planner without statistics (SQLite is
    never ANALYZEd) from reading a busy flow's rows instead; the time range stays plain: it
    narrows the id indexes' seeks."""
    where = text_search.untimed_conditions(flt)
    if flt.start is not None:
        where.append(Response.responded_at >= flt.start)
    if flt.end is not None:
        where.append(Response.responded_at < flt.end)
    if flt.exact_id:
        where.append(id_matches(flt.exact_id))
    return where


def base_select(flt: ResponseFilter, columns=LIST_COLUMNS, need: int | None = None):
    return select(*columns).where(*conditions(flt, need or flt.size + 1))


def _scan_threshold(flt: ResponseFilter) -> int:
    """√((size + 1) × total): the total is an estimate's input, so the cached one will do."""
    return math.isqrt((flt.size + 1) * text_plan.total_rows())


def narrows_beyond_time(flt: ResponseFilter) -> bool:
    """Filters other than the time range (flows, one or two statuses, result code, text)."""
    return bool(flt.flows or 0 < len(flt.statuses) < 3 or flt.result_code is not None
                or flt.text)


def _duration_count_limit(flt: ResponseFilter) -> int:
    return SORT_CAP if narrows_beyond_time(flt) else max(COUNT_CAP, _scan_threshold(flt))


def duration_plan(flt: ResponseFilter) -> str:
    """How a duration sort reads its page: ``walk`` ``ix_responses_duration`` in order (no
    filter, or a time range matching many rows: the index carries the time, so the walk reads
    about size × total / matches index entries, at most √(size × total)); ``sort`` the matching
    rows read through the filters' own indexes (at most SORT_CAP, or √(size × total) for a time
    range alone); ``refuse`` when other filters match more than SORT_CAP rows, because walking
    the duration order while testing filters that go with duration (a flow, a status, a
    result code, a reason) can read the whole table. Counting stops at the limit, so the choice
    itself reads at most that many index entries."""
    if flt.sort not in keyset.DURATION_SORTS:
        return 'time'
    if not narrows_beyond_time(flt):
        if flt.start is None and flt.end is None:
            return 'walk'
        threshold = _scan_threshold(flt)
        return 'sort' if count_up_to_memo(flt, _duration_count_limit(flt)) <= threshold \
            else 'walk'
    return 'sort' if count_up_to_memo(flt, SORT_CAP) <= SORT_CAP else 'refuse'


def duration_sort_problem(flt: ResponseFilter) -> str | None:
    """The message for a duration sort over too many rows (pages and API alike), or None."""
    if duration_plan(flt) != 'refuse':
        return None
    return (f'Sorting by duration sorts every matching response, and more than {SORT_CAP:,} '
            'match these filters: narrow them (a shorter time range, a flow, a status) or sort '
            'by time.')


def fetch_page(flt: ResponseFilter, cursor: keyset.Cursor | None) -> keyset.Page:
    execute = ops_session_execute
    if (flt.text and not flt.exact_id and dialect_name() != 'sqlite'
            and text_search.page_strategy(flt, flt.size + 1) == text_plan.LOOKUP):
        execute = keys_first
    return keyset.fetch_page(execute, base_select(flt), flt.sort, cursor, flt.size,
                             sorted_here=duration_plan(flt) == 'sort')


def keys_first(statement):
    """Run a page query in two steps: the page's response ids first, then their rows.

    A text search on PostgreSQL or SQL Server finds its matches through the reason index,
    which holds (reason_hash, responded_at, response_id): ordering and cutting the page needs
    no table row at all. Asking for every column at once makes the server read the table row of
    every match before it can sort (thousands for a common word); asking for the ids first
    reads only the page's rows."""
    ids = [row[0] for row in ops_session_execute(statement.with_only_columns(Response.response_id))]
    if not ids:
        return []
    rows = ops_session_execute(select(*statement.selected_columns)
                               .where(Response.response_id.in_(ids)))
    by_id = {row.response_id: row for row in rows}
    return [by_id[response_id] for response_id in ids if response_id in by_id]


@dataclass(frozen=True)
class Count:
    value: int
    capped: bool     # True: at least ``value`` rows match ("10,000+")

    def __str__(self) -> str:
        return f'{self.value:,}+' if self.capped else f'{self.value:,}'


def count(flt: ResponseFilter) -> Count:
    """How many responses match: exact from the daily summary when the filter allows it,
    otherwise counted up to COUNT_CAP rows (a text search: app/browse/text_search.py)."""
    if flt.countable_from_summary:
        return Count(summary_count(flt), False)
    if flt.text and not flt.exact_id:
        found = text_search.count(flt, other_conditions(flt), text_search.TEXT_COUNT_CAP)
        return Count(found.value, found.at_least)
    found = count_up_to_memo(flt, _duration_count_limit(flt)
                             if flt.sort in keyset.DURATION_SORTS else COUNT_CAP)
    if found > COUNT_CAP:
        return Count(COUNT_CAP, True)
    return Count(found, False)


def count_with_page(flt: ResponseFilter, page: keyset.Page, first_page: bool) -> Count:
    """``count``, never below what the page itself shows: a text-search count that ran out of
    budget early ("0+", "12+") says at least as many as the rows on this page and the pages
    before it, and an empty first page means that nothing matches."""
    found = count(flt)
    if not found.capped:
        return found
    if first_page and not page.rows:
        return Count(0, False)
    shown = (page.page - 1) * flt.size + len(page.rows) + (1 if page.next_cursor else 0)
    return Count(max(found.value, shown), True)


def summary_count(flt: ResponseFilter) -> int:
    """The exact number of responses of a filter with flows and statuses at most, from the
    summaries: with flows, the daily summary's days of those flows (an index range of
    ``ix_response_daily_flow_day`` per flow); without, the day totals (a few rows a day). Both
    stay the same size at any number of responses.

    A purge keeps the summaries of the days it empties (the dashboard's history), so once
    one has run the count takes the summaries only after the first day still stored, and
    counts that day's rows (which a purge may have cut part-way) through the time index."""
    first_stored = ops_scalar(select(func.min(Response.responded_at)))
    if first_stored is None:
        return 0
    first_day = first_stored.date()
    if flt.flows:
        table, where = ResponseDaily, [ResponseDaily.flow_code.in_(flt.flows)]
    else:
        table, where = ResponseDayTotal, []
    if flt.statuses:
        where.append(table.status.in_(flt.statuses))
    statement = select(func.coalesce(func.sum(table.responses), 0)).where(*where)
    first_summarised = ops_scalar(select(func.min(ResponseDayTotal.day)))
    if first_summarised is None or first_summarised >= first_day:
        return int(ops_scalar(statement))
    next_day = datetime.combine(first_day + timedelta(days=1), time.min)
    first_rows = select(func.count()).select_from(Response).where(
        Response.responded_at < next_day, *other_conditions(flt))
    return int(ops_scalar(statement.where(table.day > first_day))) + int(ops_scalar(first_rows))


def count_up_to(flt: ResponseFilter, limit: int) -> int:
    """The number of matching rows, or ``limit + 1`` when there are more than ``limit``."""
    return int(ops_scalar(limited_count(conditions(flt, limit + 1), limit)))


def count_up_to_memo(flt: ResponseFilter, limit: int) -> int:
    """``count_up_to``, once per request: the duration sort's plan and the count shown share
    it."""
    return text_search.memo(('count_up_to', flt, limit), lambda: count_up_to(flt, limit))


def get_response(response_id: int):
    statement = select(*LIST_COLUMNS, Response.batch_id).where(Response.response_id == response_id)
    rows = ops_session_execute(statement)
    return rows[0] if rows else None


def flow_names(codes) -> dict[str, str]:
    codes = list(set(codes))
    if not codes:
        return {}
    return dict(ops_session_execute(
        select(Flow.flow_code, Flow.name).where(Flow.flow_code.in_(codes))))


def missing_flows(codes) -> list[str]:
    """Flow codes in a filter that name no flow (reported to the person, not silently empty)."""
    known = flow_names(codes)
    return [code for code in codes if code not in known]


def iter_chunks(flt: ResponseFilter, columns=LIST_COLUMNS, chunk: int = 10_000):
    """Every matching row in the filter's order, in lists of ``chunk`` rows, one query each
    (``columns`` must include the sort key and response_id)."""
    return keyset.iter_chunks(ops_session_execute, base_select(flt, columns, chunk), flt.sort,
                              chunk, sorted_here=duration_plan(flt) == 'sort')
