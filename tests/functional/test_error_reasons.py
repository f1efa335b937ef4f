"""The error-reason dictionary behind text search, on SQLite and PostgreSQL: every writer (load
in each mode, undo, seed) fills ``reason_hash`` and the dictionary in the same transaction, and
search finds responses by a case-insensitive substring of their current reason."""
from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

from parameterized import parameterized
from sqlalchemy import func, select

from app import error_reasons
from app.error_reasons import ReasonDictionary, reason_hash
from app.extensions import db
from app.loading import undo_batch
from app.models import ErrorReason, Response, ResponseVersion
from app.seeding import seed_demo
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.functional.test_loads import LoadTestCase

HEADER = 'response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,payload_bytes\n'


class ReasonHashTest(FlowdeskTestCase):
    CREATE_TABLES = False

    def test_hash_is_a_stable_signed_64_bit_number_of_the_exact_text(self):
        value = reason_hash('Timeout after 30 s')
        self.assertEqual(value, reason_hash('Timeout after 30 s'))
        self.assertTrue(-2**63 <= value < 2**63)
        self.assertNotEqual(value, reason_hash('timeout after 30 s'))
        self.assertIsNone(reason_hash(None))
        # Fixed by the algorithm, not by the Python run (PYTHONHASHSEED): stored hashes stay valid.
        self.assertEqual(reason_hash('Timeout after 30 s'), -992426142357833438)


@on_every_backend
class DictionaryTest(LoadTestCase):
    def write_csv(self, name: str, rows: list[str]) -> Path:
        folder = Path(tempfile.mkdtemp(prefix='flowdesk-reasons-'))
        path = folder / name
        path.write_text(HEADER + ''.join(row + '\n' for row in rows), encoding='utf-8')
        return path

    def load_rows(self, rows: list[str], mode: str = 'append'):
        outcome = self.load('responses', f'{mode}.csv', mode=mode,
                            path=self.write_csv(f'{mode}.csv', rows), allow_duplicate=True)
        self.assertTrue(outcome.ok, outcome.message)
        return outcome

    def stored(self) -> dict[int, tuple]:
        with db.engines['ops'].connect() as connection:
            return {row.response_id: (row.error_reason, row.reason_hash) for row in
                    connection.execute(select(Response.response_id, Response.error_reason,
                                              Response.reason_hash))}

    def dictionary(self) -> dict[int, str]:
        with db.engines['ops'].connect() as connection:
            return dict(connection.execute(select(ErrorReason.reason_hash,
                                                  ErrorReason.error_reason)).all())

    def assert_hashes_consistent(self):
        dictionary = self.dictionary()
        for response_id, (reason, hashed) in self.stored().items():
            self.assertEqual(hashed, reason_hash(reason), response_id)
            if reason is not None:
                self.assertEqual(dictionary[hashed], reason, response_id)

    def search(self, text: str) -> set[int]:
        response = self.client.get('/api/v1/responses', query_string={'q': text, 'size': 500})
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        return {item['response_id'] for item in response.get_json()['items']}

    def test_load_fills_hashes_and_one_entry_per_distinct_reason(self):
        self.base_data()
        self.load_rows(['10,HR-SYNC,2026-03-05 01:00:00,ERROR,1,5,Disk full on /var,',
                        '11,HR-SYNC,2026-03-05 02:00:00,ERROR,1,5,Disk full on /var,',
                        '12,HR-SYNC,2026-03-05 03:00:00,OK,0,5,,'])
        self.assert_hashes_consistent()
        self.assertEqual(self.stored()[12], (None, None))
        reasons = list(self.dictionary().values())
        self.assertEqual(reasons.count('Disk full on /var'), 1)

    def test_search_finds_a_substring_case_insensitively(self):
        self.base_data()
        self.load_rows(['10,HR-SYNC,2026-03-05 01:00:00,ERROR,1,5,Deadlock victim in PAYROLL,',
                        '11,HR-SYNC,2026-03-05 02:00:00,WARN,1,5,Slow answer from payroll,'])
        self.assertEqual(self.search('payroll'), {10, 11})
        self.assertEqual(self.search('DEADLOCK VICT'), {10})
        self.assertEqual(self.search('upstream crm'), {2})   # a reason spanning two lines
        self.assertEqual(self.search('no such words'), set())
        self.assertEqual(self.search('50%_'), set())          # wildcards are literal

    def test_upsert_finds_the_new_reason_not_the_old_and_undo_restores(self):
        self.base_data()
        before = self.stored()
        outcome = self.load_rows(
            ['2,ORD-SAP-CRM,2026-03-01 14:06:00.25,ERROR,500,310,Gateway exploded,',
             '4,HR-SYNC,2026-03-02 01:00:00Z,ERROR,-1,,Quota exceeded for tenant,'], 'upsert')
        self.assertEqual(outcome.counts.updated, 2)
        self.assert_hashes_consistent()
        self.assertEqual(self.search('exploded'), {2})
        self.assertEqual(self.search('upstream CRM'), set())
        self.assertEqual(self.search('quota'), {4})
        with db.engines['ops'].connect() as connection:
            kept = dict(connection.execute(select(ResponseVersion.response_id,
                                                  ResponseVersion.reason_hash)).all())
        self.assertEqual(kept[2], before[2][1])  # the prior version keeps its hash for undo
        self.assertEqual(undo_batch(outcome.batch_id, ADMIN).status, 'succeeded')
        self.assertEqual(self.stored(), before)
        self.assertEqual(self.search('upstream CRM'), {2})
        self.assertEqual(self.search('exploded'), set())

    def test_replace_and_its_undo_keep_hashes(self):
        self.base_data()
        before = self.stored()
        outcome = self.load_rows(['1,ORD-SAP-CRM,2026-03-01 14:05:09,OK,200,120,,5120',
                                  '8,INV-FILE,2026-03-04 08:00:00,ERROR,9,10,Checksum mismatch,'],
                                 'replace')
        self.assertEqual(outcome.counts.deleted, 4)
        self.assert_hashes_consistent()
        self.assertEqual(self.search('checksum'), {8})
        self.assertEqual(self.search('upstream'), set())
        self.assertEqual(undo_batch(outcome.batch_id, ADMIN).status, 'succeeded')
        self.assertEqual(self.stored(), before)
        self.assertEqual(self.search('upstream'), {2})
        self.assertEqual(self.search('checksum'), set())

    def test_rejected_load_adds_no_entry(self):
        self.base_data()
        entries = self.dictionary()
        outcome = self.load('responses', 'bad.csv', path=self.write_csv('bad.csv', [
            '20,HR-SYNC,2026-03-05 01:00:00,ERROR,1,5,A brand new reason,',
            '21,HR-SYNC,not a time,ERROR,1,5,Another new reason,']))
        self.assertFalse(outcome.ok)
        self.assertEqual(self.dictionary(), entries)

    def test_seed_fills_hashes_and_dictionary(self):
        seed_demo(flows=6, responses=800, force=True)
        self.assert_hashes_consistent()
        with db.engines['ops'].connect() as connection:
            with_reason = connection.scalar(select(func.count()).select_from(Response).where(
                Response.error_reason.is_not(None)))
            distinct = connection.scalar(select(func.count(Response.error_reason.distinct())))
        self.assertGreater(with_reason, distinct)      # reasons repeat: the dictionary is small
        self.assertEqual(len(self.dictionary()), distinct)

    @parameterized.expand([(5,), (2500,)])
    def test_dictionary_adds_each_reason_once_in_chunks(self, count):
        reasons = [f'Reason number {n}' for n in range(count)]
        with db.engines['ops'].begin() as connection:
            dictionary = ReasonDictionary(connection)
            self.assertEqual(dictionary.add(reasons + reasons[:3] + [None]), count)
            self.assertEqual(dictionary.add(reasons), 0)
        with db.engines['ops'].begin() as connection:
            self.assertEqual(ReasonDictionary(connection).add(reasons[:10] + ['One more']), 1)
        self.assertEqual(len(self.dictionary()), count + 1)

    def test_a_load_with_more_distinct_reasons_than_it_remembers_adds_each_once(self):
        """The dictionary forgets the hashes it sent past KNOWN_LIMIT (memory stays flat);
        a reason sent again is skipped by the database, never stored twice."""
        reasons = [f'Timeout on order {n}' for n in range(30)]
        with mock.patch.object(error_reasons, 'KNOWN_LIMIT', 8):
            with db.engines['ops'].begin() as connection:
                dictionary = ReasonDictionary(connection)
                added = sum(dictionary.add(reasons[start:start + 5])
                            for start in range(0, 30, 5))
                self.assertLessEqual(len(dictionary.known), 8)
                self.assertEqual(added + dictionary.add(reasons), 30)
        self.assertEqual(sorted(self.dictionary().values()), sorted(reasons))
