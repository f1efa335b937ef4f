"""Which flows meet a rule's condition now: read-only queries on the ops database.

Work is bounded by indexes, not by table size: the error rate reads the last W minutes through
``ix_responses_responded_at``; consecutive errors and silence read each flow's last N responses
through ``ix_responses_flow_time`` (one index seek per flow, 25 seeks per statement).
Each of these is read once per evaluation, however many rules use it (``Readings``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from croniter import croniter
from sqlalchemy import bindparam, case, func, select, union_all
from sqlalchemy.engine import Connection

from ..models import Flow, LoadBatch, Response
from ..models.alert_models import AlertRule


@dataclass(frozen=True)
class FlowInfo:
    flow_code: str
    flow_type: str
    owner_team: str | None
    source_system: str
    target_system: str
    schedule: str | None


def active_flows(connection: Connection) -> list[FlowInfo]:
    rows = connection.execute(select(
        Flow.flow_code, Flow.flow_type, Flow.owner_team, Flow.source_system, Flow.target_system,
        Flow.schedule).where(Flow.active.is_(True)).order_by(Flow.flow_code))
    return [FlowInfo(*row) for row in rows]


def scope_codes(rule: AlertRule) -> set[str]:
    return {code.strip() for code in (rule.scope_value or '').split(',') if code.strip()}


def in_scope(rule: AlertRule, flows: list[FlowInfo]) -> list[FlowInfo]:
    value = (rule.scope_value or '').strip().casefold()
    if rule.scope == 'all':
        return list(flows)
    if rule.scope == 'flows':
        codes = scope_codes(rule)
        return [flow for flow in flows if flow.flow_code in codes]
    if rule.scope == 'team':
        return [flow for flow in flows if (flow.owner_team or '').casefold() == value]
    if rule.scope == 'flow_type':
        return [flow for flow in flows if flow.flow_type.casefold() == value]
    return [flow for flow in flows
            if value in (flow.source_system.casefold(), flow.target_system.casefold())]


#: Flows whose latest responses one statement reads (a UNION ALL of one index seek each). Every
#: statement has this many seeks (the last one repeats a flow), so one shape is compiled per
#: process; a wider one reads in fewer round trips but takes longer to compile.
SEEKS_PER_STATEMENT = 25


@lru_cache(maxsize=16)
def latest_statement(seeks: int, depth: int):
    """The UNION ALL of ``seeks`` index seeks (parameters ``code_0`` …), built once per shape
    so that SQLAlchemy compiles it once per process, not once per evaluation."""
    parts = [select(Response.flow_code, Response.status, Response.responded_at,
                    Response.response_id).where(Response.flow_code == bindparam(f'code_{index}'))
             .order_by(Response.responded_at.desc(), Response.response_id.desc())
             .limit(depth).subquery() for index in range(seeks)]
    return union_all(*[select(part) for part in parts]) if seeks > 1 else select(parts[0])


def latest_responses(connection: Connection, flow_codes: list[str],
                     depth: int) -> dict[str, list[tuple[str, datetime]]]:
    """flow code -> its latest ``depth`` (status, time), newest first: one seek per flow on
    ``ix_responses_flow_time``, ``SEEKS_PER_STATEMENT`` flows per statement."""
    found: dict[str, list[tuple]] = {code: [] for code in flow_codes}
    seen = set()
    for start in range(0, len(flow_codes), SEEKS_PER_STATEMENT):
        codes = flow_codes[start:start + SEEKS_PER_STATEMENT]
        codes += codes[-1:] * (SEEKS_PER_STATEMENT - len(codes))
        statement = latest_statement(SEEKS_PER_STATEMENT, depth)
        for row in connection.execute(statement, {f'code_{index}': code
                                                  for index, code in enumerate(codes)}):
            if row[3] not in seen:
                seen.add(row[3])
                found[row[0]].append(tuple(row[1:]))
    return {code: [(status, at) for status, at, _id in
                   sorted(rows, key=lambda row: (row[1], row[2]), reverse=True)]
            for code, rows in found.items()}


class Readings:
    """What the rules of one evaluation read, each read once however many rules need it: the
    counts per flow over a window (one grouped range read per distinct window), and each flow's
    latest statuses (to the deepest consecutive-errors rule) with its latest response time."""

    def __init__(self, connection: Connection, now: datetime, depth: int = 1):
        self.connection = connection
        self.now = now
        self.depth = max(depth, 1)
        self._windows: dict[int, dict[str, tuple[int, int]]] = {}
        self._latest: dict[str, list[tuple[str, datetime]]] = {}

    def window_counts(self, minutes: int) -> dict[str, tuple[int, int]]:
        """flow_code -> (responses, errors) since ``minutes`` ago."""
        if minutes not in self._windows:
            errors = func.sum(case((Response.status == 'ERROR', 1), else_=0))
            rows = self.connection.execute(
                select(Response.flow_code, func.count(), errors)
                .where(Response.responded_at >= self.now - timedelta(minutes=minutes))
                .group_by(Response.flow_code))
            self._windows[minutes] = {code: (total, int(failed or 0))
                                      for code, total, failed in rows}
        return self._windows[minutes]

    def read_latest(self, flows: list[FlowInfo]) -> None:
        """Read the latest responses of the flows not read yet (before asking per flow)."""
        wanted = [flow.flow_code for flow in flows if flow.flow_code not in self._latest]
        if wanted:
            self._latest.update(latest_responses(self.connection, wanted, self.depth))

    def latest_statuses(self, flow_code: str) -> list[str]:
        return [status for status, _at in self._latest[flow_code]]

    def last_response_at(self, flow_code: str) -> datetime | None:
        rows = self._latest[flow_code]
        return rows[0][1] if rows else None


def error_rate_hits(readings: Readings, rule: AlertRule, flows: list[FlowInfo]) -> dict[str, str]:
    counts = readings.window_counts(rule.window_minutes)
    hits = {}
    for flow in flows:
        total, failed = counts.get(flow.flow_code, (0, 0))
        if total and total >= rule.min_responses and \
                failed * 100 >= rule.threshold_percent * total:
            hits[flow.flow_code] = (
                f'{failed} of {total} responses in the last {rule.window_minutes} minutes were '
                f'errors ({failed * 100 // total} %; the rule says {rule.threshold_percent} % '
                f'with at least {rule.min_responses}).')
    return hits


def consecutive_hits(readings: Readings, rule: AlertRule, flows: list[FlowInfo]) -> dict[str, str]:
    count = rule.consecutive_errors
    readings.read_latest(flows)
    hits = {}
    for flow in flows:
        statuses = readings.latest_statuses(flow.flow_code)[:count]
        if len(statuses) == count and all(status == 'ERROR' for status in statuses):
            hits[flow.flow_code] = f'The last {count} responses were all errors.'
    return hits


@lru_cache(maxsize=1024)
def valid_schedule(schedule: str) -> bool:
    return croniter.is_valid(schedule)


@lru_cache(maxsize=4096)
def next_run(schedule: str, last: datetime) -> datetime:
    """The schedule's next run after ``last`` (the same for every silence rule of a tick)."""
    return croniter(schedule, last).get_next(datetime)


def silent_since(flow: FlowInfo, rule: AlertRule, last: datetime | None,
                 now: datetime) -> str | None:
    """Why the flow counts as silent now, or None. With ``use_schedule`` and a valid cron line
    in the flow's ``schedule``, the flow is silent once its next expected run after the last
    response is more than the window (the grace period) ago; otherwise once the last response
    is more than the window ago."""
    grace = timedelta(minutes=rule.window_minutes)
    seen = 'no response ever' if last is None else f'last response at {last:%Y-%m-%d %H:%M} UTC'
    if rule.use_schedule and flow.schedule and valid_schedule(flow.schedule):
        if last is None:
            return f'Silent: {seen}; expected on the schedule "{flow.schedule}".'
        expected = next_run(flow.schedule, last)
        if now > expected + grace:
            return (f'Silent: {seen}; the schedule "{flow.schedule}" expected one by '
                    f'{expected:%Y-%m-%d %H:%M} UTC (grace {rule.window_minutes} minutes).')
        return None
    if last is None or now - last > grace:
        return f'Silent: {seen}, more than {rule.window_minutes} minutes ago.'
    return None


def silence_hits(readings: Readings, rule: AlertRule, flows: list[FlowInfo]) -> dict[str, str]:
    readings.read_latest(flows)
    hits = {}
    for flow in flows:
        reason = silent_since(flow, rule, readings.last_response_at(flow.flow_code), readings.now)
        if reason:
            hits[flow.flow_code] = reason
    return hits


def last_data_at(connection: Connection) -> datetime | None:
    """When responses last arrived: the end of the latest committed load of responses, or
    (data seeded without a load) the latest response time; None when there are no responses."""
    loaded = connection.scalar(select(func.max(LoadBatch.finished_at)).where(
        LoadBatch.dataset == 'responses', LoadBatch.status == 'succeeded',
        LoadBatch.dry_run.is_(False)))
    if loaded is not None:
        return loaded
    return connection.scalar(select(func.max(Response.responded_at)))


def hits_for(readings: Readings, rule: AlertRule, flows: list[FlowInfo]) -> dict[str, str]:
    """flow_code -> why the rule's condition is true for that flow."""
    if rule.condition == 'error_rate':
        return error_rate_hits(readings, rule, flows)
    if rule.condition == 'consecutive':
        return consecutive_hits(readings, rule, flows)
    return silence_hits(readings, rule, flows)
