"""What the employee pages and the API share when reading a request: the clock, the display
time zone, the validated response filter and its cursor, and links that keep the filter."""
from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import urlencode

from flask import current_app, request, url_for

from ..browse import keyset
from ..browse.filters import ParseResult, parse_response_filter
from ..browse.responses import missing_flows
from ..templating import display_zone


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today_utc() -> date:
    return now_utc().date()


def read_response_filter(args=None, api: bool = False):
    """(ParseResult, cursor or None) for the request; flows that do not exist and unreadable
    cursors are reported in ``errors`` like any other bad value."""
    args = request.args if args is None else args
    parsed: ParseResult = parse_response_filter(args, now=now_utc(), zone=display_zone(),
                                                api=api)
    cursor = None
    if parsed.ok and parsed.filter.flows:
        unknown = missing_flows(parsed.filter.flows)
        if unknown:
            parsed.errors['flow'] = (f'There is no flow {", ".join(unknown[:5])}. Check the '
                                     'code on the Flows page.')
    token = (args.get('cursor') or '').strip()
    if parsed.ok and token:
        try:
            cursor = keyset.decode_cursor(token, parsed.filter.sort)
        except keyset.CursorError as problem:
            parsed.errors['cursor'] = str(problem)
    return parsed, cursor


def url_with_args(endpoint: str, args: list[tuple[str, str]], **values) -> str:
    """``url_for`` plus repeated query parameters (status=OK&status=WARN)."""
    base = url_for(endpoint, **values)
    return f'{base}?{urlencode(args)}' if args else base


def load_data_url() -> str | None:
    """Where an admin loads data, when that page exists (shown in empty states)."""
    if 'admin.upload' in current_app.view_functions:
        return url_for('admin.upload')
    return None
