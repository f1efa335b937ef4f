"""Exports of the responses a filter matches, as CSV (streamed, any size) and xlsx (up to
EXPORT_XLSX_MAX_ROWS). The columns are the upload format's (app.datasets.RESPONSES) so an
export can be loaded again; times carry their UTC offset in the display time zone, so a reload
lands on the same instant whatever DATA_TIMEZONE says."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Unicode, func, type_coerce

from ..datasets import RESPONSES
from ..models import Response

EXPORT_COLUMNS = tuple(RESPONSES.export_columns)
TIME_INDEX = EXPORT_COLUMNS.index('responded_at')


def select_columns(dialect: str) -> tuple:
    """The exported columns. Timestamps are read as ISO text where the database can give it
    cheaply (SQLite stores that text; PostgreSQL formats it in C): building and formatting a
    datetime object per row in Python is the largest per-row cost of an export."""
    columns = [getattr(Response, name) for name in EXPORT_COLUMNS]
    if dialect == 'sqlite':
        columns[TIME_INDEX] = type_coerce(Response.responded_at, Unicode).label('responded_at')
    elif dialect == 'postgresql':
        columns[TIME_INDEX] = type_coerce(
            func.to_char(Response.responded_at, 'YYYY-MM-DD HH24:MI:SS.US'), Unicode
        ).label('responded_at')
    return tuple(columns)


def time_formatter(zone_name: str):
    """Stored UTC time (a naive datetime, or SQLite's ISO text) -> ISO 8601 text with the
    offset of the display zone."""
    utc_zone = UTC
    if zone_name.upper() == 'UTC':
        def utc(value) -> str:
            if isinstance(value, str):
                return value + '+00:00'
            return value.isoformat(sep=' ') + '+00:00'
        return utc
    zone = ZoneInfo(zone_name)

    def local(value) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=utc_zone).astimezone(zone).isoformat(sep=' ')
    return local


def export_filename(extension: str, now: datetime) -> str:
    return f'flowdesk-responses-{now:%Y%m%d-%H%M%S}.{extension}'
