"""The editor's preview: map a sample file with a definition, as a load would, without writing
anything. It reads the whole sample (so every problem is listed) but keeps only the first rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ..database import engine_for
from ..datasets import DATASETS
from ..loading.loader import parse_context
from ..loading.problems import FileRejected, ProblemLog
from ..loading.readers import open_source
from .definition import Definition
from .mapper import ProfileChecker

PREVIEW_ROWS = 20
#: Problems listed by a preview (a sample with more says how many were found).
PREVIEW_PROBLEMS = 500


@dataclass
class Preview:
    columns: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)
    problems: ProblemLog = field(default_factory=lambda: ProblemLog(keep=PREVIEW_PROBLEMS))
    read: int = 0
    notes: list[str] = field(default_factory=list)


def known_keys(dataset: str) -> set:
    spec = DATASETS[dataset]
    with engine_for('ops').connect() as connection:
        return set(connection.execute(select(spec.table.c[spec.key])).scalars())


def preview(definition: Definition, name: str, path: Path, encoding: str = 'auto') -> Preview:
    spec = definition.spec
    result = Preview(columns=spec.column_names)
    log = result.problems
    try:
        source = open_source(path, encoding)
    except FileRejected as rejected:
        log.add(*rejected.problem)
        return result
    try:
        rows = source.rows()
        first = next(rows, None)
        if first is None:
            raise FileRejected('The sample is empty: it has no header row.')
        checker = ProfileChecker(spec, definition, name, first[0], first[1], parse_context(),
                                 log, source)
        references = [(spec.column_names.index(column), known_keys(dataset), dataset)
                      for column, dataset in spec.references.items()]
        for line, cells in rows:
            result.read += 1
            values = checker.check(line, cells)
            if values is None or not references_exist(line, values, references, checker, log):
                continue
            if len(result.rows) < PREVIEW_ROWS:
                result.rows.append((line, values))
        result.notes = log.warnings + checker.notes()
    except FileRejected as rejected:
        log.add(*rejected.problem)
    finally:
        source.close()
    return result


def references_exist(line, values, references, checker, log) -> bool:
    for index, known, dataset in references:
        if values[index] not in known:
            label = checker.labels[index]
            log.add(line, label, values[index], f'{label} {values[index]} names no '
                                                f'{dataset.rstrip("s")} in the database.')
            return False
    return True
