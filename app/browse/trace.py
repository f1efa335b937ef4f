"""Finding responses by the source's ids: the ``id`` filter (a message id or a correlation id,
matched exactly) and the trace of a response (every response sharing its correlation id,
across flows, in time order).

Both columns have a partial (SQL Server: filtered) index ``(id, responded_at, response_id)
WHERE id IS NOT NULL``. The ``id`` filter is ``(message_id = :id) OR (correlation_id = :id)``,
which the planners turn into one seek per index, combined: SQLite's "MULTI-INDEX OR",
PostgreSQL's BitmapOr (SQL Server's optimizer has the same index-union plan; it is compiled in
the tests, not measured). With a time range or a keyset cursor each
seek also narrows by ``responded_at`` (the index's second column). Next to an id, the flow,
status, result-code and text conditions are written so that no index serves them
(responses.conditions), so even a planner without statistics never reads a busy flow's rows
instead. Checked with EXPLAIN at 200,000 (SQLite) and 2,000,000 (PostgreSQL) realistic rows
with every filter and a keyset cursor combined, and in tests/functional/test_message_ids.py.
The explicit ``IS NOT NULL`` lets every planner use the partial indexes (as in
search_index.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.sql import ColumnElement

from ..database import ops_session_execute
from ..models import Response

#: The most responses a trace lists; the page says when there are more.
TRACE_LIMIT = 200


def _exact(column, value: str) -> ColumnElement:
    return and_(column.is_not(None), column == value)


def id_matches(exact_id: str) -> ColumnElement:
    """A condition: the response's message id or correlation id is ``exact_id``."""
    return or_(_exact(Response.message_id, exact_id), _exact(Response.correlation_id, exact_id))


TRACE_COLUMNS = (Response.response_id, Response.flow_code, Response.responded_at,
                 Response.status, Response.result_code, Response.duration_ms,
                 Response.message_id)


@dataclass(frozen=True)
class Trace:
    """The responses sharing a correlation id, oldest first; ``capped``: more than ``limit``
    share it and only the first ``limit`` are listed."""
    rows: list
    capped: bool
    limit: int


def trace(correlation_id: str | None) -> Trace:
    """The trace of a correlation id (none without one): one range read of the correlation
    index, at most TRACE_LIMIT rows."""
    limit = TRACE_LIMIT
    if not correlation_id:
        return Trace([], False, limit)
    rows = ops_session_execute(
        select(*TRACE_COLUMNS).where(_exact(Response.correlation_id, correlation_id))
        .order_by(Response.responded_at, Response.response_id).limit(limit + 1))
    return Trace(rows[:limit], len(rows) > limit, limit)
