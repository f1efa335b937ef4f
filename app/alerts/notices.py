"""Queueing incident notices in the outbox (``alert_notices``), in the same transaction as the
incident change they announce. Delivery is the jobs tick's (``delivery``), never a request's or
a load's.

No storms: an incident gets its "opened" notice, then at most one reminder per
ALERT_REMIND_MINUTES while nobody has acknowledged it, and a "resolved" notice when it ends.
Recipients are the rule's addresses and webhooks and the people following the flow, its team or
a saved view showing it (``audience.Audience``, read once per evaluation).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from ..extensions import db
from ..models.alert_models import OPEN, Incident
from ..models.notice_models import EVENT_REMINDER, EVENT_RESOLVED, PENDING, Notice
from .audience import Audience

UNFOLLOW_SALT = 'flowdesk-unfollow'


def notice_row(incident_id: int, event: str, address: str, subscription_id: int | None,
               now: datetime) -> dict:
    """One pending notice, due now, as the outbox row's values."""
    return dict(incident_id=incident_id, event=event, recipient=address,
                subscription_id=subscription_id, created_at=now, status=PENDING, attempts=0,
                next_attempt_at=now)


def queue(incident: Incident, event: str, now: datetime, audience: Audience | None = None) -> int:
    recipients = (audience or Audience()).recipients_of(incident)
    for address, subscription_id in recipients:
        db.session.add(Notice(**notice_row(incident.id, event, address, subscription_id, now)))
    if event != EVENT_RESOLVED:
        incident.notified_at = now
    return len(recipients)


def queue_resolved(incident: Incident, now: datetime, audience: Audience | None = None) -> None:
    """Only people who were told it opened hear that it ended."""
    if incident.notified_at is not None:
        queue(incident, EVENT_RESOLVED, now, audience)


def queue_reminders(now: datetime, audience: Audience | None = None) -> int:
    """One reminder per open, unacknowledged incident last announced ALERT_REMIND_MINUTES ago."""
    due = now - timedelta(minutes=current_app.config['ALERT_REMIND_MINUTES'])
    audience = audience or Audience()
    count = 0
    for incident in db.session.scalars(select(Incident).where(
            Incident.status == OPEN, Incident.notified_at <= due)).all():
        queue(incident, EVENT_REMINDER, now, audience)
        count += 1
    db.session.commit()
    return count


def unfollow_token(subscription_id: int) -> str:
    return URLSafeSerializer(current_app.config['SECRET_KEY'], salt=UNFOLLOW_SALT).dumps(
        subscription_id)


def subscription_of_token(token: str) -> int | None:
    try:
        value = URLSafeSerializer(current_app.config['SECRET_KEY'], salt=UNFOLLOW_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
