"""Retention: responses past RESPONSES_RETENTION_DAYS are archived to ARCHIVE_FOLDER (gzip CSV
in the upload layout, one file per month) and then deleted in short batches; the daily summary
stays. Run daily by the ``retention`` job and on demand by ``flask purge``."""
from .purge import PurgeOutcome, PurgeRefused, purge_responses

__all__ = ['PurgeOutcome', 'PurgeRefused', 'purge_responses']
