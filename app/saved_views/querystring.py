"""A saved view's query string: normalised when saved, upgraded when opened.

Saving parses the page's parameters with the page's own filter parser and stores only what that
filter writes back (``query_args``): defaults left out, values in one spelling, page cursors
dropped. The text is stamped with ``QUERY_VERSION``.

Opening applies every parameter rename made after the view's version (``RENAMES``), then keeps
what today's parser accepts. Whatever it cannot keep (a filter that no longer exists, a value no
longer valid, a flow that was removed) is left out and described in plain words, so a view
never silently shows other rows than it did.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from werkzeug.datastructures import MultiDict

from ..browse.filters import parse_flow_filter

#: The version of the query format written today. Raise it when a filter parameter is renamed,
#: and record the rename in RENAMES under the new version.
QUERY_VERSION = 1

#: version -> page -> {old parameter: new parameter}: the renames that version introduced.
RENAMES: dict[int, dict[str, dict[str, str]]] = {}

#: The filter parameters each page understands (anything else is not part of a view).
PAGE_PARAMETERS = {
    'responses': ('q', 'id', 'flow', 'status', 'range', 'from', 'to', 'result_code', 'sort', 'size'),
    'flows': ('q', 'type', 'team', 'system'),
}
#: The page each kind of view opens.
PAGE_ENDPOINTS = {'responses': 'main.responses', 'flows': 'main.flows'}


@dataclass
class OpenedQuery:
    """What a view opens today: the parameters, and what could not be kept (plain sentences)."""
    args: list[tuple[str, str]]
    dropped: list[str] = field(default_factory=list)


def parse_page_args(page: str, args: MultiDict):
    """The page's ParseResult for ``args`` (the same checks as the page itself)."""
    if page == 'responses':
        from ..request_args import read_response_filter
        return read_response_filter(args)[0]
    return parse_flow_filter(args)


def normalise(page: str, args: MultiDict) -> tuple[str, dict[str, str]]:
    """(normalised query string, errors) for the filters in ``args``; nothing is normalised
    while the filters have errors (a view is only saved from filters the page accepts)."""
    known = MultiDict([(k, v) for k, v in args.items(multi=True) if k in PAGE_PARAMETERS[page]])
    parsed = parse_page_args(page, known)
    if not parsed.ok:
        return '', parsed.errors
    return urlencode(parsed.filter.query_args()), {}


def renamed(page: str, pairs: list[tuple[str, str]], version: int) -> list[tuple[str, str]]:
    """``pairs`` with every parameter rename after ``version`` applied, oldest first."""
    for step in sorted(v for v in RENAMES if v > version):
        names = RENAMES[step].get(page, {})
        pairs = [(names.get(key, key), value) for key, value in pairs]
    return pairs


def open_query(page: str, query: str, version: int) -> OpenedQuery:
    """The parameters a view stored as ``query`` (format ``version``) opens today."""
    pairs = renamed(page, parse_qsl(query, keep_blank_values=False), version)
    dropped: list[str] = []
    kept = []
    for key, value in pairs:
        if key in PAGE_PARAMETERS[page]:
            kept.append((key, value))
        else:
            dropped.append(f'"{key}={value}" is no longer a filter of this page, so it was left '
                           'out.')
    if version > QUERY_VERSION:
        dropped.append('This view was saved by a newer Flowdesk; some filters may be missing.')
    for _attempt in range(len(PAGE_PARAMETERS[page])):
        parsed = parse_page_args(page, MultiDict(kept))
        if parsed.ok:
            return OpenedQuery(parsed.filter.query_args(), dropped)
        bad = set(parsed.errors)
        # A custom range is one filter written as three parameters: drop them together.
        if bad & {'range', 'from', 'to'}:
            bad |= {'range', 'from', 'to'}
        dropped += [f'{message} The view\'s "{name}" filter was left out.'
                    for name, message in parsed.errors.items()]
        kept = [(key, value) for key, value in kept if key not in bad]
    return OpenedQuery([], dropped)
