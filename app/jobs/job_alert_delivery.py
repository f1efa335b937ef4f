"""``alert-delivery``: send the queued incident notices (the outbox), one digest per recipient,
after the ``alerts`` job of the same tick has queued reminders and new incidents."""
from ..alerts.delivery import drain
from ..clock import utc_now
from .registry import Job, JobContext


def alert_delivery(context: JobContext) -> str:
    return drain(utc_now()).summary()


JOB = Job('alert-delivery', interval_seconds=0, function=alert_delivery, order=51,
          description='Sends queued incident notices by e-mail and webhook, one digest per '
                      'recipient; failed sends are retried up to ALERT_MAX_ATTEMPTS times.')
