"""Checking a file against a dataset spec: the header first, then every row.

``HeaderPlan`` maps the file's header to the spec's columns (names are case- and
space-insensitive; unknown columns are reported and ignored; a missing required column stops
the load before any row is read). ``RowChecker`` turns the cells of one row into the stored
values, or reports each bad cell with its line, column, value and a plain message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from operator import call, itemgetter

from ..datasets import DatasetSpec, ParseContext
from .fields import has_bad_bytes, show_bad_bytes
from .problems import FileRejected, ProblemLog

#: Unknown header columns named in the note; a file with thousands of them gets a count.
IGNORED_LISTED = 20


def normalise_header(name: str) -> str:
    return re.sub(r'[\s\-]+', '_', name.replace('\ufeff', '').strip().lower())


@dataclass
class HeaderPlan:
    """Where each spec column is in the file's rows (``width`` = a missing optional column)."""
    positions: list[int]
    width: int
    missing_optional: list[str]
    ignored: list[str]


def plan_header(spec: DatasetSpec, line: int, cells: list[str], log: ProblemLog) -> HeaderPlan:
    names = [normalise_header(cell) for cell in cells]
    while names and names[-1] == '':
        names.pop()
    seen: dict[str, int] = {}
    duplicate = []
    for index, name in enumerate(names):
        if name in seen and name:
            duplicate.append(cells[index])
        seen.setdefault(name, index)
    wanted = spec.column_names
    missing = [name for name in spec.required_columns if name not in seen]
    problems = []
    if duplicate:
        problems.append(f'the header repeats the column {", ".join(duplicate)}')
    if missing:
        problems.append(f'the header lacks the required column{"s" if len(missing) > 1 else ""} '
                        f'{", ".join(missing)}')
    ignored = [cells[i].strip() or f'(column {i + 1} has no name)' for i, name in enumerate(names)
               if name not in wanted]
    if problems:
        found = ', '.join(cell.strip() for cell in cells[:20]) or '(nothing)'
        raise FileRejected(f'Wrong header for {spec.label.lower()}: {"; ".join(problems)}. '
                           f'Found: {found}. Expected: {", ".join(wanted)} '
                           f'(required: {", ".join(spec.required_columns)}).',
                           line=line, value=found)
    if ignored:
        listed = ', '.join(ignored[:IGNORED_LISTED])
        if len(ignored) > IGNORED_LISTED:
            listed += f' and {len(ignored) - IGNORED_LISTED:,} more'
        log.warn(f'Ignored column{"s" if len(ignored) > 1 else ""} {listed} '
                 f'(not {spec.name} columns).')
    width = len(cells)
    positions = [seen.get(name, width) for name in wanted]
    missing_optional = [name for name in wanted if name not in seen]
    return HeaderPlan(positions=positions, width=width, missing_optional=missing_optional,
                      ignored=ignored)


def make_checker(spec: DatasetSpec, profile, first: tuple[int, list[str]], ctx: ParseContext,
                 log: ProblemLog, source):
    """The row checker for the file's header: the dataset's own columns, or a source
    profile's mapping of the platform's columns (app/profiles)."""
    if profile is not None:
        return profile.checker(spec, first[0], first[1], ctx, log, source)
    plan = plan_header(spec, first[0], first[1], log)
    return RowChecker(spec, plan, ctx, log, source)


class RowChecker:
    """Parses rows for one load. ``check(line, cells)`` returns the list of stored values
    (spec column order) or None after logging every problem of the row."""

    def __init__(self, spec: DatasetSpec, plan: HeaderPlan, ctx: ParseContext, log: ProblemLog,
                 source, labels: list[str] | None = None, header: list[str] | None = None):
        self.spec = spec
        self.plan = plan
        self.log = log
        self.source = source
        self.names = spec.column_names
        #: How problems name each spec column (a source profile names the source's columns),
        #: and the file's header when cells are reported by their position (bad bytes).
        self.labels = labels or self.names
        self.header = header
        self.parsers = spec.parsers(ctx)
        self.overlaps = ctx.overlaps
        self.width = plan.width
        self.pad = bool(plan.missing_optional)
        positions = plan.positions
        self.getter = (itemgetter(*positions) if len(positions) > 1
                       else (lambda row: (row[positions[0]],)))
        #: The parsers ``check`` calls: a column the file lacks always reads the pad cell '',
        #: so its parser runs once here and the row gets the result from a dict lookup.
        self.row_parsers = [self.constant(parse) if position == plan.width else parse
                            for parse, position in zip(self.parsers, positions, strict=True)]

    @staticmethod
    def constant(parse):
        """A parser of the empty cell that answers without running (a C-level dict lookup),
        or the parser itself when the empty cell is a problem (it is then reported per row)."""
        try:
            value = parse('')
        except ValueError:
            return parse
        return {'': value}.get

    def check(self, line: int, cells: list[str]):
        """The row's stored values, or None after logging each of its problems. Runs for every
        row of million-row files: a row of the header's width with good bytes skips ``fit``,
        and the parsers are called from C (``map``)."""
        if len(cells) != self.width or self.source.suspect:
            if not self.fit(line, cells):
                return None
        if self.pad:
            cells.append('')
        raw = self.getter(cells)
        try:
            return list(map(call, self.row_parsers, raw))
        except ValueError:
            return self._report(line, raw)

    def parse(self, line: int, raw):
        """The stored values of one row's cells in spec order, or None after logging each
        bad cell."""
        try:
            return [parse(cell) for parse, cell in zip(self.parsers, raw, strict=False)]
        except ValueError:
            return self._report(line, raw)

    def fit(self, line: int, cells: list[str]) -> bool:
        """Does the row have the header's width and only bytes valid in the encoding? (Each
        problem is logged; an xlsx row short of empty cells is padded.)"""
        width = self.width
        if len(cells) != width:
            if len(cells) < width and self.source.kind == 'xlsx':
                cells.extend([''] * (width - len(cells)))  # Excel leaves empty cells out
            elif len(cells) < width:
                self.log.add(line, None, self.source.delimiter.join(cells) if self.source.delimiter
                             else ' | '.join(cells),
                             f'This row has {len(cells)} values but the header has {width} '
                             'columns (a missing delimiter, or an unquoted delimiter inside a '
                             'value?).')
                return False
            if any(cell.strip() for cell in cells[width:]):
                self.log.add(line, None, ' | '.join(cells[width:]),
                             f'This row has {len(cells)} values but the header has {width} '
                             'columns (an unquoted delimiter inside a value?).')
                return False
            del cells[width:]
        if self.source.suspect:
            self.source.suspect = False
            bad = [i for i, cell in enumerate(cells) if has_bad_bytes(cell)]
            if bad:
                for position in bad:
                    column = self._column_at(position)
                    if '\x00' in cells[position]:
                        shown = show_bad_bytes(cells[position].replace('\x00', '\\0'))
                        self.log.add(line, column, shown,
                                     'This value holds a NUL character (byte 0), which no text '
                                     'column can store: the file is damaged or not a text export. '
                                     'Remove it and upload the file again.')
                        continue
                    self.log.add(line, column, show_bad_bytes(cells[position]),
                                 self._bad_encoding_message())
                return False
        return True

    def _bad_encoding_message(self) -> str:
        message = (f'Bad encoding: this value has bytes that are not valid '
                   f'{self.source.encoding_name} (shown as �). ')
        if getattr(self.source, 'sampled', False) and self.source.encoding_name == 'UTF-8':
            return message + ('The file was read as UTF-8 because its first MiB is UTF-8: '
                              'if the file is Windows-1252, choose that encoding and load it '
                              'again; otherwise save it as "CSV UTF-8".')
        return message + 'Save the file as "CSV UTF-8" and upload it again.'

    def _column_at(self, position: int) -> str | None:
        if self.header is not None:
            return self.header[position].strip() if position < len(self.header) else None
        for name, index in zip(self.names, self.plan.positions, strict=False):
            if index == position:
                return name
        return None

    def _report(self, line: int, raw) -> None:
        with self.overlaps.muted():  # the row's times were counted by the first pass
            for name, parse, cell in zip(self.labels, self.parsers, raw, strict=False):
                try:
                    parse(cell)
                except ValueError as error:
                    self.log.add(line, name, cell, f'{name} {error}.')
        return None
