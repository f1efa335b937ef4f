"""App-bind models: who uses Flowdesk and what they did."""
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from config import APP_SCHEMA_KEY

from ..clock import utc_now
from ..extensions import db
from .types import LongText, UtcDateTime, table_args

ROLE_VIEWER = 'viewer'
ROLE_ADMIN = 'admin'
ROLES = (ROLE_VIEWER, ROLE_ADMIN)


class User(db.Model):
    __tablename__ = 'users'
    __table_args__ = table_args(APP_SCHEMA_KEY)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Normalised Windows login, ``DOMAIN\\name`` in lower case: one row per person.
    login: Mapped[str] = mapped_column(Unicode(256), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    role: Mapped[str] = mapped_column(Unicode(16), nullable=False, default=ROLE_VIEWER)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN and self.active

    def __repr__(self) -> str:
        return f'<User {self.login} {self.role}>'


class AuditEvent(db.Model):
    """Who did what to whom, when and from which address."""
    __tablename__ = 'audit_events'
    __table_args__ = table_args(
        APP_SCHEMA_KEY,
        Index('ix_audit_events_at', 'at'),
        Index('ix_audit_events_actor_at', 'actor', 'at'),
        Index('ix_audit_events_action_at', 'action', 'at'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    actor: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    action: Mapped[str] = mapped_column(Unicode(64), nullable=False)
    target: Mapped[str | None] = mapped_column(Unicode(256))
    detail: Mapped[str | None] = mapped_column(LongText)
    remote_addr: Mapped[str | None] = mapped_column(Unicode(64))

    def __repr__(self) -> str:
        return f'<AuditEvent {self.at} {self.actor} {self.action} {self.target}>'
