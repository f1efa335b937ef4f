"""Choosing, per query, how a text search finds its rows: look the text up in the dictionary's
text index and read the matches through the reason index (*lookup*), or read rows in page order
and keep those that contain the text (*walk*).

The choice compares what each way reads, from figures that cost a few milliseconds:

- a sample: the first SAMPLE + 1 matching dictionary entries. SQLite's text index gives them
  in hash order, which is random, so the hash range the sample spans estimates ``E``, how many
  entries match; PostgreSQL's planner estimates ``E`` from the trigram index's statistics.
  When the sample is all there is, the exact hashes are known.
- the sample's rows, counted through the reason index, in all and with the flow, status and
  result-code filters; scaled by ``E / SAMPLE`` they estimate ``R`` (matching rows) and
  ``R_f`` (those the filters keep). PostgreSQL's sample is not random, so there ``R`` is
  ``E`` times the average rows per entry and the sample gives only ``R_f / R``. A time range
  scales ``R_f`` by its share of the data.
- ``F``, how many responses the other filters select (the daily summary, cached per data
  version).

For ``need`` rows, a walk reads about ``min(F, need × F / R_f)`` rows; a page by lookup reads
``R`` rows plus ``E`` entries (none when the hashes are exact), a count by lookup only the
share it needs. The cheaper one wins; both give the same rows (search_index.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import g, has_request_context
from sqlalchemy import func, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from ..database import (
    dialect_name,
    ops_connection,
    ops_scalar,
    ops_session_execute,
    qualified_name,
)
from ..models import ErrorReason, ResponseDaily, ResponseDayTotal
from ..reason_text_index import has_text_index
from .cache import FiguresCache, data_version
from .filters import ResponseFilter
from .search_index import dictionary_matches, limited_count, reason_in

#: Dictionary entries sampled per search (also the most hashes a lookup names one by one).
SAMPLE = 64
LOOKUP = 'lookup'
WALK = 'walk'
#: Counting the sample's rows stops here (a sample naming more is common enough).
ROW_LIMIT = 100_000
#: PostgreSQL: CPU (µs) of the trigram index's bitmap per matching entry and trigram of the
#: search text (it finds every matching entry before it returns the first), and of a read in
#: storage order per entry passed (each tested with ILIKE; it stops when enough have matched).
#: Measured on a dictionary of 3.2M entries: 'timeout' (5 trigrams, 251,000 entries) 78 ms,
#: 'deadlock victim' (13 trigrams, 140,000 entries) 150 ms; storage order 45,000 entries in 59 ms.
BITMAP_TRIGRAM_US = 0.07
STORAGE_ENTRY_US = 1.3
_HASH_SPACE = 2 ** 64
_figures = FiguresCache(ttl_seconds=300.0)


@dataclass(frozen=True)
class ReasonMatches:
    """What the sample of matching dictionary entries says: the exact hashes when the sample
    is all there is (``hashes``), how many entries match (``entries``), and the responses
    they name, in all (``rows``) and among those the other filters select (``filtered``)."""
    hashes: tuple[int, ...] | None
    entries: float
    rows: float
    filtered: float

    @property
    def exact(self) -> bool:
        return self.hashes is not None


def sample_hashes(text_value: str, memo) -> tuple[list[int], float | None]:
    """The first SAMPLE + 1 matching hashes and, when there are more, the estimated number of
    matching entries (None: the list is complete)."""
    def compute():
        dialect = dialect_name()
        indexed = dialect == 'sqlite' and has_text_index(ops_connection())
        statement = dictionary_matches(dialect, text_value, indexed)
        found = [row[0] for row in ops_session_execute(statement.limit(SAMPLE + 1))]
        if len(found) <= SAMPLE:
            return found, None
        return found[:SAMPLE], _entries_estimate(dialect, indexed, statement, found[:SAMPLE])
    return memo(('sample', text_value), compute)


def reason_matches(text_value: str, other_conditions: list, memo,
                   key: object = None) -> ReasonMatches:
    """``other_conditions``: the filter's other WHERE conditions (``key`` names them)."""
    def compute():
        found, entries = sample_hashes(text_value, memo)
        if not found:
            return ReasonMatches((), 0, 0, 0)
        rows = _count([reason_in(found)])
        filtered = _count([reason_in(found), *other_conditions]) if other_conditions else rows
        if entries is None:
            return ReasonMatches(tuple(found), len(found), rows, filtered)
        per_entry = _rows_per_entry() if dialect_name() == 'postgresql' else None
        if per_entry is None or not rows:
            scale = entries / len(found)
            return ReasonMatches(None, entries, rows * scale, filtered * scale)
        matching = entries * per_entry
        return ReasonMatches(None, entries, matching, matching * filtered / rows)
    return memo(('reason_matches', text_value, key), compute)


def _rows_per_entry() -> float | None:
    """PostgreSQL: how many responses a dictionary entry names on average (the WARN and ERROR
    responses over the entries), or None before the dictionary has statistics. The sample
    there is the oldest matching entries, not a random one: often the bare messages that repeat
    (at 20M realistic, 64 entries of 'timeout' named 6,200 rows where the average is 1.3), so
    the rows its entries name would put the matches above the table's size and send a count
    walking the rows. The sample still gives the share of those rows the other filters keep."""
    total = dictionary_entries()
    if total <= 0:
        return None
    statuses = rows_per_status()
    return (statuses.get('WARN', 0) + statuses.get('ERROR', 0)) / total


def _count(where) -> int:
    return int(ops_scalar(limited_count(where, ROW_LIMIT)))


def _entries_estimate(dialect: str, indexed: bool, statement, found: list[int]) -> float:
    """How many dictionary entries match, knowing that at least SAMPLE + 1 do."""
    if indexed:
        # The sample is the smallest hashes among the matches, and hashes are uniform.
        share = (found[-1] + _HASH_SPACE // 2 + 1) / _HASH_SPACE
        return max(SAMPLE + 1, SAMPLE / share)
    if dialect == 'postgresql':
        return max(SAMPLE + 1, _planner_rows(statement))
    return SAMPLE + 1    # SQL Server, or SQLite without FTS5: at least this many


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON)`` of a select, run like any statement (schemas translated,
    the search text a bound parameter)."""
    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain, 'postgresql')
def _compile_explain(element, compiler, **kw):
    return 'EXPLAIN (FORMAT JSON) ' + compiler.process(element.statement, **kw)


def _planner_rows(statement) -> float:
    """PostgreSQL's own estimate of a select's rows (for the dictionary match it comes from
    the trigram index's statistics), without running it."""
    plan = ops_scalar(Explain(statement))
    return float(plan[0]['Plan']['Plan Rows'])


def total_rows() -> int:
    """Every response, from the day totals (a few rows a day, whatever the flows)."""
    return int(cached('total', lambda: ops_scalar(
        select(func.coalesce(func.sum(ResponseDayTotal.responses), 0)))))


def rows_per_status() -> dict[str, int]:
    return cached('statuses', lambda: {status: int(rows) for status, rows in ops_session_execute(
        select(ResponseDayTotal.status, func.sum(ResponseDayTotal.responses))
        .group_by(ResponseDayTotal.status))})


def data_span() -> tuple[datetime, datetime] | None:
    """The first and the last day holding responses, as the start of the first day and the
    end of the last (naive UTC), or None when there are none."""
    def compute():
        first, last = ops_session_execute(select(func.min(ResponseDayTotal.day),
                                                 func.max(ResponseDayTotal.day)))[0]
        if not first or not last:
            return None
        return (datetime.combine(first, time.min),
                datetime.combine(last, time.min) + timedelta(days=1))
    return cached('span', compute)


def time_share(flt: ResponseFilter) -> float:
    """About which share of the responses the filter's time range holds (the data spread
    evenly over its span)."""
    span = data_span()
    if span is None or flt.start is None and flt.end is None:
        return 1.0
    start, end = max(flt.start or span[0], span[0]), min(flt.end or span[1], span[1])
    return max(0.0, min(1.0, (end - start) / (span[1] - span[0])))


def cached(name, compute):
    """A figure kept until the ops data changes (or five minutes pass); the data version is
    read once per request."""
    if not has_request_context():
        return _figures.get((name, data_version()), compute)
    return _figures.get((name, _request_data_version()), compute)


def _request_data_version() -> tuple:
    if '_ops_data_version' not in g:
        g._ops_data_version = data_version()
    return g._ops_data_version


def filtered_rows(flt: ResponseFilter, memo) -> float:
    """About how many responses the filter's other conditions select (result codes are not
    counted: an upper estimate)."""
    def compute():
        total = total_rows()
        rows = float(total)
        if flt.flows:
            flows = ops_scalar(select(func.coalesce(func.sum(ResponseDaily.responses), 0))
                               .where(ResponseDaily.flow_code.in_(flt.flows)))
            rows = float(int(flows))
        if flt.statuses and total:
            by_status = rows_per_status()
            rows *= sum(by_status.get(status, 0) for status in flt.statuses) / total
        return rows * time_share(flt)
    return memo(('filtered_rows', flt), compute)


def page_strategy(matches: ReasonMatches, filtered: float, need: int) -> str:
    """LOOKUP or WALK for a page of ``need`` rows in sort order. A lookup reads every match
    (then sorts); a walk reads rows in order until ``need`` of them match."""
    if matches.filtered <= 0 and matches.exact:
        return LOOKUP
    walk = min(filtered, need * filtered / max(matches.filtered, 1.0))
    lookup = matches.rows + (0 if matches.exact else matches.entries)
    return LOOKUP if lookup <= walk else WALK


def count_costs(matches: ReasonMatches, filtered: float, need: int,
                streamed: bool = True) -> tuple[float, float]:
    """(walk, lookup): rows each reads to count up to ``need`` matches. Counting needs no
    order, so a lookup streamed entry by entry stops as soon as a walk would; one statement
    naming the dictionary match (``streamed`` False) reads every matching entry first."""
    share = min(1.0, need / max(matches.filtered, 1.0))
    walk = filtered * share
    entries = 0 if matches.exact else matches.entries
    lookup = matches.rows * share + (entries * share if streamed else entries)
    return walk, lookup


def walk_sees_more(matches: ReasonMatches, filtered: float, need: int, entry_budget: int,
                   row_budget: int) -> bool:
    """Whether a count that may read ``row_budget`` rows of the other filters (testing each
    row's reason) finds more of the matches than one that may read ``entry_budget`` matching
    dictionary entries: the walk sees the share of the filters' rows it reads, the entries
    the share of the entries. The shares are compared, not the matches they would find: the
    sample's estimate of the matches a selective filter keeps is too rough (often none of 64
    entries has a row of the flow). When both would reach ``need`` the entries are read: they
    stop sooner for a common word."""
    walk_share = min(1.0, row_budget / max(filtered, 1.0))
    entry_share = min(1.0, entry_budget / max(matches.entries, 1.0))
    if min(walk_share, entry_share) * matches.filtered >= need:
        return False
    return walk_share > entry_share


def dictionary_entries() -> float:
    """About how many entries the error-reason dictionary holds (PostgreSQL's statistics)."""
    table = qualified_name(ErrorReason.__table__, 'ops')
    return cached('dictionary_entries', lambda: float(ops_scalar(
        text('SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)')
        .bindparams(name=table)) or 0))


def index_pays_for_stream(text_value: str, entries: float, wanted: int) -> bool:
    """PostgreSQL: whether a streamed read of ``wanted`` matching dictionary entries should go
    through the trigram index rather than the dictionary's storage order. The index's bitmap
    costs every matching entry (``entries``, the planner's estimate) for each trigram of the
    text before the first entry comes back, which grows with the dictionary; the storage-order
    read costs the entries it passes until ``wanted`` have matched, about wanted × dictionary
    / entries: the same at any size for a common word."""
    total = dictionary_entries()
    if entries <= 0 or total <= 0:
        return True
    trigrams = max(1, len(text_value) - 2)
    passed = min(wanted, entries) * total / entries
    return entries * trigrams * BITMAP_TRIGRAM_US <= passed * STORAGE_ENTRY_US
