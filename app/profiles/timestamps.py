"""Reading a source's timestamps as a profile declares them: ISO 8601, a strptime pattern, or
Excel serial day numbers (days since 1899-12-30, the fraction being the time of day).

``to_text`` turns a source cell into the ISO text the dataset's own timestamp parser reads (so
time zones, the plausible range and daylight-saving rules stay in one place); ISO cells pass
through untouched. ``to_moment`` gives a comparable instant, for the difference of two times.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EXCEL_EPOCH = datetime(1899, 12, 30)
#: Excel's largest date, 9999-12-31, is day 2,958,465.
EXCEL_MAX = 2_958_466


class TimestampReader:
    def __init__(self, fmt: str, pattern: str, timezone: str):
        self.fmt = fmt
        self.pattern = pattern
        self.zone = None if timezone.upper() == 'UTC' else ZoneInfo(timezone)
        if fmt == 'pattern':
            self.expected = f'a date and time in the profile\'s format {pattern}'
        elif fmt == 'excel':
            self.expected = 'an Excel serial date (a number of days such as 46082.5)'
        else:
            self.expected = 'a date and time like 2026-03-01 14:05:09'

    def read(self, raw: str) -> datetime:
        """The cell as a datetime (naive: in the profile's zone), or ValueError."""
        value = raw.strip()
        try:
            if self.fmt == 'iso':
                if value[-1:] in ('z', 'Z'):
                    value = value[:-1] + '+00:00'
                return datetime.fromisoformat(value)
            if self.fmt == 'pattern':
                return datetime.strptime(value, self.pattern)
            serial = float(value)
            if not 0 < serial < EXCEL_MAX:
                raise ValueError
            # to the millisecond: the float carries noise below it
            return EXCEL_EPOCH + timedelta(milliseconds=round(serial * 86_400_000))
        except (ValueError, OverflowError):
            raise ValueError(f'is not {self.expected}') from None

    def to_text(self, raw: str) -> str:
        if self.fmt == 'iso' or not raw.strip():
            return raw
        return self.read(raw).isoformat(sep=' ')

    def to_moment(self, raw: str) -> datetime:
        """A comparable instant: naive UTC (a time without an offset is in the profile's zone)."""
        moment = self.read(raw)
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        if self.zone is None:
            return moment
        return moment.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)
