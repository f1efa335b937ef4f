"""The datasets admins load and employees read, one spec each.

A spec says everything about a dataset: its columns in file/export order (header names as in
docs/architecture.md §1), how each cell is parsed and checked, the business key, the table it
lives in, the table that keeps prior versions for undo, the column that dates a row (for the
daily summary), and which other dataset a column must name. The loader, the exports and the
pages read these specs; adding a dataset means one spec here and one model.

Parsers take the raw cell text and return the stored value, or raise ``ValueError`` with a plain
message for the person fixing the file. They are closures built once per load (``parsers``),
because they run for every cell of million-row files.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config import FALSE_WORDS, TRUE_WORDS

from .clock import utc_now
from .csv_safety import unprotect
from .error_reasons import ReasonDictionary, reason_hash
from .local_time import LocalTimes, OverlapTally
from .models import (
    CORRELATION_ID_LENGTH,
    FLOW_TYPES,
    MESSAGE_ID_LENGTH,
    STATUSES,
    Flow,
    FlowVersion,
    Response,
    ResponseVersion,
)
from .params import INT32_MAX, INT32_MIN, INT64_MAX

Parser = Callable[[str], Any]

#: A flow code, once upper-cased: 2–32 letters, digits, - or _, starting with a letter or digit.
FLOW_CODE_PATTERN = re.compile(r'[A-Z0-9][A-Z0-9_-]{1,31}\Z')
EMAIL_PATTERN = re.compile(r'[^@\s]+@[^@\s]+\.[^@\s.]+\Z')
#: C0 control characters other than tab, LF and CR: no text column accepts them (xlsx cannot
#: hold them, terminals and spreadsheets misbehave on them).
CONTROL_CHARACTER = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f]')


def refuse_control_characters(value: str) -> None:
    found = CONTROL_CHARACTER.search(value)
    if found is not None:
        raise ValueError(f'holds the control character U+{ord(found.group()):04X} at character '
                         f'{found.start() + 1:,}; remove it (only tab and line breaks are '
                         'allowed in text)')


@dataclass(frozen=True)
class ParseContext:
    """What parsing depends on besides the cell: the zone of timestamps without an offset, and
    the range of plausible times (``now``: the server's time, naive UTC; None = the clock's).
    ``overlaps`` counts local times read in a repeated daylight-saving hour (a warning)."""
    data_timezone: str = 'UTC'
    now: datetime | None = None
    max_clock_skew_minutes: int = 15
    earliest: datetime = datetime(2000, 1, 1)
    overlaps: OverlapTally = field(default_factory=OverlapTally)


# -- parser factories --------------------------------------------------------------------
def text(max_length: int, required: bool = False, upper: bool = False,
         pattern: re.Pattern | None = None, pattern_hint: str = '') -> Callable:
    def factory(_ctx: ParseContext) -> Parser:
        def parse(raw: str):
            value = raw.strip()
            if not value:
                if required:
                    raise ValueError('is required')
                return None
            if value[0] == "'":
                value = unprotect(value)
            if not value.isprintable():  # fast path: most text has no tab, break or control
                refuse_control_characters(value)
            if upper:
                value = value.upper()
            if len(value) > max_length:
                raise ValueError(f'is {len(value):,} characters long; '
                                 f'at most {max_length:,} allowed')
            if pattern is not None and not pattern.match(value):
                raise ValueError(pattern_hint)
            return value
        return parse
    return factory


def email(max_length: int) -> Callable:
    def factory(_ctx: ParseContext) -> Parser:
        def parse(raw: str):
            value = raw.strip()
            if not value:
                return None
            if len(value) > max_length:
                raise ValueError(f'is {len(value):,} characters long; '
                                 f'at most {max_length:,} allowed')
            if not value.isprintable():
                refuse_control_characters(value)
            if not EMAIL_PATTERN.match(value):
                raise ValueError('is not an e-mail address (expected name@domain.example)')
            return value
        return parse
    return factory


def choice(values: tuple[str, ...]) -> Callable:
    allowed = frozenset(values)
    listing = ', '.join(values)

    def factory(_ctx: ParseContext) -> Parser:
        def parse(raw: str):
            value = raw.strip().upper()
            if value in allowed:
                return value
            if not value:
                raise ValueError(f'is required (one of {listing})')
            raise ValueError(f'must be one of {listing}')
        return parse
    return factory


def integer(minimum: int, maximum: int, required: bool = False) -> Callable:
    def factory(_ctx: ParseContext) -> Parser:
        def parse(raw: str):
            # int() first: it skips surrounding spaces itself, and this runs for every cell.
            try:
                number = int(raw)
            except ValueError:
                if raw.strip():
                    raise ValueError('is not a whole number') from None
                if required:
                    raise ValueError('is required') from None
                return None
            if '_' in raw:  # int() accepts 1_000; a CSV cell with it is a typo
                raise ValueError('is not a whole number')
            if number < minimum or number > maximum:
                raise ValueError(f'is out of range ({minimum:,} to {maximum:,})')
            return number
        return parse
    return factory


def boolean(default: bool) -> Callable:
    def factory(_ctx: ParseContext) -> Parser:
        def parse(raw: str):
            word = raw.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            if not word:
                return default
            raise ValueError('must be true/false, yes/no, y/n or 1/0')
        return parse
    return factory


def timestamp() -> Callable:
    """ISO 8601 (space or ``T``, optional fraction and offset), stored as naive UTC; values
    without an offset are in the configured DATA_TIMEZONE (an offset always wins). A time
    later than now plus the allowed clock skew, or before the earliest date, is refused."""
    def factory(ctx: ParseContext) -> Parser:
        local_to_utc = (None if ctx.data_timezone.upper() == 'UTC'
                        else LocalTimes(ctx.data_timezone, ctx.overlaps).to_utc)
        fromisoformat = datetime.fromisoformat
        utc = UTC
        now = ctx.now or utc_now()
        too_late = now + timedelta(minutes=ctx.max_clock_skew_minutes)
        too_early = ctx.earliest

        def parse(raw: str):
            value = raw.strip()
            if not value:
                raise ValueError('is required')
            if value[-1] in 'zZ':
                value = value[:-1] + '+00:00'
            try:
                moment = fromisoformat(value)
            except ValueError:
                raise ValueError('is not a date and time like 2026-03-01 14:05:09') from None
            if len(value) < 16:  # a bare date is not a moment in time
                raise ValueError('needs a time as well as a date, like 2026-03-01 14:05:09')
            try:
                if moment.tzinfo is not None:
                    moment = moment.astimezone(utc).replace(tzinfo=None)
                elif local_to_utc is not None:
                    moment = local_to_utc(moment)
            except OverflowError:  # year 1 or 9999 moved by an offset
                raise ValueError(f'is out of range: times lie between {too_early:%Y-%m-%d} '
                                 'and now') from None
            if moment > too_late or moment < too_early:
                raise ValueError(implausible(moment, ctx, now))
            return moment
        return parse
    return factory


def implausible(moment: datetime, ctx: ParseContext, now: datetime) -> str:
    """Why a (UTC) time cannot be a response's: before the earliest date, or in the future."""
    shown = moment.isoformat(sep=' ')
    if moment < ctx.earliest:
        return (f'{shown} UTC is before {ctx.earliest:%Y-%m-%d}, the earliest date Flowdesk '
                'accepts (EARLIEST_RESPONSE_DATE): is the year mistyped?')
    return (f'{shown} UTC is in the future: the server\'s time is now '
            f'{now.replace(microsecond=0).isoformat(sep=" ")} UTC and at most '
            f'{ctx.max_clock_skew_minutes} minutes of clock difference are allowed '
            '(MAX_CLOCK_SKEW_MINUTES): is the date mistyped?')


# -- specs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnSpec:
    name: str
    parser: Callable[[ParseContext], Parser]
    required: bool = False
    label: str = ''
    help: str = ''


@dataclass(frozen=True)
class DerivedColumn:
    """A stored column computed from another column of the same row (never in a file or an
    export): ``compute(row[source])``. ``dictionary(connection)``: keeps each distinct source
    value once under the computed key; writers call its ``add(values)`` before storing rows."""
    name: str
    source: str
    compute: Callable[[Any], Any]
    dictionary: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str
    model: Any
    version_model: Any
    key: str
    columns: tuple[ColumnSpec, ...]
    #: 'int' keys are looked up by ranges, 'text' keys by IN lists.
    key_kind: str
    #: column -> dataset whose key it must name
    references: dict[str, str] = field(default_factory=dict)
    #: the column whose UTC day the daily summary is kept by (None: no summary)
    time_column: str | None = None
    description: str = ''
    #: stored after ``batch_id``, in this order
    derived: tuple[DerivedColumn, ...] = ()

    # Column facts, in file/export order.
    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    @property
    def export_columns(self) -> list[str]:
        """The columns of a CSV/xlsx export, in the order a load accepts them back."""
        return self.column_names

    @property
    def table(self):
        return self.model.__table__

    @property
    def version_table(self):
        return self.version_model.__table__

    @property
    def stored_columns(self) -> list[str]:
        """Columns written by a load: the file's columns, the batch id, the derived columns."""
        return self.column_names + ['batch_id'] + [column.name for column in self.derived]

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def parsers(self, ctx: ParseContext) -> list[Parser]:
        return [column.parser(ctx) for column in self.columns]


FLOWS = DatasetSpec(
    name='flows',
    label='Flows',
    model=Flow,
    version_model=FlowVersion,
    key='flow_code',
    key_kind='text',
    description='One row per integration flow, keyed by flow_code.',
    columns=(
        ColumnSpec('flow_code', text(32, required=True, upper=True, pattern=FLOW_CODE_PATTERN,
                                     pattern_hint='must be 2-32 letters, digits, _ or -, '
                                                  'starting with a letter or digit'),
                   required=True, help='2-32 of A-Z 0-9 _ -, upper-cased'),
        ColumnSpec('name', text(200, required=True), required=True, help='≤ 200 characters'),
        ColumnSpec('flow_type', choice(FLOW_TYPES), required=True,
                   help=' / '.join(FLOW_TYPES)),
        ColumnSpec('source_system', text(100, required=True), required=True,
                   help='≤ 100 characters'),
        ColumnSpec('target_system', text(100, required=True), required=True,
                   help='≤ 100 characters'),
        ColumnSpec('owner_team', text(100), help='optional, ≤ 100 characters'),
        ColumnSpec('owner_email', email(254), help='optional e-mail address'),
        ColumnSpec('schedule', text(100), help='optional free text or a cron line'),
        ColumnSpec('active', boolean(True),
                   help='true/false, yes/no, y/n, on/off, 1/0; default true'),
        ColumnSpec('description', text(4000), help='optional, ≤ 4,000 characters'),
    ),
)

RESPONSES = DatasetSpec(
    name='responses',
    label='Responses',
    model=Response,
    version_model=ResponseVersion,
    key='response_id',
    key_kind='int',
    references={'flow_code': 'flows'},
    time_column='responded_at',
    description='One row per run/response of a flow, keyed by response_id.',
    derived=(DerivedColumn('reason_hash', 'error_reason', reason_hash, ReasonDictionary),),
    columns=(
        ColumnSpec('response_id', integer(1, INT64_MAX, required=True), required=True,
                   label='Response ID', help='whole number > 0'),
        ColumnSpec('flow_code', text(32, required=True, upper=True), required=True,
                   help='a flow that exists'),
        ColumnSpec('responded_at', timestamp(), required=True,
                   help='ISO 8601, e.g. 2026-03-01 14:05:09; no offset = DATA_TIMEZONE'),
        ColumnSpec('status', choice(STATUSES), required=True, help=' / '.join(STATUSES)),
        ColumnSpec('result_code', integer(INT32_MIN, INT32_MAX), help='optional whole number'),
        ColumnSpec('duration_ms', integer(0, INT32_MAX), help='optional, ≥ 0'),
        ColumnSpec('error_reason', text(4000), help='optional, ≤ 4,000 characters'),
        ColumnSpec('payload_bytes', integer(0, INT64_MAX), help='optional, ≥ 0'),
        ColumnSpec('message_id', text(MESSAGE_ID_LENGTH), label='Message ID',
                   help=f'optional, the source\'s own id (e.g. a GUID), '
                        f'≤ {MESSAGE_ID_LENGTH} characters'),
        ColumnSpec('correlation_id', text(CORRELATION_ID_LENGTH), label='Correlation ID',
                   help=f'optional, shared by the runs of one message across flows, '
                        f'≤ {CORRELATION_ID_LENGTH} characters'),
    ),
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (FLOWS, RESPONSES)}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name.strip().lower()]
    except KeyError:
        raise KeyError(f'unknown dataset {name!r}: use one of {", ".join(DATASETS)}') from None


__all__ = ['DATASETS', 'FLOWS', 'RESPONSES', 'ColumnSpec', 'DatasetSpec', 'DerivedColumn',
           'ParseContext', 'get_dataset']
