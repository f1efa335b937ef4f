"""Undo: return a dataset exactly to its state before its most recent load. Rows the load
inserted are removed; rows it updated or deleted are restored from their prior versions. Loads
are undone in reverse order, and only loads that changed something."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..database import engine_for
from ..datasets import DATASETS, DatasetSpec
from ..models import BATCH_FAILED, BATCH_SUCCEEDED, BATCH_UNDONE, LoadBatch
from ..models.load_models import CHANGE_DELETED, CHANGE_UPDATED
from ..retention.undo import purged_rows_refusal
from ..summary import as_day, day_of, refresh_after_write
from .batches import (
    audit_and_commit,
    finish_values,
    hold_lock,
    latest_load,
    record_outcome,
    start_batch,
)
from .locks import DEFAULT_WAIT_SECONDS
from .outcomes import MODE_UNDO, MODES, Counts, LoadRefused, UndoOutcome
from .problems import ProblemLog
from .transactions import begin_write


def undo_refusal(connection: Connection, batch) -> str | None:
    """Why this batch cannot be undone (None: it can)."""
    if batch is None:
        return 'There is no such load batch.'
    if batch.dataset not in DATASETS or batch.mode not in MODES:
        return f'Batch #{batch.id} is not a load of flows or responses; it cannot be undone.'
    if batch.dry_run:
        return f'Batch #{batch.id} was a dry run: it changed nothing, so there is nothing to undo.'
    if batch.status == BATCH_UNDONE:
        return f'Batch #{batch.id} has already been undone (by batch #{batch.undone_by}).'
    if batch.status != BATCH_SUCCEEDED:
        return f'Batch #{batch.id} {batch.status}: it changed nothing, so there is nothing to undo.'
    later = connection.execute(
        latest_load(batch.dataset).where(LoadBatch.id > batch.id)).scalar()
    if later is not None:
        return (f'Batch #{batch.id} is not the most recent load of {batch.dataset}: '
                f'batch #{later} came after it. Undo the most recent load first; loads are '
                'undone in reverse order.')
    return purged_rows_refusal(connection, batch)


def _batch(connection: Connection, batch_id: int):
    return connection.execute(select(LoadBatch).where(LoadBatch.id == batch_id)).first()


def undo_batch(batch_id: int, user: str,
               lock_wait_seconds: float = DEFAULT_WAIT_SECONDS) -> UndoOutcome:
    """Return the dataset exactly to its state before batch ``batch_id`` (its most recent
    load): rows it inserted are removed, rows it updated or deleted are restored."""
    with engine_for('ops').connect() as connection:
        batch = _batch(connection, batch_id)
        refusal = undo_refusal(connection, batch)
    if refusal:
        raise LoadRefused(refusal)
    spec = DATASETS[batch.dataset]
    with hold_lock(spec.name, lock_wait_seconds) as lock:
        undo_id = start_batch(lock, dataset=spec.name, mode=MODE_UNDO, dry_run=False,
                              file_name=f'undo of batch #{batch_id}', loaded_by=user,
                              undo_of=batch_id)
        outcome = _undo(spec, batch_id, undo_id)
    audit_and_commit(f'undo.{outcome.status}', f'{spec.name} batch #{batch_id}',
                     outcome.message, user)
    return outcome


def _undo(spec: DatasetSpec, batch_id: int, undo_id: int) -> UndoOutcome:
    """Undo inside one transaction (the batch is checked again under the lock); a refusal
    or a database error leaves everything as it was and records the undo batch as failed."""
    counts = Counts()
    connection = engine_for('ops').connect()
    try:
        begin_write(connection)
        refusal = undo_refusal(connection, _batch(connection, batch_id))
        if refusal:
            raise LoadRefused(refusal)
        counts = _restore_before(connection, spec, batch_id)
        message = (f'Undid batch #{batch_id}: {counts.deleted:,} rows it wrote were removed, '
                   f'{counts.updated:,} updated rows were put back as they were and '
                   f'{counts.inserted:,} deleted rows were restored.')
        connection.execute(update(LoadBatch).where(LoadBatch.id == batch_id).values(
            status=BATCH_UNDONE, undone_by=undo_id))
        connection.execute(update(LoadBatch).where(LoadBatch.id == undo_id).values(
            **finish_values(BATCH_SUCCEEDED, counts, ProblemLog(), message)))
        connection.commit()
        return UndoOutcome(undo_id, batch_id, BATCH_SUCCEEDED, counts.deleted,
                           counts.updated + counts.inserted, message)
    except LoadRefused as refused:
        connection.rollback()
        message = str(refused)
    except IntegrityError as error:
        connection.rollback()
        message = (f'Undo refused by the database, nothing was changed: rows of another dataset '
                   f'still use rows this load added ({str(error.orig).splitlines()[0][:200]}). '
                   'Undo or change those first.')
    except DBAPIError as error:
        connection.rollback()
        current_app.logger.exception('Undo of batch %s failed', batch_id)
        message = ('The database refused the undo, nothing was changed: '
                   f'{str(error.orig).splitlines()[0][:300]}')
    finally:
        connection.close()
    problems = ProblemLog()
    problems.add(None, None, None, message)
    record_outcome(undo_id, BATCH_FAILED, counts, problems, message)
    return UndoOutcome(undo_id, batch_id, BATCH_FAILED, 0, 0, message)


def _restore_before(connection: Connection, spec: DatasetSpec, batch_id: int) -> Counts:
    """Put the dataset back as it was before the batch and refresh the days it touched.
    Counts: ``deleted`` rows the batch wrote, ``updated`` and ``inserted`` rows restored."""
    table, versions, key = spec.table, spec.version_table, spec.key
    names = spec.stored_columns
    mine = versions.c.superseded_by == batch_id
    days = _days_touched(connection, spec, batch_id)
    counts = Counts()
    counts.updated = connection.execute(
        update(table).where(table.c[key] == versions.c[key], mine,
                            versions.c.change == CHANGE_UPDATED)
        .values({name: versions.c[name] for name in names if name != key})).rowcount
    counts.deleted = connection.execute(
        delete(table).where(table.c.batch_id == batch_id)).rowcount
    counts.inserted = connection.execute(insert(table).from_select(
        names, select(*[versions.c[name] for name in names]).where(
            mine, versions.c.change == CHANGE_DELETED))).rowcount
    for column in spec.derived:
        if column.dictionary is not None:
            column.dictionary(connection).add_missing_from(versions, mine)
    connection.execute(delete(versions).where(mine))
    if spec.time_column:
        refresh_after_write(connection, days)
    return counts


def _days_touched(connection: Connection, spec: DatasetSpec, batch_id: int) -> set[date]:
    """The UTC days of the rows the batch wrote and of the rows it replaced."""
    if not spec.time_column:
        return set()
    table, versions = spec.table, spec.version_table
    days: set[date] = set()
    for source, where in ((table, table.c.batch_id == batch_id),
                          (versions, versions.c.superseded_by == batch_id)):
        day = day_of(source.c[spec.time_column])
        days |= {as_day(value) for value in connection.execute(
            select(day).where(where).distinct()).scalars()}
    return days
