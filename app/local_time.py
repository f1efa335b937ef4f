"""Wall-clock times of one time zone read as UTC, with daylight saving decided on purpose.

A file's timestamps without an offset are local times in DATA_TIMEZONE. Twice a year such a
time is not one instant:
- in the spring gap (clocks jump forward) the local time never existed: that is an error;
- in the autumn overlap (clocks go back) it happened twice: it is read as the first occurrence
  (``fold=0``, the offset before the change) and counted, so the load report can warn.

It runs for every row of million-row files, so the offset is worked out once per distinct
local hour; only an hour holding a transition checks each time exactly.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_UTC = UTC
_LAST_MOMENT_OF_HOUR = timedelta(minutes=59, seconds=59, microseconds=999_999)
_TRANSITION = object()  # the cached "offset" of an hour in which the zone's offset changes


class OverlapTally:
    """Counts local times that fell in a repeated hour, per repeated hour, for the warning."""

    def __init__(self):
        self.counts: dict[tuple[datetime, datetime, str, str], int] = {}
        self._muted = False

    def add(self, start: datetime, end: datetime, zone_name: str, read_as: str) -> None:
        if not self._muted:
            key = (start, end, zone_name, read_as)
            self.counts[key] = self.counts.get(key, 0) + 1

    @contextmanager
    def muted(self):
        """Parse again (to list a bad row's problems) without counting twice."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def warnings(self) -> list[str]:
        return [f'{count:,} timestamp{"s" if count != 1 else ""} fell in the repeated hour of '
                f'{start:%Y-%m-%d %H:%M}–{end:%H:%M} {zone_name}; read as {read_as}; '
                'give a UTC offset to be exact.'
                for (start, end, zone_name, read_as), count in sorted(self.counts.items())]


class LocalTimes:
    """Converts naive local times of ``zone_name`` to naive UTC."""

    def __init__(self, zone_name: str, tally: OverlapTally | None = None):
        self.zone_name = zone_name
        self.zone = ZoneInfo(zone_name)
        self.tally = tally if tally is not None else OverlapTally()
        self.hour_offsets: dict[tuple, object] = {}
        self.transitions: dict[datetime, tuple[datetime, timedelta, timedelta]] = {}

    def to_utc(self, moment: datetime) -> datetime:
        """``moment`` (naive, local) as naive UTC; ValueError when it never existed."""
        key = (moment.year, moment.month, moment.day, moment.hour)
        offset = self.hour_offsets.get(key)
        if offset is None:
            offset = self.hour_offsets[key] = self._offset_of_hour(moment)
        if offset is _TRANSITION:
            return self._exact(moment)
        return moment - offset

    def _offset_of_hour(self, moment: datetime):
        start = moment.replace(minute=0, second=0, microsecond=0)
        offsets = {wall.replace(tzinfo=self.zone, fold=fold).utcoffset()
                   for wall in (start, start + _LAST_MOMENT_OF_HOUR) for fold in (0, 1)}
        return offsets.pop() if len(offsets) == 1 else _TRANSITION

    def _exact(self, moment: datetime) -> datetime:
        local = moment.replace(tzinfo=self.zone)
        first, second = local.utcoffset(), local.replace(fold=1).utcoffset()
        utc = moment - first
        if first == second:
            return utc
        transition, before, after = self._transition(utc, moment - second)
        if self._wall(utc) != moment:  # local -> UTC -> local does not come back: a gap
            raise ValueError(f'{moment.isoformat(sep=" ")} does not exist in {self.zone_name}: '
                             f'clocks jump from {transition + before:%H:%M} to '
                             f'{transition + after:%H:%M}; correct it or give a UTC offset')
        self.tally.add(transition + after, transition + before, self.zone_name, local.tzname())
        return utc

    def _wall(self, utc: datetime) -> datetime:
        return utc.replace(tzinfo=_UTC).astimezone(self.zone).replace(tzinfo=None)

    def _transition(self, one: datetime, other: datetime):
        """(UTC instant of the change, offset before, offset after) for a change between the
        two UTC instants; found by halving the interval to the second, once per change."""
        low, high = min(one, other), max(one, other)
        cached = self.transitions.get(low)
        if cached is not None:
            return cached
        before = self._offset_at(low)
        while high - low > timedelta(seconds=1):
            middle = low + (high - low) / 2
            if self._offset_at(middle) == before:
                low = middle
            else:
                high = middle
        change = high.replace(microsecond=0)
        found = (change, before, self._offset_at(change))
        self.transitions[min(one, other)] = found
        return found

    def _offset_at(self, utc: datetime) -> timedelta:
        return utc.replace(tzinfo=_UTC).astimezone(self.zone).utcoffset()
