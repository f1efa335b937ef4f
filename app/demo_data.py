"""Believable, deterministic demo data: about 40 flows across several systems and teams, and
responses over the last 60 days with realistic error reasons, including a few flows that are
failing right now. ``flask seed-demo`` uses it; the benchmarks scale it to millions of rows.

Deterministic: the same ``seed``, ``responses`` and ``until`` give the same rows. ``until``
defaults to the seeding moment, so "failing now" is now and no response lies in the future.
"""
from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import utc_now

SYSTEMS = ['SAP', 'Salesforce', 'Workday', 'ServiceNow', 'DataLake', 'WMS', 'TMS', 'Billing',
           'CRM', 'HRIS', 'Webshop', 'PaymentHub', 'MES', 'PLM', 'Treasury']
TEAMS = {
    'Finance Integration': 'finance-int@corp.example',
    'Supply Chain IT': 'scm-it@corp.example',
    'HR Systems': 'hr-systems@corp.example',
    'Customer Platforms': 'cx-platforms@corp.example',
    'Data Engineering': 'data-eng@corp.example',
    'Manufacturing IT': 'mfg-it@corp.example',
}
SUBJECTS = ['Orders', 'Invoices', 'Customers', 'Employees', 'Shipments', 'Stock levels',
            'Payments', 'Price lists', 'Cost centres', 'Work orders', 'Bank statements',
            'Product master', 'Timesheets', 'Tickets', 'Leads', 'Returns', 'Supplier master',
            'GL postings', 'Forecasts', 'Quality results']
SCHEDULES = {
    'API': ['real time', 'on demand'],
    'QUEUE': ['real time', 'continuous'],
    'FILE': ['every 15 min', 'hourly', '0 */2 * * *', 'daily 02:00'],
    'BATCH': ['daily 01:30', 'nightly', '0 3 * * 1-5', 'hourly'],
    'DB': ['every 5 min', 'every 30 min', 'hourly'],
}
ERRORS = {
    'API': [
        (503, 'Service Unavailable: upstream {target} did not answer within 30 s'),
        (500, 'Internal Server Error from {target}: NullReferenceException in OrderMapper'),
        (401, 'Unauthorized: OAuth token for {target} expired, refresh failed'),
        (429, 'Too Many Requests: {target} rate limit of 100 req/min exceeded'),
        (400, "Bad Request: field 'customerId' is required"),
        (504, 'Gateway Timeout calling {target} /api/v2/orders'),
        (409, 'Conflict: record already exists in {target} (duplicate external id)'),
    ],
    'FILE': [
        (2, 'File not found: \\\\fileserver\\interfaces\\{source}\\in\\export_*.csv'),
        (1, 'Parse error at line 1042: unexpected end of record'),
        (13, 'Access denied writing to \\\\fileserver\\interfaces\\{target}\\out'),
        (1, 'Checksum mismatch: trailer count 5000 but 4987 records read'),
        (1, 'Encoding error: invalid byte 0xE9 in UTF-8 input'),
    ],
    'QUEUE': [
        (1, 'Message moved to dead-letter queue after 5 delivery attempts'),
        (1, 'Schema validation failed: missing element <OrderLine/Quantity>'),
        (2, 'Connection to broker lost: AMQP heartbeat timeout'),
        (1, 'Poison message: cannot deserialize payload (unexpected token)'),
    ],
    'BATCH': [
        (1, 'Job exceeded maximum runtime of 2 h and was cancelled'),
        (3, 'Deadlock victim in step LoadStaging (SQL error 1205)'),
        (1, 'Out of memory in step Aggregate'),
        (2, 'Lock on {target} period 2026-10 held by another job'),
    ],
    'DB': [
        (-1, 'Login failed for user svc_{source_lower} (SQL error 18456)'),
        (-2, 'Timeout expired: the query did not complete within 120 s'),
        (1, 'Violation of PRIMARY KEY constraint: cannot insert duplicate key'),
        (1, "String or binary data would be truncated in column 'Description'"),
    ],
}
WARNINGS = {
    'API': [(200, 'Slow response: {ms} ms above the 2,000 ms threshold'),
            (207, 'Partial success: 3 of 250 records rejected by {target}')],
    'FILE': [(0, 'Empty file received from {source}; nothing to process'),
             (0, 'File arrived 47 min after its expected time')],
    'QUEUE': [(0, 'Queue depth above 10,000 messages'),
              (0, 'Message redelivered 2 times before success')],
    'BATCH': [(0, 'Completed with 12 skipped records'),
              (0, 'Run took 3x longer than its 30-day median')],
    'DB': [(0, 'Replica lag of 45 s while reading {source}'),
           (0, '0 rows changed since the last run')],
}
OK_CODES = {'API': 200, 'FILE': 0, 'QUEUE': 0, 'BATCH': 0, 'DB': 0}
TYPE_WEIGHTS = [('API', 14), ('FILE', 10), ('QUEUE', 6), ('BATCH', 6), ('DB', 4)]
#: Median duration (ms) per flow type.
DURATION_MEDIAN = {'API': 180, 'FILE': 2500, 'QUEUE': 40, 'BATCH': 90_000, 'DB': 6000}


@dataclass
class DemoFlow:
    flow_code: str
    name: str
    flow_type: str
    source_system: str
    target_system: str
    owner_team: str
    owner_email: str
    schedule: str
    active: bool
    description: str
    weight: float          # share of all responses
    error_rate: float      # usual share of ERROR
    failing_now: bool      # errors dominate the last hours

    def as_row(self) -> dict:
        return {key: getattr(self, key) for key in (
            'flow_code', 'name', 'flow_type', 'source_system', 'target_system', 'owner_team',
            'owner_email', 'schedule', 'active', 'description')}


def default_until() -> datetime:
    """The seeding moment, naive UTC: demo data never lies in the future."""
    return utc_now()


def make_flows(count: int = 40, seed: int = 7) -> list[DemoFlow]:
    rng = random.Random(seed)
    flows, used = [], set()
    types = [t for t, w in TYPE_WEIGHTS for _ in range(w)]
    teams = list(TEAMS)
    failing = set(rng.sample(range(count), k=max(1, count // 13)))
    for index in range(count):
        flow_type = types[index % len(types)] if index < len(types) else rng.choice(types)
        source, target = rng.sample(SYSTEMS, 2)
        subject = SUBJECTS[index % len(SUBJECTS)]
        code = f'{source[:3].upper()}-{target[:3].upper()}-{subject.split()[0][:4].upper()}'
        while code in used:
            code = f'{code[:18]}-{len(used):02d}'
        used.add(code)
        team = teams[index % len(teams)]
        verb = {'API': 'sync', 'FILE': 'file transfer', 'QUEUE': 'events',
                'BATCH': 'batch', 'DB': 'replication'}[flow_type]
        flows.append(DemoFlow(
            flow_code=code,
            name=f'{subject} {verb} {source} → {target}',
            flow_type=flow_type,
            source_system=source,
            target_system=target,
            owner_team=team,
            owner_email=TEAMS[team],
            schedule=rng.choice(SCHEDULES[flow_type]),
            active=rng.random() > 0.06,
            description=f'{subject} from {source} to {target} ({flow_type.lower()} interface).',
            weight=rng.lognormvariate(0, 0.9),
            error_rate=min(0.25, rng.choice([0.002, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12])),
            failing_now=index in failing,
        ))
    return flows


def iter_responses(flows: list[DemoFlow], responses: int, until: datetime | None = None,
                   days: int = 60, seed: int = 7, first_id: int = 1, warn_rate: float = 0.03,
                   vary: Callable[[str, random.Random], str] | None = None) -> Iterator[tuple]:
    """Yield response rows in time order as tuples:
    (response_id, flow_code, responded_at, status, result_code, duration_ms, error_reason,
    payload_bytes). Memory stays flat whatever ``responses`` is. ``vary(reason, rng)``, when
    given, rewrites each WARN/ERROR reason (app.demo_shapes: ids, paths and times in it)."""
    rng = random.Random(seed * 1_000_003 + responses)
    until = until or default_until()
    start = until - timedelta(days=days)
    span_seconds = days * 86400
    step = span_seconds / max(responses, 1)
    cumulative, total = [], 0.0
    for flow in flows:
        total += flow.weight
        cumulative.append(total)
    failing_window = timedelta(hours=6)
    # Pre-format messages per flow so the hot loop only picks.
    texts = {}
    for flow in flows:
        fmt = {'target': flow.target_system, 'source': flow.source_system,
               'source_lower': flow.source_system.lower(), 'ms': '{ms}'}
        texts[flow.flow_code] = (
            [(code, text.format(**fmt)) for code, text in ERRORS[flow.flow_type]],
            [(code, text.format(**fmt)) for code, text in WARNINGS[flow.flow_type]],
        )
    import bisect
    random_ = rng.random
    for offset in range(responses):
        seconds = (offset + random_()) * step
        at = start + timedelta(seconds=seconds)
        at = at.replace(microsecond=(at.microsecond // 1000) * 1000)
        flow = flows[bisect.bisect_left(cumulative, random_() * total)]
        error_rate = flow.error_rate
        if flow.failing_now and until - at < failing_window:
            error_rate = 0.85
        elif 0.25 < (seconds / span_seconds) % 0.2 < 0.26:
            error_rate *= 4    # an incident every ~12 days
        duration = int(rng.lognormvariate(math.log(DURATION_MEDIAN[flow.flow_type]), 0.7))
        roll = random_()
        errors, warnings = texts[flow.flow_code]
        if roll < error_rate:
            status = 'ERROR'
            result_code, reason = errors[int(random_() * len(errors))]
            if flow.flow_type == 'API' and result_code in (503, 504):
                duration = 30_000 + duration // 10
        elif roll < error_rate + warn_rate:
            status = 'WARN'
            result_code, reason = warnings[int(random_() * len(warnings))]
            reason = reason.replace('{ms}', f'{max(duration, 2001):,}')
        else:
            status = 'OK'
            result_code, reason = OK_CODES[flow.flow_type], None
        if vary is not None and reason is not None:
            reason = vary(reason, rng)
        payload = int(rng.lognormvariate(9, 1.5)) if flow.flow_type != 'DB' else None
        yield (first_id + offset, flow.flow_code, at, status, result_code, duration, reason, payload)


RESPONSE_COLUMNS = ('response_id', 'flow_code', 'responded_at', 'status', 'result_code',
                    'duration_ms', 'error_reason', 'payload_bytes')
