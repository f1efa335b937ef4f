"""Monthly archive files of purged responses: ARCHIVE_FOLDER/responses_YYYY-MM.csv.gz, gzip CSV
in the upload layout (the header and columns of a responses file, times in UTC with a ``Z``),
so ``flask load responses FILE`` brings a month back.

A file only ever appears complete under its final name: it is written to a temporary name
beside it, flushed to disk and moved into place with ``os.replace``. When a month already has a
file (the daily purge takes one more day of it each day, or a purge was interrupted after
archiving), the new rows are appended as a further gzip member of a copy of that file; gzip
readers read the members as one stream. Rows the file already holds are not written twice. A
file written before the upload layout gained columns (message_id, correlation_id) is rewritten
in today's layout when a month is added to, its older rows with those cells empty, so every
archive keeps one header and loads back as it is.
"""
from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from ..csv_safety import neutralise_row
from ..datasets import RESPONSES

FILE_PREFIX = 'responses_'
SUFFIX = '.csv.gz'
TEMP_SUFFIX = '.partial'


def month_file(folder: Path, month: date) -> Path:
    return Path(folder) / f'{FILE_PREFIX}{month:%Y-%m}{SUFFIX}'


def archive_time(value: datetime) -> str:
    """Stored (naive UTC) time as the upload reads it back exactly, whatever DATA_TIMEZONE."""
    return value.isoformat(' ', 'microseconds') + 'Z'


def file_row(row) -> list:
    """One response (values in RESPONSES.column_names order) as an upload row."""
    values = list(row)
    values[2] = archive_time(values[2])
    return neutralise_row(values)


def archived_ids(path: Path) -> set[int]:
    """The response ids a month file holds (empty when there is no file)."""
    if not path.exists():
        return set()
    with gzip.open(path, 'rt', encoding='utf-8', newline='') as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return {int(row[0]) for row in reader if row}


def file_header(path: Path) -> list[str]:
    """The header row of an archive file."""
    with gzip.open(path, 'rt', encoding='utf-8', newline='') as handle:
        return next(csv.reader(handle), [])


def copy_in_layout(earlier: Path, writer) -> None:
    """Write an older archive's header and rows in today's layout (cells kept as written)."""
    layout = RESPONSES.export_columns
    with gzip.open(earlier, 'rt', encoding='utf-8', newline='') as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        positions = [header.index(name) if name in header else None for name in layout]
        writer.writerow(layout)
        for row in reader:
            if row:
                writer.writerow(['' if at is None or at >= len(row) else row[at]
                                 for at in positions])


def write_month(path: Path, rows: Iterable, known: set[int]) -> int:
    """Add ``rows`` whose id is not in ``known`` to the month file; returns how many were
    written. The file under ``path`` is replaced atomically, never left half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + TEMP_SUFFIX)
    written = 0
    try:
        relayout = path.exists() and file_header(path) != RESPONSES.export_columns
        with open(temporary, 'wb') as raw:
            if path.exists() and not relayout:
                with open(path, 'rb') as earlier:
                    shutil.copyfileobj(earlier, raw)
            new_file = raw.tell() == 0
            with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=5) as member, \
                    io.TextIOWrapper(member, encoding='utf-8', newline='') as text:
                writer = csv.writer(text, lineterminator='\r\n')
                if relayout:
                    copy_in_layout(path, writer)
                elif new_file:
                    writer.writerow(RESPONSES.export_columns)
                for row in rows:
                    if row[0] not in known:
                        writer.writerow(file_row(row))
                        written += 1
            raw.flush()
            os.fsync(raw.fileno())
        if written or not path.exists():
            os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return written
