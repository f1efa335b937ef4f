"""How incident notices reach people (app database): the outbox the jobs tick drains, which is
also the delivery log admins read; who follows which flow, team or saved view; and the e-mail
address people set on their profile."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Unicode, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from config import APP_SCHEMA_KEY

from ..extensions import db
from .types import UtcDateTime, table_args

PENDING, SENDING, SENT, FAILED = 'pending', 'sending', 'sent', 'failed'
EVENT_OPENED, EVENT_REMINDER, EVENT_RESOLVED = 'opened', 'reminder', 'resolved'
FOLLOW_KINDS = ('flow', 'team', 'view')


class Notice(db.Model):
    """One notice about one incident for one recipient (an e-mail address, a webhook URL or
    ``teams:`` and a Teams Workflows URL). Queued with the incident change, in its
    transaction; sent by the jobs tick, bundled per recipient."""
    __tablename__ = 'alert_notices'
    __table_args__ = table_args(APP_SCHEMA_KEY,
                                Index('ix_alert_notices_status_due', 'status', 'next_attempt_at'),
                                Index('ix_alert_notices_created', 'created_at'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(f'{APP_SCHEMA_KEY}.incidents.id', ondelete='CASCADE'), nullable=False)
    event: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    recipient: Mapped[str] = mapped_column(Unicode(1000), nullable=False)
    #: For followers: their subscription, for the unfollow link.
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(Unicode(16), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    #: Which tick claimed it (an atomic UPDATE), so two ticks never send it twice.
    claim: Mapped[str | None] = mapped_column(Unicode(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Unicode(4000))


class Subscription(db.Model):
    """An employee follows a flow, a team, or a saved view (``value``: code, team, view id)."""
    __tablename__ = 'alert_subscriptions'
    __table_args__ = table_args(APP_SCHEMA_KEY,
                                UniqueConstraint('login', 'kind', 'value',
                                                 name='uq_alert_subscriptions_login_kind_value'),
                                Index('ix_alert_subscriptions_kind_value', 'kind', 'value'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    kind: Mapped[str] = mapped_column(Unicode(8), nullable=False)
    value: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Profile(db.Model):
    """What a person set about themselves: the address their notices go to."""
    __tablename__ = 'user_profiles'
    __table_args__ = table_args(APP_SCHEMA_KEY)

    login: Mapped[str] = mapped_column(Unicode(256), primary_key=True, autoincrement=False)
    email: Mapped[str | None] = mapped_column(Unicode(254))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
