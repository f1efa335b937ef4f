"""What kind of file an upload really is, from its first bytes (never from its name).

A PDF or a picture renamed ``.csv`` is refused with a message saying what it is; a ZIP file
is accepted as xlsx only when it holds an Excel workbook's parts.
"""
from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path

from .problems import FileRejected

CSV = 'csv'
XLSX = 'xlsx'
#: gzip-compressed CSV (the monthly archives retention writes; app/retention)
CSV_GZ = 'csv.gz'
GZIP_MAGIC = b'\x1f\x8b'

#: leading bytes -> what the file is
SIGNATURES = [
    (b'%PDF', 'a PDF document'),
    (b'\x89PNG\r\n\x1a\n', 'a PNG image'),
    (b'\xff\xd8\xff', 'a JPEG image'),
    (b'GIF87a', 'a GIF image'),
    (b'GIF89a', 'a GIF image'),
    (b'BM', None),  # only with more evidence below
    (b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1', 'an old-format Excel (.xls) or other Office 97 file'),
    (b'\x1f\x8b', 'a gzip archive'),
    (b'Rar!', 'a RAR archive'),
    (b'7z\xbc\xaf\x27\x1c', 'a 7-Zip archive'),
    (b'MZ', 'a Windows program'),
    (b'\x7fELF', 'a program'),
]
XLSX_PARTS = ('[Content_Types].xml', 'xl/workbook.xml')
#: A macro-enabled workbook (.xlsm) carries its VBA here, whatever the file is called.
VBA_PART = 'xl/vbaProject.bin'
#: Real sheets inflate 5 to 30 times; a part larger than INFLATION_CHECKED_FROM that inflates
#: more than MAX_INFLATION times is a decompression bomb. (zipfile never inflates a part past the
#: size its header declares, so checking the declared sizes bounds what openpyxl can inflate.)
MAX_INFLATION = 100
INFLATION_CHECKED_FROM = 32 << 20
#: openpyxl reads the whole shared-strings table into memory before the first row.
SHARED_STRINGS_PART = 'xl/sharedStrings.xml'
MAX_SHARED_STRINGS_BYTES = 64 << 20
#: Parts openpyxl parses whole into objects before the first row (styles cost about 12 times
#: their size in memory). Real ones are far below this; sheets are streamed and shared strings
#: have their own limit.
WHOLE_PARSED_PARTS = ('[Content_Types].xml', '_rels/', 'docProps/', 'xl/workbook.xml',
                      'xl/_rels/', 'xl/styles.xml', 'xl/theme/', 'xl/externalLinks/')
MAX_WHOLE_PARSED_PART_BYTES = 4 << 20
SAVE_AS = 'Save it as CSV (UTF-8) or Excel Workbook (.xlsx) and upload that.'


def detect_kind(path: Path) -> str:
    """``'csv'`` or ``'xlsx'``; raises FileRejected saying what the file is otherwise."""
    with open(path, 'rb') as handle:
        head = handle.read(8192)
    if not head:
        raise FileRejected('The file is empty: it has no header row and no data.')
    if head.startswith(GZIP_MAGIC):
        return _check_gzip(path)
    for signature, what in SIGNATURES:
        if what and head.startswith(signature):
            raise FileRejected(f'This file is {what}, not a CSV or xlsx file. {SAVE_AS}')
    if head.startswith(b'PK\x03\x04'):
        return _check_xlsx(path)
    if head.startswith((b'\xff\xfe', b'\xfe\xff')):
        raise FileRejected('This file is UTF-16 text. Save it as "CSV UTF-8" (or CSV) instead.')
    if b'\x00' in head:
        raise FileRejected(f'This file holds binary data, not CSV text. {SAVE_AS}')
    return CSV


def _check_gzip(path: Path) -> str:
    """A gzip file is accepted when it holds CSV text (a Flowdesk archive, for instance)."""
    try:
        with gzip.open(path, 'rb') as inner:
            head = inner.read(8192)
    except (OSError, EOFError, zlib.error):
        raise FileRejected('This gzip file is damaged or incomplete: it cannot be unpacked. '
                           f'{SAVE_AS}') from None
    if not head or b'\x00' in head or head.startswith(b'PK\x03\x04'):
        raise FileRejected('This gzip file does not hold CSV text; Flowdesk reads CSV files '
                           f'compressed with gzip (.csv.gz). {SAVE_AS}')
    return CSV_GZ


def _check_xlsx(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile:
        raise FileRejected(f'This file starts like a ZIP archive (as xlsx files do) but is '
                           f'damaged or incomplete. {SAVE_AS}') from None
    names = {part.filename for part in parts}
    if all(part in names for part in XLSX_PARTS):
        _refuse_macros_and_bombs(parts, names)
        return XLSX
    if 'word/document.xml' in names:
        raise FileRejected(f'This file is a Word document, not a CSV or xlsx file. {SAVE_AS}')
    raise FileRejected(f'This file is a ZIP archive, not an Excel workbook. {SAVE_AS}')


def _refuse_macros_and_bombs(parts: list[zipfile.ZipInfo], names: set[str]) -> None:
    if VBA_PART in names:
        raise FileRejected('This workbook contains macros (it is a macro-enabled .xlsm file, '
                           'whatever its name says). Flowdesk does not accept macro-enabled '
                           'workbooks: in Excel, save it as "Excel Workbook (*.xlsx)" or as CSV '
                           'and upload that.')
    for part in parts:
        inflated_mb = part.file_size / (1 << 20)
        if part.filename == SHARED_STRINGS_PART and part.file_size > MAX_SHARED_STRINGS_BYTES:
            raise FileRejected(f'This workbook\'s shared-strings table expands to '
                               f'{inflated_mb:,.0f} MB, more than the '
                               f'{MAX_SHARED_STRINGS_BYTES >> 20} MB Flowdesk reads from an Excel '
                               'file. Save the sheet as CSV (UTF-8) and upload that: CSV files '
                               'have no such limit.')
        if (part.filename.startswith(WHOLE_PARSED_PARTS)
                and part.file_size > MAX_WHOLE_PARSED_PART_BYTES):
            raise FileRejected(f'This workbook\'s {part.filename} part expands to '
                               f'{part.file_size / (1 << 20):,.1f} MB, more than the '
                               f'{MAX_WHOLE_PARSED_PART_BYTES >> 20} MB Flowdesk reads (real '
                               'workbooks hold far less; thousands of unused cell styles can '
                               'cause it). Save the sheet as CSV (UTF-8) and upload that.')
        if (part.file_size > INFLATION_CHECKED_FROM
                and part.file_size > MAX_INFLATION * max(part.compress_size, 1)):
            raise FileRejected(f'This workbook expands to {inflated_mb:,.0f} MB from '
                               f'{part.compress_size / (1 << 20):,.1f} MB ({part.filename}), far '
                               'more than a real spreadsheet does, so Flowdesk does not open it. '
                               'Save the sheet as CSV (UTF-8) and upload that.')
