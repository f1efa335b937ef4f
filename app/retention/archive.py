"""Monthly archive files of purged responses: ARCHIVE_FOLDER/responses_YYYY-MM.csv.gz, gzip CSV
in the upload layout (the header and columns of a responses file, times in UTC with a ``Z``),
so ``flask load responses FILE`` brings a month back.

A file only ever appears complete under its final name: it is written to a temporary name
beside it, flushed to disk and moved into place with ``os.replace``. When a month already has a
file (the daily purge takes one more day of it each day, or a purge was interrupted after
archiving), the new rows are appended as a further gzip member of a copy of that file; gzip
readers read the members as one stream. Rows the file already holds are not written twice.
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


def write_month(path: Path, rows: Iterable, known: set[int]) -> int:
    """Add ``rows`` whose id is not in ``known`` to the month file; returns how many were
    written. The file under ``path`` is replaced atomically, never left half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + TEMP_SUFFIX)
    written = 0
    try:
        with open(temporary, 'wb') as raw:
            if path.exists():
                with open(path, 'rb') as earlier:
                    shutil.copyfileobj(earlier, raw)
            new_file = raw.tell() == 0
            with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=5) as member, \
                    io.TextIOWrapper(member, encoding='utf-8', newline='') as text:
                writer = csv.writer(text, lineterminator='\r\n')
                if new_file:
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
