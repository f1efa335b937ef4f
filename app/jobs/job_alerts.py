"""``alerts``: evaluate every alert rule on every tick. Silence and stale data are only seen here
(loads evaluate error rates and consecutive errors as soon as they commit)."""
from ..alerts.evaluation import evaluate
from ..alerts.notices import queue_reminders
from ..clock import utc_now
from .registry import Job, JobContext


def alerts(context: JobContext) -> str:
    now = utc_now()
    summary = evaluate(now).summary()
    reminders = queue_reminders(now)
    return f'{summary}; {reminders} reminder{"" if reminders == 1 else "s"} queued'


JOB = Job('alerts', interval_seconds=0, function=alerts, order=50,
          description='Evaluates the alert rules: opens, updates and resolves incidents, and '
                      'raises one "data is stale" incident when no responses arrive.')
