"""The text filter of the response list (``q``): a response matches when its flow's code or
name, or its error reason, contains the text. How the reason part is found (lookup or walk) is
chosen per query by app/browse/text_plan.py; both ways give the same rows
(app/browse/search_index.py)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from flask import g, has_request_context
from sqlalchemy import case, func, literal, or_, select

from ..database import (
    dialect_name,
    ops_connection,
    ops_scalar,
    ops_session_execute,
    unindexed,
)
from ..models import Flow, Response, ResponseDaily
from ..reason_text_index import has_text_index
from . import text_plan
from .filters import RANGE_ALL, ResponseFilter
from .search_index import (
    contains,
    dictionary_matches,
    escape_like,
    limited_count,
    reason_in,
    row_contains,
)

#: A text search counts its matches up to this many ("1,000+" beyond): each match found
#: through the dictionary costs a random read, so counting to the list's 10,000 would not fit
#: the search's 100 ms at 2M rows.
TEXT_COUNT_CAP = 1_000
#: A count of a text search reads at most about this many rows or dictionary entries; past
#: it, it counts what the first COUNT_BUDGET matching entries name and shows "N+" (at least).
COUNT_BUDGET = 2_000
#: Dictionary entries per step of a streamed count (far below SQL Server's 2,100 parameters).
STREAM_BATCH = 500
#: A count may instead walk at most this many of the newest rows the other filters (flow,
#: status, result code, time range) select, testing each row's own reason. Through a flow's
#: or a status's index each row is a random table read: at 20M realistic responses on
#: PostgreSQL (128 MB of shared buffers) 5,000 rows of one flow took 40-50 ms, against 130 ms
#: for the 2,000 entries. Where those filters keep few rows the walk sees far more of the
#: matches (text_plan.walk_sees_more).
WALK_BUDGET = 5_000
#: The walk's budget when only a time range filters: the time index reads rows in storage
#: order, many to a page (50,000 rows of the last 30 days at 20M: about 25 ms).
TIME_WALK_BUDGET = 50_000


def memo(key, compute):
    """Per-request memory for facts several queries of one page need (matching flows, match
    samples); nothing outlives the request."""
    if not has_request_context():
        return compute()
    found = g.setdefault('_browse_memo', {})
    if key not in found:
        found[key] = compute()
    return found[key]


def flows_matching_text(text: str):
    """A select of the codes of flows whose code or name contains ``text`` (a subquery, so
    any number of flows can match without long IN lists)."""
    pattern = '%' + escape_like(text.lower()) + '%'
    return select(Flow.flow_code).where(
        or_(func.lower(Flow.flow_code).like(pattern, escape='\\'),
            func.lower(Flow.name).like(pattern, escape='\\')))


def any_flow_matches(text: str) -> bool:
    return memo(('any_flow', text), lambda: bool(ops_session_execute(
        flows_matching_text(text).limit(1))))


def rows_of_matching_flows(text: str) -> int:
    """Responses of the flows whose code or name contains ``text`` (daily summary; kept
    until the data changes, since summing a year of days per flow is not free)."""
    return text_plan.cached(('flow_rows', text), lambda: int(ops_scalar(
        select(func.coalesce(func.sum(ResponseDaily.responses), 0))
        .where(ResponseDaily.flow_code.in_(flows_matching_text(text))))))


def matches_for(flt: ResponseFilter) -> text_plan.ReasonMatches:
    """The sample's figures for this filter. The sample's rows are counted with the flow,
    status and result code conditions and scaled by the time range's share (PostgreSQL's
    sample comes in storage order, which is time order). Responses of flows whose name
    matches count as rows a lookup reads besides its entries (and which a walk finds too)."""
    timeless = replace(flt, start=None, end=None, range=RANGE_ALL)
    found = text_plan.reason_matches(flt.text, untimed_conditions(timeless), memo, key=timeless)
    share = text_plan.time_share(flt)
    if share < 1.0:
        found = replace(found, filtered=found.filtered * share)
    if any_flow_matches(flt.text):
        flow_rows = rows_of_matching_flows(flt.text)
        found = replace(found, rows=found.rows + flow_rows, filtered=found.filtered + flow_rows)
    return found


def page_strategy(flt: ResponseFilter, need: int) -> str:
    return memo(('page_strategy', flt, need), lambda: text_plan.page_strategy(
        matches_for(flt), text_plan.filtered_rows(flt, memo), need))


def condition(flt: ResponseFilter, strategy: str):
    """The text filter as a WHERE condition, found the given way."""
    dialect = dialect_name()
    if strategy == text_plan.WALK:
        by_reason = row_contains(dialect, flt.text)
    else:
        found, entries = text_plan.sample_hashes(flt.text, memo)
        by_reason = reason_in(found if entries is None else _all_matches(flt.text))
    if any_flow_matches(flt.text):
        return or_(_plain(flt)(Response.flow_code).in_(flows_matching_text(flt.text)), by_reason)
    return by_reason


def _all_matches(text: str):
    return dictionary_matches(dialect_name(), text,
                              has_text_index(ops_connection())).order_by(None)


def _plain(flt: ResponseFilter):
    """Beside an exact id the id indexes drive the query (app/browse/trace.py), so the other
    columns are written so that no index serves them; otherwise they are left as they are."""
    return unindexed if flt.exact_id else (lambda column: column)


def untimed_conditions(flt: ResponseFilter) -> list:
    """The filter's flow, status and result code conditions."""
    plain = _plain(flt)
    where = []
    if flt.flows:
        where.append(plain(Response.flow_code).in_(flt.flows))
    if flt.statuses and len(flt.statuses) < 3:
        where.append(plain(Response.status).in_(flt.statuses))
    if flt.result_code is not None:
        where.append(plain(Response.result_code) == flt.result_code)
    return where


@dataclass(frozen=True)
class TextCount:
    value: int
    at_least: bool


def count(flt: ResponseFilter, other_conditions: list, cap: int) -> TextCount:
    """How many responses match, up to ``cap`` (``at_least``: more than that, or more than
    a count within COUNT_BUDGET could see)."""
    found = matches_for(flt)
    filtered = text_plan.filtered_rows(flt, memo)
    walk, lookup = text_plan.count_costs(found, filtered, cap + 1)
    if any_flow_matches(flt.text) or found.exact or walk < lookup and walk <= COUNT_BUDGET:
        # One statement: its lookup reads every matching entry before counting any row.
        walk, lookup = text_plan.count_costs(found, filtered, cap + 1, streamed=False)
        strategy = text_plan.WALK if walk < lookup else text_plan.LOOKUP
        # A walk reads the rows newest first, through the other filters' time-ordered index:
        # unordered, PostgreSQL scans the table from its oldest rows, which for a recent time
        # range means every older row first (800 ms at 20M for q=NullReference&range=30d).
        counted = int(ops_scalar(limited_count(
            [*other_conditions, condition(flt, strategy)], cap,
            newest_first=strategy == text_plan.WALK)))
        return TextCount(min(counted, cap), counted > cap)
    budget = walk_budget(flt)
    if text_plan.walk_sees_more(found, filtered, cap + 1, COUNT_BUDGET, budget):
        counted, complete = _bounded_walk_count(flt.text, other_conditions, cap, budget)
    else:
        counted, complete = _streamed_count(flt.text, other_conditions, cap, found)
    return TextCount(min(counted, cap), counted > cap or not complete)


def walk_budget(flt: ResponseFilter) -> int:
    """How many rows a count's walk may read: more when only the time index is read."""
    return WALK_BUDGET if untimed_conditions(flt) else TIME_WALK_BUDGET


def _bounded_walk_count(text: str, other_conditions: list, cap: int,
                        budget: int) -> tuple[int, bool]:
    """Matches among the newest ``budget`` rows the other filters select, up to ``cap + 1``;
    returns the count and whether those rows were all the filters select. Newest first, as the
    page lists them, so the engine reads them through the filters' time-ordered index: without
    an order PostgreSQL may scan the table from its oldest rows for a recent time range (7.8 s
    at 20M). The text is tested outside the limited rows, so no engine can turn the walk into a
    search of the whole table."""
    counted = int(ops_scalar(bounded_walk(dialect_name(), text, other_conditions, cap, budget)))
    if counted > cap:
        return counted, True
    return counted, int(ops_scalar(limited_count(other_conditions, budget))) <= budget


def bounded_walk(dialect: str, text: str, where: list, cap: int, budget: int):
    """The bounded walk's statement: matches among the newest ``budget`` rows meeting
    ``where``, counted up to ``cap + 1``."""
    walked = (select(Response.error_reason).where(*where)
              .order_by(Response.responded_at.desc(), Response.response_id.desc())
              .limit(budget).subquery())
    return limited_count([contains(dialect, walked.c.error_reason, text)], cap, source=walked)


def _streamed_count(text: str, other_conditions: list, cap: int,
                    found: text_plan.ReasonMatches) -> tuple[int, bool]:
    """Responses of the first COUNT_BUDGET matching dictionary entries, entry by entry through
    the reason index, up to ``cap + 1``; returns the count and whether those entries were all
    the matching ones."""
    dialect = dialect_name()
    if dialect == 'sqlite':
        return _joined_count(text, other_conditions, cap)
    if dialect == 'postgresql':
        through_index = found.exact or text_plan.index_pays_for_stream(
            text, found.entries, COUNT_BUDGET)
        return _entries_joined_count(text, other_conditions, cap, through_index)
    return _batched_count(text, other_conditions, cap)


def _rows_named(entries, other_conditions: list, cap: int):
    """The first ``cap + 1`` responses meeting ``other_conditions`` that name one of
    ``entries`` (a subquery or CTE of hashes), read entry by entry through the reason index."""
    joined = Response.__table__.join(entries, Response.reason_hash == entries.c.reason_hash)
    return (select(literal(1)).select_from(joined)
            .where(Response.reason_hash.is_not(None), *other_conditions)
            .limit(cap + 1).subquery())


def _joined_count(text: str, other_conditions: list, cap: int) -> tuple[int, bool]:
    """SQLite: one statement joining the entries (in hash order, from the text index) to the
    reason index, which stops at ``cap + 1``."""
    matched = dictionary_matches(dialect_name(), text, has_text_index(ops_connection()))
    entries = matched.limit(COUNT_BUDGET).subquery()
    counted = int(ops_scalar(select(func.count()).select_from(
        _rows_named(entries, other_conditions, cap))))
    if counted > cap:
        return counted, False
    seen = int(ops_scalar(select(func.count()).select_from(
        matched.limit(COUNT_BUDGET + 1).subquery())))
    return counted, seen <= COUNT_BUDGET


def _entries_joined_count(text: str, other_conditions: list, cap: int,
                          through_index: bool) -> tuple[int, bool]:
    """PostgreSQL: one statement. The first COUNT_BUDGET matching entries (a CTE the join
    reads as it goes) are joined to the reason index, entry by entry, until ``cap + 1`` rows
    are found; only a count that stops short of that counts the entries too, to tell whether
    they were all. The entries come through the trigram index or, for all but the rarer words,
    in storage order, where the read stops at the entry that completes the count
    (text_plan.index_pays_for_stream). At 20M realistic responses this took about 30 ms for
    1,000 matches of a common word, against 80 ms for the same entries read 500 at a time
    through a cursor and counted batch by batch."""
    entries = _all_matches(text).limit(COUNT_BUDGET).cte('matched_entries')
    counted = (select(func.count().label('found'))
               .select_from(_rows_named(entries, other_conditions, cap)).subquery())
    seen = select(func.count()).select_from(entries).scalar_subquery()
    statement = select(counted.c.found, case((counted.c.found > cap, None), else_=seen))
    # The planner takes ILIKE for cheap: it would read the dictionary in storage order for
    # every word, or join by hashing every row the other filters keep. Switched off for this
    # statement: the way not chosen, and every join but the nested loop over the index.
    settings = ['enable_seqscan' if through_index else 'enable_bitmapscan',
                'enable_hashjoin', 'enable_mergejoin']
    # If the statement fails, the transaction it aborts takes the settings with it.
    connection = ops_connection()
    for setting in settings:
        connection.exec_driver_sql(f'SET LOCAL {setting} = off')
    found, entries_seen = connection.execute(statement).one()
    for setting in settings:
        connection.exec_driver_sql(f'SET LOCAL {setting} TO DEFAULT')
    if found > cap:
        return found, False
    return found, entries_seen < COUNT_BUDGET


def _batched_count(text: str, other_conditions: list, cap: int) -> tuple[int, bool]:
    """SQL Server: at most the budget of entries read first (one open result per connection),
    then each batch's rows counted through the reason index, from the index alone when the
    other filters are flows and statuses (it carries them, migration 0015_reason_filters)."""
    hashes = [row[0] for row in ops_session_execute(_all_matches(text).limit(COUNT_BUDGET + 1))]
    counted = seen = 0
    for start in range(0, len(hashes), STREAM_BATCH):
        batch = hashes[start:start + STREAM_BATCH]
        seen += len(batch)
        counted += int(ops_scalar(limited_count(
            [reason_in(batch), *other_conditions], cap - counted)))
        if counted > cap or seen >= COUNT_BUDGET:
            return counted, False
    return counted, True
