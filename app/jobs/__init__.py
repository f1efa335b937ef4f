"""Scheduled jobs: housekeeping and inbox folders, run by ``flask jobs run`` from Windows Task
Scheduler (or cron, or ``--loop`` in development), never inside a web request: IIS recycles
worker processes and a farm has several servers.

- ``registry``: each job is a module ``job_*.py`` in this package defining ``JOB = Job(...)``
  (name, interval, function); a new job is a new module.
- ``runner``: one tick runs every job that is due. Due-ness is read from ``job_runs`` in the
  database, and each job runs under a database lock (``lock``), so ticks on several servers
  never run one job twice.
- ``status``: what the admin jobs page, ``flask jobs list`` and ``/healthz`` show.
"""
from .registry import Job, JobContext, all_jobs, get_job

__all__ = ['Job', 'JobContext', 'all_jobs', 'get_job']
