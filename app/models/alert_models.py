"""Alert rules admins define, and the incidents they open (app database, next to the audit log
that records every change to a rule and the people who acknowledge and resolve incidents).

An incident is open while ``open_key`` is set ("rule:flow", or "stale" for the one stale-data
incident); a filtered unique index on it guarantees one open incident per (rule, flow) even when
a load's evaluation and a tick's evaluation run at the same moment. Resolving clears the key.
"""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Unicode, text
from sqlalchemy.orm import Mapped, mapped_column

from config import APP_SCHEMA_KEY

from ..extensions import db
from .types import UtcDateTime, table_args

SCOPES = ('all', 'team', 'flow_type', 'system', 'flows')
CONDITIONS = ('error_rate', 'consecutive', 'silence')
SEVERITIES = ('critical', 'warning', 'info')
OPEN, ACKNOWLEDGED, RESOLVED = 'open', 'acknowledged', 'resolved'
KIND_RULE, KIND_STALE = 'rule', 'stale'


class AlertRule(db.Model):
    __tablename__ = 'alert_rules'
    __table_args__ = table_args(APP_SCHEMA_KEY)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(100), unique=True, nullable=False)
    #: all, team, flow_type, system or flows; ``scope_value`` is the team, type, system, or the
    #: flow codes separated by commas.
    scope: Mapped[str] = mapped_column(Unicode(16), nullable=False, default='all')
    scope_value: Mapped[str | None] = mapped_column(Unicode(4000))
    #: error_rate (threshold_percent over window_minutes with min_responses), consecutive
    #: (consecutive_errors in a row) or silence (window_minutes, or the flow's schedule).
    condition: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    threshold_percent: Mapped[int | None] = mapped_column(Integer)
    window_minutes: Mapped[int | None] = mapped_column(Integer)
    min_responses: Mapped[int | None] = mapped_column(Integer)
    consecutive_errors: Mapped[int | None] = mapped_column(Integer)
    use_schedule: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    severity: Mapped[str] = mapped_column(Unicode(16), nullable=False, default='warning')
    #: E-mail addresses and webhook URLs, one per line.
    recipients: Mapped[str | None] = mapped_column(Unicode(4000))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    def __repr__(self) -> str:
        return f'<AlertRule {self.name} {self.condition}>'


class Incident(db.Model):
    __tablename__ = 'incidents'
    __table_args__ = table_args(
        APP_SCHEMA_KEY,
        Index('ix_incidents_open_key', 'open_key', unique=True,
              sqlite_where=text('open_key IS NOT NULL'),
              postgresql_where=text('open_key IS NOT NULL'),
              mssql_where=text('open_key IS NOT NULL')),
        Index('ix_incidents_status_opened', 'status', 'opened_at'),
        Index('ix_incidents_flow_opened', 'flow_code', 'opened_at'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Unicode(8), nullable=False, default=KIND_RULE)
    rule_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey(f'{APP_SCHEMA_KEY}.alert_rules.id', ondelete='SET NULL'))
    rule_name: Mapped[str | None] = mapped_column(Unicode(100))
    flow_code: Mapped[str | None] = mapped_column(Unicode(32))
    open_key: Mapped[str | None] = mapped_column(Unicode(64))
    severity: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    title: Mapped[str] = mapped_column(Unicode(400), nullable=False)
    detail: Mapped[str | None] = mapped_column(Unicode(4000))
    status: Mapped[str] = mapped_column(Unicode(16), nullable=False, default=OPEN)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    #: The last evaluation that found the condition still true.
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(Unicode(256))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(Unicode(256))
    #: When its last notice (opened or reminder) was queued: no more than one per
    #: ALERT_REMIND_MINUTES.
    notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED

    def __repr__(self) -> str:
        return f'<Incident {self.id} {self.open_key} {self.status}>'


class IncidentEvent(db.Model):
    """One line of an incident's timeline: opened, acknowledged, note, resolved."""
    __tablename__ = 'incident_events'
    __table_args__ = table_args(APP_SCHEMA_KEY,
                                Index('ix_incident_events_incident', 'incident_id', 'id'))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(f'{APP_SCHEMA_KEY}.incidents.id', ondelete='CASCADE'), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    kind: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    text: Mapped[str | None] = mapped_column(Unicode(4000))
