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
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import String

from ..csv_safety import PROTECTED_PREFIXES, neutralise_formula
from ..datasets import RESPONSES

FILE_PREFIX = 'responses_'
SUFFIX = '.csv.gz'
TEMP_SUFFIX = '.partial'
#: gzip level of the archives: level 1 makes files about a quarter larger than level 5 (34 % of
#: the CSV instead of 27 %) in less than half the time, and archiving is most of a purge.
COMPRESS_LEVEL = 1
FIRST_PROTECTED = frozenset(PROTECTED_PREFIXES)


def month_file(folder: Path, month: date) -> Path:
    return Path(folder) / f'{FILE_PREFIX}{month:%Y-%m}{SUFFIX}'


#: Length of a time as SQLite stores it (``YYYY-MM-DD HH:MM:SS.ffffff``: SQLAlchemy and the
#: loads' bulk writer both write it so), which is already the archive's form but for the ``Z``.
STORED_TIME_LENGTH = 26


def archive_time(value: datetime | str) -> str:
    """Stored (naive UTC) time as the upload reads it back exactly, whatever DATA_TIMEZONE.
    ``value`` is what the driver returns: a datetime (PostgreSQL, SQL Server), or on SQLite the
    stored text, used as it is when it has the stored form (no parsing and formatting again:
    the archive reads a million of them per purge)."""
    if isinstance(value, str):
        if len(value) == STORED_TIME_LENGTH and value[10] == ' ':
            return value + 'Z'
        value = datetime.fromisoformat(value)
    return value.isoformat(' ', 'microseconds') + 'Z'


#: Positions of the time and of the text columns in a response (RESPONSES.column_names order).
#: The text columns come from the table, so a text column added later is neutralised too.
TIME_INDEX = RESPONSES.column_names.index('responded_at')
TEXT_INDEXES = tuple(index for index, name in enumerate(RESPONSES.column_names)
                     if isinstance(RESPONSES.model.__table__.c[name].type, String))


def file_row(row) -> list:
    """One response (values in RESPONSES.column_names order, as the driver returns them) as an
    upload row: the time in UTC with a ``Z``, text that starts like a formula neutralised
    (csv_safety), an empty cell for None (csv.writer writes None so). It runs for every
    archived row, so only the cells that can need it are looked at."""
    values = list(row)
    values[TIME_INDEX] = archive_time(values[TIME_INDEX])
    for index in TEXT_INDEXES:
        value = values[index]
        if value and value[0] in FIRST_PROTECTED:
            values[index] = neutralise_formula(value)
    return values


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


def write_month(path: Path, blocks: Iterable[Sequence], known: set[int]) -> int:
    """Add the rows (in ``blocks``: lists of rows, as a result's ``partitions()`` gives them)
    whose id is not in ``known`` to the month file; returns how many were written. The file
    under ``path`` is replaced atomically, never left half-written."""
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
            with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=COMPRESS_LEVEL) as member, \
                    io.TextIOWrapper(member, encoding='utf-8', newline='') as text:
                writer = csv.writer(text, lineterminator='\r\n')
                if relayout:
                    copy_in_layout(path, writer)
                elif new_file:
                    writer.writerow(RESPONSES.export_columns)
                for block in blocks:
                    fresh = [row for row in block if row[0] not in known] if known else block
                    writer.writerows(map(file_row, fresh))
                    written += len(fresh)
            raw.flush()
            os.fsync(raw.fileno())
        if written or not path.exists():
            os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return written
