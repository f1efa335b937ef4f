"""What the scheduler has been doing, for the admin jobs page, ``flask jobs list`` and
``/healthz``: each job's last run and next due time, the recent runs, and whether the
scheduler still ticks. A stopped scheduler is a silent failure: nothing errors, files just
stop being loaded. So when no server has ticked for three tick intervals, it is said plainly."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, true

from ..database import engine_for
from ..extensions import db
from ..models.inbox_models import Inbox
from ..models.job_models import RUN_FAILED, JobRun, SchedulerTick
from .registry import Job, all_jobs
from .runner import last_run, next_due

#: Missed ticks after which the scheduler counts as stopped.
MISSED_TICKS = 3


@dataclass
class JobStatus:
    job: Job
    last: object  # the latest JobRun row, or None
    next_due: datetime | None

    @property
    def failing(self) -> bool:
        return self.last is not None and self.last.outcome == RUN_FAILED


def job_statuses() -> list[JobStatus]:
    statuses = []
    for job in all_jobs():
        last = last_run(job.name)
        statuses.append(JobStatus(job, last, next_due(job, last)))
    return statuses


def recent_runs(limit: int = 50, job: str | None = None) -> list:
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        query = query.where(JobRun.job == job)
    with engine_for('ops').connect() as connection:
        return list(connection.execute(query))


def last_tick() -> tuple[datetime | None, str | None]:
    with engine_for('ops').connect() as connection:
        row = connection.execute(select(SchedulerTick.ticked_at, SchedulerTick.host)
                                 .order_by(SchedulerTick.ticked_at.desc()).limit(1)).first()
    return (row.ticked_at, row.host) if row else (None, None)


def staleness(now: datetime) -> tuple[int | None, bool, str | None]:
    """``(last_tick_age_seconds, stale, message)``: stale when no server has ticked for three
    intervals, or never has while active inboxes wait for it."""
    interval = current_app.config['JOBS_TICK_INTERVAL_SECONDS']
    ticked_at, host = last_tick()
    if ticked_at is None:
        stale = bool(db.session.scalar(select(func.count()).select_from(Inbox)
                                       .where(Inbox.active == true())))
        message = ('Scheduled jobs have never run: inbox files are not being loaded. Register '
                   'the Flowdesk jobs task (docs/deploy-iis.md).') if stale else None
        return None, stale, message
    age = max(int((now - ticked_at).total_seconds()), 0)
    stale = age > MISSED_TICKS * interval
    message = (f'Scheduled jobs have not run for {describe_age(age)} (last tick on {host}): '
               'inbox files are not being loaded and housekeeping has stopped. Check the '
               'Flowdesk jobs task in Task Scheduler.') if stale else None
    return age, stale, message


def scheduler_health(now: datetime) -> dict:
    """The ``jobs`` block of /healthz: ``{last_tick_age_seconds, failing, stale, message}``
    (``failing``: jobs whose latest run failed)."""
    age, stale, message = staleness(now)
    failing = [status.job.name for status in job_statuses() if status.failing]
    return {'last_tick_age_seconds': age, 'failing': failing, 'stale': stale,
            'message': message}


def health_block(now: datetime) -> dict:
    """``scheduler_health`` for /healthz, which must answer even when the databases do not."""
    try:
        return scheduler_health(now)
    except Exception as error:  # the databases' own entries say what is wrong
        db.session.rollback()
        return {'error': f'{type(error).__name__}: {str(error).splitlines()[0][:200]}'}


def describe_age(seconds: int) -> str:
    if seconds < 120:
        return f'{seconds} seconds'
    if seconds < 7200:
        return f'{seconds // 60} minutes'
    if seconds < 2 * 86400:
        return f'{seconds // 3600} hours'
    return f'{seconds // 86400} days'
