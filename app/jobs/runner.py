"""One scheduler tick: record that this server ticked, then run every job that is due, each
under its database lock. A job that raises is recorded as failed and the others still run.

A job is due when its last run started at least its interval ago (read from ``job_runs``, so
every server and every process agrees). Due-ness is decided after the job's lock is taken: a
second server that waited for the first one's run sees that run and skips.
"""
from __future__ import annotations

import socket
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..database import engine_for
from ..models.job_models import RUN_FAILED, RUN_INTERRUPTED, RUN_RUNNING, RUN_SUCCEEDED, JobRun, SchedulerTick
from .lock import JobLock
from .registry import Job, JobContext

#: A tick arriving this much before a job's interval is over still runs it: Task Scheduler's
#: "every minute" is never exactly 60 s apart, and a job should not skip every other tick.
DUE_EARLY_SECONDS = 5

RAN, SKIPPED, FAILED = 'ran', 'skipped', 'failed'
INTERRUPTED_SUMMARY = 'Interrupted: the process running this job stopped before it finished.'


@dataclass
class JobResult:
    job: str
    outcome: str  # ran, skipped or failed
    detail: str


def host_name() -> str:
    return socket.gethostname()[:128] or 'unknown'


def last_run(job: str):
    with engine_for('ops').connect() as connection:
        return connection.execute(select(JobRun).where(JobRun.job == job)
                                  .order_by(JobRun.started_at.desc(), JobRun.id.desc())
                                  .limit(1)).first()


def next_due(job: Job, last) -> datetime | None:
    """When the job is next due (None: now, it never ran)."""
    if last is None:
        return None
    return last.started_at + timedelta(seconds=job.interval_seconds)


def is_due(job: Job, now: datetime) -> bool:
    due = next_due(job, last_run(job.name))
    return due is None or due - timedelta(seconds=DUE_EARLY_SECONDS) <= now


def record_tick(now: datetime, host: str) -> None:
    """This server's scheduler is alive (one row per host, updated each tick)."""
    for _attempt in range(2):
        try:
            with engine_for('ops').begin() as connection:
                changed = connection.execute(update(SchedulerTick).where(
                    SchedulerTick.host == host).values(ticked_at=now)).rowcount
                if not changed:
                    connection.execute(insert(SchedulerTick).values(host=host, ticked_at=now))
            return
        except IntegrityError:
            continue  # another process on this host inserted the row first: update it


def start_run(job: str, now: datetime, host: str) -> int:
    """Mark runs of this job left running by a dead process (we hold its lock, so their
    process is gone) and commit this run as running."""
    with engine_for('ops').begin() as connection:
        connection.execute(update(JobRun).where(JobRun.job == job,
                                                JobRun.outcome == RUN_RUNNING)
                           .values(outcome=RUN_INTERRUPTED, finished_at=now,
                                   summary=INTERRUPTED_SUMMARY))
        return connection.execute(insert(JobRun).values(
            job=job, started_at=now, host=host, outcome=RUN_RUNNING)).inserted_primary_key[0]


def finish_run(run_id: int, now: datetime, outcome: str, summary: str,
               error: str | None = None) -> None:
    with engine_for('ops').begin() as connection:
        connection.execute(update(JobRun).where(JobRun.id == run_id).values(
            finished_at=now, outcome=outcome, summary=summary[:4000], error=error))


def run_job(job: Job, context: JobContext, force: bool = False) -> JobResult:
    """Run one job if it is due (or ``force``) and nobody else is running it."""
    lock = JobLock(job.name)
    if not lock.acquire():
        return JobResult(job.name, SKIPPED, 'running elsewhere')
    try:
        if not force and not is_due(job, context.now()):
            due = next_due(job, last_run(job.name))
            return JobResult(job.name, SKIPPED, f'not due until {due:%Y-%m-%d %H:%M:%S} UTC')
        run_id = start_run(job.name, context.now(), host_name())
        try:
            summary = job.function(context) or 'done'
        except Exception as error:  # a failing job is recorded; the other jobs still run
            current_app.logger.exception('Job %s failed', job.name)
            message = f'{type(error).__name__}: {error}'
            finish_run(run_id, context.now(), RUN_FAILED, message, traceback.format_exc())
            return JobResult(job.name, FAILED, message)
        finish_run(run_id, context.now(), RUN_SUCCEEDED, summary)
        return JobResult(job.name, RAN, summary)
    finally:
        lock.release()


def run_tick(jobs: list[Job], context: JobContext, force: bool = False) -> list[JobResult]:
    """One tick over ``jobs``. Bookkeeping that fails (the database is away) counts as a
    failed job rather than stopping the tick."""
    try:
        record_tick(context.now(), host_name())
    except Exception:
        current_app.logger.exception('Could not record the scheduler tick')
    results = []
    for job in jobs:
        try:
            results.append(run_job(job, context, force))
        except Exception as error:
            current_app.logger.exception('Job %s could not be run', job.name)
            results.append(JobResult(job.name, FAILED, f'{type(error).__name__}: {error}'))
    return results
