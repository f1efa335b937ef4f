"""``prune-job-runs``: deletes job runs older than JOB_RUNS_KEEP_DAYS, always keeping each
job's latest run (it says when the job is next due), and forgets servers that stopped ticking
that long ago."""
from datetime import timedelta

from sqlalchemy import delete, func, select

from ..database import engine_for
from ..models.job_models import JobRun, SchedulerTick
from .registry import Job, JobContext


def prune_job_runs(context: JobContext) -> str:
    cutoff = context.now() - timedelta(days=context.config['JOB_RUNS_KEEP_DAYS'])
    with engine_for('ops').begin() as connection:
        latest = select(func.max(JobRun.id)).group_by(JobRun.job)
        removed = connection.execute(delete(JobRun).where(
            JobRun.started_at < cutoff, JobRun.id.not_in(latest))).rowcount
        connection.execute(delete(SchedulerTick).where(SchedulerTick.ticked_at < cutoff))
    return f'{removed} job run{"" if removed == 1 else "s"} older than {cutoff:%Y-%m-%d} deleted'


JOB = Job('prune-job-runs', interval_seconds=24 * 3600, function=prune_job_runs, order=90,
          description='Deletes job runs older than JOB_RUNS_KEEP_DAYS (keeping each job\'s '
                      'latest).')
