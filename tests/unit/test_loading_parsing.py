"""Parsing and reading without a database: cell parsers, formula neutralising, content
signatures, encodings and delimiters."""
from __future__ import annotations

import tempfile
import unittest
from datetime import datetime
from pathlib import Path

from parameterized import parameterized

from app.csv_safety import neutralise_formula, neutralise_row
from app.datasets import FLOWS, RESPONSES, ParseContext
from app.loading.problems import FileRejected, shorten
from app.loading.readers import CsvSource, cell_text, choose_encoding, sniff_delimiter
from app.loading.sniff import detect_kind
from app.loading.validation import normalise_header


def parser(spec, name, zone='UTC'):
    return spec.column(name).parser(ParseContext(zone))


class NeutraliseFormulaTest(unittest.TestCase):
    @parameterized.expand([
        ('=SUM(A1)', "'=SUM(A1)"), ('+1+2', "'+1+2"), ('-cmd', "'-cmd"), ('@A1', "'@A1"),
        ('\tx', "'\tx"), ('\rx', "'\rx"), ('plain', 'plain'), ('', ''), ('-5', '-5'),
        ('+3.5', '+3.5'), ('a=b', 'a=b'),
    ])
    def test_cells(self, value, expected):
        self.assertEqual(neutralise_formula(value), expected)

    def test_row_keeps_numbers_and_blanks(self):
        self.assertEqual(neutralise_row([None, -1, '=1', 'ok']), ['', -1, "'=1", 'ok'])


class ParserTest(unittest.TestCase):
    def test_timestamps_become_naive_utc(self):
        parse = parser(RESPONSES, 'responded_at')
        self.assertEqual(parse('2026-03-01 14:05:09'), datetime(2026, 3, 1, 14, 5, 9))
        self.assertEqual(parse('2026-03-01T14:05:09.5+02:00'), datetime(2026, 3, 1, 12, 5, 9, 500000))
        self.assertEqual(parse('2026-03-01T14:05:09Z'), datetime(2026, 3, 1, 14, 5, 9))
        in_paris = parser(RESPONSES, 'responded_at', 'Europe/Paris')
        self.assertEqual(in_paris('2026-07-01 12:00:00'), datetime(2026, 7, 1, 10, 0, 0))

    @parameterized.expand([
        ('responded_at', '2026-03-01', 'needs a time as well as a date'),
        ('responded_at', '1/3/2026 10:00', 'is not a date and time'),
        ('response_id', '0', 'is out of range'),
        ('response_id', '1_000', 'is not a whole number'),
        ('response_id', '', 'is required'),
        ('response_id', '   ', 'is required'),
        ('response_id', '12a', 'is not a whole number'),
        ('response_id', '1.0', 'is not a whole number'),
        ('duration_ms', ' 1_0 ', 'is not a whole number'),
        ('result_code', '2147483648', 'is out of range'),
        ('duration_ms', '-1', 'is out of range'),
        ('status', 'fine', 'must be one of OK, WARN, ERROR'),
        ('error_reason', 'x' * 4001, 'is 4,001 characters long'),
        ('message_id', 'x' * 101, 'is 101 characters long; at most 100 allowed'),
        ('correlation_id', 'x' * 201, 'is 201 characters long; at most 200 allowed'),
        ('message_id', 'a\x00b', 'holds the control character U+0000'),
    ])
    def test_response_cells_refused(self, column, raw, message):
        with self.assertRaises(ValueError) as caught:
            parser(RESPONSES, column)(raw)
        self.assertIn(message, str(caught.exception))

    @parameterized.expand([
        ('response_id', ' 42 ', 42), ('response_id', '+7', 7), ('result_code', '-1', -1),
        ('result_code', '', None), ('duration_ms', '  ', None), ('payload_bytes', '0', 0),
        ('payload_bytes', '9223372036854775807', 2**63 - 1),
    ])
    def test_whole_numbers_accepted(self, column, raw, expected):
        self.assertEqual(parser(RESPONSES, column)(raw), expected)

    @parameterized.expand([
        ('message_id', ' 7c9e6679-7425-40de-944b-e07fc1f90ae7 ',
         '7c9e6679-7425-40de-944b-e07fc1f90ae7'),
        ('message_id', '', None), ('correlation_id', '   ', None),
        ('correlation_id', 'Order 4711', 'Order 4711'),     # case and inner spaces kept
        ('correlation_id', "'=4711", '=4711'),               # an export's formula protection
        ('message_id', 'x' * 100, 'x' * 100), ('correlation_id', 'y' * 200, 'y' * 200),
    ])
    def test_ids_are_optional_exact_text(self, column, raw, expected):
        self.assertEqual(parser(RESPONSES, column)(raw), expected)

    def test_flow_cells(self):
        self.assertEqual(parser(FLOWS, 'flow_code')(' ord-1 '), 'ORD-1')
        self.assertEqual(parser(FLOWS, 'flow_type')('queue'), 'QUEUE')
        for word, value in (('Yes', True), ('n', False), ('1', True), ('', True), ('FALSE', False)):
            self.assertIs(parser(FLOWS, 'active')(word), value)
        self.assertIsNone(parser(FLOWS, 'owner_email')(''))
        for raw in ('x', 'a b@c.d', 'x@y'):
            with self.assertRaises(ValueError):
                parser(FLOWS, 'owner_email')(raw)
        with self.assertRaises(ValueError):
            parser(FLOWS, 'flow_code')('A')
        with self.assertRaises(ValueError):
            parser(FLOWS, 'active')('maybe')

    def test_specs_name_design_columns_in_order(self):
        self.assertEqual(RESPONSES.export_columns, ['response_id', 'flow_code', 'responded_at',
                                                    'status', 'result_code', 'duration_ms',
                                                    'error_reason', 'payload_bytes',
                                                    'message_id', 'correlation_id'])
        self.assertEqual(FLOWS.key, 'flow_code')
        self.assertEqual(normalise_header(' \ufeffFlow Code '), 'flow_code')

    def test_shorten(self):
        self.assertEqual(shorten('a\nb'), 'a⏎b')
        self.assertEqual(len(shorten('x' * 500)), 80)


class ReaderTest(unittest.TestCase):
    def setUp(self):
        self.folder = Path(tempfile.mkdtemp())

    def write(self, data: bytes, name='f.csv') -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def test_encodings(self):
        self.assertEqual(choose_encoding('é'.encode(), True), 'utf-8-sig')
        self.assertEqual(choose_encoding('é'.encode('cp1252'), True), 'cp1252')
        # A multi-byte character cut by the end of the sample is still UTF-8.
        self.assertEqual(choose_encoding('aé'.encode()[:-1], False), 'utf-8-sig')

    def test_delimiters(self):
        self.assertEqual(sniff_delimiter('a;b;c'), ';')
        self.assertEqual(sniff_delimiter('"a;b",c'), ',')
        self.assertEqual(sniff_delimiter('a\tb'), '\t')

    def test_csv_lines_count_quoted_newlines(self):
        path = self.write(b'\xef\xbb\xbfa;b\r\n1;"x\r\ny"\r\n\r\n2;z\r\n')
        source = CsvSource(path)
        rows = list(source.rows())
        source.close()
        self.assertEqual(rows, [(1, ['a', 'b']), (2, ['1', 'x\r\ny']), (5, ['2', 'z'])])

    @parameterized.expand([
        (b'%PDF-1.4 x', 'PDF document'), (b'\x89PNG\r\n\x1a\n....', 'PNG image'),
        (b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1', 'old-format Excel'), (b'', 'empty'),
        (b'\xff\xfea\x00', 'UTF-16'), (b'a,b\x00\x01', 'binary data'),
        (b'PK\x03\x04broken', 'damaged'),
    ])
    def test_signatures(self, data, message):
        with self.assertRaises(FileRejected) as caught:
            detect_kind(self.write(data))
        self.assertIn(message, str(caught.exception))

    def test_xlsx_cells_read_as_csv_text(self):
        self.assertEqual(cell_text(70.0), '70')
        self.assertEqual(cell_text(1.5), '1.5')
        self.assertEqual(cell_text(True), 'true')
        self.assertEqual(cell_text(datetime(2026, 3, 5, 11, 30)), '2026-03-05 11:30:00')
        self.assertEqual(cell_text(None), '')
