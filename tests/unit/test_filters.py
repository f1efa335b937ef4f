"""Response and flow filters read from URL parameters: every valid form is understood, every
bad value gets a message naming the parameter, and query_args rebuilds the same filter."""
import unittest
from datetime import datetime
from zoneinfo import ZoneInfo

from parameterized import parameterized
from werkzeug.datastructures import MultiDict

from app.browse.filters import (
    RANGE_PRESETS,
    ResponseFilter,
    parse_flow_filter,
    parse_response_filter,
)

NOW = datetime(2026, 3, 10, 12, 0, 0)
BERLIN = ZoneInfo('Europe/Berlin')
UTC = ZoneInfo('UTC')


def parse(query, zone=UTC, api=False):
    return parse_response_filter(MultiDict(query), now=NOW, zone=zone, api=api)


class ValidFilterTests(unittest.TestCase):
    def test_no_parameters_is_everything_newest_first(self):
        result = parse([])
        self.assertTrue(result.ok)
        self.assertEqual(result.filter, ResponseFilter())
        self.assertFalse(result.filter.is_filtered)
        self.assertEqual(result.filter.query_args(), [])

    @parameterized.expand([
        ('repeated', [('status', 'ok'), ('status', 'ERROR')], ('OK', 'ERROR')),
        ('comma list', [('status', 'warn, error')], ('WARN', 'ERROR')),
        ('duplicates', [('status', 'ERROR'), ('status', 'error')], ('ERROR',)),
    ])
    def test_statuses(self, _name, query, expected):
        result = parse(query)
        self.assertTrue(result.ok, result.errors)
        self.assertEqual(result.filter.statuses, expected)

    def test_flows_are_upper_cased_and_deduplicated(self):
        result = parse([('flow', 'sap-crm-orde'), ('flow', 'SAP-CRM-ORDE,WMS_1')])
        self.assertEqual(result.filter.flows, ('SAP-CRM-ORDE', 'WMS_1'))

    @parameterized.expand([(key,) for key in RANGE_PRESETS])
    def test_presets_start_before_now(self, key):
        result = parse([('range', key)])
        self.assertTrue(result.ok)
        self.assertEqual(result.filter.start, NOW - RANGE_PRESETS[key][1])
        self.assertIsNone(result.filter.end)

    def test_custom_dates_are_in_the_display_zone_and_to_includes_the_day(self):
        result = parse([('from', '2026-03-01'), ('to', '2026-03-02')], zone=BERLIN)
        self.assertTrue(result.ok, result.errors)
        self.assertEqual(result.filter.range, 'custom')
        self.assertEqual(result.filter.start, datetime(2026, 2, 28, 23, 0))   # CET = UTC+1
        self.assertEqual(result.filter.end, datetime(2026, 3, 2, 23, 0))

    def test_datetime_local_and_explicit_offsets(self):
        result = parse([('range', 'custom'), ('from', '2026-03-01T08:30'),
                        ('to', '2026-03-01T10:00:00+00:00')], zone=BERLIN)
        self.assertTrue(result.ok, result.errors)
        self.assertEqual(result.filter.start, datetime(2026, 3, 1, 7, 30))
        self.assertEqual(result.filter.end, datetime(2026, 3, 1, 10, 0))

    def test_text_result_code_sort_size(self):
        result = parse([('q', '  timeout '), ('result_code', '-2'), ('sort', 'Slowest'),
                        ('size', '200')])
        self.assertTrue(result.ok, result.errors)
        flt = result.filter
        self.assertEqual((flt.text, flt.result_code, flt.sort, flt.size),
                         ('timeout', -2, 'slowest', 200))

    def test_api_accepts_any_size_up_to_the_maximum(self):
        self.assertEqual(parse([('size', '7')], api=True).filter.size, 7)
        self.assertIn('size', parse([('size', '7')]).errors)

    def test_query_args_round_trip(self):
        query = [('q', 'time out'), ('flow', 'ABC'), ('flow', 'XYZ'), ('status', 'ERROR'),
                 ('from', '2026-03-01'), ('to', '2026-03-05T10:00'), ('result_code', '503'),
                 ('sort', 'oldest'), ('size', '25')]
        first = parse(query).filter
        again = parse(first.query_args()).filter
        self.assertEqual(first, again)
        self.assertTrue(first.is_filtered)


class InvalidFilterTests(unittest.TestCase):
    @parameterized.expand([
        ('short text', [('q', 'ab')], 'q', 'at least 3'),
        ('long text', [('q', 'x' * 201)], 'q', 'at most 200'),
        ('bad flow', [('flow', 'a b')], 'flow', 'not a flow code'),
        ('bad status', [('status', 'FAILED')], 'status', 'Unknown status FAILED'),
        ('bad range', [('range', 'week')], 'range', 'Unknown time range'),
        ('bad date', [('from', '2026-13-01')], 'from', 'not a date'),
        ('reversed', [('from', '2026-03-05'), ('to', '2026-03-01')], 'to', 'later than From'),
        ('preset plus dates', [('range', '24h'), ('from', '2026-03-01')], 'range',
         'choose "Custom dates"'),
        ('custom without dates', [('range', 'custom')], 'range', 'need a From or a To'),
        ('text code', [('result_code', 'abc')], 'result_code', 'not a whole number'),
        ('huge code', [('result_code', str(2**40))], 'result_code', 'out of range'),
        ('bad sort', [('sort', 'random')], 'sort', 'Unknown sort'),
        ('bad size', [('size', '13')], 'size', 'one of 25, 50, 100, 200'),
        ('size not a number', [('size', 'lots')], 'size', 'Page size'),
    ])
    def test_message_names_the_problem(self, _name, query, field, text):
        result = parse(query)
        self.assertFalse(result.ok)
        self.assertIn(field, result.errors)
        self.assertIn(text, result.errors[field])

    def test_valid_parts_survive_next_to_a_bad_one(self):
        result = parse([('status', 'ERROR'), ('size', 'x')])
        self.assertEqual(result.filter.statuses, ('ERROR',))
        self.assertEqual(set(result.errors), {'size'})


class FlowFilterTests(unittest.TestCase):
    def test_valid(self):
        result = parse_flow_filter(MultiDict([('q', 'sap'), ('type', 'api'),
                                              ('team', 'HR Systems'), ('system', 'SAP')]))
        self.assertTrue(result.ok)
        self.assertEqual(result.filter.flow_type, 'API')
        self.assertEqual(result.filter.query_args(),
                         [('q', 'sap'), ('type', 'API'), ('team', 'HR Systems'),
                          ('system', 'SAP')])

    def test_unknown_type(self):
        result = parse_flow_filter(MultiDict([('type', 'FTP')]))
        self.assertIn('Unknown flow type "FTP"', result.errors['type'])


if __name__ == '__main__':
    unittest.main()
