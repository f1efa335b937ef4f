"""Problems found in a file: where (line, column), what (the value, shortened) and why.

A load reports every problem. The log counts them all and keeps the first ``keep`` in memory
(and in the database), so that a file with millions of bad rows cannot exhaust memory; the
report says when more were found than are listed.
"""
from __future__ import annotations

from typing import NamedTuple

VALUE_DISPLAY_LIMIT = 80
#: Problems listed on the result page; the rest are in the downloadable report.
SHOWN_ON_PAGE = 200
#: Problems kept per batch (memory, database, report).
KEPT_PER_BATCH = 20_000


class Problem(NamedTuple):
    line: int | None
    column: str | None
    value: str | None
    message: str


def shorten(value, limit: int = VALUE_DISPLAY_LIMIT) -> str | None:
    """The offending value as shown to people: one line, at most ``limit`` characters."""
    if value is None:
        return None
    text = str(value).replace('\r\n', '⏎').replace('\n', '⏎').replace('\r', '⏎')
    if len(text) > limit:
        return text[:limit - 1] + '…'
    return text


class ProblemLog:
    def __init__(self, keep: int = KEPT_PER_BATCH):
        self.keep = keep
        self.kept: list[Problem] = []
        self.count = 0
        self.warnings: list[str] = []

    def add(self, line: int | None, column: str | None, value, message: str) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(Problem(line, column, shorten(value), message))

    def add_problem(self, problem: Problem) -> None:
        """A problem found elsewhere (the checking process), already shortened."""
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(problem)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    @property
    def truncated(self) -> bool:
        return self.count > len(self.kept)

    def __bool__(self) -> bool:
        return self.count > 0


class FileRejected(Exception):
    """The file cannot be read at all (wrong kind, empty, unreadable header): one problem."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None,
                 value=None):
        super().__init__(message)
        self.problem = Problem(line, column, shorten(value), message)
