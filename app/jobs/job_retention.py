"""``retention``: daily, archives and deletes the responses older than
RESPONSES_RETENTION_DAYS (app/retention); does nothing while that setting is empty."""
from datetime import timedelta

from ..audit import SYSTEM_ACTOR
from ..retention import purge_responses
from .registry import Job, JobContext


def retention(context: JobContext) -> str:
    days = context.config.get('RESPONSES_RETENTION_DAYS')
    if not days:
        return 'Retention is off (RESPONSES_RETENTION_DAYS is empty): every response is kept'
    outcome = purge_responses(context.now() - timedelta(days=days), actor=SYSTEM_ACTOR)
    return outcome.summary()


JOB = Job('retention', interval_seconds=24 * 3600, function=retention, order=80,
          description='Archives (ARCHIVE_FOLDER) and deletes responses older than '
                      'RESPONSES_RETENTION_DAYS.')
