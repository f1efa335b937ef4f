"""Reading numbers, dates and text from URLs within the bounds the databases and Python can
hold.

Every whole number a person can type into a URL (page numbers, ids in paths, cursor positions)
is checked against the column it is compared with (32- or 64-bit), and every typed date against
a calendar range wide enough for any real data yet far from Python's and the databases' limits,
so that adding a day or converting a time zone never overflows; typed text holds no control
characters (PostgreSQL refuses a NUL). A value outside is a clear 400 (or, for an id in the path,
a 404), or a filter that is ignored with a message, never a 500.
"""
from __future__ import annotations

from datetime import date

from flask import abort
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1

#: Dates people may type (filters, statistics): any real flow ran within these.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
DAY_RANGE_MESSAGE = (f'Dates must be between {EARLIEST_DAY.isoformat()} and '
                     f'{LATEST_DAY.isoformat()}.')


#: Typed text never holds control characters; a NUL would even break the SQL drivers.
CONTROL_CHARACTERS_MESSAGE = '{what} cannot contain control characters (such as NUL or tab).'


def has_control_characters(text: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in text)


def no_control_characters(_form, field) -> None:
    """WTForms validator for filter text (what a search may hold)."""
    if field.data and has_control_characters(field.data):
        raise ValidationError(CONTROL_CHARACTERS_MESSAGE.format(what='It'))


class BadValue(ValueError):
    """A parameter that cannot be used; ``str()`` is the message for the person."""


def is_whole_number(value, low: int = INT64_MIN, high: int = INT64_MAX) -> bool:
    """True for an int (not a bool) within [low, high]: e.g. a value read from JSON."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def whole_number(raw: str, low: int, high: int, what: str) -> int:
    """``raw`` as an int within [low, high], or BadValue naming ``what``."""
    text = (raw or '').strip()
    try:
        value = int(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise BadValue(f'{what} must be a whole number from {low:,} to {high:,}.')
    return value


def check_day(day: date) -> date:
    """``day`` if it lies in the accepted calendar range, else BadValue."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise BadValue(DAY_RANGE_MESSAGE)
    return day


def parse_page(args, name: str = 'page') -> int:
    """The page asked for in ``args`` (1 when absent), or BadValue: never an offset no database
    can hold."""
    raw = args.get(name, '')
    if not raw.strip():
        return 1
    return whole_number(raw, 1, INT32_MAX, 'The page number')


def page_number(args, name: str = 'page') -> int:
    """``parse_page``, answering a 400 with the message when the page is not a page number."""
    try:
        return parse_page(args, name)
    except BadValue as problem:
        abort(400, description=str(problem))


def optional_id(args, name: str) -> int | None:
    """An optional id (e.g. of a load batch) from ``args``: None when absent or not an id."""
    try:
        return whole_number(args.get(name, ''), 1, INT32_MAX, name)
    except BadValue:
        return None


class Int64Converter(IntegerConverter):
    """``<int:...>`` in routes: a non-negative id a BIGINT column can hold. A larger number
    matches no route (404) instead of overflowing the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT64_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Int32Converter(Int64Converter):
    """``<int32:...>``: an id an INTEGER column can hold (load batches, users)."""

    def __init__(self, map, fixed_digits=0, min=None, max=INT32_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


#: Route converters: ``int`` (64-bit) replaces Werkzeug's unbounded one.
URL_CONVERTERS = {'int': Int64Converter, 'int32': Int32Converter}
