"""Large loads read and check their rows in a second process (app/loading/parse_process.py),
started with *spawn* as on Windows: the same rows, the same report line for line, nothing
loaded when that process dies or fails, and the load checks its rows itself when the second
process is off, not worth it, or cannot start. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import multiprocessing.context
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from sqlalchemy import func, select

from app.datasets import RESPONSES
from app.extensions import db
from app.loading import LoadRequest, run_load, undo_batch
from app.loading.parse_process import ROWS, ParseProcess
from app.models import LoadBatch, Response
from tests.base import ADMIN, ASSETS, FlowdeskTestCase, on_every_backend

LOADS = ASSETS / 'loads'
FLOWS = ('ORD-SAP-CRM', 'INV-FILE', 'HR-SYNC')


class ExplodingProfile:
    """A picklable stand-in for a source profile whose checker fails in the second process."""
    name = 'exploding'
    dataset = 'responses'
    identity_column = None

    def checker(self, *_args):
        raise RuntimeError('the checker broke')


@on_every_backend
class ParseProcessTest(FlowdeskTestCase):
    SETTINGS = {'LOAD_PARSE_PROCESS': '1', 'LOAD_PARSE_PROCESS_MIN_BYTES': '0'}

    def setUp(self):
        super().setUp()
        self.app.config['LOAD_PARSE_PROCESS'] = True
        self.folder = Path(tempfile.mkdtemp(prefix='flowdesk-parse-process-'))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        self.assertTrue(self.load('flows', LOADS / 'flows_good.csv').ok)
        self.started: list[ParseProcess] = []
        original = ParseProcess.__init__

        def spy(process, *args, **kwargs):
            original(process, *args, **kwargs)
            self.started.append(process)
        patcher = mock.patch.object(ParseProcess, '__init__', spy)
        patcher.start()
        self.addCleanup(patcher.stop)

    def load(self, dataset, path, **options):
        return run_load(LoadRequest(dataset=dataset, mode=options.pop('mode', 'append'),
                                    path=path, file_name=path.name, user=ADMIN, **options))

    def write_responses(self, rows: int, bad_every: int = 0) -> Path:
        """A responses file of ``rows`` rows; with ``bad_every``, every n-th row has a bad
        duration, every (n+1)-th an unknown flow, and one key repeats."""
        path = self.folder / f'responses_{rows}_{bad_every}.csv'
        with open(path, 'w', encoding='utf-8', newline='') as handle:
            out = csv.writer(handle)
            out.writerow(['response_id', 'flow_code', 'responded_at', 'status', 'result_code',
                          'duration_ms', 'error_reason', 'payload_bytes'])
            for n in range(1, rows + 1):
                flow, duration = FLOWS[n % 3], str(n % 5000)
                if bad_every and n % bad_every == 0:
                    duration = 'slow'
                if bad_every and n % (bad_every + 1) == 0:
                    flow = 'NO-SUCH-FLOW'
                key = 7 if bad_every and n == rows else n
                out.writerow([key, flow, f'2026-03-{1 + n % 28:02d} 10:{n % 60:02d}:00',
                              ('OK', 'WARN', 'ERROR')[n % 3], 200, duration,
                              f'reason {n % 40}' if n % 3 else '', n])
        return path

    def stored_rows(self) -> list[tuple]:
        """Every stored response, without the batch id (which differs between loads)."""
        table = RESPONSES.table
        columns = [table.c[name] for name in RESPONSES.stored_columns if name != 'batch_id']
        with db.engines['ops'].connect() as connection:
            return [tuple(row) for row in connection.execute(
                select(*columns).order_by(table.c.response_id))]

    def response_count(self) -> int:
        with db.engines['ops'].connect() as connection:
            return connection.execute(select(func.count()).select_from(Response)).scalar()

    def both_ways(self, path: Path, **options):
        """The outcome of the load with the second process, then (after undoing it if it
        succeeded) with the load checking its rows itself."""
        remote = self.load('responses', path, **options)
        self.assertEqual(len(self.started), 1, 'the load used a second process')
        self.assertIsInstance(self.started[0].process, multiprocessing.context.SpawnProcess)
        remote_rows = self.stored_rows()
        if remote.ok and not remote.dry_run:
            self.assertEqual(undo_batch(remote.batch_id, ADMIN).status, 'succeeded')
        self.app.config['LOAD_PARSE_PROCESS'] = False
        local = self.load('responses', path, allow_duplicate=True, **options)
        self.assertEqual(len(self.started), 1, 'the second load checked its rows itself')
        return remote, local, remote_rows

    def assert_same(self, remote, local) -> None:
        self.assertEqual(remote.status, local.status)
        self.assertEqual(remote.counts, local.counts)
        self.assertEqual(remote.problems.count, local.problems.count)
        self.assertEqual(remote.problems.kept, local.problems.kept)
        self.assertEqual(remote.warnings, local.warnings)
        self.assertEqual(remote.summary, local.summary)

    def test_good_file_stores_the_same_rows(self):
        path = self.write_responses(2500)
        remote, local, remote_rows = self.both_ways(path)
        self.assertTrue(remote.ok, remote.summary)
        self.assert_same(remote, local)
        self.assertEqual(remote.counts.inserted, 2500)
        self.assertEqual(remote_rows, self.stored_rows())

    def test_bad_rows_give_the_same_report_line_for_line(self):
        path = self.write_responses(2300, bad_every=97)
        remote, local, remote_rows = self.both_ways(path)
        self.assertEqual(remote.status, 'failed')
        self.assert_same(remote, local)
        lines = {problem.line for problem in remote.problems.kept}
        self.assertIn(98, lines)  # 97 + the header: a bad duration
        self.assertIn(2301, lines)  # the repeated key on the last line
        self.assertTrue(any('names no flow' in p.message for p in remote.problems.kept))
        self.assertEqual(remote_rows, [])
        self.assertEqual(self.response_count(), 0)

    def test_fixtures_give_the_same_outcome(self):
        for fixture in ('responses_good.csv', 'responses_good.xlsx', 'bad_ragged.csv',
                        'bad_encoding.csv', 'bad_header_only.csv', 'bad_empty.csv',
                        'bad_missing_header.csv', 'bad_responses.xlsx'):
            with self.subTest(fixture=fixture):
                self.started.clear()
                self.app.config['LOAD_PARSE_PROCESS'] = True
                remote, local, remote_rows = self.both_ways(LOADS / fixture, dry_run=True)
                self.assert_same(remote, local)
                self.assertEqual(remote_rows, [])

    def test_progress_reaches_the_end(self):
        path = self.write_responses(12_000)
        seen = []
        outcome = run_load(LoadRequest('responses', 'append', path, path.name, ADMIN),
                           progress=lambda done, total: seen.append((done, total)))
        self.assertTrue(outcome.ok, outcome.summary)
        self.assertGreater(len(seen), 1)
        self.assertEqual(seen[-1][0], seen[-1][1])
        self.assertEqual([done for done, _ in seen], sorted(done for done, _ in seen))

    def test_killed_midway_leaves_nothing_loaded(self):
        path = self.write_responses(30_000)
        original = ParseProcess.receive

        def receive(process, expected):
            message = original(process, expected)
            if message[0] == ROWS and process.process.is_alive():
                process.process.kill()  # mid-file: it is blocked on the full pipe by now
                process.process.join()
            return message
        with mock.patch.object(ParseProcess, 'receive', receive):
            outcome = self.load('responses', path)
        self.assertEqual(outcome.status, 'failed')
        self.assertIn('The process checking the file stopped before it finished',
                      outcome.problems.kept[-1].message)
        self.assertEqual(self.response_count(), 0)
        batch = db.session.get(LoadBatch, outcome.batch_id)
        self.assertEqual(batch.status, 'failed')

    def test_an_error_in_the_second_process_is_reported_and_changes_nothing(self):
        path = self.write_responses(50)
        with self.assertLogs(self.app.logger, 'ERROR') as logs:
            outcome = self.load('responses', path, profile=ExplodingProfile())
        self.assertEqual(outcome.status, 'failed')
        self.assertIn('unexpected error', outcome.problems.kept[0].message)
        self.assertIn('the checker broke', '\n'.join(logs.output))
        self.assertEqual(self.response_count(), 0)

    def test_small_files_and_the_switch_keep_the_rows_in_this_process(self):
        path = self.write_responses(20)
        self.app.config['LOAD_PARSE_PROCESS_MIN_BYTES'] = path.stat().st_size + 1
        self.addCleanup(self.app.config.__setitem__, 'LOAD_PARSE_PROCESS_MIN_BYTES', 0)
        self.assertTrue(self.load('responses', path).ok)
        self.app.config['LOAD_PARSE_PROCESS_MIN_BYTES'] = 0
        self.app.config['LOAD_PARSE_PROCESS'] = False
        self.assertTrue(self.load('responses', path, mode='upsert', allow_duplicate=True).ok)
        self.assertEqual(self.started, [])

    def test_a_process_that_cannot_start_falls_back(self):
        path = self.write_responses(20)
        refuse = mock.patch.object(multiprocessing.context.SpawnProcess, 'start',
                                   side_effect=OSError('no processes here'))
        with refuse, self.assertLogs(self.app.logger, 'WARNING') as logs:
            outcome = self.load('responses', path)
        self.assertTrue(outcome.ok, outcome.summary)
        self.assertEqual(self.response_count(), 20)
        self.assertIn('checks its rows itself', '\n'.join(logs.output))
