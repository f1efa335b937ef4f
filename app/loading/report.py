"""The downloadable error report: every problem kept for a batch, as CSV that is safe to open
in Excel (text cells that look like formulas are neutralised)."""
from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from ..csv_safety import neutralise_row

HEADER = ['line', 'column', 'value', 'problem']


def report_rows(problems: Iterable, total: int | None = None, kept: int | None = None):
    """Rows of the report (header first); ``problems`` are Problem tuples or LoadError rows."""
    yield HEADER
    for problem in problems:
        yield neutralise_row([problem.line, problem.column, problem.value, problem.message])
    if total is not None and kept is not None and total > kept:
        yield ['', '', '', f'… and {total - kept:,} more problems of the same file, not listed. '
                           'Fix these and validate again.']


def write_report(handle: TextIO, problems: list, total: int) -> None:
    writer = csv.writer(handle)
    writer.writerows(report_rows(problems, total, len(problems)))


class LineBuffer:
    """A file-like sink for csv.writer that hands back what was written (for streaming)."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text = ''.join(self.parts)
        self.parts.clear()
        return text
