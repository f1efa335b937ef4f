"""JSON shapes of the API's objects. Times are ISO 8601 in UTC with a ``Z``."""
from __future__ import annotations

from datetime import datetime


def utc_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + 'Z'


def response_item(row) -> dict:
    return {
        'response_id': row.response_id,
        'flow_code': row.flow_code,
        'responded_at': utc_text(row.responded_at),
        'status': row.status,
        'result_code': row.result_code,
        'duration_ms': row.duration_ms,
        'error_reason': row.error_reason,
        'payload_bytes': row.payload_bytes,
    }


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
