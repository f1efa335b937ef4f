"""One pass over one file inside one transaction on the ops bind: stream the rows through the
checks, write the good ones chunk by chunk (so a key repeated far apart in the file is still
found, without keeping every key in memory), keep prior versions of updated and deleted rows,
delete what a replace leaves out, refresh the daily summary, and commit only when no problem
was found and it is not a dry run."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
from itertools import repeat
from operator import itemgetter

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ..clock import utc_now
from ..database import engine_for
from ..datasets import DATASETS, DatasetSpec, ParseContext
from ..models import BATCH_FAILED, BATCH_SUCCEEDED, BATCH_VALIDATED, LoadBatch
from ..models.load_models import CHANGE_UPDATED
from .batches import finish_values, record_outcome
from .outcomes import Counts, LoadOutcome, LoadRequest, Progress
from .parse_process import (
    ParseJob,
    ParseProcess,
    ParseProcessFailed,
    ParseProcessStopped,
    start_parse_process,
)
from .problems import FileRejected, ProblemLog
from .readers import first_row, open_source, read_as
from .transactions import begin_write, rollback_quietly
from .validation import make_checker
from .writers import writer_for

#: Rows validated and written together.
CHUNK_ROWS = 5000


def parse_context() -> ParseContext:
    """How this app reads cells: DATA_TIMEZONE and the plausible range of times."""
    config = current_app.config
    return ParseContext(config['DATA_TIMEZONE'], now=utc_now(),
                        max_clock_skew_minutes=config['MAX_CLOCK_SKEW_MINUTES'],
                        earliest=datetime.combine(config['EARLIEST_RESPONSE_DATE'], dt_time()))


@dataclass
class SortedChunk:
    """A chunk's good rows by what writing them does."""
    inserts: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    #: the stored rows the updates replace (kept as prior versions)
    old_rows: list = field(default_factory=list)
    #: (key, line) of rows already stored exactly so
    unchanged: list = field(default_factory=list)


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
        #: How problems name each column (a source profile: the source's own names).
        self.labels = spec.column_names
        #: A column that must not change under a key (a profile that derives keys from text
        #: ids: the id itself), so that two ids hashing alike never overwrite each other.
        identity = getattr(request.profile, 'identity_column', None)
        self.identity_index = spec.column_names.index(identity) if identity else None

    # -- the transaction -------------------------------------------------------------------
    def run(self) -> LoadOutcome:
        started = time.perf_counter()
        connection = engine_for('ops').connect()
        committed = False
        try:
            committed = self.load(connection)
        except Exception as error:
            rollback_quietly(connection)
            self.problems.add(None, None, None, self.failure_message(connection, error))
        finally:
            connection.close()
        return self.outcome(committed, started)

    def load(self, connection: Connection) -> bool:
        """Check and write the whole file; True when it was committed."""
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
            return False
        self.writer.finish_writes()
        if self.spec.time_column:
            self.writer.refresh_summaries(self.days)
        self.writer.drop_keep_table()
        connection.execute(update(LoadBatch).where(LoadBatch.id == self.batch_id).values(
            **finish_values(BATCH_SUCCEEDED, self.counts, self.problems,
                            self.message(BATCH_SUCCEEDED)),
            **self.read_as))
        connection.commit()
        return True

    def failure_message(self, connection: Connection, error: Exception) -> str:
        """Log an error that stopped the load; the problem to report for it."""
        # The bulk writers use the driver's cursor, so its errors arrive unwrapped.
        if isinstance(error, ParseProcessStopped):
            current_app.logger.error('Load of batch %s: %s', self.batch_id, error)
            return str(error)
        if isinstance(error, ParseProcessFailed):
            current_app.logger.error('Load of batch %s failed in its checking process:\n%s',
                                     self.batch_id, error.details)
            return ('Flowdesk hit an unexpected error while loading; nothing was changed. '
                    'The error has been logged.')
        driver_error = error.orig if isinstance(error, DBAPIError) else error
        if isinstance(driver_error, connection.dialect.loaded_dbapi.Error):
            current_app.logger.exception('Load of batch %s failed in the database', self.batch_id)
            return ('The database refused the load, so nothing was changed: '
                    f'{(str(driver_error).splitlines() or [""])[0][:300]}')
        current_app.logger.exception('Load of batch %s failed', self.batch_id)
        return ('Flowdesk hit an unexpected error while loading; nothing was changed. '
                'The error has been logged.')

    def outcome(self, committed: bool, started: float) -> LoadOutcome:
        """The outcome; a load that was not committed gets its batch record here."""
        self.problems.kept.sort(key=lambda p: (p.line is not None, p.line or 0))
        if committed:
            status = BATCH_SUCCEEDED
        else:
            status = BATCH_FAILED if self.problems else BATCH_VALIDATED
            if status == BATCH_FAILED:
                self.counts = self.counts.nothing_changed()
            record_outcome(self.batch_id, status, self.counts, self.problems,
                           self.message(status), **self.read_as)
        return LoadOutcome(batch_id=self.batch_id, status=status, dry_run=self.request.dry_run,
                           counts=self.counts, problems=self.problems,
                           summary=self.message(status),
                           seconds=time.perf_counter() - started,
                           warnings=self.problems.warnings)

    def message(self, status: str) -> str:
        c = self.counts
        changes = (f'{c.inserted:,} inserted, {c.updated:,} updated, {c.unchanged:,} unchanged, '
                   f'{c.deleted:,} deleted')
        if status == BATCH_SUCCEEDED:
            return f'{c.loaded:,} records loaded into {self.spec.name} ({changes}).'
        if status == BATCH_VALIDATED:
            return ('Dry run: the file is valid and nothing was changed. Loading it would give '
                    f'{changes}.')
        count = self.problems.count
        return (f'Rejected: {count:,} problem{"s" if count != 1 else ""} '
                'found; nothing was changed. Fix the file and load it again.')

    # -- the pass over the file ------------------------------------------------------------
    def stream(self, connection: Connection) -> None:
        remote = self.parse_process()
        if remote is not None:
            return self.stream_from(remote, connection)
        source = open_source(self.request.path, self.request.encoding, self.request.delimiter)
        self.read_as = read_as(source)
        try:
            if getattr(source, 'encoding', None) == 'cp1252':
                self.problems.warn('The file was read as Windows-1252 (it is not UTF-8).')
            rows = source.rows()
            first = first_row(source, rows)
            context = parse_context()
            checker = make_checker(self.spec, self.request.profile, first, context,
                                   self.problems, source)
            self.labels = checker.labels
            self.check_and_write(rows, checker.check, self.reference_checks(connection), source)
            for warning in [*context.overlaps.warnings(), *getattr(checker, 'notes', list)()]:
                self.problems.warn(warning)
            if self.progress:
                self.progress(max(source.size, 1), max(source.size, 1))
            if self.counts.read == 0:
                raise FileRejected('The file has a header row but no data rows.', line=first[0])
        finally:
            source.close()

    def parse_process(self) -> ParseProcess | None:
        """A second process that reads and checks the rows (parse_process.py), for a file
        large enough to repay starting it; None: this process checks them itself."""
        request = self.request
        return start_parse_process(
            ParseJob(str(request.path), request.encoding, request.delimiter, self.spec.name,
                     request.profile, parse_context(), self.batch_id), request.size)

    def stream_from(self, remote: ParseProcess, connection: Connection) -> None:
        """``stream`` with the rows read and checked by the second process."""
        try:
            self.read_as, cp1252 = remote.opened()
            if cp1252:
                self.problems.warn('The file was read as Windows-1252 (it is not UTF-8).')
            header_line, self.labels, warnings = remote.header()
            for warning in warnings:
                self.problems.warn(warning)
            self.check_and_write(remote.rows(), remote.checker(self.problems),
                                 self.reference_checks(connection), remote, complete=True)
            for warning in remote.notes:
                self.problems.warn(warning)
            if self.progress:
                self.progress(max(remote.size, 1), max(remote.size, 1))
            if self.counts.read == 0:
                raise FileRejected('The file has a header row but no data rows.',
                                   line=header_line)
        finally:
            remote.close()

    def check_and_write(self, rows, check, references, source, complete=False) -> None:
        """Check every data row; write the good ones every CHUNK_ROWS rows. This loop runs for
        every row of million-row files, so it keeps to locals and skips the reference check's
        call for a row whose one reference exists. ``complete``: the rows arrive with the
        batch id and the derived columns (the second process filled them)."""
        size = max(source.size, 1)
        finish = (lambda rows: rows) if complete else self.completed
        index, known = references[0][:2] if len(references) == 1 else (0, None)
        lines, chunk = [], []
        read = 0
        try:
            for line, cells in rows:
                read += 1
                values = check(line, cells)
                if values is None or (references and (known is None
                                                      or values[index] not in known)
                                      and not self.references_exist(line, values, references)):
                    continue
                lines.append(line)
                chunk.append(values)
                if len(chunk) >= CHUNK_ROWS:
                    self.counts.read += read
                    read = 0
                    self.write_chunk(lines, finish(chunk))
                    lines, chunk = [], []
                    if self.progress:
                        self.progress(source.bytes_read(), size)
        finally:
            self.counts.read += read
        self.write_chunk(lines, finish(chunk))

    def completed(self, chunk: list[list]) -> list[list]:
        """The rows with the batch id and derived columns appended, in C (``map``), not per row."""
        columns = [repeat(self.batch_id), *(map(compute, map(itemgetter(index), chunk))
                                             for index, compute in self.derived)]
        deque(map(list.extend, chunk, zip(*columns, strict=False)), maxlen=0)  # runs the extends
        return chunk

    def reference_checks(self, connection: Connection):
        """(column index, keys that exist, column name, what it names) per reference."""
        checks = []
        for name, dataset in self.spec.references.items():
            other = DATASETS[dataset]
            key = other.table.c[other.key]
            known = set(connection.execute(select(key)).scalars())
            index = self.spec.column_names.index(name)
            checks.append((index, known, self.labels[index], dataset.rstrip('s')))
        return checks

    def references_exist(self, line: int, values: list, references) -> bool:
        """Does every reference of the row name a stored row? (A problem when not.)"""
        for index, known, name, label in references:
            if values[index] not in known:
                self.problems.add(line, name, values[index],
                                  f'{name} {values[index]} names no {label} in the '
                                  f'database: load the {label}s first.')
                return False
        return True

    # -- writing a chunk -------------------------------------------------------------------
    def write_chunk(self, lines: list[int], chunk: list[list]) -> None:
        if not chunk:
            return
        rows = self.sort_chunk(lines, chunk)
        writer = self.writer
        writer.insert(rows.inserts)
        writer.save_versions(rows.old_rows, CHANGE_UPDATED)
        writer.update(rows.updates)
        if rows.unchanged:
            if not writer.kept_keys:
                writer.create_keep_table()
            writer.keep_rows(rows.unchanged)
        self.counts.inserted += len(rows.inserts)
        self.counts.updated += len(rows.updates)
        self.counts.unchanged += len(rows.unchanged)
        if self.time_index is not None and not self.request.dry_run:
            self.note_days(rows)

    def sort_chunk(self, lines: list[int], chunk: list[list]) -> SortedChunk:
        """Sort the chunk's rows into inserts, updates and unchanged rows, against the stored
        rows with the same keys; a repeated key (or, for append, an existing one) is a problem."""
        key_index, batch_id, problems, key = self.key_index, self.batch_id, self.problems, self.key
        width, identity = self.width, self.identity_index
        keys = [values[key_index] for values in chunk]
        existing = self.writer.fetch_existing(keys)
        kept = self.writer.kept_lines(keys)
        rows = SortedChunk()
        if not existing and not kept and len(set(keys)) == len(keys):
            rows.inserts = chunk  # every key new, and once: the usual chunk of a large load
            return rows
        seen: dict = {}
        for line, values in zip(lines, chunk, strict=True):
            value = values[key_index]
            earlier = seen[value] if value in seen else kept.get(value)
            if earlier is not None:
                column, shown = self.key_named(values)
                problems.add(line, column, shown, f'{column} {shown} is repeated: line {earlier} '
                                                  'of this file has it too.')
                continue
            seen[value] = line
            old = existing.get(value)
            if old is None:
                rows.inserts.append(values)
            elif identity is not None and old[identity] != values[identity]:
                problems.add(line, self.labels[identity], values[identity],
                             f'{key} {value}, derived from {values[identity]}, is already '
                             f'stored for {old[identity]} (two ids give the same number): '
                             'load this row with an id of its own.')
            elif old[width] == batch_id:
                column, shown = self.key_named(values)
                problems.add(line, column, shown, f'{column} {shown} is repeated: an earlier '
                                                  'line of this file has it too.')
            elif self.mode == 'append':
                column, shown = self.key_named(values)
                problems.add(line, column, shown,
                             f'{column} {shown} already exists (loaded by batch #{old[width]}). '
                             'Append only adds new keys: use upsert or replace to change it.')
            elif tuple(old[:width]) == tuple(values[:width]):
                rows.unchanged.append((value, line))
            else:
                rows.updates.append(values)
                rows.old_rows.append(old)
        return rows

    def key_named(self, values: list) -> tuple[str, object]:
        """How a problem names a row's key: the dataset's key, or the text id (under its source
        column) that a source profile derived the key from."""
        if self.identity_index is None:
            return self.key, values[self.key_index]
        return self.labels[self.identity_index], values[self.identity_index]

    def note_days(self, rows: SortedChunk) -> None:
        """The UTC days whose summary the written rows change (old and new times)."""
        time_index, days = self.time_index, self.days
        days.update({values[time_index].date() for values in rows.inserts})
        for values in rows.updates:
            days.add(values[time_index].date())
        for old in rows.old_rows:
            days.add(old[time_index].date())

    def delete_rows_not_in_file(self, connection: Connection) -> None:
        writer = self.writer
        if not writer.kept_keys:
            writer.create_keep_table()
        self.refuse_deleting_referenced_rows()
        if self.problems:
            return
        if not self.request.dry_run:
            self.days |= writer.days_not_in_file()
        self.counts.deleted = writer.delete_not_in_file()

    def refuse_deleting_referenced_rows(self) -> None:
        """A replace must not delete rows another dataset still names (a problem per dataset)."""
        for other in DATASETS.values():
            for column_name, dataset in other.references.items():
                if dataset != self.spec.name:
                    continue
                still_used = self.writer.rows_not_in_file_referenced(other, column_name)
                if still_used:
                    listing = ', '.join(str(key) for key in still_used)
                    more = '…' if len(still_used) >= 20 else ''
                    self.problems.add(None, self.spec.key, listing,
                                      f'Replace would delete {self.spec.name} that {other.name} '
                                      f'still name ({listing}{more}). '
                                      f'Keep them in the file, or remove their {other.name} first.')
