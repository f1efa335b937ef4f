"""Draining the notice outbox: the ``alert-delivery`` job, once per tick.

1. Claim the due notices with one atomic UPDATE (``status`` pending → sending, this drain's
   ``claim``): two ticks at once, on two servers or processes, never claim the same notice,
   so nothing is sent twice. (The job's lock already keeps two drains apart; the claim holds
   even without it.)
2. Bundle the claimed notices into one digest per recipient and send each.
3. Record the outcome per notice: sent, or tried again on a later tick (after 1, 2, 4 …
   minutes) until ALERT_MAX_ATTEMPTS, then failed with the error. Nothing leaves the outbox:
   it is also the delivery log admins read.

A notice left "sending" by a process that died is released after CLAIM_EXPIRY.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..models.alert_models import Incident
from ..models.notice_models import FAILED, PENDING, SENDING, SENT, Notice
from .messages import Digest
from .transport import DeliveryError, deliver

CLAIM_EXPIRY = timedelta(minutes=15)
#: Notices claimed per drain: the rest wait for the next tick.
CLAIM_LIMIT = 2000


@dataclass
class DrainResult:
    messages: int = 0
    notices: int = 0
    retrying: int = 0
    failed: int = 0

    def summary(self) -> str:
        return (f'{self.messages} message{"" if self.messages == 1 else "s"} sent '
                f'({self.notices} notices), {self.retrying} to retry, {self.failed} failed')


def release_expired_claims(now: datetime) -> None:
    db.session.execute(update(Notice).where(
        Notice.status == SENDING, Notice.claimed_at < now - CLAIM_EXPIRY).values(
        status=PENDING, claim=None))
    db.session.commit()


def claim_due(now: datetime) -> list[Notice]:
    ids = db.session.scalars(select(Notice.id).where(
        Notice.status == PENDING, Notice.next_attempt_at <= now)
        .order_by(Notice.id).limit(CLAIM_LIMIT)).all()
    if not ids:
        return []
    claim = uuid.uuid4().hex
    db.session.execute(update(Notice).where(Notice.id.in_(ids), Notice.status == PENDING)
                       .values(status=SENDING, claim=claim, claimed_at=now))
    db.session.commit()
    return list(db.session.scalars(select(Notice).where(Notice.claim == claim,
                                                        Notice.status == SENDING)
                                   .order_by(Notice.id)))


def record_failure(notices: list[Notice], now: datetime, error: str, result: DrainResult) -> None:
    limit = current_app.config['ALERT_MAX_ATTEMPTS']
    for notice in notices:
        notice.attempts += 1
        notice.last_error = error[:4000]
        notice.claim = None
        if notice.attempts >= limit:
            notice.status = FAILED
            result.failed += 1
        else:
            notice.status = PENDING
            notice.next_attempt_at = now + timedelta(minutes=2 ** (notice.attempts - 1))
            result.retrying += 1


def drain(now: datetime) -> DrainResult:
    result = DrainResult()
    release_expired_claims(now)
    notices = claim_due(now)
    incidents = {incident.id: incident for incident in db.session.scalars(
        select(Incident).where(Incident.id.in_({n.incident_id for n in notices})))} \
        if notices else {}
    by_recipient: dict[str, list[Notice]] = defaultdict(list)
    for notice in notices:
        by_recipient[notice.recipient].append(notice)
    for recipient, batch in by_recipient.items():
        digest = Digest(recipient, [(n, incidents[n.incident_id]) for n in batch])
        try:
            deliver(digest)
        except DeliveryError as error:
            current_app.logger.warning('Alert delivery to %s failed: %s', recipient, error)
            record_failure(batch, now, str(error), result)
        else:
            for notice in batch:
                notice.status, notice.sent_at, notice.claim = SENT, now, None
                notice.attempts += 1
            result.messages += 1
            result.notices += len(batch)
        db.session.commit()
    return result
