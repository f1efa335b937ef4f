"""Local times through daylight-saving changes (real zones from tzdata), the plausible range of
response times, the two settings that set it, and times as pages show them."""
from __future__ import annotations

import unittest
from datetime import date, datetime, timedelta

from parameterized import parameterized

from app import create_app
from app.datasets import RESPONSES, ParseContext
from app.local_time import LocalTimes
from app.templating import fraction, time_tag, utc_iso
from config import Config

NOW = datetime(2026, 11, 30, 4, 0, 0)


def parse_time(zone='UTC', **context):
    return RESPONSES.column('responded_at').parser(ParseContext(zone, now=NOW, **context))


class LocalTimesTest(unittest.TestCase):
    @parameterized.expand([
        # zone, local time, UTC (None: in the gap)
        ('Europe/Berlin', datetime(2026, 3, 29, 1, 59, 59), datetime(2026, 3, 29, 0, 59, 59)),
        ('Europe/Berlin', datetime(2026, 3, 29, 2, 0), None),
        ('Europe/Berlin', datetime(2026, 3, 29, 2, 59, 59, 999999), None),
        ('Europe/Berlin', datetime(2026, 3, 29, 3, 0), datetime(2026, 3, 29, 1, 0)),
        ('Europe/Berlin', datetime(2026, 10, 25, 2, 0), datetime(2026, 10, 25, 0, 0)),
        ('Europe/Berlin', datetime(2026, 10, 25, 2, 59, 59), datetime(2026, 10, 25, 0, 59, 59)),
        ('Europe/Berlin', datetime(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 2, 0)),
        ('America/New_York', datetime(2026, 3, 8, 1, 59), datetime(2026, 3, 8, 6, 59)),
        ('America/New_York', datetime(2026, 3, 8, 2, 15), None),
        ('America/New_York', datetime(2026, 3, 8, 3, 0), datetime(2026, 3, 8, 7, 0)),
        ('America/New_York', datetime(2026, 11, 1, 1, 0), datetime(2026, 11, 1, 5, 0)),
        ('America/New_York', datetime(2026, 11, 1, 2, 0), datetime(2026, 11, 1, 7, 0)),
        # a half-hour change in the middle of an hour
        ('Australia/Lord_Howe', datetime(2026, 10, 4, 2, 15), None),
        ('Australia/Lord_Howe', datetime(2026, 10, 4, 1, 59), datetime(2026, 10, 3, 15, 29)),
        ('Australia/Lord_Howe', datetime(2026, 10, 4, 2, 30), datetime(2026, 10, 3, 15, 30)),
    ])
    def test_local_to_utc(self, zone, local, expected):
        times = LocalTimes(zone)
        if expected is None:
            with self.assertRaises(ValueError):
                times.to_utc(local)
        else:
            self.assertEqual(times.to_utc(local), expected)

    def test_the_gap_is_named(self):
        with self.assertRaises(ValueError) as caught:
            LocalTimes('Europe/Berlin').to_utc(datetime(2026, 3, 29, 2, 30))
        self.assertEqual(str(caught.exception).split(';')[0],
                         '2026-03-29 02:30:00 does not exist in Europe/Berlin: '
                         'clocks jump from 02:00 to 03:00')

    def test_overlaps_are_counted_per_repeated_hour(self):
        times = LocalTimes('Europe/Berlin')
        for minute in (0, 15, 59):
            times.to_utc(datetime(2026, 10, 25, 2, minute))
        times.to_utc(datetime(2027, 10, 31, 2, 30))
        times.to_utc(datetime(2026, 10, 25, 3, 30))  # after the repeated hour: not counted
        with times.tally.muted():
            times.to_utc(datetime(2026, 10, 25, 2, 1))
        self.assertEqual(times.tally.warnings(), [
            '3 timestamps fell in the repeated hour of 2026-10-25 02:00–03:00 Europe/Berlin; '
            'read as CEST; give a UTC offset to be exact.',
            '1 timestamp fell in the repeated hour of 2027-10-31 02:00–03:00 Europe/Berlin; '
            'read as CEST; give a UTC offset to be exact.'])

    def test_the_offset_is_worked_out_once_per_local_hour(self):
        times = LocalTimes('Europe/Berlin')
        start = datetime(2026, 7, 1)
        for second in range(0, 3 * 3600, 7):
            self.assertEqual(times.to_utc(start + timedelta(seconds=second)),
                             start + timedelta(seconds=second) - timedelta(hours=2))
        self.assertEqual(len(times.hour_offsets), 3)


class PlausibleTimeTest(unittest.TestCase):
    @parameterized.expand([
        ('2062-03-01 14:00:00', 'is in the future'),
        ('2026-11-30 04:15:01', 'is in the future'),
        ('2026-11-30T05:15:01+01:00', 'is in the future'),
        ('1970-01-01 00:00:00', 'is before 2000-01-01'),
        ('1999-12-31T23:59:59Z', 'is before 2000-01-01'),
        ('0001-01-01T00:00:00+05:00', 'is out of range'),
    ])
    def test_refused(self, raw, message):
        with self.assertRaises(ValueError) as caught:
            parse_time()(raw)
        self.assertIn(message, str(caught.exception))

    @parameterized.expand([
        ('2026-11-30 04:15:00', datetime(2026, 11, 30, 4, 15)),
        ('2000-01-01 00:00:00', datetime(2000, 1, 1)),
        ('2000-01-01T01:00:00+01:00', datetime(2000, 1, 1)),
    ])
    def test_accepted_at_the_limits(self, raw, expected):
        self.assertEqual(parse_time()(raw), expected)

    def test_an_offset_wins_over_the_data_time_zone(self):
        parse = parse_time('Europe/Berlin')
        self.assertEqual(parse('2026-10-25T02:30:00+01:00'), datetime(2026, 10, 25, 1, 30))
        self.assertEqual(parse('2026-03-29T02:30:00Z'), datetime(2026, 3, 29, 2, 30))

    def test_limits_come_from_the_context(self):
        parse = parse_time(max_clock_skew_minutes=60, earliest=datetime(1970, 1, 1))
        self.assertEqual(parse('2026-11-30 05:00:00'), datetime(2026, 11, 30, 5))
        self.assertEqual(parse('1970-01-01 00:00:00'), datetime(1970, 1, 1))


class TimeSettingsTest(unittest.TestCase):
    def test_defaults_and_values(self):
        defaults = Config({})
        self.assertEqual((defaults.MAX_CLOCK_SKEW_MINUTES, defaults.EARLIEST_RESPONSE_DATE),
                         (15, date(2000, 1, 1)))
        chosen = Config({'MAX_CLOCK_SKEW_MINUTES': '5', 'EARLIEST_RESPONSE_DATE': '2015-06-01'})
        self.assertEqual((chosen.MAX_CLOCK_SKEW_MINUTES, chosen.EARLIEST_RESPONSE_DATE),
                         (5, date(2015, 6, 1)))

    def test_a_bad_date_is_refused_with_its_name(self):
        with self.assertRaises(ValueError) as caught:
            Config({'EARLIEST_RESPONSE_DATE': '01/01/2000'})
        self.assertIn('EARLIEST_RESPONSE_DATE', str(caught.exception))


class TimeDisplayTest(unittest.TestCase):
    @parameterized.expand([
        (147000, '.147'), (100000, '.1'), (0, ''), (123456, '.123'), (456, ''), (10000, '.01'),
    ])
    def test_milliseconds_without_trailing_zeros(self, microsecond, expected):
        self.assertEqual(fraction(datetime(2026, 11, 30, 2, 44, 47, microsecond)), expected)

    def test_utc_iso_keeps_what_was_loaded(self):
        self.assertEqual(utc_iso(datetime(2026, 11, 30, 2, 44, 47, 123456)),
                         '2026-11-30T02:44:47.123456Z')
        self.assertEqual(utc_iso(datetime(2026, 11, 30, 2, 44, 47)), '2026-11-30T02:44:47Z')

    def test_time_markup_in_the_display_zone(self):
        app = create_app('testing', environ={'DISPLAY_TIMEZONE': 'Europe/Berlin'})
        with app.app_context():
            tag = time_tag(datetime(2026, 11, 30, 2, 44, 47, 147000), milliseconds=True)
            self.assertEqual(time_tag(None), '')
        self.assertEqual(str(tag), '<time datetime="2026-11-30T02:44:47.147Z" '
                                   'title="2026-11-30T02:44:47.147Z">2026-11-30 03:44:47.147</time>')
