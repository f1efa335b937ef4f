"""Opening, updating and resolving incidents, and what people do with them (acknowledge, note,
resolve by hand). Every change adds a line to the incident's timeline in the same transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..extensions import db
from ..models.alert_models import (
    ACKNOWLEDGED,
    KIND_RULE,
    OPEN,
    RESOLVED,
    Incident,
    IncidentEvent,
)
from .notices import queue_opened, queue_resolved

#: The actor of what evaluation does by itself.
EVALUATOR = 'flowdesk'


def add_event(incident: Incident, at: datetime, actor: str, kind: str, text: str | None) -> None:
    db.session.add(IncidentEvent(incident_id=incident.id, at=at, actor=actor, kind=kind,
                                 text=None if text is None else text[:4000]))


def open_incidents(**where) -> dict[str, Incident]:
    query = select(Incident).where(Incident.open_key.is_not(None))
    for column, value in where.items():
        query = query.where(getattr(Incident, column) == value)
    return {incident.open_key: incident for incident in db.session.scalars(query)}


def open_incident(open_key: str, now: datetime, severity: str, title: str, detail: str,
                  kind: str = KIND_RULE, rule=None, flow_code: str | None = None) -> Incident:
    incident = Incident(open_key=open_key, kind=kind, rule_id=rule.id if rule else None,
                        rule_name=rule.name if rule else None, flow_code=flow_code,
                        severity=severity, title=title[:400], detail=detail[:4000], status=OPEN,
                        opened_at=now, seen_at=now)
    db.session.add(incident)
    db.session.flush()
    add_event(incident, now, EVALUATOR, 'opened', detail)
    queue_opened(incident, now)
    return incident


def still_true(incident: Incident, now: datetime, title: str, detail: str) -> None:
    """The condition holds on: the same incident, with the latest figures."""
    incident.seen_at = now
    incident.title = title[:400]
    incident.detail = detail[:4000]


def resolve(incident: Incident, now: datetime, actor: str, text: str) -> None:
    incident.status = RESOLVED
    incident.open_key = None
    incident.resolved_at = now
    incident.resolved_by = actor
    add_event(incident, now, actor, 'resolved', text)
    queue_resolved(incident, now)


def acknowledge(incident: Incident, now: datetime, actor: str) -> bool:
    """Who is on it. False when it was already acknowledged or is resolved."""
    if incident.status != OPEN:
        return False
    incident.status = ACKNOWLEDGED
    incident.acknowledged_at = now
    incident.acknowledged_by = actor
    add_event(incident, now, actor, 'acknowledged', None)
    return True


def timeline(incident_id: int) -> list[IncidentEvent]:
    return list(db.session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.at, IncidentEvent.id)))
