"""The load pipeline shared by the upload page and ``flask load``: validate a file as it streams,
write it in bulk, all or nothing, and keep what undo needs.

A load (dry run or not) runs as:
1. take the dataset's lock (locks.py), or tell who is loading since when;
2. mark batches whose process died as interrupted, and commit this batch as "running";
3. in ONE transaction on the ops bind: stream the file through the checks, write the good rows
   chunk by chunk (so a key repeated far apart in the file is still found, without keeping
   every key in memory), keep prior versions of updated/deleted rows, delete what a replace
   leaves out, refresh the daily summary, and mark the batch succeeded;
4. commit only when no problem was found and it is not a dry run; otherwise roll back (nothing
   changed) and record the batch as failed (or validated) with its problems.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as dt_time
from typing import Callable

from flask import current_app
from sqlalchemy import delete, false, func, insert, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from .. import audit
from ..clock import utc_now
from ..database import engine_for
from ..datasets import DATASETS, DatasetSpec, ParseContext, get_dataset
from ..extensions import db
from ..models import LoadBatch, LoadError
from ..models.app_models import utcnow
from ..models.load_models import CHANGE_DELETED, CHANGE_UPDATED
from ..signals import load_committed
from ..summary import day_of, refresh_after_write
from ..templating import format_datetime
from .fields import FIELD_MARGIN
from .locks import DEFAULT_WAIT_SECONDS, DatasetLock
from .problems import FileRejected, Problem, ProblemLog
from .readers import open_source, read_as
from .storage import file_sha256
from .validation import RowChecker, plan_header
from .writers import writer_for

MODES = ('append', 'upsert', 'replace')
MODE_HELP = {
    'append': 'add new rows only; a key that already exists is an error',
    'upsert': 'insert new keys, update changed rows; unchanged rows are left alone',
    'replace': 'afterwards the dataset is exactly the file (rows not in it are deleted)',
}
#: Rows validated and written together.
CHUNK_ROWS = 5000

RUNNING, SUCCEEDED, FAILED, VALIDATED, INTERRUPTED, UNDONE = (
    'running', 'succeeded', 'failed', 'validated', 'interrupted', 'undone')
INTERRUPTED_MESSAGE = ('Interrupted: the process running this load stopped before it finished. '
                       'Nothing was changed; load the file again.')

Progress = Callable[[int, int], None]


class LoadRefused(Exception):
    """The load (or undo) was not started; the message says why and what to do."""


class LoadBusy(LoadRefused):
    pass


class DuplicateFile(LoadRefused):
    def __init__(self, message: str, previous: LoadBatch):
        super().__init__(message)
        self.previous = previous


@dataclass
class LoadRequest:
    dataset: str
    mode: str
    path: object
    file_name: str
    user: str
    dry_run: bool = False
    encoding: str = 'auto'
    #: None: sniffed from the header line
    delimiter: str | None = None
    allow_duplicate: bool = False
    sha256: str | None = None
    size: int | None = None
    lock_wait_seconds: float = DEFAULT_WAIT_SECONDS


@dataclass
class Counts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def loaded(self) -> int:
        """Rows of the file now in the database (new, changed or already equal)."""
        return self.inserted + self.updated + self.unchanged

    def nothing_changed(self) -> 'Counts':
        """The counts of a rejected load: rows were read, none was written."""
        return Counts(read=self.read)


@dataclass
class LoadOutcome:
    batch_id: int
    status: str
    dry_run: bool
    counts: Counts
    problems: ProblemLog
    #: What happened, without the warnings (the batch keeps those apart)
    summary: str
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (SUCCEEDED, VALIDATED)

    @property
    def message(self) -> str:
        """The whole report in one text: the summary, then each warning."""
        return ' '.join([self.summary, *self.warnings])


# -- batches -------------------------------------------------------------------------------
def describe_running(dataset: str | None) -> str:
    """"A load of responses is running since …" for the admin who has to wait."""
    query = select(LoadBatch).where(LoadBatch.status == RUNNING).order_by(LoadBatch.id.desc())
    if dataset is not None:
        query = query.where(LoadBatch.dataset == dataset)
    with engine_for('ops').connect() as connection:
        row = connection.execute(query.limit(1)).first()
    if row is None:
        return ('Another load is writing to the database right now. Try again in a minute.')
    what = 'an undo' if row.mode == 'undo' else f'a load'
    return (f'{what[0].upper()}{what[1:]} of {row.dataset} is running since '
            f'{format_datetime(row.started_at)} (batch #{row.id}, started by {row.loaded_by}). '
            'Try again when it has finished.')


def mark_interrupted(connection: Connection, datasets: set[str] | None) -> int:
    """Batches left running by a process that died (its lock is free: we hold it)."""
    statement = update(LoadBatch).where(LoadBatch.status == RUNNING).values(
        status=INTERRUPTED, finished_at=utcnow(), message=INTERRUPTED_MESSAGE)
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
                LoadBatch.status == RUNNING, LoadBatch.dataset == name))
        if not running:
            continue
        lock = DatasetLock(name, wait_seconds=0)
        if lock.acquire():
            try:
                with engine_for('ops').begin() as connection:
                    marked += mark_interrupted(connection, {name})
            finally:
                lock.release()
    return marked


def start_batch(lock: DatasetLock, **values) -> int:
    """Commit the batch as running (visible to other admins), after clearing dead ones."""
    with engine_for('ops').begin() as connection:
        mark_interrupted(connection, lock.covers)
        return connection.execute(insert(LoadBatch).values(
            status=RUNNING, started_at=utcnow(), rows_read=0, inserted=0, updated=0,
            unchanged=0, deleted=0, error_count=0, **values)).inserted_primary_key[0]


def finish_values(status: str, counts: Counts, problems: ProblemLog, message: str) -> dict:
    return dict(status=status, finished_at=utcnow(), rows_read=counts.read,
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
    with engine_for('ops').connect() as connection:
        return connection.execute(
            select(LoadBatch).where(LoadBatch.dataset == dataset, LoadBatch.sha256 == sha256,
                                    LoadBatch.dry_run == false(),
                                    LoadBatch.status == SUCCEEDED)
            .order_by(LoadBatch.id.desc()).limit(1)).first()


def begin_write(connection: Connection) -> None:
    """Start the load's transaction. SQLite takes its write lock up front (BEGIN IMMEDIATE),
    so a load never fails half-way on a lock; readers go on reading (WAL)."""
    if connection.dialect.name == 'sqlite':
        connection.exec_driver_sql('BEGIN IMMEDIATE')
    else:
        connection.begin()


def rollback_quietly(connection: Connection) -> None:
    """Roll back after a failure. A connection the database has dropped cannot roll back,
    and need not: the server discarded its transaction with the session."""
    try:
        connection.rollback()
    except DBAPIError as error:
        current_app.logger.warning('Rollback on a lost connection: %s',
                                   str(error.orig).splitlines()[0][:200])


def audit_and_commit(action: str, target: str, detail: str, user: str) -> None:
    audit.record(action, target=target, detail=detail, actor=user)
    db.session.commit()


# -- loading -------------------------------------------------------------------------------
def parse_context() -> ParseContext:
    """How this app reads cells: DATA_TIMEZONE and the plausible range of times."""
    config = current_app.config
    return ParseContext(config['DATA_TIMEZONE'], now=utc_now(),
                        max_clock_skew_minutes=config['MAX_CLOCK_SKEW_MINUTES'],
                        earliest=datetime.combine(config['EARLIEST_RESPONSE_DATE'], dt_time()))


def run_load(request: LoadRequest, progress: Progress | None = None) -> LoadOutcome:
    """Validate and (unless a dry run) load one file. Raises LoadRefused when the load cannot
    start (another load running, an identical file already loaded without confirmation)."""
    spec = get_dataset(request.dataset)
    if request.mode not in MODES:
        raise LoadRefused(f'Unknown mode {request.mode!r}: use one of {", ".join(MODES)}.')
    if request.sha256 is None or request.size is None:
        request.sha256, request.size = file_sha256(request.path)
    if not request.dry_run and not request.allow_duplicate:
        previous = previous_identical(spec.name, request.sha256)
        if previous is not None:
            raise DuplicateFile(
                f'This file is identical (same SHA-256) to the one loaded into {spec.name} as '
                f'batch #{previous.id} on {format_datetime(previous.started_at)} by '
                f'{previous.loaded_by}. Load it again only if that is what you mean.', previous)
    lock = DatasetLock(spec.name, request.lock_wait_seconds)
    if not lock.acquire():
        raise LoadBusy(describe_running(None if lock.covers is None else spec.name))
    try:
        batch_id = start_batch(lock, dataset=spec.name, mode=request.mode,
                               dry_run=request.dry_run, file_name=request.file_name[:260],
                               file_size=request.size, sha256=request.sha256,
                               loaded_by=request.user)
        outcome = Loader(spec, request, batch_id, progress).run()
    finally:
        lock.release()
    verb = 'dry-run' if request.dry_run else 'load'
    detail = (f'{request.mode} of {request.file_name} ({request.size:,} bytes, sha256 '
              f'{request.sha256[:12]}…): {outcome.message}')
    audit_and_commit(f'{verb}.{outcome.status}', f'{spec.name} batch #{batch_id}',
                     detail[:4000], request.user)
    load_committed.send(current_app._get_current_object(), dataset=spec.name, outcome=outcome)
    return outcome


class Loader:
    """One pass over one file inside one transaction."""

    def __init__(self, spec: DatasetSpec, request: LoadRequest, batch_id: int,
                 progress: Progress | None):
        self.spec = spec
        self.request = request
        self.mode = request.mode
        self.batch_id = batch_id
        self.progress = progress
        self.problems = ProblemLog()
        self.counts = Counts()
        #: how the file was read (LoadBatch.encoding / delimiter), once it is open
        self.read_as: dict = {}
        self.days: set[date] = set()
        self.key = spec.key
        self.key_index = spec.stored_columns.index(spec.key)
        self.time_index = (spec.stored_columns.index(spec.time_column)
                           if spec.time_column else None)
        self.width = len(spec.column_names)
        self.derived = [(spec.column_names.index(column.source), column.compute)
                        for column in spec.derived]

    def run(self) -> LoadOutcome:
        started = time.perf_counter()
        connection = engine_for('ops').connect()
        committed = False
        try:
            begin_write(connection)
            self.writer = writer_for(connection, self.spec, self.batch_id)
            try:
                self.stream(connection)
            except FileRejected as rejected:
                self.problems.add(*rejected.problem)
            if not self.problems and self.mode == 'replace':
                self.delete_rows_not_in_file(connection)
            if self.problems or self.request.dry_run:
                connection.rollback()
            else:
                self.writer.finish_writes()
                if self.spec.time_column:
                    refresh_after_write(connection, self.days)
                self.writer.drop_keep_table()
                connection.execute(update(LoadBatch).where(LoadBatch.id == self.batch_id).values(
                    **finish_values(SUCCEEDED, self.counts, self.problems, self.message(SUCCEEDED)),
                    **self.read_as))
                connection.commit()
                committed = True
        except Exception as error:
            rollback_quietly(connection)
            # The bulk writers use the driver's cursor, so its errors arrive unwrapped.
            driver_error = error.orig if isinstance(error, DBAPIError) else error
            if isinstance(driver_error, connection.dialect.loaded_dbapi.Error):
                current_app.logger.exception('Load of batch %s failed in the database',
                                             self.batch_id)
                self.problems.add(None, None, None,
                                  'The database refused the load, so nothing was changed: '
                                  f'{(str(driver_error).splitlines() or [""])[0][:300]}')
            else:
                current_app.logger.exception('Load of batch %s failed', self.batch_id)
                self.problems.add(None, None, None,
                                  'Flowdesk hit an unexpected error while loading; nothing was '
                                  'changed. The error has been logged.')
        finally:
            connection.close()
        self.problems.kept.sort(key=lambda p: (p.line is not None, p.line or 0))
        if committed:
            status = SUCCEEDED
        else:
            status = FAILED if self.problems else VALIDATED
            if status == FAILED:
                self.counts = self.counts.nothing_changed()
            record_outcome(self.batch_id, status, self.counts, self.problems, self.message(status),
                           **self.read_as)
        return LoadOutcome(batch_id=self.batch_id, status=status, dry_run=self.request.dry_run,
                           counts=self.counts, problems=self.problems, summary=self.message(status),
                           seconds=time.perf_counter() - started,
                           warnings=self.problems.warnings)

    def message(self, status: str) -> str:
        c = self.counts
        changes = (f'{c.inserted:,} inserted, {c.updated:,} updated, {c.unchanged:,} unchanged, '
                   f'{c.deleted:,} deleted')
        if status == SUCCEEDED:
            text = f'{c.loaded:,} records loaded into {self.spec.name} ({changes}).'
        elif status == VALIDATED:
            text = (f'Dry run: the file is valid and nothing was changed. Loading it would give '
                    f'{changes}.')
        else:
            text = (f'Rejected: {self.problems.count:,} problem{"s" if self.problems.count != 1 else ""} '
                    'found; nothing was changed. Fix the file and load it again.')
        return text

    # -- the pass over the file ------------------------------------------------------------
    def stream(self, connection: Connection) -> None:
        source = open_source(self.request.path, self.request.encoding, self.request.delimiter)
        self.read_as = read_as(source)
        try:
            if getattr(source, 'encoding', None) == 'cp1252':
                self.problems.warn('The file was read as Windows-1252 (it is not UTF-8).')
            rows = source.rows()
            first = next(rows, None)
            if first is None:
                raise FileRejected('The file is empty: it has no header row and no data.')
            plan = plan_header(self.spec, first[0], first[1], self.problems)
            source.max_fields = plan.width + FIELD_MARGIN
            context = parse_context()
            checker = RowChecker(self.spec, plan, context, self.problems, source)
            references = self.reference_checks(connection)
            check, batch_id, counts, derived = (checker.check, self.batch_id, self.counts,
                                                self.derived)
            lines, chunk = [], []
            size = max(source.size, 1)
            for line, cells in rows:
                counts.read += 1
                values = check(line, cells)
                if values is None:
                    continue
                for index, known, name, label in references:
                    if values[index] not in known:
                        self.problems.add(line, name, values[index],
                                          f'{name} {values[index]} names no {label} in the '
                                          f'database: load the {label}s first.')
                        values = None
                        break
                if values is None:
                    continue
                values.append(batch_id)
                for source_index, compute in derived:
                    values.append(compute(values[source_index]))
                lines.append(line)
                chunk.append(values)
                if len(chunk) >= CHUNK_ROWS:
                    self.write_chunk(lines, chunk)
                    lines, chunk = [], []
                    if self.progress:
                        self.progress(source.bytes_read(), size)
            self.write_chunk(lines, chunk)
            for warning in context.overlaps.warnings():
                self.problems.warn(warning)
            if self.progress:
                self.progress(size, size)
            if counts.read == 0:
                raise FileRejected('The file has a header row but no data rows.', line=first[0])
        finally:
            source.close()

    def reference_checks(self, connection: Connection):
        """(column index, keys that exist, column name, what it names) per reference."""
        checks = []
        for name, dataset in self.spec.references.items():
            other = DATASETS[dataset]
            key = other.table.c[other.key]
            known = set(connection.execute(select(key)).scalars())
            checks.append((self.spec.column_names.index(name), known, name, dataset.rstrip('s')))
        return checks

    def write_chunk(self, lines: list[int], chunk: list[list]) -> None:
        if not chunk:
            return
        key_index, batch_id, problems, key = self.key_index, self.batch_id, self.problems, self.key
        width = self.width
        keys = [values[key_index] for values in chunk]
        existing = self.writer.fetch_existing(keys)
        kept = self.writer.kept_lines(keys)
        seen: dict = {}
        inserts, updates, old_rows, unchanged = [], [], [], []
        for line, values in zip(lines, chunk):
            value = values[key_index]
            if value in seen:
                problems.add(line, key, value, f'{key} {value} is repeated: line {seen[value]} '
                                               'of this file has it too.')
                continue
            seen[value] = line
            if value in kept:
                problems.add(line, key, value, f'{key} {value} is repeated: line {kept[value]} '
                                               'of this file has it too.')
                continue
            old = existing.get(value)
            if old is None:
                inserts.append(values)
            elif old[width] == batch_id:
                problems.add(line, key, value, f'{key} {value} is repeated: an earlier line of '
                                               'this file has it too.')
            elif self.mode == 'append':
                problems.add(line, key, value,
                             f'{key} {value} already exists (loaded by batch #{old[width]}). '
                             'Append only adds new keys: use upsert or replace to change it.')
            elif tuple(old[:width]) == tuple(values[:width]):
                unchanged.append((value, line))
            else:
                updates.append(values)
                old_rows.append(old)
        writer = self.writer
        writer.insert(inserts)
        writer.save_versions(old_rows, CHANGE_UPDATED)
        writer.update(updates)
        if unchanged:
            if not writer.kept_keys:
                writer.create_keep_table()
            writer.keep_rows(unchanged)
        counts = self.counts
        counts.inserted += len(inserts)
        counts.updated += len(updates)
        counts.unchanged += len(unchanged)
        time_index = self.time_index
        if time_index is not None and not self.request.dry_run:
            days = self.days
            for values in inserts:
                days.add(values[time_index].date())
            for values in updates:
                days.add(values[time_index].date())
            for old in old_rows:
                days.add(old[time_index].date())

    def delete_rows_not_in_file(self, connection: Connection) -> None:
        writer = self.writer
        if not writer.kept_keys:
            writer.create_keep_table()
        for other in DATASETS.values():
            for column_name, dataset in other.references.items():
                if dataset != self.spec.name:
                    continue
                still_used = writer.rows_not_in_file_referenced(other, column_name)
                if still_used:
                    listing = ', '.join(str(key) for key in still_used)
                    self.problems.add(None, self.spec.key, listing,
                                      f'Replace would delete {self.spec.name} that {other.name} '
                                      f'still name ({listing}{"…" if len(still_used) >= 20 else ""}). '
                                      f'Keep them in the file, or remove their {other.name} first.')
        if self.problems:
            return
        if not self.request.dry_run:
            self.days |= writer.days_not_in_file()
        self.counts.deleted = writer.delete_not_in_file()


# -- undo ----------------------------------------------------------------------------------
def undo_refusal(connection: Connection, batch) -> str | None:
    """Why this batch cannot be undone (None: it can)."""
    if batch is None:
        return 'There is no such load batch.'
    if batch.dataset not in DATASETS or batch.mode not in MODES:
        return f'Batch #{batch.id} is not a load of flows or responses; it cannot be undone.'
    if batch.dry_run:
        return f'Batch #{batch.id} was a dry run: it changed nothing, so there is nothing to undo.'
    if batch.status == UNDONE:
        return f'Batch #{batch.id} has already been undone (by batch #{batch.undone_by}).'
    if batch.status != SUCCEEDED:
        return f'Batch #{batch.id} {batch.status}: it changed nothing, so there is nothing to undo.'
    later = connection.execute(
        select(LoadBatch.id).where(LoadBatch.dataset == batch.dataset, LoadBatch.id > batch.id,
                                   LoadBatch.dry_run == false(), LoadBatch.status == SUCCEEDED,
                                   LoadBatch.mode.in_(MODES))
        .order_by(LoadBatch.id.desc()).limit(1)).scalar()
    if later is not None:
        return (f'Batch #{batch.id} is not the most recent load of {batch.dataset}: batch #{later} '
                'came after it. Undo the most recent load first; loads are undone in reverse order.')
    return None


def undoable_batch_ids() -> set[int]:
    """The one undoable batch per dataset (for showing undo buttons)."""
    ids = set()
    with engine_for('ops').connect() as connection:
        for name in DATASETS:
            latest = connection.execute(
                select(LoadBatch).where(LoadBatch.dataset == name, LoadBatch.dry_run == false(),
                                        LoadBatch.status == SUCCEEDED, LoadBatch.mode.in_(MODES))
                .order_by(LoadBatch.id.desc()).limit(1)).first()
            if latest is not None:
                ids.add(latest.id)
    return ids


@dataclass
class UndoOutcome:
    batch_id: int
    undone_batch_id: int
    status: str
    removed: int
    restored: int
    message: str


def undo_batch(batch_id: int, user: str, lock_wait_seconds: float = DEFAULT_WAIT_SECONDS) -> UndoOutcome:
    """Return the dataset exactly to its state before batch ``batch_id`` (its most recent
    load): rows it inserted are removed, rows it updated or deleted are restored."""
    with engine_for('ops').connect() as connection:
        batch = connection.execute(select(LoadBatch).where(LoadBatch.id == batch_id)).first()
        refusal = undo_refusal(connection, batch)
    if refusal:
        raise LoadRefused(refusal)
    spec = DATASETS[batch.dataset]
    lock = DatasetLock(spec.name, lock_wait_seconds)
    if not lock.acquire():
        raise LoadBusy(describe_running(None if lock.covers is None else spec.name))
    try:
        undo_id = start_batch(lock, dataset=spec.name, mode='undo', dry_run=False,
                              file_name=f'undo of batch #{batch_id}', loaded_by=user,
                              undo_of=batch_id)
        outcome = _undo(spec, batch_id, undo_id)
    finally:
        lock.release()
    audit_and_commit(f'undo.{outcome.status}', f'{spec.name} batch #{batch_id}',
                     outcome.message, user)
    return outcome


def _undo(spec: DatasetSpec, batch_id: int, undo_id: int) -> UndoOutcome:
    table, versions = spec.table, spec.version_table
    key = spec.key
    names = spec.stored_columns
    counts, problems = Counts(), ProblemLog()
    connection = engine_for('ops').connect()
    try:
        begin_write(connection)
        batch = connection.execute(select(LoadBatch).where(LoadBatch.id == batch_id)).first()
        refusal = undo_refusal(connection, batch)
        if refusal:
            raise LoadRefused(refusal)
        mine = versions.c.superseded_by == batch_id
        days: set[date] = set()
        if spec.time_column:
            for source, where in ((table, table.c.batch_id == batch_id), (versions, mine)):
                day = day_of(source.c[spec.time_column])
                days |= {_as_day(value) for value in connection.execute(
                    select(day).where(where).distinct()).scalars()}
        restored_updates = connection.execute(
            update(table).where(table.c[key] == versions.c[key], mine,
                                versions.c.change == CHANGE_UPDATED)
            .values({name: versions.c[name] for name in names if name != key})).rowcount
        removed = connection.execute(delete(table).where(table.c.batch_id == batch_id)).rowcount
        restored_deleted = connection.execute(insert(table).from_select(
            names, select(*[versions.c[name] for name in names]).where(
                mine, versions.c.change == CHANGE_DELETED))).rowcount
        connection.execute(delete(versions).where(mine))
        if spec.time_column:
            refresh_after_write(connection, days)
        counts.deleted = removed
        counts.updated = restored_updates
        counts.inserted = restored_deleted
        message = (f'Undid batch #{batch_id}: {removed - 0:,} rows it wrote were removed, '
                   f'{restored_updates:,} updated rows were put back as they were and '
                   f'{restored_deleted:,} deleted rows were restored.')
        connection.execute(update(LoadBatch).where(LoadBatch.id == batch_id).values(
            status=UNDONE, undone_by=undo_id))
        connection.execute(update(LoadBatch).where(LoadBatch.id == undo_id).values(
            **finish_values(SUCCEEDED, counts, problems, message)))
        connection.commit()
        return UndoOutcome(undo_id, batch_id, SUCCEEDED, removed, restored_updates + restored_deleted,
                           message)
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
        message = f'The database refused the undo, nothing was changed: {str(error.orig).splitlines()[0][:300]}'
    finally:
        connection.close()
    problems.add(None, None, None, message)
    record_outcome(undo_id, FAILED, counts, problems, message)
    return UndoOutcome(undo_id, batch_id, FAILED, 0, 0, message)


def _as_day(value) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


__all__ = ['MODES', 'MODE_HELP', 'LoadRequest', 'LoadOutcome', 'LoadRefused', 'LoadBusy',
           'DuplicateFile', 'run_load', 'undo_batch', 'undo_refusal', 'undoable_batch_ids',
           'sweep_interrupted', 'literal']
