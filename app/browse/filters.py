"""The response and flow filters, read from URL parameters and validated.

Every filter lives in the URL so a link can be shared. Parsing never raises on bad input: it
returns the filter it could build plus a message per bad parameter, which pages show next to the
form (HTTP 400) and the API returns as a 400 JSON error.

Times typed by people (``from``/``to``) are in the display time zone unless they carry an
offset; they are turned into naive UTC, the way timestamps are stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..datasets import FLOW_CODE_PATTERN
from ..models import CORRELATION_ID_LENGTH, FLOW_TYPES, STATUSES
from ..params import (
    CONTROL_CHARACTERS_MESSAGE,
    INT32_MAX,
    INT32_MIN,
    BadValue,
    check_day,
    has_control_characters,
)

#: Time range presets: key -> (label, length).
RANGE_PRESETS = {
    '1h': ('Last hour', timedelta(hours=1)),
    '24h': ('Last 24 hours', timedelta(hours=24)),
    '7d': ('Last 7 days', timedelta(days=7)),
    '30d': ('Last 30 days', timedelta(days=30)),
    '90d': ('Last 90 days', timedelta(days=90)),
}
RANGE_ALL = 'all'
RANGE_CUSTOM = 'custom'
RANGE_LABELS = {RANGE_ALL: 'Any time', **{k: v[0] for k, v in RANGE_PRESETS.items()},
                RANGE_CUSTOM: 'Custom dates (From / To)'}

#: Sort orders: key -> label. The keyset module knows how each one pages.
SORTS = {
    'newest': 'Newest first',
    'oldest': 'Oldest first',
    'slowest': 'Slowest first',
    'fastest': 'Fastest first',
}
DEFAULT_SORT = 'newest'
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 500
TEXT_MIN, TEXT_MAX = 3, 200
#: The longest id the ``id`` box takes: the longer of the two id columns.
ID_MAX = CORRELATION_ID_LENGTH
MAX_LIST_VALUES = 50

_DATE_ONLY = re.compile(r'^\d{4}-\d{2}-\d{2}$')


@dataclass(frozen=True)
class ResponseFilter:
    """What a person asked to see. ``start``/``end`` are naive UTC, end exclusive."""
    text: str | None = None
    #: an exact message id or correlation id (the ``id`` box)
    exact_id: str | None = None
    flows: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    range: str = RANGE_ALL
    start: datetime | None = None
    end: datetime | None = None
    raw_from: str = ''
    raw_to: str = ''
    result_code: int | None = None
    sort: str = DEFAULT_SORT
    size: int = DEFAULT_PAGE_SIZE

    def query_args(self, **changes) -> list[tuple[str, str]]:
        """The URL parameters that rebuild this filter (defaults left out), e.g. for links,
        exports and the API."""
        current = replace(self, **changes) if changes else self
        args: list[tuple[str, str]] = []
        if current.text:
            args.append(('q', current.text))
        if current.exact_id:
            args.append(('id', current.exact_id))
        args += [('flow', code) for code in current.flows]
        args += [('status', status) for status in current.statuses]
        if current.range == RANGE_CUSTOM:
            if current.raw_from:
                args.append(('from', current.raw_from))
            if current.raw_to:
                args.append(('to', current.raw_to))
        elif current.range != RANGE_ALL:
            args.append(('range', current.range))
        if current.result_code is not None:
            args.append(('result_code', str(current.result_code)))
        if current.sort != DEFAULT_SORT:
            args.append(('sort', current.sort))
        if current.size != DEFAULT_PAGE_SIZE:
            args.append(('size', str(current.size)))
        return args

    @property
    def is_filtered(self) -> bool:
        return bool(self.text or self.exact_id or self.flows or self.statuses
                    or self.range != RANGE_ALL or self.result_code is not None)

    @property
    def countable_from_summary(self) -> bool:
        """True when the daily summary alone gives the exact number of matching rows."""
        return (not self.text and not self.exact_id and self.result_code is None
                and self.range == RANGE_ALL)


@dataclass
class ParseResult:
    filter: ResponseFilter
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class FilterContext:
    """What parsing needs besides the parameters: ``now`` (naive UTC) for the range presets,
    the display ``zone`` for typed times, and whether the API asks (any page size up to
    API_MAX_PAGE_SIZE instead of the page's choices)."""
    now: datetime
    zone: ZoneInfo
    api: bool = False


@dataclass
class Parsed:
    """What one parameter parser found: filter fields, and one message per bad parameter.
    Fields may be set next to a message so that the form shows what was understood."""
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def list_values(args, name: str) -> list[str]:
    """Repeated parameters and comma-separated lists both work: status=OK&status=WARN or
    status=OK,WARN."""
    found = []
    for raw in args.getlist(name):
        found += [part.strip() for part in raw.split(',') if part.strip()]
    return found


def parse_text(args, _context: FilterContext | None = None) -> Parsed:
    """``q``: text to search for, 3–200 characters."""
    text = (args.get('q') or '').strip()
    if not text:
        return Parsed()
    if len(text) < TEXT_MIN:
        message = f'Search text needs at least {TEXT_MIN} characters ("{text}" is too short).'
    elif len(text) > TEXT_MAX:
        message = f'Search text can be at most {TEXT_MAX} characters.'
    elif has_control_characters(text):
        message = CONTROL_CHARACTERS_MESSAGE.format(what='Search text')
    else:
        return Parsed({'text': text})
    return Parsed(errors={'q': message})


def parse_exact_id(args, _context: FilterContext | None = None) -> Parsed:
    """``id``: a message id or correlation id, matched exactly (surrounding spaces ignored)."""
    exact_id = (args.get('id') or '').strip()
    if not exact_id:
        return Parsed()
    if len(exact_id) > ID_MAX:
        message = (f'An id can be at most {ID_MAX} characters (this one has '
                   f'{len(exact_id):,}); paste the message id or correlation id alone.')
    elif has_control_characters(exact_id):
        message = CONTROL_CHARACTERS_MESSAGE.format(what='An id')
    else:
        return Parsed({'exact_id': exact_id})
    return Parsed(errors={'id': message})


def parse_flows(args, _context: FilterContext | None = None) -> Parsed:
    """``flow``: flow codes (any case), at most MAX_LIST_VALUES; ``flows`` holds the valid ones
    in the order given, without repeats."""
    flows, bad_flows = [], []
    for raw in list_values(args, 'flow'):
        code = raw.upper()
        (flows if FLOW_CODE_PATTERN.match(code) else bad_flows).append(code)
    found = Parsed({'flows': tuple(dict.fromkeys(flows))})
    if bad_flows:
        found.errors['flow'] = (f'{", ".join(bad_flows[:5])} is not a flow code (flow codes are '
                                '2–32 letters, digits, - or _).')
    elif len(flows) > MAX_LIST_VALUES:
        found.errors['flow'] = f'Choose at most {MAX_LIST_VALUES} flows.'
    return found


def parse_statuses(args, _context: FilterContext | None = None) -> Parsed:
    """``status``: statuses (any case); ``statuses`` holds the valid ones in STATUSES order."""
    given = [raw.upper() for raw in list_values(args, 'status')]
    found = Parsed({'statuses': tuple(status for status in STATUSES if status in given)})
    bad_statuses = [status for status in given if status not in STATUSES]
    if bad_statuses:
        found.errors['status'] = (f'Unknown status {", ".join(bad_statuses[:5])}: use '
                                  f'{", ".join(STATUSES)}.')
    return found


def parse_time_range(args, context: FilterContext) -> Parsed:
    """``range`` (a preset, ``all`` or ``custom``) with ``from``/``to``; dates without a range
    mean ``custom``."""
    range_key = (args.get('range') or '').strip().lower()
    raw_from, raw_to = (args.get('from') or '').strip(), (args.get('to') or '').strip()
    if not range_key:
        range_key = RANGE_CUSTOM if (raw_from or raw_to) else RANGE_ALL
    if range_key not in RANGE_LABELS:
        return Parsed(errors={'range': f'Unknown time range "{range_key}": use one of '
                                       f'{", ".join(RANGE_LABELS)}.'})
    if range_key == RANGE_CUSTOM:
        return _custom_range(raw_from, raw_to, context.zone)
    found = Parsed({'range': range_key})
    if raw_from or raw_to:
        found.errors['range'] = (f'You entered dates but chose "{RANGE_LABELS[range_key]}": '
                                 'choose "Custom dates" to use them, or clear the dates.')
    if range_key in RANGE_PRESETS:
        found.values['start'] = context.now - RANGE_PRESETS[range_key][1]
    return found


def _custom_range(raw_from: str, raw_to: str, zone: ZoneInfo) -> Parsed:
    found = Parsed({'range': RANGE_CUSTOM, 'raw_from': raw_from, 'raw_to': raw_to})
    if not raw_from and not raw_to:
        found.errors['range'] = 'Custom dates need a From or a To date (or both).'
    for name, raw, is_end in (('from', raw_from, False), ('to', raw_to, True)):
        if not raw:
            continue
        try:
            found.values['end' if is_end else 'start'] = parse_moment(raw, zone,
                                                                      end_of_day=is_end)
        except BadValue as problem:
            found.errors[name] = f'"{raw}" is out of range. {problem}'
        except ValueError:
            found.errors[name] = (f'"{raw}" is not a date or time: use YYYY-MM-DD or '
                                  'YYYY-MM-DD HH:MM.')
    start, end = found.values.get('start'), found.values.get('end')
    if start and end and start >= end:
        found.errors['to'] = 'To must be later than From.'
    return found


def parse_result_code(args, _context: FilterContext | None = None) -> Parsed:
    """``result_code``: a whole number the INTEGER column can hold."""
    raw_code = (args.get('result_code') or '').strip()
    if not raw_code:
        return Parsed()
    try:
        code = int(raw_code)
    except ValueError:
        return Parsed(errors={'result_code': f'Result code "{raw_code}" is not a whole number.'})
    if not INT32_MIN <= code <= INT32_MAX:
        return Parsed(errors={'result_code': 'Result code is out of range.'})
    return Parsed({'result_code': code})


def parse_sort(args, _context: FilterContext | None = None) -> Parsed:
    """``sort``: one of SORTS."""
    sort = (args.get('sort') or DEFAULT_SORT).strip().lower()
    if sort in SORTS:
        return Parsed({'sort': sort})
    return Parsed(errors={'sort': f'Unknown sort "{sort}": use one of {", ".join(SORTS)}.'})


def parse_size(args, context: FilterContext) -> Parsed:
    """``size``: one of PAGE_SIZES on the pages, 1 to API_MAX_PAGE_SIZE in the API; ``size``
    is left out when the parameter is."""
    raw_size = (args.get('size') or '').strip()
    if not raw_size:
        return Parsed()
    try:
        size = int(raw_size)
    except ValueError:
        size = -1
    if context.api and 1 <= size <= API_MAX_PAGE_SIZE or not context.api and size in PAGE_SIZES:
        return Parsed({'size': size})
    message = (f'Page size must be between 1 and {API_MAX_PAGE_SIZE}.' if context.api else
               f'Page size must be one of {", ".join(map(str, PAGE_SIZES))}.')
    return Parsed(errors={'size': message})


def parse_moment(raw: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A date or date-time typed by a person → naive UTC. A bare date means the start of that
    day (``from``) or the start of the next day (``to``, so the whole day is included).
    ValueError when it is not a date; BadValue when it lies outside the accepted range."""
    text = raw.strip()
    if _DATE_ONLY.match(text):
        day = check_day(date.fromisoformat(text))
        if end_of_day:
            day += timedelta(days=1)
        moment = datetime.combine(day, time.min)
    else:
        if text.endswith(('Z', 'z')):
            text = text[:-1] + '+00:00'
        moment = datetime.fromisoformat(text)
        check_day(moment.date())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


#: The response filter's parameters, each read by its own parser.
RESPONSE_FILTER_PARSERS = (parse_text, parse_exact_id, parse_flows, parse_statuses, parse_time_range,
                           parse_result_code, parse_sort, parse_size)


def parse_response_filter(args, *, now: datetime, zone: ZoneInfo,
                          api: bool = False) -> ParseResult:
    """Build a ResponseFilter from URL parameters (a MultiDict). ``now`` is naive UTC."""
    context = FilterContext(now, zone, api)
    found = Parsed()
    for parser in RESPONSE_FILTER_PARSERS:
        part = parser(args, context)
        found.values.update(part.values)
        found.errors.update(part.errors)
    return ParseResult(ResponseFilter(**found.values), found.errors)


@dataclass(frozen=True)
class FlowFilter:
    """The flow list: text in code or name, flow type, owner team, source or target system."""
    text: str | None = None
    flow_type: str | None = None
    team: str | None = None
    system: str | None = None

    def query_args(self, **changes) -> list[tuple[str, str]]:
        current = replace(self, **changes) if changes else self
        pairs = [('q', current.text), ('type', current.flow_type), ('team', current.team),
                 ('system', current.system)]
        return [(key, value) for key, value in pairs if value]

    @property
    def is_filtered(self) -> bool:
        return bool(self.query_args())


def parse_flow_filter(args) -> ParseResult:
    errors: dict[str, str] = {}
    values: dict = {}
    text = (args.get('q') or '').strip()
    if len(text) > TEXT_MAX:
        errors['q'] = f'Search text can be at most {TEXT_MAX} characters.'
    elif has_control_characters(text):
        errors['q'] = CONTROL_CHARACTERS_MESSAGE.format(what='Search text')
    elif text:
        values['text'] = text
    flow_type = (args.get('type') or '').strip().upper()
    if flow_type and flow_type not in FLOW_TYPES:
        errors['type'] = f'Unknown flow type "{flow_type}": use one of {", ".join(FLOW_TYPES)}.'
    elif flow_type:
        values['flow_type'] = flow_type
    for name, key in (('team', 'team'), ('system', 'system')):
        value = (args.get(name) or '').strip()
        if len(value) > 100:
            errors[name] = f'The {name} can be at most 100 characters.'
        elif has_control_characters(value):
            errors[name] = CONTROL_CHARACTERS_MESSAGE.format(what=f'The {name}')
        elif value:
            values[key] = value
    return ParseResult(FlowFilter(**values), errors)
