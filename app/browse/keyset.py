"""Keyset ("seek") pagination over responses: every page is one index range read, however deep.

An order is a list of *segments*, each a filtered run of rows sorted by one key and then by
``response_id`` (unique, so the order is total and no row is skipped or repeated even when many
rows share a timestamp). Sorting by duration has two segments — rows with a duration, then rows
without one — so responses without a duration always come last and every dialect (SQLite and SQL
Server sort NULL first, PostgreSQL last) pages the same way.

Sorting by duration reads ``ix_responses_duration`` in order and stops after the page; when the
other filters match few rows, the caller asks for those rows to be sorted instead
(``sorted_here``, decided by ``responses.sort_matches``): the same order, another plan.

A cursor names the row a page continues from: the direction, the segment, the key value and the
response id, plus the page number shown to people. It is opaque (base64url JSON) and checked when
read back; a damaged or foreign cursor is a clear error, not a 500.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement, Select

from ..database import unindexed
from ..models import Response
from ..params import INT32_MAX, INT64_MAX, is_whole_number

FORWARD, BACKWARD = 'n', 'p'
DURATION_SORTS = ('slowest', 'fastest')


class CursorError(ValueError):
    """A cursor that cannot be read back (edited, truncated, or for another sort order)."""


@dataclass(frozen=True)
class Segment:
    where: ColumnElement | None
    key: ColumnElement | None      # None: the rows are ordered by response_id only
    descending: bool
    key_is_time: bool = False


_ID = Response.response_id
_TIME = Response.responded_at
_DURATION = Response.duration_ms

ORDERS: dict[str, list[Segment]] = {
    'newest': [Segment(None, _TIME, True, key_is_time=True)],
    'oldest': [Segment(None, _TIME, False, key_is_time=True)],
    'slowest': [Segment(_DURATION.is_not(None), _DURATION, True),
                Segment(_DURATION.is_(None), None, True)],
    'fastest': [Segment(_DURATION.is_not(None), _DURATION, False),
                Segment(_DURATION.is_(None), None, False)],
}


@dataclass(frozen=True)
class Cursor:
    direction: str
    sort: str
    segment: int
    value: object
    response_id: int
    page: int

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps([self.direction, self.sort, self.segment, value, self.response_id,
                          self.page], separators=(',', ':'))
        return base64.urlsafe_b64encode(raw.encode('utf-8')).decode('ascii').rstrip('=')


def decode_cursor(token: str, sort: str) -> Cursor:
    try:
        padded = token + '=' * (-len(token) % 4)
        direction, cursor_sort, segment, value, response_id, page = json.loads(
            base64.urlsafe_b64decode(padded.encode('ascii')))
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeError):
        raise CursorError('The page link is damaged or out of date: start again from the '
                          'first page.') from None
    if cursor_sort != sort:
        raise CursorError('The page link belongs to another sort order: start again from the '
                          'first page.')
    segments = ORDERS[sort]
    ok = (direction in (FORWARD, BACKWARD) and is_whole_number(segment, 0, len(segments) - 1)
          and is_whole_number(response_id, 0, INT64_MAX)
          and is_whole_number(page, 1, INT32_MAX))
    if ok:
        value, ok = _read_key(segments[segment], value)
    if not ok:
        raise CursorError('The page link is damaged or out of date: start again from the '
                          'first page.')
    return Cursor(direction, sort, segment, value, response_id, page)


def _read_key(segment: Segment, value) -> tuple[object, bool]:
    """A cursor's key value as the segment's column holds it, and whether it is one: a naive
    time, a duration the INTEGER column can hold, or nothing (rows ordered by id only)."""
    if segment.key is None:
        return None, value is None
    if segment.key_is_time:
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return None, False
        return moment, moment.tzinfo is None
    return value, is_whole_number(value, 0, INT32_MAX)


def _key(segment: Segment, sorted_here: bool):
    """The segment's key as the query names it. ``sorted_here``: ``key + 0``, the same values,
    which no index can supply, so the engine reads the rows through the filters' own indexes
    and sorts them (the right plan when few rows match; see ``responses.duration_plan``)."""
    return unindexed(segment.key) if sorted_here and segment.key is not None else segment.key


def _id(sorted_here: bool):
    """The response id, likewise hidden when ``sorted_here``: otherwise an engine may walk the
    primary key in id order (the rows without a duration) testing the filters on every row."""
    return unindexed(_ID) if sorted_here else _ID


def _after(segment: Segment, value, response_id: int, reverse: bool,
           sorted_here: bool = False) -> ColumnElement:
    """Rows strictly after (value, id) in the segment's order (or before it when ``reverse``).
    Written as ``key <= v AND (key < v OR id < i)`` rather than a row-value comparison, which
    SQL Server lacks; every engine turns the first half into an index range."""
    descending = segment.descending != reverse
    row_id = _id(sorted_here)
    if segment.key is None:
        return row_id < response_id if descending else row_id > response_id
    key = _key(segment, sorted_here)
    if descending:
        return and_(key <= value, or_(key < value, row_id < response_id))
    return and_(key >= value, or_(key > value, row_id > response_id))


def _ordered(segment: Segment, reverse: bool, sorted_here: bool = False):
    descending = segment.descending != reverse
    columns = ([_key(segment, sorted_here)] if segment.key is not None else []) + [_id(sorted_here)]
    return [column.desc() if descending else column.asc() for column in columns]


def row_position(sort: str, segment_index: int, row) -> tuple:
    segment = ORDERS[sort][segment_index]
    if segment.key is None:
        return None, row.response_id
    value = getattr(row, segment.key.key)
    if segment.key_is_time and isinstance(value, str):
        value = datetime.fromisoformat(value)   # exports read SQLite times as their text
    return value, row.response_id


@dataclass
class Page:
    rows: list
    page: int
    next_cursor: str | None
    prev_cursor: str | None


def seek(execute, base: Select, sort: str, size: int, reverse: bool = False,
         start_segment: int = 0, position: tuple | None = None, sorted_here: bool = False):
    """Yield (segment index, rows of that segment) in order from a position, at most ``size``
    rows in all (one query per segment reached).

    ``execute(statement)`` runs a select and returns its rows; ``base`` carries the filters.
    ``sorted_here``: sort the matching rows rather than read the key's index (``_key``)."""
    segments = ORDERS[sort]
    indexes = range(start_segment, -1, -1) if reverse else range(start_segment, len(segments))
    remaining = size
    for index in indexes:
        segment = segments[index]
        statement = base
        if segment.where is not None:
            statement = statement.where(_segment_where(segment, sorted_here))
        if position is not None and index == start_segment:
            statement = statement.where(_after(segment, position[0], position[1], reverse,
                                               sorted_here))
        statement = statement.order_by(*_ordered(segment, reverse, sorted_here)).limit(remaining)
        rows = execute(statement)
        if rows:
            yield index, rows
        remaining -= len(rows)
        if remaining <= 0:
            return


def _segment_where(segment: Segment, sorted_here: bool) -> ColumnElement:
    """The segment's rows (duration or none); on the hidden key when ``sorted_here``."""
    if not sorted_here or segment.where is None:
        return segment.where
    hidden = unindexed(_DURATION)
    return hidden.is_not(None) if segment.key is not None else hidden.is_(None)


def _flat(batches) -> list[tuple[int, object]]:
    return [(index, row) for index, rows in batches for row in rows]


def fetch_page(execute, base: Select, sort: str, cursor: Cursor | None, size: int,
               sorted_here: bool = False) -> Page:
    """One page of rows and the cursors around it."""
    if cursor is None:
        found = _flat(seek(execute, base, sort, size + 1, sorted_here=sorted_here))
        has_more, found = len(found) > size, found[:size]
        page_number, has_before = 1, False
        has_after = has_more
    else:
        backward = cursor.direction == BACKWARD
        found = _flat(seek(execute, base, sort, size + 1, reverse=backward,
                           start_segment=cursor.segment,
                           position=(cursor.value, cursor.response_id), sorted_here=sorted_here))
        has_more, found = len(found) > size, found[:size]
        page_number = cursor.page
        if backward:
            found.reverse()
            has_before, has_after = has_more, True
            if not has_before:
                page_number = 1
        else:
            has_before, has_after = True, has_more
    next_cursor = prev_cursor = None
    if found and has_after:
        index, row = found[-1]
        value, response_id = row_position(sort, index, row)
        next_cursor = Cursor(FORWARD, sort, index, value, response_id, page_number + 1).encode()
    if found and has_before:
        index, row = found[0]
        value, response_id = row_position(sort, index, row)
        prev_cursor = Cursor(BACKWARD, sort, index, value, response_id,
                             max(page_number - 1, 1)).encode()
    return Page([row for _index, row in found], page_number, next_cursor, prev_cursor)


def iter_chunks(execute, base: Select, sort: str, chunk: int, sorted_here: bool = False):
    """Every matching row in order, as lists of at most ``chunk`` rows, one query per list
    (exports): memory stays flat however many rows match."""
    position, segment = None, 0
    while True:
        batches = list(seek(execute, base, sort, chunk, start_segment=segment,
                            position=position, sorted_here=sorted_here))
        for _index, rows in batches:
            yield rows
        if sum(len(rows) for _index, rows in batches) < chunk:
            return
        segment, rows = batches[-1]
        position = row_position(sort, segment, rows[-1])
