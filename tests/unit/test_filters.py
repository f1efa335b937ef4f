"""Response and flow filters read from URL parameters: every valid form is understood, every
bad value gets a message naming the parameter, and query_args rebuilds the same filter."""
import unittest
from datetime import datetime
from zoneinfo import ZoneInfo

from parameterized import parameterized
from werkzeug.datastructures import MultiDict

from app.browse.filters import (
    RANGE_PRESETS,
    FilterContext,
    Parsed,
    ResponseFilter,
    list_values,
    parse_exact_id,
    parse_flow_filter,
    parse_flows,
    parse_response_filter,
    parse_result_code,
    parse_size,
    parse_sort,
    parse_statuses,
    parse_text,
    parse_time_range,
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
        query = [('q', 'time out'), ('id', 'ORDER 4711'), ('flow', 'ABC'), ('flow', 'XYZ'),
                 ('status', 'ERROR'),
                 ('from', '2026-03-01'), ('to', '2026-03-05T10:00'), ('result_code', '503'),
                 ('sort', 'oldest'), ('size', '25')]
        first = parse(query).filter
        again = parse(first.query_args()).filter
        self.assertEqual(first, again)
        self.assertTrue(first.is_filtered)

    def test_an_id_alone_filters_and_is_not_counted_from_the_summary(self):
        flt = parse([('id', 'ORDER-4711')]).filter
        self.assertEqual(flt.query_args(), [('id', 'ORDER-4711')])
        self.assertTrue(flt.is_filtered)
        self.assertFalse(flt.countable_from_summary)


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


PAGE = FilterContext(NOW, UTC)
API = FilterContext(NOW, UTC, api=True)


class ParameterParserTests(unittest.TestCase):
    """Each parameter's parser on its own: the fields it sets and the message it gives."""

    @parameterized.expand([
        ('repeated', [('flow', 'a'), ('flow', 'b')], ['a', 'b']),
        ('comma list', [('flow', ' a, ,b ,')], ['a', 'b']),
        ('absent', [], []),
        ('only commas', [('flow', ',,')], []),
    ])
    def test_list_values(self, _name, query, expected):
        self.assertEqual(list_values(MultiDict(query), 'flow'), expected)

    @parameterized.expand([
        ('text', parse_text, PAGE, [('q', '  time out ')], {'text': 'time out'}, {}),
        ('no text', parse_text, PAGE, [('q', '   ')], {}, {}),
        ('short text', parse_text, PAGE, [('q', 'ab')], {},
         {'q': 'Search text needs at least 3 characters ("ab" is too short).'}),
        ('long text', parse_text, PAGE, [('q', 'x' * 201)], {},
         {'q': 'Search text can be at most 200 characters.'}),
        ('text with a NUL', parse_text, PAGE, [('q', 'abc\x00')], {},
         {'q': 'Search text cannot contain control characters (such as NUL or tab).'}),
        ('exact id', parse_exact_id, PAGE, [('id', ' 0b6f3c1d-2E4A-4c9b ')],
         {'exact_id': '0b6f3c1d-2E4A-4c9b'}, {}),
        ('no id', parse_exact_id, PAGE, [('id', '  ')], {}, {}),
        ('short id', parse_exact_id, PAGE, [('id', '7')], {'exact_id': '7'}, {}),
        ('longest id', parse_exact_id, PAGE, [('id', 'c' * 200)], {'exact_id': 'c' * 200}, {}),
        ('id too long', parse_exact_id, API, [('id', 'c' * 201)], {},
         {'id': 'An id can be at most 200 characters (this one has 201); paste the message id '
                'or correlation id alone.'}),
        ('id with a tab', parse_exact_id, PAGE, [('id', 'a\tb')], {},
         {'id': 'An id cannot contain control characters (such as NUL or tab).'}),
        ('flows', parse_flows, PAGE, [('flow', 'ab,AB,c-1')], {'flows': ('AB', 'C-1')}, {}),
        ('bad flow keeps the good ones', parse_flows, PAGE, [('flow', 'AB,a b')],
         {'flows': ('AB',)},
         {'flow': 'A B is not a flow code (flow codes are 2–32 letters, digits, - or _).'}),
        ('code too short', parse_flows, PAGE,
         [('flow', 'AB'), ('flow', 'A')], {'flows': ('AB',)},
         {'flow': 'A is not a flow code (flow codes are 2–32 letters, digits, - or _).'}),
        ('too many flows', parse_flows, PAGE, [('flow', ','.join(f'F{n:02}' for n in range(51)))],
         {'flows': tuple(f'F{n:02}' for n in range(51))}, {'flow': 'Choose at most 50 flows.'}),
        ('statuses in their order', parse_statuses, PAGE, [('status', 'error,ok,OK')],
         {'statuses': ('OK', 'ERROR')}, {}),
        ('unknown status', parse_statuses, PAGE, [('status', 'ok,nope')], {'statuses': ('OK',)},
         {'status': 'Unknown status NOPE: use OK, WARN, ERROR.'}),
        ('result code', parse_result_code, PAGE, [('result_code', ' -2 ')], {'result_code': -2},
         {}),
        ('largest result code', parse_result_code, PAGE, [('result_code', str(2**31 - 1))],
         {'result_code': 2**31 - 1}, {}),
        ('result code past INTEGER', parse_result_code, PAGE, [('result_code', str(2**31))], {},
         {'result_code': 'Result code is out of range.'}),
        ('result code not a number', parse_result_code, PAGE, [('result_code', '5x')], {},
         {'result_code': 'Result code "5x" is not a whole number.'}),
        ('default sort', parse_sort, PAGE, [], {'sort': 'newest'}, {}),
        ('sort any case', parse_sort, PAGE, [('sort', ' Fastest ')], {'sort': 'fastest'}, {}),
        ('unknown sort', parse_sort, PAGE, [('sort', 'best')], {},
         {'sort': 'Unknown sort "best": use one of newest, oldest, slowest, fastest.'}),
        ('no size', parse_size, PAGE, [], {}, {}),
        ('page size', parse_size, PAGE, [('size', '100')], {'size': 100}, {}),
        ('page size not offered', parse_size, PAGE, [('size', '7')], {},
         {'size': 'Page size must be one of 25, 50, 100, 200.'}),
        ('api size', parse_size, API, [('size', '7')], {'size': 7}, {}),
        ('api size too big', parse_size, API, [('size', '501')], {},
         {'size': 'Page size must be between 1 and 500.'}),
        ('api size not a number', parse_size, API, [('size', 'ten')], {},
         {'size': 'Page size must be between 1 and 500.'}),
        ('no range', parse_time_range, PAGE, [], {'range': 'all'}, {}),
        ('preset', parse_time_range, PAGE, [('range', '7D')],
         {'range': '7d', 'start': datetime(2026, 3, 3, 12, 0)}, {}),
        ('dates mean custom', parse_time_range, PAGE, [('to', '2026-03-01')],
         {'range': 'custom', 'raw_from': '', 'raw_to': '2026-03-01',
          'end': datetime(2026, 3, 2)}, {}),
        ('unknown range', parse_time_range, PAGE, [('range', 'week')], {},
         {'range': 'Unknown time range "week": use one of all, 1h, 24h, 7d, 30d, 90d, custom.'}),
        ('preset with dates', parse_time_range, PAGE, [('range', 'all'), ('from', '2026-03-01')],
         {'range': 'all'}, {'range': 'You entered dates but chose "Any time": choose "Custom '
                                     'dates" to use them, or clear the dates.'}),
        ('custom without dates', parse_time_range, PAGE, [('range', 'custom')],
         {'range': 'custom', 'raw_from': '', 'raw_to': ''},
         {'range': 'Custom dates need a From or a To date (or both).'}),
        ('date out of range', parse_time_range, PAGE, [('from', '0999-01-01')],
         {'range': 'custom', 'raw_from': '0999-01-01', 'raw_to': ''},
         {'from': '"0999-01-01" is out of range. Dates must be between 1900-01-01 and '
                  '2999-12-31.'}),
        ('not a date', parse_time_range, PAGE, [('to', 'soon')],
         {'range': 'custom', 'raw_from': '', 'raw_to': 'soon'},
         {'to': '"soon" is not a date or time: use YYYY-MM-DD or YYYY-MM-DD HH:MM.'}),
        ('to before from', parse_time_range, PAGE, [('from', '2026-03-02'), ('to', '2026-03-01')],
         {'range': 'custom', 'raw_from': '2026-03-02', 'raw_to': '2026-03-01',
          'start': datetime(2026, 3, 2), 'end': datetime(2026, 3, 2)},
         {'to': 'To must be later than From.'}),
    ])
    def test_parser(self, _name, parser, context, query, values, errors):
        found = parser(MultiDict(query), context)
        self.assertEqual(found, Parsed(values, errors))

    def test_the_composed_filter_keeps_each_parsers_messages_in_parameter_order(self):
        result = parse([('size', 'x'), ('sort', 'x'), ('status', 'x'), ('q', 'x')])
        self.assertEqual(list(result.errors), ['q', 'status', 'sort', 'size'])


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
