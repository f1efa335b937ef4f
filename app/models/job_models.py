"""Scheduled jobs' own records, in the ops database beside the load batches and the locks the
jobs hold: one row per run of a job (``job_runs``) and, per server, when its scheduler last
ticked (``scheduler_ticks``), which is how a stopped scheduler is noticed."""
from datetime import datetime

from sqlalchemy import Index, Integer, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from config import OPS_SCHEMA_KEY

from ..clock import utc_now
from ..extensions import db
from .types import LongText, UtcDateTime, table_args

RUN_RUNNING, RUN_SUCCEEDED, RUN_FAILED, RUN_INTERRUPTED = (
    'running', 'succeeded', 'failed', 'interrupted')


class JobRun(db.Model):
    """One run of one job: committed as running when it starts, finished when it ends."""
    __bind_key__ = 'ops'
    __tablename__ = 'job_runs'
    __table_args__ = table_args(
        OPS_SCHEMA_KEY,
        Index('ix_job_runs_job_started', 'job', 'started_at'),
        Index('ix_job_runs_started', 'started_at'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(Unicode(64), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    host: Mapped[str] = mapped_column(Unicode(128), nullable=False)
    #: running, succeeded, failed, interrupted
    outcome: Mapped[str] = mapped_column(Unicode(16), nullable=False, default=RUN_RUNNING)
    summary: Mapped[str | None] = mapped_column(Unicode(4000))
    error: Mapped[str | None] = mapped_column(LongText)

    def __repr__(self) -> str:
        return f'<JobRun {self.job} #{self.id} {self.outcome}>'


class SchedulerTick(db.Model):
    """The last time ``flask jobs run`` ticked on a server (one row per host)."""
    __bind_key__ = 'ops'
    __tablename__ = 'scheduler_ticks'
    __table_args__ = table_args(OPS_SCHEMA_KEY)

    host: Mapped[str] = mapped_column(Unicode(128), primary_key=True, autoincrement=False)
    ticked_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

    def __repr__(self) -> str:
        return f'<SchedulerTick {self.host} {self.ticked_at}>'
