"""The load history's bookkeeping: a batch is committed as running before its load starts, and
gets its final record (counts, problems, message) when it ends. Also: who is loading right now,
batches whose process died (interrupted), an identical file loaded before, and which batch each
dataset can undo."""
from __future__ import annotations

from sqlalchemy import false, func, insert, select, update
from sqlalchemy.engine import Connection

from .. import audit
from ..clock import utc_now
from ..database import engine_for
from ..datasets import DATASETS
from ..extensions import db
from ..models import BATCH_INTERRUPTED, BATCH_RUNNING, BATCH_SUCCEEDED, LoadBatch, LoadError
from ..templating import format_datetime
from .locks import DatasetLock
from .outcomes import MODE_UNDO, MODES, Counts, LoadBusy
from .problems import Problem, ProblemLog

INTERRUPTED_MESSAGE = ('Interrupted: the process running this load stopped before it finished. '
                       'Nothing was changed; load the file again.')


def describe_running(dataset: str | None) -> str:
    """"A load of responses is running since …" for the admin who has to wait."""
    query = select(LoadBatch).where(LoadBatch.status == BATCH_RUNNING).order_by(
        LoadBatch.id.desc())
    if dataset is not None:
        query = query.where(LoadBatch.dataset == dataset)
    with engine_for('ops').connect() as connection:
        row = connection.execute(query.limit(1)).first()
    if row is None:
        return 'Another load is writing to the database right now. Try again in a minute.'
    what = 'An undo' if row.mode == MODE_UNDO else 'A load'
    return (f'{what} of {row.dataset} is running since '
            f'{format_datetime(row.started_at)} (batch #{row.id}, started by {row.loaded_by}). '
            'Try again when it has finished.')


def hold_lock(dataset: str, wait_seconds: float) -> DatasetLock:
    """The dataset's lock, acquired: use it in a ``with`` block, which releases it. Raises
    LoadBusy (saying who is loading since when) when another load holds it."""
    lock = DatasetLock(dataset, wait_seconds)
    if not lock.acquire():
        raise LoadBusy(describe_running(None if lock.covers is None else dataset))
    return lock


def mark_interrupted(connection: Connection, datasets: set[str] | None) -> int:
    """Batches left running by a process that died (its lock is free: we hold it)."""
    statement = update(LoadBatch).where(LoadBatch.status == BATCH_RUNNING).values(
        status=BATCH_INTERRUPTED, finished_at=utc_now(), message=INTERRUPTED_MESSAGE)
    if datasets is not None:
        statement = statement.where(LoadBatch.dataset.in_(sorted(datasets)))
    return connection.execute(statement).rowcount


def sweep_interrupted(datasets=None) -> int:
    """Mark batches of dead processes as interrupted, for every dataset whose lock is free
    right now (the history page calls this; it never waits)."""
    marked = 0
    for name in (datasets or DATASETS):
        with engine_for('ops').connect() as connection:
            running = connection.scalar(select(func.count()).select_from(LoadBatch).where(
                LoadBatch.status == BATCH_RUNNING, LoadBatch.dataset == name))
        if not running:
            continue
        lock = DatasetLock(name, wait_seconds=0)
        if lock.acquire():
            with lock, engine_for('ops').begin() as connection:
                marked += mark_interrupted(connection, {name})
    return marked


def start_batch(lock: DatasetLock, **values) -> int:
    """Commit the batch as running (visible to other admins), after clearing dead ones."""
    with engine_for('ops').begin() as connection:
        mark_interrupted(connection, lock.covers)
        return connection.execute(insert(LoadBatch).values(
            status=BATCH_RUNNING, started_at=utc_now(), rows_read=0, inserted=0, updated=0,
            unchanged=0, deleted=0, error_count=0, **values)).inserted_primary_key[0]


def finish_values(status: str, counts: Counts, problems: ProblemLog, message: str) -> dict:
    return dict(status=status, finished_at=utc_now(), rows_read=counts.read,
                inserted=counts.inserted, updated=counts.updated, unchanged=counts.unchanged,
                deleted=counts.deleted, error_count=problems.count, message=message[:4000],
                warnings='\n'.join(problems.warnings)[:4000] or None)


def record_problems(connection: Connection, batch_id: int, problems: list[Problem]) -> None:
    if problems:
        connection.execute(insert(LoadError), [
            {'batch_id': batch_id, 'line': p.line, 'column': p.column,
             'value': p.value[:200] if p.value is not None else None, 'message': p.message[:1000]}
            for p in problems])


def record_outcome(batch_id: int, status: str, counts: Counts, problems: ProblemLog,
                   message: str, **read_as) -> None:
    """The batch's final record after a rollback, in its own short transaction."""
    with engine_for('ops').begin() as connection:
        connection.execute(update(LoadBatch).where(LoadBatch.id == batch_id).values(
            **finish_values(status, counts, problems, message), **read_as))
        record_problems(connection, batch_id, problems.kept)


def previous_identical(dataset: str, sha256: str):
    """The latest load of the same file (same SHA-256) into the dataset, or None."""
    with engine_for('ops').connect() as connection:
        return connection.execute(
            select(LoadBatch).where(LoadBatch.dataset == dataset, LoadBatch.sha256 == sha256,
                                    LoadBatch.dry_run == false(),
                                    LoadBatch.status == BATCH_SUCCEEDED)
            .order_by(LoadBatch.id.desc()).limit(1)).first()


def latest_load(dataset: str):
    """A select of the id of the dataset's most recent load that changed it (the only one
    that can be undone)."""
    return (select(LoadBatch.id).where(LoadBatch.dataset == dataset,
                                       LoadBatch.dry_run == false(),
                                       LoadBatch.status == BATCH_SUCCEEDED,
                                       LoadBatch.mode.in_(MODES))
            .order_by(LoadBatch.id.desc()).limit(1))


def undoable_batch_ids() -> set[int]:
    """The one undoable batch per dataset (for showing undo buttons)."""
    with engine_for('ops').connect() as connection:
        latest = (connection.execute(latest_load(name)).scalar() for name in DATASETS)
        return {batch_id for batch_id in latest if batch_id is not None}


def audit_and_commit(action: str, target: str, detail: str, user: str) -> None:
    audit.record(action, target=target, detail=detail, actor=user)
    db.session.commit()
