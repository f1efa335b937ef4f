"""One tick of the ``inbox`` job over one inbox: take settled files oldest first, load each as
an ordinary batch (``inbox <name>: <file>`` in the history, actor ``inbox:<name>``), then move
it to ``processed/YYYY-MM-DD/`` or, rejected, to ``rejected/`` with its error report.

Exactly once: the job runs under its database lock, so one process at a time works on the
inboxes; and a file whose SHA-256 was already loaded into the dataset is moved to
``processed/`` as a duplicate without loading it again. That also heals a crash between a
load's commit and the file's move: the next tick finds the file loaded and only moves it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, true, update

from .. import audit
from ..database import engine_for
from ..extensions import db
from ..jobs.registry import JobContext
from ..loading import DuplicateFile, LoadBusy, LoadRefused, LoadRequest, Problem, run_load
from ..loading.report import write_report
from ..loading.storage import file_sha256
from ..models.inbox_models import Inbox, InboxSighting
from ..profiles import resolve
from . import folder as files

#: How long an inbox load waits for an admin's load of the same dataset before trying again
#: at the next tick.
LOCK_WAIT_SECONDS = 5
LOADED, REJECTED, DUPLICATE, BUSY = 'loaded', 'rejected', 'duplicate', 'busy'


@dataclass
class Budget:
    """INBOX_TICK_SECONDS for one tick, over every inbox: no new file is picked up once it is
    spent (a tick always takes at least one file, so every tick makes progress)."""
    context: JobContext
    seconds: float
    started: float = 0.0
    taken: int = 0

    def __post_init__(self):
        self.started = self.context.monotonic()

    def spent(self) -> bool:
        return self.taken > 0 and self.context.monotonic() - self.started >= self.seconds


@dataclass
class Tally:
    counts: dict = field(default_factory=lambda: dict.fromkeys(
        (LOADED, REJECTED, DUPLICATE, BUSY, 'still being written', 'left for the next tick'), 0))
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return ', '.join(f'{count} {what}' for what, count in self.counts.items() if count) \
            or 'no files waiting'


def sightings(inbox_id: int) -> dict[str, int]:
    with engine_for(None).connect() as connection:
        return dict(connection.execute(select(InboxSighting.file_name, InboxSighting.size)
                                       .where(InboxSighting.inbox_id == inbox_id)).all())


def remember_sizes(inbox_id: int, seen: dict[str, int], before: dict[str, int], now) -> None:
    """Keep the sizes seen this tick (of files still waiting) for the next tick to compare."""
    with engine_for(None).begin() as connection:
        gone = [name for name in before if name not in seen]
        if gone:
            connection.execute(delete(InboxSighting).where(
                InboxSighting.inbox_id == inbox_id, InboxSighting.file_name.in_(gone)))
        for name, size in seen.items():
            values = dict(size=size, seen_at=now)
            if name in before:
                connection.execute(update(InboxSighting).where(
                    InboxSighting.inbox_id == inbox_id, InboxSighting.file_name == name)
                    .values(**values))
            else:
                connection.execute(insert(InboxSighting).values(
                    inbox_id=inbox_id, file_name=name, **values))


def process_inbox(inbox: Inbox, context: JobContext, budget: Budget, tally: Tally) -> None:
    folder = Path(inbox.folder)
    try:
        waiting = files.waiting_files(folder, inbox.pattern)
    except OSError as error:
        tally.problems.append(f'inbox {inbox.name}: the folder {folder} cannot be listed ({error})')
        return
    before, seen = sightings(inbox.id), {}
    now = context.now()
    now_ts = now.replace(tzinfo=UTC).timestamp()
    settle = context.config['INBOX_SETTLE_SECONDS']
    for position, item in enumerate(waiting):
        if budget.spent():
            tally.counts['left for the next tick'] += len(waiting) - position
            seen.update({later.path.name: later.size for later in waiting[position:]})
            break
        if files.unsettled_reason(item, now_ts, settle, before.get(item.path.name)):
            tally.counts['still being written'] += 1
            seen[item.path.name] = item.size
            continue
        budget.taken += 1
        try:
            tally.counts[take_file(inbox, item.path, context)] += 1
        except OSError as error:
            tally.problems.append(f'inbox {inbox.name}: {item.path.name}: {error}')
    remember_sizes(inbox.id, seen, before, now)


def take_file(inbox: Inbox, path: Path, context: JobContext) -> str:
    """Load one settled file and move it; returns what happened to it."""
    sha256, size = file_sha256(path)
    try:
        request = LoadRequest(dataset=inbox.dataset, mode=inbox.mode, path=path,
                              file_name=f'inbox {inbox.name}: {path.name}'[:260],
                              user=inbox.actor, sha256=sha256, size=size,
                              lock_wait_seconds=LOCK_WAIT_SECONDS, profile=resolve(inbox.profile))
        outcome = run_load(request)
    except DuplicateFile as duplicate:
        moved = files.move_into(path, processed_today(inbox, context))
        audit.record('inbox.duplicate', target=f'inbox {inbox.name}', actor=inbox.actor,
                     detail=f'{path.name} (sha256 {sha256[:12]}…) was already loaded as batch '
                            f'#{duplicate.previous.id}; moved to {moved} without loading it again.')
        db.session.commit()
        return DUPLICATE
    except LoadBusy:
        return BUSY  # an admin is loading this dataset: the file waits for the next tick
    except LoadRefused as refused:
        reject(path, inbox, [Problem(None, None, None, str(refused))], 1)
        return REJECTED
    if outcome.ok:
        files.move_into(path, processed_today(inbox, context))
        return LOADED
    reject(path, inbox, outcome.problems.kept, outcome.problems.count)
    return REJECTED


def processed_today(inbox: Inbox, context: JobContext) -> Path:
    zone = ZoneInfo(context.config.get('DISPLAY_TIMEZONE') or 'UTC')
    today = context.now().replace(tzinfo=UTC).astimezone(zone).date()
    return files.processed_folder(Path(inbox.folder), today)


def reject(path: Path, inbox: Inbox, problems: list, total: int) -> None:
    moved = files.move_into(path, files.rejected_folder(Path(inbox.folder)))
    with open(files.report_path(moved), 'w', encoding='utf-8-sig', newline='') as handle:
        write_report(handle, problems, total)


def active_inboxes() -> list[Inbox]:
    return list(db.session.scalars(select(Inbox).where(Inbox.active == true())
                                   .order_by(Inbox.name)))
