"""Streaming readers: a CSV or xlsx file as (line number, list of cell texts), one row at a
time, never the whole file in memory.

CSV: UTF-8 with or without BOM, or Windows-1252 (declared, or detected when the start of the
file is not valid UTF-8); comma, semicolon or tab delimiter sniffed from the header line; CRLF
and quoted newlines. Decoding is strict: bytes that are not valid in the chosen encoding become
lone surrogates (``surrogateescape``, never a character a real file holds, unlike U+FFFD) and
the row is flagged (``suspect``) so validation reports the cell, with its line, as bad encoding.
A gzip-compressed CSV file (``.csv.gz``, as retention archives are) is read the same way,
unpacked as it streams.
A row with more fields than ``max_fields`` is refused before it is built (fields.py).

xlsx: the first sheet, read with openpyxl's read-only streaming mode. The sheet's declared
``<dimension>`` is ignored (many tools write it wrong): every row and cell the sheet holds is
read, and nothing past them. Cells become text the way the same value would be written in a
CSV file; formulas are kept as their text.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

from .fields import BAD_BYTE, FIELD_MARGIN, MAX_HEADER_FIELDS, outside_quotes, too_many_fields
from .problems import FileRejected
from .sniff import CSV, CSV_GZ, XLSX, detect_kind

ENCODINGS = {'auto': None, 'utf-8': 'utf-8-sig', 'cp1252': 'cp1252'}
SAMPLE_BYTES = 1 << 20
DELIMITERS = (',', ';', '\t')
DELIMITER_NAMES = {',': 'comma', ';': 'semicolon', '\t': 'tab'}
#: A cell longer than this is not a CSV cell but a broken quote: stop with a message.
FIELD_SIZE_LIMIT = 1 << 20


def open_source(path: Path, encoding: str = 'auto', delimiter: str | None = None):
    """The reader for a file, chosen by its content."""
    kind = detect_kind(path)
    if kind == XLSX:
        return XlsxSource(path)
    return CsvSource(path, encoding, delimiter, compressed=kind == CSV_GZ)


def first_row(source, rows) -> tuple[int, list[str]]:
    """The header row, read from ``rows`` (the source's); the rows after it may then hold only
    a few more fields than it (fields.py)."""
    first = next(rows, None)
    if first is None:
        raise FileRejected('The file is empty: it has no header row and no data.')
    source.max_fields = len(first[1]) + FIELD_MARGIN
    return first


def read_as(source) -> dict:
    """How a file was read, as a load batch records it so that a later load of the same file
    reads it the same way (form encoding name; delimiter name)."""
    return {'encoding': source.form_encoding,
            'delimiter': DELIMITER_NAMES.get(source.delimiter)}


def choose_encoding(sample: bytes, whole_file: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return 'utf-8-sig'
    try:
        sample.decode('utf-8')
        return 'utf-8-sig'
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if (not whole_file and error.start >= len(sample) - 3
                and error.reason == 'unexpected end of data'):
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

    def __init__(self, path: Path, encoding: str = 'auto', delimiter: str | None = None,
                 compressed: bool = False):
        if encoding not in ENCODINGS:
            raise ValueError(f'unknown encoding {encoding!r}: use one of {", ".join(ENCODINGS)}')
        if delimiter is not None and delimiter not in DELIMITERS:
            raise ValueError(f'unknown delimiter {delimiter!r}')
        self.path = Path(path)
        self.size = self.path.stat().st_size
        #: the file on disk (progress is its position); _raw: the text's bytes (gunzipped)
        self._file = open(self.path, 'rb')
        self._raw = gzip.GzipFile(fileobj=self._file) if compressed else self._file
        sample = self._raw.read(SAMPLE_BYTES)
        whole = len(sample) < SAMPLE_BYTES if compressed else len(sample) >= self.size
        #: True when the encoding was chosen from the first SAMPLE_BYTES only.
        self.sampled = encoding == 'auto' and not whole
        self.encoding = ENCODINGS[encoding] or choose_encoding(sample, whole)
        self._raw.seek(0)
        first_line = sample.split(b'\n', 1)[0].decode(self.encoding, errors='replace')
        self.delimiter = delimiter or sniff_delimiter(first_line)
        self._text = io.TextIOWrapper(self._raw, encoding=self.encoding,
                                      errors='surrogateescape', newline='')
        csv.field_size_limit(FIELD_SIZE_LIMIT)
        #: Rows may hold at most this many fields (the load lowers it once it has the header).
        self.max_fields = MAX_HEADER_FIELDS
        self._reader = csv.reader(self._lines(), delimiter=self.delimiter)
        #: True when the row just read holds bytes invalid in the encoding (or a NUL).
        self.suspect = False

    @property
    def form_encoding(self) -> str:
        """The encoding as the upload form names it (to load again exactly as read)."""
        return {'utf-8-sig': 'utf-8', 'cp1252': 'cp1252'}[self.encoding]

    @property
    def encoding_name(self) -> str:
        return {'utf-8-sig': 'UTF-8', 'cp1252': 'Windows-1252'}[self.encoding]

    def _lines(self) -> Iterator[str]:
        """The physical lines for the csv module, checked on the way (fields.py); the checks
        are inlined because they run for every line of million-row files."""
        delimiter, bad_byte = self.delimiter, BAD_BYTE
        fields, inside = 1, False
        for line in self._text:
            # bytes invalid in the encoding, or a NUL no database stores
            if ('\x00' in line) if line.isascii() else bad_byte.search(line) is not None:
                self.suspect = True
            if inside or '"' in line:
                delimiters, inside = outside_quotes(line, inside, delimiter)
                fields += delimiters
            else:
                fields += line.count(delimiter)
            if fields > self.max_fields:
                raise too_many_fields(self.max_fields)
            if not inside:
                fields = 1  # the row ends with this line
            yield line

    def bytes_read(self) -> int:
        return self._file.tell()

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
        except FileRejected as rejected:
            raise FileRejected(str(rejected), line=line) from None
        except csv.Error as error:
            raise FileRejected(f'The file cannot be read as CSV from here on ({error}). '
                               'Check for an unclosed quote (") on this line.',
                               line=line) from None
        except (EOFError, gzip.BadGzipFile, zlib.error):
            raise FileRejected('The gzip file is damaged or cut short from here on; nothing '
                               'was loaded.', line=line) from None

    def close(self) -> None:
        self._text.close()
        self._file.close()


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
    form_encoding = None
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
        # The declared size only estimates progress: reading goes by the rows really there.
        self.total_rows = self._sheet.max_row or 0
        self._sheet.reset_dimensions()
        self._rows_done = 0
        #: Rows after the header may hold at most this many cells (empty ones past it are
        #: dropped; a value past it makes the row too wide).
        self.max_fields = MAX_HEADER_FIELDS

    def bytes_read(self) -> int:
        if self._rows_done >= self.total_rows:
            return self.size * 99 // 100 if self._rows_done else 0
        return self.size * self._rows_done // self.total_rows

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        try:
            for values in self._sheet.iter_rows(values_only=True):
                self._rows_done += 1
                if not values:
                    continue  # a row element without cells
                limit = self.max_fields
                if len(values) > limit and values.count(None) - values[:limit].count(None) \
                        == len(values) - limit:
                    values = values[:limit]  # only empty (formatted) cells past the limit
                cells = [cell_text(value) for value in values]
                if any(cells):
                    yield self._rows_done, cells
        except FileRejected:
            raise
        except Exception as error:
            raise FileRejected(f'This Excel file cannot be read past row {self._rows_done} '
                               f'({type(error).__name__}: {str(error)[:200]}).',
                               line=self._rows_done) from None

    def close(self) -> None:
        self._book.close()
        self._handle.close()
