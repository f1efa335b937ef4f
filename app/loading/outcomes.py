"""What a caller asks of a load and what it gets back: the modes, the request, the counts, the
outcome of a load or an undo, and the refusals raised when one cannot start."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import BATCH_SUCCEEDED, BATCH_VALIDATED, LoadBatch
from .locks import DEFAULT_WAIT_SECONDS
from .problems import ProblemLog

MODES = ('append', 'upsert', 'replace')
MODE_HELP = {
    'append': 'add new rows only; a key that already exists is an error',
    'upsert': 'insert new keys, update changed rows; unchanged rows are left alone',
    'replace': 'afterwards the dataset is exactly the file (rows not in it are deleted)',
}
#: The mode of a batch that undid another one.
MODE_UNDO = 'undo'

#: progress(bytes read, bytes in the file)
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
    #: A resolved source profile (``app.profiles.ResolvedProfile``): the file is in a
    #: platform's own layout and is mapped as it streams. None: Flowdesk's own columns.
    profile: object | None = None


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

    def nothing_changed(self) -> Counts:
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
        return self.status in (BATCH_SUCCEEDED, BATCH_VALIDATED)

    @property
    def message(self) -> str:
        """The whole report in one text: the summary, then each warning."""
        return ' '.join([self.summary, *self.warnings])


@dataclass
class UndoOutcome:
    batch_id: int
    undone_batch_id: int
    status: str
    removed: int
    restored: int
    message: str
