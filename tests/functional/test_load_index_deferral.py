"""Large loads on SQLite build the responses indexes once at the end instead of row by row.

The thresholds are lowered so a few dozen rows count as "large", and chunks are small so the
indexes are dropped part-way through the file, as in a million-row load. What must hold: the
same indexes exist afterwards; employees reading during the load keep the committed data and
its indexes; a rejected load or a dry run leaves data and indexes exactly as they were; a small
load into a big table keeps its indexes live.
"""
from __future__ import annotations

import csv
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from unittest import mock

from parameterized import parameterized
from sqlalchemy import select

from app.extensions import db
from app.loading import LoadRequest, loader, run_load, sqlite_writer, writers
from app.models import Response, ResponseDaily, ResponseDayTotal, ResponseHourly
from tests.base import ADMIN, ASSETS, FlowdeskTestCase
from tests.integrity import data_checksums

HEADER = ['response_id', 'flow_code', 'responded_at', 'status', 'result_code', 'duration_ms',
          'error_reason', 'payload_bytes']


def write_responses(folder: Path, name: str, first_id: int, count: int,
                    bad_line: int | None = None, shift: int = 0) -> Path:
    """``count`` valid responses from ``first_id``; ``bad_line`` (file line) gets a bad status;
    ``shift`` moves their days and statuses (a different file of the same keys)."""
    path = folder / name
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for offset in range(count):
            line = offset + 2
            status = 'NOPE' if line == bad_line else ('ERROR' if (offset + shift) % 3 == 0
                                                      else 'OK')
            reason = f'Timeout after {offset % 5} retries' if status == 'ERROR' else ''
            out.writerow([first_id + offset, 'ORD-SAP-CRM', f'2026-03-{1 + (offset + shift) % 20:02d} '
                          f'1{shift}:{offset % 60:02d}:00', status, 500 if status == 'ERROR' else 200,
                          offset * 7 if offset % 4 else '', reason, offset * 100])
    return path


def stored_summaries() -> tuple[dict, dict, dict]:
    """The daily summary, the day totals and the hours, as stored (on a fresh connection)."""
    with db.engines['ops'].connect() as connection:
        daily = {(row.day, row.flow_code, row.status): (row.responses, row.duration_ms_sum)
                 for row in connection.execute(select(ResponseDaily))}
        totals = {(row.day, row.status): (row.responses, row.duration_ms_sum)
                  for row in connection.execute(select(ResponseDayTotal))}
        hours = {(row.day, row.hour, row.status): row.responses
                 for row in connection.execute(select(ResponseHourly))}
    return daily, totals, hours


def recounted_summaries() -> tuple[dict, dict, dict]:
    """The same three, counted from the rows in Python (a sum of no durations is None)."""
    with db.engines['ops'].connect() as connection:
        rows = connection.execute(select(Response.responded_at, Response.flow_code,
                                         Response.status, Response.duration_ms)).all()
    daily, totals = {}, {}
    for moment, flow, status, duration in rows:
        for summary, key in ((daily, (moment.date(), flow, status)),
                             (totals, (moment.date(), status))):
            count, total = summary.get(key, (0, None))
            summary[key] = (count + 1, total if duration is None else (total or 0) + duration)
    hours = Counter((moment.date(), moment.hour, status) for moment, _flow, status, _ in rows)
    return daily, totals, dict(hours)


class IndexDeferralTest(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix='flowdesk-defer-', dir=self.databases.folder))
        flows = run_load(LoadRequest('flows', 'append', ASSETS / 'loads' / 'flows_good.csv',
                                     'flows_good.csv', ADMIN))
        self.assertTrue(flows.ok, flows.message)
        for patcher in (mock.patch.object(sqlite_writer, 'DEFER_INDEXES_MIN_ROWS', 20),
                        mock.patch.object(loader, 'CHUNK_ROWS', 10)):
            patcher.start()
            self.addCleanup(patcher.stop)
        self.defer_calls = []
        original = writers.SqliteWriter.defer_indexes

        def recording(writer):
            self.defer_calls.append(writer.rows_inserted)
            original(writer)
        patcher = mock.patch.object(writers.SqliteWriter, 'defer_indexes', recording)
        patcher.start()
        self.addCleanup(patcher.stop)

    # -- helpers ---------------------------------------------------------------------------
    def ops_file(self) -> str:
        return db.engines['ops'].url.database

    def indexes(self) -> dict[str, str]:
        """The responses table's indexes as another process sees them (name -> CREATE)."""
        with sqlite3.connect(self.ops_file()) as reader:
            return dict(reader.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name = 'responses' AND sql IS NOT NULL").fetchall())

    def indexes_before(self) -> dict[str, str]:
        indexes = self.indexes()
        self.assertEqual(len(indexes), len(Response.__table__.indexes), indexes)
        return indexes

    def load(self, path: Path, mode: str = 'append', dry_run: bool = False, progress=None):
        return run_load(LoadRequest('responses', mode, path, path.name, ADMIN, dry_run=dry_run),
                        progress=progress)

    def count(self) -> int:
        with db.engines['ops'].connect() as connection:
            return connection.scalar(select(db.func.count()).select_from(Response))

    # -- tests -----------------------------------------------------------------------------
    def test_a_large_load_rebuilds_every_index_and_loads_every_row(self):
        before = self.indexes_before()
        outcome = self.load(write_responses(self.folder, 'big.csv', 1, 75))
        self.assertTrue(outcome.ok, outcome.message)
        self.assertIn('75 records loaded', outcome.message)
        self.assertEqual(self.defer_calls, [20])  # dropped once, when the 20th row came
        self.assertEqual(self.indexes(), before)
        with sqlite3.connect(self.ops_file()) as reader:
            self.assertEqual(reader.execute('PRAGMA integrity_check').fetchone()[0], 'ok')
            plan = ' '.join(row[-1] for row in reader.execute(
                "EXPLAIN QUERY PLAN SELECT response_id FROM responses WHERE status = 'ERROR' "
                'ORDER BY responded_at DESC, response_id DESC LIMIT 5'))
            errors = reader.execute("SELECT count(*) FROM responses WHERE status = 'ERROR'"
                                    ).fetchone()[0]
        self.assertIn('ix_responses_status_time', plan)
        self.assertEqual(errors, 25)
        self.assertEqual(self.count(), 75)
        with db.engines['ops'].connect() as connection:
            self.assertEqual(connection.scalar(select(db.func.sum(ResponseDaily.responses))), 75)

    def test_readers_keep_the_committed_data_and_indexes_during_the_load(self):
        self.assertTrue(self.load(write_responses(self.folder, 'first.csv', 1, 5)).ok)
        before = self.indexes_before()
        seen_during = []

        def look(_done, _size):
            if self.defer_calls and not seen_during:  # the load has dropped its indexes
                with sqlite3.connect(self.ops_file()) as reader:
                    rows = reader.execute('SELECT count(*) FROM responses').fetchone()[0]
                seen_during.append((rows, self.indexes()))
        outcome = self.load(write_responses(self.folder, 'big.csv', 100, 60), progress=look)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(seen_during, [(5, before)])
        self.assertEqual(self.count(), 65)
        self.assertEqual(self.indexes(), before)

    @parameterized.expand([
        ('rejected_at_the_last_line', dict(bad_line=61), False, 'Rejected: 1 problem'),
        ('dry_run', {}, True, 'Dry run: the file is valid'),
    ])
    def test_a_load_that_does_not_commit_leaves_data_and_indexes_as_they_were(
            self, _name, bad, dry_run, message):
        self.assertTrue(self.load(write_responses(self.folder, 'first.csv', 1, 5)).ok)
        indexes, data = self.indexes_before(), data_checksums()
        outcome = self.load(write_responses(self.folder, 'big.csv', 100, 60, **bad),
                            dry_run=dry_run)
        self.assertIn(message, outcome.message)
        self.assertEqual(self.defer_calls, [20])  # the indexes were dropped inside the load
        self.assertEqual(self.indexes(), indexes)
        self.assertEqual(data_checksums(), data)

    def test_large_response_ids_do_not_make_a_small_table_look_large(self):
        """The response id is SQLite's rowid, so ``max(rowid)`` says nothing about the table's
        size: five rows with ids near 10^15 must not stop a large load from deferring."""
        self.assertTrue(self.load(write_responses(self.folder, 'few.csv', 10**15, 5)).ok)
        outcome = self.load(write_responses(self.folder, 'big.csv', 1, 60))
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(self.defer_calls, [20])
        self.assertEqual(self.count(), 65)

    def test_summaries_equal_a_recount_after_large_inserts_updates_and_replaces(self):
        """Large loads also rebuild the daily summary's indexes after writing it: the three
        summaries must equal a recount from the rows after each kind of load, and the
        summary's indexes must be back."""
        summary_indexes = self.summary_indexes()
        self.assertEqual(len(summary_indexes), len(ResponseDaily.__table__.indexes))
        loads = [('first.csv', 1, 60, 'append'), ('second.csv', 1000, 40, 'append'),
                 ('changed.csv', 31, 60, 'upsert'), ('kept.csv', 1010, 90, 'replace')]
        for name, first_id, count, mode in loads:
            self.defer_calls.clear()
            path = write_responses(self.folder, name, first_id, count, shift=first_id % 7)
            outcome = self.load(path, mode=mode)
            self.assertTrue(outcome.ok, outcome.message)
            self.assertTrue(self.defer_calls, name)  # a large load each time
            self.assertEqual(stored_summaries(), recounted_summaries(), name)
            self.assertEqual(self.summary_indexes(), summary_indexes, name)
        self.assertEqual(self.count(), 90)

    def summary_indexes(self) -> dict[str, str]:
        with sqlite3.connect(self.ops_file()) as reader:
            return dict(reader.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name = 'response_daily' AND sql IS NOT NULL").fetchall())

    def test_a_small_load_into_a_large_table_keeps_its_indexes_live(self):
        self.assertTrue(self.load(write_responses(self.folder, 'base.csv', 1, 200)).ok)
        self.defer_calls.clear()
        # 30 rows pass the minimum (20) but are less than a quarter of the 200 already there.
        outcome = self.load(write_responses(self.folder, 'more.csv', 1000, 30))
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(self.defer_calls, [])
        self.assertEqual(self.count(), 230)
