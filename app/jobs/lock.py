"""A job's database lock: the dataset locks' mechanism (app/loading/locks.py) under the name
``job:<name>``, taken without waiting (a job already running elsewhere is skipped, not queued).

On PostgreSQL and SQL Server this is a ``DatasetLock`` (advisory lock / ``sp_getapplock``):
the job's key differs from every dataset's, so a job can start loads while it holds it. On
SQLite the dataset lock is one lock file for every dataset, which a job that loads must not
hold; each job takes the same kind of lock (``BEGIN IMMEDIATE``) on its own file beside it
instead. SQLite serves one server only, so a file lock is all the farm there is.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from ..database import engine_for
from ..loading.locks import DatasetLock, drop_file_lock, take_file_lock


def job_lock_name(job: str) -> str:
    return f'job:{job}'


def sqlite_job_lock_path(url, job: str) -> Path:
    database = Path(make_url(url).database)
    safe = re.sub(r'[^A-Za-z0-9_-]', '_', job)
    return database.with_name(f'{database.name}.job-{safe}-lock')


class JobLock:
    """``acquire()`` → True when this process may run the job now; ``release()`` after."""

    def __init__(self, job: str):
        self.job = job
        self._dataset_lock: DatasetLock | None = None
        self._sqlite: sqlite3.Connection | None = None

    def acquire(self) -> bool:
        engine = engine_for('ops')
        if engine.dialect.name != 'sqlite':
            lock = DatasetLock(job_lock_name(self.job), wait_seconds=0)
            if not lock.acquire():
                return False
            self._dataset_lock = lock
            return True
        self._sqlite = take_file_lock(sqlite_job_lock_path(engine.url, self.job), wait_seconds=0)
        return self._sqlite is not None

    def release(self) -> None:
        if self._dataset_lock is not None:
            self._dataset_lock.release()
            self._dataset_lock = None
        if self._sqlite is not None:
            handle, self._sqlite = self._sqlite, None
            drop_file_lock(handle)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.release()
