"""Reading the response filter and its page cursor from a request, for the employee pages and
the API alike: the same parameters give the same rows and the same messages in both."""
from __future__ import annotations

from flask import request

from .browse import keyset
from .browse.filters import ParseResult, parse_response_filter
from .browse.responses import duration_sort_problem, missing_flows
from .clock import utc_now
from .templating import display_zone


def read_response_filter(args=None, api: bool = False,
                         listing: bool = True) -> tuple[ParseResult, keyset.Cursor | None]:
    """(ParseResult, cursor or None) for the request; flows that do not exist, unreadable
    cursors and (``listing``: a page of the list or the API) a duration sort over too many
    rows are reported in ``errors`` like any other bad value. Exports read every matching row
    anyway, so they may sort any number by duration."""
    args = request.args if args is None else args
    parsed = parse_response_filter(args, now=utc_now(), zone=display_zone(), api=api)
    cursor = None
    if parsed.ok and parsed.filter.flows:
        unknown = missing_flows(parsed.filter.flows)
        if unknown:
            parsed.errors['flow'] = (f'There is no flow {", ".join(unknown[:5])}. Check the '
                                     'code on the Flows page.')
    if parsed.ok and listing:
        problem = duration_sort_problem(parsed.filter)
        if problem:
            parsed.errors['sort'] = problem
    token = (args.get('cursor') or '').strip()
    if parsed.ok and token:
        try:
            cursor = keyset.decode_cursor(token, parsed.filter.sort)
        except keyset.CursorError as problem:
            parsed.errors['cursor'] = str(problem)
    return parsed, cursor
