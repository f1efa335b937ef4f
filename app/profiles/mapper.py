"""Mapping a source's rows to a dataset's rows inside the load's single pass.

``ProfileChecker`` stands where the loader's ``RowChecker`` stands for a file in Flowdesk's own
layout, and uses it: the row's width and encoding are checked on the source row, then one small
function per dataset column (built once, from the definition) turns the source cells into the
cell texts of the dataset's layout, which the dataset's own parsers read. Nothing is kept per
row, so memory stays flat. Every problem names the source file's line and the source's own
column names; a row whose status the profile skips (a state that is not final) is dropped and
counted in a note. Rows without a problem take a faster path to the same values (fused.py).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from operator import itemgetter

from ..datasets import DatasetSpec, ParseContext
from ..loading.problems import FileRejected, ProblemLog
from ..loading.validation import HeaderPlan, RowChecker, normalise_header
from .definition import Definition
from .fused import DERIVED_CACHE, fused
from .ids import derive_flow_code, derive_id
from .mappings import Mapping
from .timestamps import TimestampReader

LISTED = 12
ZERO, ONE_MS = timedelta(0), timedelta(milliseconds=1)


class CellProblem(ValueError):
    """A source cell the profile cannot map: which column, which value, and why."""

    def __init__(self, column: str, value: str, message: str):
        super().__init__(message)
        self.column, self.value = column, value


class SkipRow(Exception):
    def __init__(self, column: str, value: str):
        super().__init__(value)
        self.column, self.value = column, value


class ProfileChecker:
    """``check(line, cells)``: the dataset row (stored values) of one source row, or None."""

    def __init__(self, spec: DatasetSpec, definition: Definition, profile_name: str, line: int,
                 header: list[str], ctx: ParseContext, log: ProblemLog, source):
        self.definition = definition
        self.name = profile_name
        self.log = log
        positions = self.plan_header(line, header)
        # Problems name the columns as this file spells them.
        spelled = {name: header[at].strip() for name, at in positions.items()}
        self.index = {spelled[name]: at for name, at in positions.items()}
        ctx = definition.parse_context(ctx)
        self.times = TimestampReader(definition.timestamp_format, definition.timestamp_pattern,
                                     ctx.data_timezone)
        self.time_column = spec.time_column
        columns = {name: replace(mapping, sources=tuple(spelled[s] for s in mapping.sources),
                                 when=spelled.get(mapping.when, mapping.when))
                   for name, mapping in definition.columns.items()}
        self.labels = [columns[name].label if name in columns else name
                       for name in spec.column_names]
        self.getters = [self.getter(columns[name]) if name in columns else (lambda _cells: '')
                        for name in spec.column_names]
        plan = HeaderPlan(positions=list(range(len(spec.column_names))), width=len(header),
                          missing_optional=[], ignored=[])
        self.rows = RowChecker(spec, plan, ctx, log, source, labels=self.labels, header=header)
        self.skipped: Counter = Counter()
        self.fast_row = self.fast_row_function(spec, columns)

    def fast_row_function(self, spec: DatasetSpec, columns: dict[str, Mapping]):
        """cells → the stored row when nothing is wrong (else ValueError or SkipRow): one fused
        function per column (fused.py). Measured faster than grouping the plain columns into
        one itemgetter, as a native load does, and inserting the others."""
        functions = []
        for k, name in enumerate(spec.column_names):
            mapping = columns.get(name)
            position = (self.index[mapping.sources[0]]
                        if mapping is not None and len(mapping.sources) == 1 else None)
            unchanged = name != self.time_column or self.times.fmt == 'iso'
            functions.append(fused(mapping, self.rows.parsers[k], self.getters[k], position,
                                   unchanged, self.definition.id_namespace, SkipRow))
        return lambda cells: [function(cells) for function in functions]

    def check(self, line: int, cells: list[str]):
        if not self.rows.fit(line, cells):
            return None
        try:
            return self.fast_row(cells)
        except SkipRow as skip:
            self.skipped[(skip.column, skip.value)] += 1
            return None
        except ValueError:
            return self.slow(line, cells)

    def slow(self, line: int, cells: list[str]):
        """The row as cell texts, parsed: every problem is reported with its source column."""
        try:
            raw = [get(cells) for get in self.getters]
        except SkipRow as skip:
            self.skipped[(skip.column, skip.value)] += 1
            return None
        except ValueError:
            return self.report(line, cells)
        return self.rows.parse(line, raw)

    def report(self, line: int, cells: list[str]) -> None:
        """Log every cell of the row the mapping cannot use (each source cell once), unless the
        row is one the profile skips."""
        problems: dict[tuple, CellProblem] = {}
        for get in self.getters:
            try:
                get(cells)
            except SkipRow as skip:
                self.skipped[(skip.column, skip.value)] += 1
                return None
            except CellProblem as problem:
                problems.setdefault((problem.column, problem.value), problem)
        for problem in problems.values():
            self.log.add(line, problem.column, problem.value, f'{problem}.')
        return None

    def notes(self) -> list[str]:
        return [f'Skipped {count:,} row{"s" if count != 1 else ""} whose {column} is {value}: '
                f'not a final state, so the source profile {self.name} leaves it for a later '
                'export that carries the final one.'
                for (column, value), count in sorted(self.skipped.items())]

    # -- the header --------------------------------------------------------------------------
    def plan_header(self, line: int, header: list[str]) -> dict[str, int]:
        """Where each source column the profile reads is; a missing one rejects the file."""
        index: dict[str, int] = {}
        for position, cell in enumerate(header):
            index.setdefault(normalise_header(cell), position)
        needed = self.definition.source_columns()
        missing = [name for name in needed if normalise_header(name) not in index]
        found = ', '.join(cell.strip() for cell in header[:20]) or '(nothing)'
        if missing:
            raise FileRejected(
                f'This file lacks the column{"s" if len(missing) > 1 else ""} '
                f'{", ".join(missing)} that the source profile {self.name} reads. Found: '
                f'{found}. Choose another profile, or none for Flowdesk\'s own columns.',
                line=line, value=found)
        used = {normalise_header(name) for name in (*needed, *self.definition.ignore,
                                                       *self.definition.declared)}
        ignored = [cell.strip() for cell in header
                   if cell.strip() and normalise_header(cell) not in used]
        if ignored:
            listed = ', '.join(ignored[:LISTED]) + (f' and {len(ignored) - LISTED:,} more'
                                                    if len(ignored) > LISTED else '')
            self.log.warn(f'Ignored column{"s" if len(ignored) > 1 else ""} {listed} (not read '
                          f'by the source profile {self.name}).')
        return {name: index[normalise_header(name)] for name in needed}

    # -- one function per dataset column ----------------------------------------------------
    def getter(self, mapping: Mapping):
        return getattr(self, f'get_{mapping.kind}')(mapping)

    def get_constant(self, mapping: Mapping):
        constant = mapping.constant
        return lambda _cells: constant

    def get_source(self, mapping: Mapping):
        column = mapping.sources[0]
        position = self.index[column]
        if mapping.values or mapping.skip:
            return self.value_map(mapping, column, position)
        if mapping.column == self.time_column and self.times.fmt != 'iso':
            to_text = self.times.to_text

            def timestamp(cells):
                try:
                    return to_text(cells[position])
                except ValueError as error:
                    raise CellProblem(column, cells[position], f'{column} {error}') from None
            return timestamp
        return itemgetter(position)

    def value_map(self, mapping: Mapping, column: str, position: int):
        table: dict = {**mapping.values, **dict.fromkeys(mapping.skip, SkipRow)}
        listing = ', '.join(list(table)[:LISTED]) + (', …' if len(table) > LISTED else '')

        def mapped(cells):
            value = cells[position].strip()
            target = table.get(value.upper())
            if target is None:
                if not value:
                    return ''
                raise CellProblem(column, value, f'{column} {value} is not in the source '
                                                 f'profile\'s value map ({listing}): add it '
                                                 'to the profile or correct the file')
            if target is SkipRow:
                raise SkipRow(column, value)
            return target
        return mapped

    def get_lookup(self, mapping: Mapping):
        column = mapping.sources[0]
        position = self.index[column]
        flows, derive = dict(mapping.flows), mapping.unknown == 'derive'

        def lookup(cells):
            value = cells[position].strip()
            code = flows.get(value.upper())
            if code is not None:
                return code
            if not value:
                return ''
            if derive:
                code = derive_flow_code(value)
                if len(flows) < DERIVED_CACHE + len(mapping.flows):
                    flows[value.upper()] = code
                return code
            raise CellProblem(column, value, f'{column} {value} is not in the source profile\'s '
                                             'flow lookup: add it to the profile, with its flow '
                                             'code, and load the file again')
        return lookup

    def get_difference(self, mapping: Mapping):
        start_column, end_column = mapping.sources
        start_at, end_at = self.index[start_column], self.index[end_column]
        moment = self.times.to_moment
        # ISO times both with an offset, or both without one in UTC, subtract as they are: the
        # common case, without converting each time (this runs for every row).
        fromisoformat = datetime.fromisoformat if self.times.fmt == 'iso' else None
        plain_naive = self.times.zone is None

        def read(cells, position, column):
            try:
                return moment(cells[position])
            except ValueError as error:
                raise CellProblem(column, cells[position], f'{column} {error}') from None

        def difference(cells):
            start_text, end_text = cells[start_at], cells[end_at]
            try:
                start, end = fromisoformat(start_text), fromisoformat(end_text)
                if (start.tzinfo is None) != (end.tzinfo is None) or (
                        start.tzinfo is None and not plain_naive):
                    raise ValueError
            except (TypeError, ValueError):
                if not start_text.strip() or not end_text.strip():
                    return ''
                start = read(cells, start_at, start_column)
                end = read(cells, end_at, end_column)
            delta = end - start
            if delta < ZERO:
                raise CellProblem(end_column, end_text, f'{end_column} is before {start_column} '
                                                        f'({start_text.strip()})')
            return str(delta // ONE_MS)
        return difference

    def get_hash_id(self, mapping: Mapping):
        position = self.index[mapping.sources[0]]
        namespace = self.definition.id_namespace

        def hashed(cells):
            value = cells[position].strip()
            return str(derive_id(namespace, value)) if value else ''
        return hashed

    def get_join(self, mapping: Mapping):
        positions = [self.index[name] for name in mapping.sources]
        separator = mapping.separator
        when = self.index[mapping.when] if mapping.when else None

        def joined(cells):
            if when is not None and not cells[when].strip():
                return ''
            return separator.join(part for part in (cells[p].strip() for p in positions) if part)
        return joined
