"""``inbox``: loads the settled files waiting in every active inbox folder (app/inboxes), within
INBOX_TICK_SECONDS per tick. Fails (and says which) when a folder cannot be listed or a file
cannot be moved, so the admin jobs page and /healthz show it."""
from ..inboxes.processing import Budget, Tally, active_inboxes, process_inbox
from .registry import Job, JobContext


class InboxProblems(RuntimeError):
    pass


def inbox(context: JobContext) -> str:
    budget = Budget(context, context.config['INBOX_TICK_SECONDS'])
    tally = Tally()
    inboxes = active_inboxes()
    for definition in inboxes:
        process_inbox(definition, context, budget, tally)
    summary = f'{len(inboxes)} active inbox{"" if len(inboxes) == 1 else "es"}: {tally.summary()}'
    if tally.problems:
        raise InboxProblems(f'{summary}; ' + '; '.join(tally.problems))
    return summary


JOB = Job('inbox', interval_seconds=60, function=inbox, order=50,
          description='Loads the files waiting in the active inbox folders.')
