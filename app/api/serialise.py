"""JSON shapes of the API's objects. Times are ISO 8601 in UTC with a ``Z``."""
from __future__ import annotations

from datetime import datetime


def utc_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + 'Z'


#: The fields of a response in the API, in order; a trace lists fewer of them.
RESPONSE_FIELDS = ('response_id', 'flow_code', 'responded_at', 'status', 'result_code',
                   'duration_ms', 'error_reason', 'payload_bytes', 'message_id',
                   'correlation_id')
TRACE_FIELDS = ('response_id', 'flow_code', 'responded_at', 'status', 'message_id')


def _fields(row, names) -> dict:
    return {name: utc_text(row.responded_at) if name == 'responded_at' else getattr(row, name)
            for name in names}


def response_item(row) -> dict:
    return _fields(row, RESPONSE_FIELDS)


def trace_item(row) -> dict:
    """One response of a trace (the responses sharing a correlation id)."""
    return _fields(row, TRACE_FIELDS)


def flow_item(summary) -> dict:
    flow = summary.flow
    return {
        'flow_code': flow.flow_code,
        'name': flow.name,
        'flow_type': flow.flow_type,
        'source_system': flow.source_system,
        'target_system': flow.target_system,
        'owner_team': flow.owner_team,
        'owner_email': flow.owner_email,
        'schedule': flow.schedule,
        'active': bool(flow.active),
        'description': flow.description,
        'last_response_at': utc_text(summary.last_at),
        'last_status': summary.last_status,
        'responses_7d': summary.responses_7d,
        'errors_7d': summary.errors_7d,
        'error_rate_7d': summary.error_rate_7d,
    }
