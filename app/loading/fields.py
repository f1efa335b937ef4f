"""Cheap guards the CSV reader runs on every physical line before the csv module parses it.

``FieldCounter`` refuses a row with more fields than the load can use before the row is built:
the csv module would otherwise build the whole row first (one 40 MB line of commas is 40
million fields, about 600 MB), only for the extra cells to be dropped. It counts the
delimiters outside quotes with C-speed string methods, carrying the quote state across the
lines of a row that holds quoted line breaks. The count is an upper-bound guard, not the
parse: the row checker still compares every row's exact width with the header's.

``has_bad_bytes`` spots a line holding bytes that are invalid in the file's encoding (decoded
with ``surrogateescape``, they become lone surrogates, which no valid text holds) or a NUL.
"""
from __future__ import annotations

import re

from .problems import FileRejected

#: The header may name this many columns (unknown ones are ignored with a note).
MAX_HEADER_FIELDS = 200_000
#: A data row may hold this many fields more than the header before reading stops. Up to it,
#: a too-wide row is reported like any other bad row (and empty trailing cells are fine); the
#: cap is there for memory, and a few hundred fields cost nothing.
FIELD_MARGIN = 256
QUOTED = re.compile(r'"[^"]*(?:"|\Z)')
BAD_BYTE = re.compile('[\udc80-\udcff\x00]')


def has_bad_bytes(text: str) -> bool:
    if text.isascii():  # a flag lookup: most lines of most files
        return '\x00' in text
    return BAD_BYTE.search(text) is not None


def show_bad_bytes(text: str) -> str:
    """A value with bad bytes as people see it: each one becomes U+FFFD."""
    return BAD_BYTE.sub('\ufffd', text)


class FieldCounter:
    """Counts the fields of the CSV row being read, line by line."""

    def __init__(self, delimiter: str, limit: int):
        self.delimiter = delimiter
        self.limit = limit
        self.fields = 1
        self.inside_quotes = False
        #: the file line where the row being read starts (for the message)
        self.line = 1

    def next_record(self) -> None:
        self.fields = 1
        self.inside_quotes = False

    def count(self, line: str) -> None:
        quotes = line.count('"')
        if quotes or self.inside_quotes:
            text = '"' + line if self.inside_quotes else line
            delimiters = QUOTED.sub('', text).count(self.delimiter)
            self.inside_quotes ^= bool(quotes & 1)
        else:
            delimiters = line.count(self.delimiter)
        self.fields += delimiters
        if self.fields > self.limit:
            what = ('The header has' if self.line == 1 and self.limit == MAX_HEADER_FIELDS
                    else 'This row has')
            raise FileRejected(
                f'{what} more than {self.limit:,} values, far more than Flowdesk can use, so it '
                'stops reading the file here. Check the delimiters on this line (a line of '
                'delimiters, or a value with unquoted delimiters in it?).', line=self.line)
