"""The server's clock, in one place so that tests can set it.

Everything that asks "what time is it?" for a decision (the latest plausible response time, the
end of the demo data) calls ``utc_now()``. An app whose config holds ``CLOCK`` (a callable that
returns a naive UTC datetime) uses that instead of the system clock; tests set it to a fixed
moment rather than sleeping or depending on today's date.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, has_app_context


def utc_now() -> datetime:
    """Now as naive UTC, the form every timestamp is stored in."""
    if has_app_context():
        clock = current_app.config.get('CLOCK')
        if clock is not None:
            return clock()
    return datetime.now(UTC).replace(tzinfo=None)


def utc_today() -> date:
    """Today's date in UTC (the daily summary's days)."""
    return utc_now().date()
