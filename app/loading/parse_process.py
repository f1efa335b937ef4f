"""Reading and checking a large file's rows in a second process while the load's own process
writes them, so a load can use two cores.

The load's process keeps everything that touches the database (the lock, the one transaction,
the reference check, sorting rows into inserts and updates, writing, the summary), so a load is
all or nothing exactly as before. The second process only reads the file and runs the row
checker (validation.py, or a source profile's), then hands the rows over in batches of
``BATCH_ROWS`` through a pipe: each row as its stored values (with the batch id and derived
columns filled), or as the problems the checker found on it, in file order, so the loader adds
them to its problem log where it would have found them itself and the report is the same.

It is started with the *spawn* method on every platform (the only one Windows has), runs no
Flask app and opens no database. A pipe holds little, so the second process waits whenever it
is more than a batch or two ahead: memory stays flat. Whatever way it stops early (an error, a
kill) the load's process gets an error instead of the rest of the rows and rolls everything
back; a load that stops for any other reason ends the second process (``close``).

Used when ``LOAD_PARSE_PROCESS`` is on and the file has at least ``LOAD_PARSE_PROCESS_MIN_BYTES``
(starting a process and importing the app costs about half a second); when the process cannot
be started, the load checks its rows itself. ``LOAD_PARSE_PYTHON`` names the interpreter to
start when ``sys.executable`` is not a plain python (docs/deploy-iis.md).
"""
from __future__ import annotations

import multiprocessing
import pickle  # nosec B403  # only to see that the job can be sent; nothing is unpickled
import traceback
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..datasets import DATASETS, ParseContext
from .problems import FileRejected, Problem, ProblemLog, shorten
from .readers import first_row, open_source, read_as
from .validation import make_checker

#: Rows sent together (about 90 KB pickled for responses).
BATCH_ROWS = 1000
#: Seconds a finished second process gets to exit before it is ended.
EXIT_WAIT_SECONDS = 10
OPENED, HEADER, ROWS, DONE, REJECTED, FAILED = 'opened', 'header', 'rows', 'done', 'rejected', \
    'failed'


@dataclass(frozen=True)
class ParseJob:
    """What the second process needs: the file, how to read it, how to check it."""
    path: str
    encoding: str
    delimiter: str | None
    dataset: str
    profile: object
    context: ParseContext
    batch_id: int


class ParseProcessStopped(RuntimeError):
    """The second process ended before it handed over the whole file."""


class ParseProcessFailed(RuntimeError):
    """The second process hit an unexpected error; ``details`` is its traceback."""

    def __init__(self, details: str):
        super().__init__('The process checking the file failed.')
        self.details = details


# -- the second process -------------------------------------------------------------------
class ForwardLog(ProblemLog):
    """The second process's problem log: it keeps the current row's problems until the row is
    handed over (``take``), and the header's warnings."""

    def __init__(self):
        super().__init__(keep=0)
        self.pending: list[Problem] = []

    def add(self, line, column, value, message) -> None:
        self.count += 1
        self.pending.append(Problem(line, column, shorten(value), message))

    def take(self) -> tuple[Problem, ...]:
        problems = tuple(self.pending)
        self.pending.clear()
        return problems


def check_in_child(conn, job: ParseJob) -> None:
    """The second process's whole work; everything it has to say goes through ``conn``."""
    try:
        check_file(conn, job)
    except FileRejected as rejected:
        send_quietly(conn, (REJECTED, rejected.problem))
    except BaseException:  # noqa: BLE001  # the load's process reports and logs it
        send_quietly(conn, (FAILED, traceback.format_exc()))
    finally:
        conn.close()


def send_quietly(conn, message) -> None:
    try:
        conn.send(message)
    except OSError:  # the load's process has gone or stopped listening
        pass


def check_file(conn, job: ParseJob) -> None:
    spec = DATASETS[job.dataset]
    source = open_source(Path(job.path), job.encoding, job.delimiter)
    try:
        conn.send((OPENED, read_as(source), source.size,
                   getattr(source, 'encoding', None) == 'cp1252'))
        rows = source.rows()
        first = first_row(source, rows)
        log = ForwardLog()
        checker = make_checker(spec, job.profile, first, job.context, log, source)
        conn.send((HEADER, first[0], list(checker.labels), log.warnings))
        send_rows(conn, rows, checker.check, log, job, source)
        conn.send((DONE, [*job.context.overlaps.warnings(),
                          *getattr(checker, 'notes', list)()]))
    finally:
        source.close()


def send_rows(conn, rows, check, log: ForwardLog, job: ParseJob, source) -> None:
    """Every row, checked, in batches: (line, stored values) or (line, its problems)."""
    spec = DATASETS[job.dataset]
    batch_id = job.batch_id
    derived = [(spec.column_names.index(column.source), column.compute)
               for column in spec.derived]
    batch: list = []
    try:
        for line, cells in rows:
            values = check(line, cells)
            if values is None:
                batch.append((line, log.take()))
            else:
                values.append(batch_id)
                for source_index, compute in derived:
                    values.append(compute(values[source_index]))
                batch.append((line, values))
            if len(batch) >= BATCH_ROWS:
                conn.send((ROWS, batch, source.bytes_read()))
                batch = []
    except FileRejected:
        conn.send((ROWS, batch, source.bytes_read()))  # the rows before the unreadable one
        raise
    conn.send((ROWS, batch, source.bytes_read()))


# -- the load's end -----------------------------------------------------------------------
def can_send(job: ParseJob) -> bool:
    """Can the job cross to another process? (A profile of an unusual kind might not.)"""
    try:
        pickle.dumps(job)
    except (pickle.PicklingError, TypeError, AttributeError):
        return False
    return True


def start_parse_process(job: ParseJob, size: int | None) -> ParseProcess | None:
    """The second process for this load, or None when the load checks its rows itself: the
    setting is off, the file is too small to repay the start, or no process can start."""
    config = current_app.config
    if not config['LOAD_PARSE_PROCESS'] or (size or 0) < config['LOAD_PARSE_PROCESS_MIN_BYTES'] \
            or not can_send(job):
        return None
    try:
        return ParseProcess(job, config['LOAD_PARSE_PYTHON'])
    except OSError as error:
        current_app.logger.warning('Load of batch %s checks its rows itself: no second '
                                   'process (%s)', job.batch_id, error)
        return None


class ParseProcess:
    """The second process as the loader sees it: a source of (line, entry) pairs, where an
    entry is the row's stored values or the problems found on it, plus the file's size and
    how far the reading is (progress)."""

    def __init__(self, job: ParseJob, python: str | None = None):
        context = multiprocessing.get_context('spawn')
        if python:
            context.set_executable(python)
        self.conn, child_end = context.Pipe(duplex=False)
        self.process = context.Process(target=check_in_child, args=(child_end, job),
                                       name=f'flowdesk-load-{job.batch_id}', daemon=True)
        try:
            self.process.start()
        except BaseException:
            self.conn.close()
            raise
        finally:
            child_end.close()  # only the child holds it now: its end closing means EOF here
        self.size = 1
        self.position = 0
        self.finished = False
        self.notes: list[str] = []

    def receive(self, expected: str) -> tuple:
        try:
            kind, *message = self.conn.recv()
        except (EOFError, OSError):
            self.process.join(EXIT_WAIT_SECONDS)
            raise ParseProcessStopped(
                'The process checking the file stopped before it finished (exit code '
                f'{self.process.exitcode}), so nothing was changed. Load the file again.'
            ) from None
        if kind == REJECTED:
            rejected = FileRejected(message[0].message)
            rejected.problem = message[0]
            raise rejected
        if kind == FAILED:
            raise ParseProcessFailed(message[0])
        if kind != expected and not (expected == ROWS and kind == DONE):
            raise ParseProcessFailed(f'expected {expected}, got {kind}')
        if kind == DONE:
            self.finished = True
            self.notes = message[0]
        return kind, *message

    def opened(self) -> tuple[dict, bool]:
        """How the file is read, and whether it was read as Windows-1252."""
        _kind, how, self.size, cp1252 = self.receive(OPENED)
        return how, cp1252

    def header(self) -> tuple[int, list[str], list[str]]:
        """The header's line, how problems name the columns, the header's warnings."""
        return self.receive(HEADER)[1:]

    def rows(self):
        while True:
            kind, *message = self.receive(ROWS)
            if kind == DONE:
                return
            batch, self.position = message
            yield from batch

    def bytes_read(self) -> int:
        return self.position

    @staticmethod
    def checker(problems: ProblemLog):
        """``check(line, entry)`` for the loader: the stored values, or None after adding the
        row's problems to the load's log."""
        add = problems.add_problem

        def check(_line, entry):
            if entry.__class__ is list:
                return entry
            for problem in entry:
                add(problem)
            return None
        return check

    def close(self) -> None:
        """Wait for a second process that has handed everything over; end any other."""
        self.conn.close()
        if self.finished:
            self.process.join(EXIT_WAIT_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(EXIT_WAIT_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process.close()
