"""What every template can use: the signed-in user, the environment badge, number and time
formatting in the stated display time zone, and the load batch statuses (``BATCH_*``)."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, g
from markupsafe import Markup

from .models import (
    BATCH_FAILED,
    BATCH_INTERRUPTED,
    BATCH_RUNNING,
    BATCH_SUCCEEDED,
    BATCH_UNDONE,
    BATCH_VALIDATED,
)

#: Template globals: the batch statuses, named as in the code.
BATCH_STATUS_GLOBALS = {
    'BATCH_RUNNING': BATCH_RUNNING, 'BATCH_SUCCEEDED': BATCH_SUCCEEDED,
    'BATCH_FAILED': BATCH_FAILED, 'BATCH_VALIDATED': BATCH_VALIDATED,
    'BATCH_INTERRUPTED': BATCH_INTERRUPTED, 'BATCH_UNDONE': BATCH_UNDONE,
}


def display_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get('DISPLAY_TIMEZONE') or 'UTC')


def format_datetime(value: datetime | None, fmt: str = '%Y-%m-%d %H:%M:%S') -> str:
    """A stored (naive UTC) timestamp shown in the display time zone."""
    if value is None:
        return ''
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(display_zone()).strftime(fmt)


def utc_iso(value: datetime, max_digits: int = 6) -> str:
    """A stored (naive UTC) time as ISO 8601 with ``Z``; the fraction keeps at most
    ``max_digits`` digits and never ends in zeros (none when it is zero)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime('%Y-%m-%dT%H:%M:%S') + fraction(value, max_digits) + 'Z'


def fraction(value: datetime, digits: int = 3) -> str:
    """``.147`` for 147 ms (``digits`` = 3 shows milliseconds): no trailing zeros, and ''
    when the shown digits are all zero."""
    shown = f'{value.microsecond:06d}'[:digits].rstrip('0')
    return '.' + shown if shown else ''


def time_tag(value: datetime | None, fmt: str = '%Y-%m-%d %H:%M:%S',
             milliseconds: bool = False) -> Markup:
    """A stored time as people read it (display time zone, seconds; milliseconds only when
    asked), in ``<time>`` markup whose ``datetime`` and ``title`` give the exact UTC instant.
    HTML allows at most three fraction digits in ``datetime``; the title keeps them all."""
    if value is None:
        return Markup('')
    shown = format_datetime(value, fmt) + (fraction(value) if milliseconds else '')
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc_iso(value, 3), utc_iso(value), shown)


def format_number(value) -> str:
    if value is None:
        return ''
    if isinstance(value, float):
        return f'{value:,.1f}'
    return f'{value:,}'


def format_percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return '–'
    return f'{value * 100:.{digits}f} %'


#: The navigation bar: (endpoint, label). Entries whose blueprint is not registered are left out.
MAIN_NAV = [
    ('main.index', 'Dashboard'),
    ('main.responses', 'Responses'),
    ('main.flows', 'Flows'),
    ('alerts.incidents', 'Incidents'),
    ('alerts.profile', 'Profile'),
]
ADMIN_NAV = [
    ('admin.upload', 'Load data'),
    ('admin.batches', 'Load history'),
    ('admin.users', 'Users'),
    ('admin.audit_log', 'Audit log'),
    ('admin.inboxes', 'Inboxes'),
    ('admin.profiles', 'Source profiles'),
    ('admin.jobs', 'Scheduled jobs'),
    ('alerts.alert_rules', 'Alert rules'),
    ('alerts.deliveries', 'Alert deliveries'),
]


def available(entries):
    views = current_app.view_functions
    return [(endpoint, label) for endpoint, label in entries if endpoint in views]


def inject_globals():
    user = g.get('user')
    return {
        'main_nav': available(MAIN_NAV),
        'admin_nav': available(ADMIN_NAV) if user is not None and user.is_admin else [],
        'current_user': user,
        'env_badge': current_app.config.get('ENV_BADGE'),
        'flowdesk_version': current_app.config.get('FLOWDESK_VERSION'),
        'display_timezone': current_app.config.get('DISPLAY_TIMEZONE') or 'UTC',
    }


def init_app(app) -> None:
    app.context_processor(inject_globals)
    app.jinja_env.globals.update(BATCH_STATUS_GLOBALS)
    app.add_template_filter(format_datetime, 'datetime')
    app.add_template_filter(time_tag, 'timetag')
    app.add_template_filter(format_number, 'number')
    app.add_template_filter(format_percent, 'percent')
