"""Cheap guards the CSV reader runs on every physical line before the csv module parses it.

The reader refuses a row with more fields than the load can use before the row is built: the
csv module would otherwise build the whole row first (one 40 MB line of commas is 40 million
fields, about 600 MB), only for the extra cells to be dropped. It counts the delimiters outside
quotes with C-speed string methods, carrying the quote state across the lines of a row that
holds quoted line breaks (``outside_quotes``). The count is a guard, not the parse: the row
checker still compares every row's exact width with the header's.

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


def outside_quotes(line: str, inside: bool, delimiter: str) -> tuple[int, bool]:
    """(delimiters outside quotes in ``line``, whether it ends inside quotes), for a line that
    starts inside quotes (``inside``) or holds one."""
    text = '"' + line if inside else line
    return QUOTED.sub('', text).count(delimiter), inside != bool(line.count('"') & 1)


def too_many_fields(limit: int) -> FileRejected:
    what = 'The header has' if limit == MAX_HEADER_FIELDS else 'This row has'
    return FileRejected(
        f'{what} more than {limit:,} values, far more than Flowdesk can use, so it stops '
        'reading the file here. Check the delimiters on this line (a line of delimiters, or a '
        'value with unquoted delimiters in it?).')
