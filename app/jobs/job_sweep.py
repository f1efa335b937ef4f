"""``sweep``: housekeeping of loads. Marks batches whose process died as interrupted (the
history page does this too, but nobody may open it), and deletes kept uploads older than
UPLOAD_RETENTION_HOURS (the upload page keeps them so that a dry run can be loaded later)."""
from ..loading import sweep_interrupted
from ..loading.storage import purge_expired
from .registry import Job, JobContext


def sweep(context: JobContext) -> str:
    marked = sweep_interrupted()
    removed = purge_expired(context.config['UPLOAD_FOLDER'], context.config['UPLOAD_RETENTION_HOURS'])
    return (f'{marked} interrupted batch{"" if marked == 1 else "es"} marked, '
            f'{removed} expired upload{"" if removed == 1 else "s"} deleted')


JOB = Job('sweep', interval_seconds=15 * 60, function=sweep, order=10,
          description='Marks interrupted load batches and deletes kept uploads older than '
                      'UPLOAD_RETENTION_HOURS.')
