"""Source profile definitions: every problem gets a plain message on save, a definition survives
its JSON round trip, derived ids and flow codes follow the documented rules, and timestamps
are read in each declared format."""
from __future__ import annotations

import copy
import unittest
from datetime import datetime
from hashlib import sha256

from parameterized import parameterized

from app.profiles.builtins import BUILTINS
from app.profiles.definition import DefinitionError, dumps, from_json, loads
from app.profiles.ids import derive_flow_code, derive_id
from app.profiles.timestamps import TimestampReader
from tests.functional.profiles_support import CUSTOM


def problems_of(data) -> list[str]:
    with unittest.TestCase().assertRaises(DefinitionError) as caught:
        from_json(data)
    return caught.exception.problems


def changed(**changes) -> dict:
    data = copy.deepcopy(CUSTOM)
    for path, value in changes.items():
        target = data
        keys = path.split('__')
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return data


class DefinitionValidationTests(unittest.TestCase):
    def test_the_test_profile_is_valid(self):
        definition = from_json(CUSTOM)
        self.assertEqual(definition.source_columns(),
                         ['Lauf', 'Schnittstelle', 'Ende', 'Ergebnis', 'Beginn'])
        self.assertEqual(definition.columns['status'].values, {'OK': 'OK', 'FEHLER': 'ERROR'})

    def test_not_json_names_line_and_column(self):
        with self.assertRaises(DefinitionError) as caught:
            loads('{"dataset": "responses",\n "columns": }')
        self.assertIn('not valid JSON: Expecting value at line 2, column 13', str(caught.exception))

    @parameterized.expand([
        ('unknown_column', changed(columns__resp={'source': 'x'}),
         '"resp" is not a responses column (columns: response_id, flow_code'),
        ('required_missing', changed(columns={'status': {'source': 'Ergebnis'}}),
         'Every required column needs a mapping; missing: response_id, flow_code, responded_at'),
        ('two_kinds', changed(columns__result_code={'constant': '1', 'source': 'x'}),
         '"result_code" must have exactly one of source, constant, difference, lookup'),
        ('bad_status_target', changed(columns__status={'source': 'E', 'values': {'x': 'OKAY'}}),
         '"status": \'OKAY\' must be one of OK, WARN, ERROR.'),
        ('bad_constant', changed(columns__result_code={'constant': 'two hundred'}),
         '"result_code": \'two hundred\' is not a whole number.'),
        ('keys_equal_but_for_case', changed(columns__status={'source': 'E',
                                                             'values': {'ok': 'OK', 'OK': 'OK'}}),
         'names \'OK\' twice (keys are not case-sensitive)'),
        ('bad_zone', changed(timestamps={'format': 'iso', 'timezone': 'Mars/Olympus'}),
         '"timestamps.timezone" \'Mars/Olympus\' is not a time zone name'),
        ('bad_format', changed(timestamps={'format': 'unix'}),
         '"timestamps.format" must be one of iso, excel, pattern.'),
        ('pattern_without_percent', changed(timestamps={'format': 'pattern', 'pattern': 'dd.mm'}),
         '"timestamps.pattern" must be a strptime pattern'),
        ('no_signature', changed(signature=[]), '"signature" must list at least one'),
        ('hash_without_namespace', changed(columns__response_id={'hash_id': 'Lauf'}),
         'A hash_id mapping needs "id_namespace"'),
        ('bad_flow_code', changed(columns__flow_code={'lookup': 'S', 'flows': {'a': 'Ä B'}}),
         'Ä B cannot be flow codes'),
        ('bad_unknown_rule', changed(columns__flow_code={'lookup': 'S', 'unknown': 'add'}),
         'unknown must be "reject"'),
        ('unknown_key', changed(colums={}), 'Unknown key "colums"'),
        ('bad_dataset', changed(dataset='orders'), '"dataset" must be one of flows, responses.'),
    ])
    def test_problem_is_named(self, _name, data, words):
        problems = problems_of(data)
        self.assertTrue(any(words in problem for problem in problems), problems)

    def test_every_problem_is_listed_at_once(self):
        data = changed(timestamps={'format': 'unix'}, signature=[],
                       columns__status={'source': 'E', 'values': {'x': 'OKAY'}})
        self.assertEqual(len(problems_of(data)), 3)

    def test_round_trip_through_stored_text(self):
        definition = from_json(CUSTOM)
        self.assertEqual(loads(dumps(definition)), definition)

    def test_builtins_are_valid_and_declare_the_id_columns(self):
        for name, data in BUILTINS.items():
            definition = from_json(data, drop_unknown_columns=True)
            self.assertIn('http', definition.description, name)
            self.assertIn('message_id', data['columns'])
            self.assertIn('correlation_id', data['columns'])
            self.assertTrue(definition.matches(list(data['signature'])))

    def test_signature_matches_case_and_space_insensitively(self):
        definition = from_json(CUSTOM)
        self.assertTrue(definition.matches([' lauf ', 'SCHNITTSTELLE', 'other']))
        self.assertFalse(definition.matches(['Lauf']))


class DerivedIdTests(unittest.TestCase):
    def test_the_documented_rule(self):
        digest = sha256(b'sap-cpi-mpl:AGWx3kV0n6h1sQ8R2mZp7YtLcUa9').digest()
        self.assertEqual(derive_id('sap-cpi-mpl', 'AGWx3kV0n6h1sQ8R2mZp7YtLcUa9'),
                         int.from_bytes(digest[:8], 'big') >> 1)

    def test_ids_are_stable_positive_and_namespaced(self):
        first = derive_id('ns', 'AbC')
        self.assertEqual(first, derive_id('ns', 'AbC'))
        self.assertNotEqual(first, derive_id('ns', 'abc'))
        self.assertNotEqual(first, derive_id('other', 'AbC'))
        for number in range(2000):
            self.assertTrue(1 <= derive_id('ns', str(number)) < 2 ** 63)

    @parameterized.expand([
        ('Order sync (EU)', 'ORDER-SYNC-EU'),
        ('SalesOrderReplication', 'SALESORDERREPLICATION'),
        ('  invoice_export  ', 'INVOICE_EXPORT'),
        ('x' * 40, 'X' * 32),
    ])
    def test_derived_flow_codes(self, name, code):
        self.assertEqual(derive_flow_code(name), code)


class TimestampReaderTests(unittest.TestCase):
    def test_iso_passes_through_and_compares_in_utc(self):
        reader = TimestampReader('iso', '', 'Europe/Berlin')
        self.assertEqual(reader.to_text('2026-03-01T10:00:00Z'), '2026-03-01T10:00:00Z')
        self.assertEqual(reader.to_moment('2026-07-01 10:00:00'), datetime(2026, 7, 1, 8, 0))
        self.assertEqual(reader.to_moment('2026-07-01T10:00:00Z'), datetime(2026, 7, 1, 10, 0))

    def test_excel_serials_to_the_millisecond(self):
        reader = TimestampReader('excel', '', 'UTC')
        self.assertEqual(reader.read('46082.5'), datetime(2026, 3, 1, 12, 0))
        self.assertEqual(reader.to_text('46082.000011574'), '2026-03-01 00:00:01')
        for bad in ('0', '-1', 'abc', '3000000'):
            with self.assertRaisesRegex(ValueError, 'is not an Excel serial date'):
                reader.read(bad)

    def test_pattern(self):
        reader = TimestampReader('pattern', '%d.%m.%Y %H:%M', 'UTC')
        self.assertEqual(reader.to_text('02.03.2026 08:15'), '2026-03-02 08:15:00')
        with self.assertRaisesRegex(ValueError, "in the profile's format %d.%m.%Y %H:%M"):
            reader.read('2026-03-02 08:15')


if __name__ == '__main__':
    unittest.main()

