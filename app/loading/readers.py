"""Streaming readers: a CSV or xlsx file as (line number, list of cell texts), one row at a
time, never the whole file in memory.

CSV: UTF-8 with or without BOM, or Windows-1252 (declared, or detected when the start of the
file is not valid UTF-8); comma, semicolon or tab delimiter sniffed from the header line; CRLF
and quoted newlines. Bytes that are not valid in the chosen encoding become U+FFFD and the
row is flagged (``suspect``) so validation reports the cell, with its line, as bad encoding.

xlsx: the first sheet, read with openpyxl's read-only streaming mode. Cells become text the
way the same value would be written in a CSV file; formulas are kept as their text.
"""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from .problems import FileRejected
from .sniff import CSV, XLSX, detect_kind

ENCODINGS = {'auto': None, 'utf-8': 'utf-8-sig', 'cp1252': 'cp1252'}
SAMPLE_BYTES = 1 << 20
DELIMITERS = (',', ';', '\t')
#: A cell longer than this is not a CSV cell but a broken quote: stop with a message.
FIELD_SIZE_LIMIT = 1 << 20
REPLACEMENT = '\ufffd'


def open_source(path: Path, encoding: str = 'auto'):
    """The reader for a file, chosen by its content."""
    kind = detect_kind(path)
    if kind == XLSX:
        return XlsxSource(path)
    return CsvSource(path, encoding)


def choose_encoding(sample: bytes, whole_file: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return 'utf-8-sig'
    try:
        sample.decode('utf-8')
        return 'utf-8-sig'
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if not whole_file and error.start >= len(sample) - 3 and error.reason == 'unexpected end of data':
            return 'utf-8-sig'
        return 'cp1252'


def sniff_delimiter(first_line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ','


class CsvSource:
    kind = CSV

    def __init__(self, path: Path, encoding: str = 'auto'):
        if encoding not in ENCODINGS:
            raise ValueError(f'unknown encoding {encoding!r}: use one of {", ".join(ENCODINGS)}')
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self._raw = open(self.path, 'rb')
        sample = self._raw.read(SAMPLE_BYTES)
        self.encoding = ENCODINGS[encoding] or choose_encoding(sample, len(sample) >= self.size)
        self._raw.seek(0)
        first_line = sample.split(b'\n', 1)[0].decode(self.encoding, errors='replace')
        self.delimiter = sniff_delimiter(first_line)
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding, errors='replace',
                                      newline='')
        csv.field_size_limit(FIELD_SIZE_LIMIT)
        self._reader = csv.reader(self._lines(), delimiter=self.delimiter)
        #: True when the row just read holds bytes invalid in the encoding.
        self.suspect = False

    @property
    def encoding_name(self) -> str:
        return {'utf-8-sig': 'UTF-8', 'cp1252': 'Windows-1252'}[self.encoding]

    def _lines(self) -> Iterator[str]:
        for line in self._text:
            if REPLACEMENT in line or '\x00' in line:  # bad bytes, or a NUL no database stores
                self.suspect = True
            yield line

    def bytes_read(self) -> int:
        return self._raw.tell()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line of the row's first physical line, cells), skipping blank lines; the header
        is the first row."""
        reader = self._reader
        line = 1
        try:
            for cells in reader:
                if cells and (len(cells) > 1 or cells[0].strip()):
                    yield line, cells
                line = reader.line_num + 1
        except csv.Error as error:
            raise FileRejected(f'The file cannot be read as CSV from here on ({error}). '
                               'Check for an unclosed quote (") on this line.',
                               line=line) from None

    def close(self) -> None:
        self._text.close()


def cell_text(value) -> str:
    """An xlsx cell as the text a CSV file would hold."""
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(' ')
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


class XlsxSource:
    kind = XLSX
    encoding_name = 'xlsx'
    delimiter = None
    suspect = False

    def __init__(self, path: Path):
        from openpyxl import load_workbook
        self.path = Path(path)
        self.size = self.path.stat().st_size
        # A file handle, not the path: openpyxl judges a path by its extension, and kept
        # uploads are named by their SHA-256.
        self._handle = open(self.path, 'rb')
        try:
            self._book = load_workbook(self._handle, read_only=True, data_only=False)
            if not self._book.worksheets:
                raise FileRejected('The workbook has no worksheet.')
            self._sheet = self._book.worksheets[0]
        except FileRejected:
            self._handle.close()
            raise
        except Exception as error:  # openpyxl raises many kinds for a broken workbook
            self._handle.close()
            raise FileRejected(f'This Excel file cannot be read ({type(error).__name__}: '
                               f'{str(error)[:200]}). Open it in Excel and save it again as '
                               '.xlsx, or save it as CSV.') from None
        self.total_rows = self._sheet.max_row or 0
        self._rows_done = 0

    def bytes_read(self) -> int:
        if not self.total_rows:
            return 0
        return min(self.size, self.size * self._rows_done // self.total_rows)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(self._sheet.iter_rows(values_only=True), start=1):
                self._rows_done = number
                cells = [cell_text(value) for value in values]
                if any(cells):
                    yield number, cells
        except FileRejected:
            raise
        except Exception as error:
            raise FileRejected(f'This Excel file cannot be read past row {self._rows_done} '
                               f'({type(error).__name__}: {str(error)[:200]}).',
                               line=self._rows_done) from None

    def close(self) -> None:
        self._book.close()
        self._handle.close()
