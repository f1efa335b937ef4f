"""Opening, updating and resolving incidents, and what people do with them (acknowledge, note,
resolve by hand). Every change adds a line to the incident's timeline in the same transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models.alert_models import (
    ACKNOWLEDGED,
    KIND_RULE,
    OPEN,
    RESOLVED,
    Incident,
    IncidentEvent,
)
from ..models.notice_models import EVENT_OPENED, Notice
from .audience import Audience
from .notices import notice_row, queue_resolved

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


def new_incident(open_key: str, now: datetime, severity: str, title: str, detail: str,
                 kind: str = KIND_RULE, rule=None, flow_code: str | None = None) -> dict:
    """The values of an incident to open (``open_all`` inserts them)."""
    return dict(open_key=open_key, kind=kind, rule_id=rule.id if rule else None,
                rule_name=rule.name if rule else None, flow_code=flow_code,
                severity=severity, title=title[:400], detail=detail[:4000], status=OPEN,
                opened_at=now, seen_at=now, notified_at=now)


def open_all(incidents: list[dict], now: datetime, audience: Audience | None = None) -> None:
    """Open incidents (``new_incident`` values) with three multi-row inserts — the incidents,
    their "opened" timeline lines, their notices — and one read of the new ids: the incidents
    opened now, through ``ix_incidents_status_opened``, matched by open key (only one incident
    per key is open, so the key names ours)."""
    if not incidents:
        return
    audience = audience or Audience()
    db.session.execute(insert(Incident.__table__), incidents)
    id_of = dict(db.session.execute(select(Incident.open_key, Incident.id).where(
        Incident.status == OPEN, Incident.opened_at == now, Incident.open_key.is_not(None))).all())
    ids = [id_of[values['open_key']] for values in incidents]
    db.session.execute(insert(IncidentEvent), [
        dict(incident_id=incident_id, at=now, actor=EVALUATOR, kind='opened',
             text=values['detail']) for incident_id, values in zip(ids, incidents, strict=True)])
    notices = [notice_row(incident_id, EVENT_OPENED, address, subscription_id, now)
               for incident_id, values in zip(ids, incidents, strict=True)
               for address, subscription_id in audience.recipients_for(
                   values['kind'], values['rule_id'], values['flow_code'])]
    if notices:   # the table's insert: every row has the same columns, NULLs included
        db.session.execute(insert(Notice.__table__), notices)


def still_true(incident: Incident, title: str, detail: str) -> None:
    """The condition holds on: the same incident, with the latest figures (written only when
    they changed; ``mark_seen`` stamps the time of all such incidents at once)."""
    if incident.title != title[:400]:
        incident.title = title[:400]
    if incident.detail != detail[:4000]:
        incident.detail = detail[:4000]


#: Incident ids per ``mark_seen`` statement (SQL Server takes at most 2,100 parameters).
IDS_PER_STATEMENT = 1000


def mark_seen(incident_ids: list[int], now: datetime) -> None:
    """``seen_at = now`` on these incidents: a statement per thousand, not one per incident."""
    for start in range(0, len(incident_ids), IDS_PER_STATEMENT):
        db.session.execute(update(Incident).where(
            Incident.id.in_(incident_ids[start:start + IDS_PER_STATEMENT]))
            .values(seen_at=now).execution_options(synchronize_session=False))


def resolve(incident: Incident, now: datetime, actor: str, text: str,
            audience: Audience | None = None) -> None:
    incident.status = RESOLVED
    incident.open_key = None
    incident.resolved_at = now
    incident.resolved_by = actor
    add_event(incident, now, actor, 'resolved', text)
    queue_resolved(incident, now, audience)


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
