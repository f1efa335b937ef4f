"""Queueing incident notices in the outbox (``alert_notices``), in the same transaction as the
incident change they announce. Delivery is the jobs tick's (``delivery``), never a request's or
a load's.

No storms: an incident gets its "opened" notice, then at most one reminder per
ALERT_REMIND_MINUTES while nobody has acknowledged it, and a "resolved" notice when it ends.
Recipients are the rule's addresses and webhooks and the people following the flow or its team.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select

from ..database import engine_for
from ..extensions import db
from ..models import Flow
from ..models.alert_models import KIND_STALE, OPEN, AlertRule, Incident
from ..models.notice_models import (
    EVENT_OPENED,
    EVENT_REMINDER,
    EVENT_RESOLVED,
    PENDING,
    Notice,
    Profile,
    Subscription,
)
from ..models.view_models import SavedView
from .recipients import parse_recipients
from .view_follows import view_covers, visible_to

UNFOLLOW_SALT = 'flowdesk-unfollow'


def flow_team(flow_code: str | None) -> str | None:
    if flow_code is None:
        return None
    with engine_for('ops').connect() as connection:
        return connection.scalar(select(Flow.owner_team).where(Flow.flow_code == flow_code))


def address_of(login: str, profiles: dict[str, str | None]) -> str | None:
    """A person's address: the one on their profile, else FLOWDESK_EMAIL_PATTERN."""
    if profiles.get(login):
        return profiles[login]
    pattern = current_app.config.get('FLOWDESK_EMAIL_PATTERN')
    if not pattern:
        return None
    return pattern.replace('{user}', login.split('\\')[-1].lower())


def followers(incident: Incident) -> list[tuple[str, int]]:
    """(address, subscription id) of the people following the incident's flow or team."""
    if incident.flow_code is None:
        return []
    wanted = [(Subscription.kind == 'flow') & (Subscription.value == incident.flow_code)]
    team = flow_team(incident.flow_code)
    if team:
        wanted.append((Subscription.kind == 'team') & (Subscription.value == team))
    subscriptions = list(db.session.scalars(select(Subscription).where(or_(*wanted))))
    subscriptions += following_views(incident.flow_code)
    logins = {subscription.login for subscription in subscriptions}
    profiles = dict(db.session.execute(select(Profile.login, Profile.email)
                                       .where(Profile.login.in_(logins))).all()) if logins else {}
    found = []
    for subscription in subscriptions:
        address = address_of(subscription.login, profiles)
        if address:
            found.append((address, subscription.id))
    return found


def following_views(flow_code: str) -> list[Subscription]:
    """Subscriptions to saved views that show this flow (and that their follower may see)."""
    subscriptions = db.session.scalars(select(Subscription).where(Subscription.kind == 'view')).all()
    view_ids = {int(s.value) for s in subscriptions if s.value.isascii() and s.value.isdigit()}
    views = {str(view.id): view for view in db.session.scalars(
        select(SavedView).where(SavedView.id.in_(view_ids)))} if subscriptions else {}
    return [subscription for subscription in subscriptions
            if subscription.value in views and visible_to(views[subscription.value], subscription.login)
            and view_covers(views[subscription.value], flow_code)]


def rule_recipients(incident: Incident) -> list[str]:
    if incident.kind == KIND_STALE:
        rules = db.session.scalars(select(AlertRule).where(
            AlertRule.active.is_(True), AlertRule.condition == 'silence')).all()
    else:
        rules = [db.session.get(AlertRule, incident.rule_id)] if incident.rule_id else []
    found = []
    for rule in rules:
        found.extend(parse_recipients(rule.recipients)[0] if rule else [])
    return found


def recipients_of(incident: Incident) -> list[tuple[str, int | None]]:
    """Everyone a notice about this incident goes to, each address once."""
    seen, found = set(), []
    for address, subscription_id in ([(r, None) for r in rule_recipients(incident)]
                                     + followers(incident)):
        if address.casefold() not in seen:
            seen.add(address.casefold())
            found.append((address, subscription_id))
    return found


def queue(incident: Incident, event: str, now: datetime) -> int:
    recipients = recipients_of(incident)
    for address, subscription_id in recipients:
        db.session.add(Notice(incident_id=incident.id, event=event, recipient=address,
                              subscription_id=subscription_id, created_at=now, status=PENDING,
                              attempts=0, next_attempt_at=now))
    if event != EVENT_RESOLVED:
        incident.notified_at = now
    return len(recipients)


def queue_opened(incident: Incident, now: datetime) -> None:
    queue(incident, EVENT_OPENED, now)


def queue_resolved(incident: Incident, now: datetime) -> None:
    """Only people who were told it opened hear that it ended."""
    if incident.notified_at is not None:
        queue(incident, EVENT_RESOLVED, now)


def queue_reminders(now: datetime) -> int:
    """One reminder per open, unacknowledged incident last announced ALERT_REMIND_MINUTES ago."""
    due = now - timedelta(minutes=current_app.config['ALERT_REMIND_MINUTES'])
    count = 0
    for incident in db.session.scalars(select(Incident).where(
            Incident.status == OPEN, Incident.notified_at <= due)):
        queue(incident, EVENT_REMINDER, now)
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
