"""The flow list and one flow's figures. Flows are a small table (tens to thousands of rows);
per-flow facts come from the daily summary and from one index seek per flow on the page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from ..database import ops_scalar, ops_session_execute
from ..models import Flow, Response
from .daily import error_rates_since
from .filters import FlowFilter
from .search_index import escape_like

FLOWS_PER_PAGE = 100
RATE_DAYS = 7


@dataclass
class FlowRow:
    flow: object                  # a Row with the Flow columns
    last_at: datetime | None
    last_status: str | None
    responses_7d: int
    errors_7d: int

    @property
    def error_rate_7d(self) -> float | None:
        return self.errors_7d / self.responses_7d if self.responses_7d else None


FLOW_COLUMNS = (Flow.flow_code, Flow.name, Flow.flow_type, Flow.source_system,
                Flow.target_system, Flow.owner_team, Flow.owner_email, Flow.schedule, Flow.active,
                Flow.description)


def flow_conditions(flt: FlowFilter) -> list:
    where = []
    if flt.text:
        pattern = '%' + escape_like(flt.text.lower()) + '%'
        where.append(or_(func.lower(Flow.flow_code).like(pattern, escape='\\'),
                         func.lower(Flow.name).like(pattern, escape='\\')))
    if flt.flow_type:
        where.append(Flow.flow_type == flt.flow_type)
    if flt.team:
        where.append(Flow.owner_team == flt.team)
    if flt.system:
        where.append(or_(Flow.source_system == flt.system, Flow.target_system == flt.system))
    return where


def count_flows(flt: FlowFilter) -> int:
    return int(ops_scalar(select(func.count()).select_from(Flow).where(*flow_conditions(flt))))


def _last_response_columns():
    """The time and status of each flow's latest response: one seek each in the
    (flow_code, responded_at, response_id) index, inside the flow query itself."""
    def latest(column):
        return (select(column).where(Response.flow_code == Flow.flow_code)
                .order_by(Response.responded_at.desc(), Response.response_id.desc())
                .limit(1).scalar_subquery())
    return (latest(Response.responded_at).label('last_at'),
            latest(Response.status).label('last_status'))


def list_flows(flt: FlowFilter, today: date, offset: int = 0,
               limit: int = FLOWS_PER_PAGE, after: str | None = None) -> list[FlowRow]:
    """Flows ordered by code with their last response and 7-day error rate. ``offset`` pages
    the HTML list; ``after`` (a flow code) pages the API."""
    statement = select(*FLOW_COLUMNS, *_last_response_columns()).where(*flow_conditions(flt))
    if after:
        statement = statement.where(Flow.flow_code > after)
    statement = statement.order_by(Flow.flow_code).offset(offset).limit(limit)
    rows = ops_session_execute(statement)
    codes = [row.flow_code for row in rows]
    rates = error_rates_since(today - timedelta(days=RATE_DAYS - 1), codes) if codes else {}
    return [FlowRow(row, row.last_at, row.last_status, *rates.get(row.flow_code, (0, 0)))
            for row in rows]


def flow_summary(flow_code: str, today: date) -> FlowRow | None:
    rows = ops_session_execute(select(*FLOW_COLUMNS, *_last_response_columns())
                               .where(Flow.flow_code == flow_code))
    if not rows:
        return None
    flow = rows[0]
    total, errors = error_rates_since(today - timedelta(days=RATE_DAYS - 1),
                                      [flow_code]).get(flow_code, (0, 0))
    return FlowRow(flow, flow.last_at, flow.last_status, total, errors)


def filter_choices() -> dict[str, list[str]]:
    """Values for the flow list's drop-downs: teams and systems that occur in flows."""
    teams = [row[0] for row in ops_session_execute(
        select(Flow.owner_team).where(Flow.owner_team.is_not(None)).distinct()
        .order_by(Flow.owner_team))]
    sources = {row[0] for row in ops_session_execute(select(Flow.source_system).distinct())}
    targets = {row[0] for row in ops_session_execute(select(Flow.target_system).distinct())}
    return {'teams': teams, 'systems': sorted(sources | targets, key=str.lower)}
