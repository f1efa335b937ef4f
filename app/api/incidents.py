"""``/api/v1/incidents``: incidents, newest first, paged by id (``before``), and one incident
with its timeline. Read-only, like the rest of the API."""
from __future__ import annotations

from flask import abort, jsonify, request
from sqlalchemy import select

from ..alerts.incidents import timeline
from ..browse.filters import FLOW_CODE_PATTERN
from ..extensions import db
from ..models.alert_models import Incident
from . import bp
from .serialise import utc_text

INCIDENT_STATUSES = ('open', 'resolved', 'all')
INCIDENTS_DEFAULT_SIZE = 100
INCIDENTS_MAX_SIZE = 500
INT32_MAX = 2**31 - 1


def incident_item(incident: Incident) -> dict:
    return {'id': incident.id, 'kind': incident.kind, 'rule': incident.rule_name,
            'flow_code': incident.flow_code, 'severity': incident.severity,
            'title': incident.title, 'detail': incident.detail, 'status': incident.status,
            'opened_at': utc_text(incident.opened_at), 'seen_at': utc_text(incident.seen_at),
            'acknowledged_at': utc_text(incident.acknowledged_at),
            'acknowledged_by': incident.acknowledged_by,
            'resolved_at': utc_text(incident.resolved_at), 'resolved_by': incident.resolved_by}


def whole_number(name: str, low: int, high: int, default: int | None,
                 errors: dict[str, str]) -> int | None:
    raw = request.args.get(name, '').strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and low <= int(raw) <= high):
        errors[name] = f'`{name}` must be a whole number from {low} to {high}.'
        return default
    return int(raw)


def bad_request(errors: dict[str, str]):
    return jsonify({'error': {'status': 400, 'title': 'Bad request',
                              'message': ' '.join(errors.values()), 'fields': errors}}), 400


@bp.route('/incidents')
def incidents():
    errors: dict[str, str] = {}
    status = request.args.get('status', 'open')
    if status not in INCIDENT_STATUSES:
        errors['status'] = f'`status` is one of {", ".join(INCIDENT_STATUSES)}.'
    size = whole_number('size', 1, INCIDENTS_MAX_SIZE, INCIDENTS_DEFAULT_SIZE, errors)
    before = whole_number('before', 1, INT32_MAX, None, errors)
    flow = request.args.get('flow', '').strip().upper()
    if flow and not FLOW_CODE_PATTERN.match(flow):
        errors['flow'] = f'`flow` is a flow code such as ORD-SAP, not {flow[:40]!r}.'
    if errors:
        return bad_request(errors)
    query = select(Incident).order_by(Incident.id.desc()).limit(size + 1)
    if status == 'open':
        query = query.where(Incident.open_key.is_not(None))
    elif status == 'resolved':
        query = query.where(Incident.open_key.is_(None))
    if flow:
        query = query.where(Incident.flow_code == flow)
    if before is not None:
        query = query.where(Incident.id < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > size
    rows = rows[:size]
    return jsonify({'items': [incident_item(row) for row in rows],
                    'next_before': rows[-1].id if more else None})


@bp.route('/incidents/<int32:incident_id>')
def incident(incident_id: int):
    found = db.session.get(Incident, incident_id)
    if found is None:
        abort(404, description=f'There is no incident {incident_id}.')
    return jsonify({**incident_item(found), 'timeline': [
        {'at': utc_text(event.at), 'actor': event.actor, 'kind': event.kind, 'text': event.text}
        for event in timeline(found.id)]})
