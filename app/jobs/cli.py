"""``flask jobs run [NAME] [--force] [--loop [--interval 60]]`` and ``flask jobs list``.

Windows Task Scheduler (scripts/iis/Register-FlowdeskJobs.ps1) runs ``flask jobs run`` every
minute; it exits 1 when a job failed, so the task's history shows it. ``--loop`` is for
development and Linux: it ticks until Ctrl+C or SIGTERM, finishing the tick in progress.
"""
from __future__ import annotations

import signal
import threading

import click
from flask.cli import with_appcontext

from ..templating import format_datetime
from .registry import JobContext, all_jobs, get_job
from .runner import FAILED, RAN, SKIPPED, run_tick
from .status import job_statuses


@click.group('jobs')
def jobs_group():
    """Scheduled jobs: inbox folders and housekeeping."""


def print_tick(results) -> bool:
    """One line per job and a summary; True when no job failed."""
    for result in results:
        click.echo(f'{result.job:<16} {result.outcome:<8} {result.detail}')
    counts = {word: sum(result.outcome == word for result in results)
              for word in (RAN, SKIPPED, FAILED)}
    click.echo(f'{len(results)} job{"" if len(results) == 1 else "s"}: {counts[RAN]} ran, '
               f'{counts[SKIPPED]} skipped, {counts[FAILED]} failed')
    return counts[FAILED] == 0


def chosen_jobs(name: str | None, force: bool):
    if force and not name:
        raise click.UsageError('--force runs one job now: name it, e.g. flask jobs run inbox --force')
    if name is None:
        return all_jobs()
    job = get_job(name)
    if job is None:
        known = ', '.join(job.name for job in all_jobs())
        raise click.UsageError(f'There is no job called {name!r}: the jobs are {known}.')
    return [job]


@jobs_group.command('run')
@click.argument('name', required=False)
@click.option('--force', is_flag=True, help='Run the named job now, even if it is not due.')
@click.option('--loop', is_flag=True, help='Keep ticking until Ctrl+C or SIGTERM '
                                           '(development and Linux).')
@click.option('--interval', type=click.IntRange(min=1), default=60, show_default=True,
              help='Seconds between ticks with --loop.')
@with_appcontext
def run_command(name, force, loop, interval):
    """Run every job that is due (or job NAME), once; exit 1 when a job failed."""
    jobs = chosen_jobs(name, force)
    if not loop:
        if not print_tick(run_tick(jobs, JobContext.for_app(), force)):
            raise SystemExit(1)
        return
    stop = threading.Event()
    restore = stop_on_sigterm(stop)
    try:
        while not stop.is_set():
            print_tick(run_tick(jobs, JobContext.for_app(), force))
            stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        restore()
    click.echo('Stopped.')


def stop_on_sigterm(stop: threading.Event):
    """Let SIGTERM end ``--loop`` after the tick in progress (SIGTERM exists on Windows too).
    Returns what puts the previous handler back."""
    if not hasattr(signal, 'SIGTERM') or threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    return lambda: signal.signal(signal.SIGTERM, previous)


@jobs_group.command('list')
@with_appcontext
def list_command():
    """Each job, its interval, its last run and when it is next due."""
    click.echo(f'{"job":<16} {"every":>8}  {"last run":<20} {"outcome":<12} next due')
    for status in job_statuses():
        last = status.last
        click.echo(f'{status.job.name:<16} {describe_interval(status.job.interval_seconds):>8}  '
                   f'{format_datetime(last.started_at) if last else "never":<20} '
                   f'{last.outcome if last else "":<12} '
                   f'{format_datetime(status.next_due) if status.next_due else "now"}')


def describe_interval(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f'{seconds // 86400} d'
    if seconds % 3600 == 0:
        return f'{seconds // 3600} h'
    if seconds % 60 == 0:
        return f'{seconds // 60} min'
    return f'{seconds} s'
