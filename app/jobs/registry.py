"""The jobs Flowdesk knows: every module ``job_*.py`` of this package defines ``JOB``."""
from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from ..clock import utc_now


@dataclass
class JobContext:
    """What a job's function gets: the app's settings and clocks it can be tested with.
    ``now()`` is naive UTC (as stored); ``monotonic()`` measures time budgets."""
    config: dict
    now: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic
    logger: object = None

    @classmethod
    def for_app(cls, now=None, monotonic=None) -> JobContext:
        return cls(config=current_app.config, now=now or utc_now,
                   monotonic=monotonic or time.monotonic, logger=current_app.logger)


@dataclass(frozen=True)
class Job:
    """``function(context) -> str`` does the work and returns a one-line summary; it raises
    when the job failed."""
    name: str
    interval_seconds: int
    function: Callable[[JobContext], str]
    description: str = ''
    order: int = field(default=100, compare=False)


_JOBS: dict[str, Job] | None = None


def _discover() -> dict[str, Job]:
    found = []
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith('job_'):
            job = importlib.import_module(f'{__package__}.{module.name}').JOB
            found.append(job)
    found.sort(key=lambda job: (job.order, job.name))
    return {job.name: job for job in found}


def all_jobs() -> list[Job]:
    """Every registered job, in the order a tick runs them."""
    global _JOBS
    if _JOBS is None:
        _JOBS = _discover()
    return list(_JOBS.values())


def get_job(name: str) -> Job | None:
    all_jobs()
    return _JOBS.get(name)
