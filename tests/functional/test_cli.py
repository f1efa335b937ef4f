"""The command-line tools: seed-demo, init-db, and the test runner's closing line."""
import subprocess
import sys
import tempfile
import unittest
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.demo_data import iter_responses, make_flows
from app.extensions import db
from app.models import Flow, FlowVersion, LoadBatch, Response, ResponseDaily, ResponseVersion
from tests.base import FlowdeskTestCase, on_every_backend
from tests.runner import ROOT_DIR
from tests.unit.test_config import GOOD_UAT

UNTIL = datetime(2026, 11, 20, 12, 0, 0)


def table_snapshot():
    rows = db.session.execute(select(Response).order_by(Response.response_id)).scalars()
    return [(r.response_id, r.flow_code, r.responded_at, r.status, r.result_code, r.duration_ms,
             r.error_reason, r.payload_bytes) for r in rows]


@on_every_backend
class SeedDemoTests(FlowdeskTestCase):
    def seed(self, *args):
        result = self.app.test_cli_runner().invoke(
            args=['seed-demo', '--until', UNTIL.strftime('%Y-%m-%d %H:%M:%S'), *args])
        self.assertEqual(result.exit_code, 0, result.output)
        return result.output

    def count(self, model):
        return db.session.scalar(select(func.count()).select_from(model))

    def test_default_size_and_spread(self):
        output = self.seed('--responses', '3000')
        self.assertIn('Seeded 40 flows and 3,000 responses', output)
        self.assertEqual(self.count(Flow), 40)
        self.assertEqual(self.count(Response), 3000)
        first, last = db.session.execute(
            select(func.min(Response.responded_at), func.max(Response.responded_at))).one()
        self.assertGreaterEqual(first, UNTIL - timedelta(days=60))
        self.assertLessEqual(last, UNTIL)
        self.assertGreater(last, UNTIL - timedelta(hours=2))
        statuses = dict(db.session.execute(
            select(Response.status, func.count()).group_by(Response.status)).all())
        self.assertEqual(set(statuses), {'OK', 'WARN', 'ERROR'})
        self.assertGreater(statuses['OK'], statuses['ERROR'])
        systems = db.session.scalar(select(func.count(func.distinct(Flow.source_system))))
        teams = db.session.scalar(select(func.count(func.distinct(Flow.owner_team))))
        self.assertGreaterEqual(systems, 8)
        self.assertGreaterEqual(teams, 5)
        errors_without_reason = db.session.scalar(select(func.count()).where(
            Response.status == 'ERROR', Response.error_reason.is_(None)))
        self.assertEqual(errors_without_reason, 0)

    def test_idempotent_and_deterministic(self):
        self.seed('--responses', '2000')
        first = table_snapshot()
        self.seed('--responses', '2000')
        self.assertEqual(table_snapshot(), first)
        self.assertEqual(self.count(Flow), 40)
        self.assertEqual(self.count(LoadBatch), 1)

    def test_summary_matches_rows(self):
        self.seed('--responses', '2500')
        summarised = db.session.scalar(select(func.sum(ResponseDaily.responses)))
        self.assertEqual(summarised, 2500)
        errors = db.session.scalar(select(func.sum(ResponseDaily.responses)).where(
            ResponseDaily.status == 'ERROR'))
        self.assertEqual(errors, db.session.scalar(
            select(func.count()).where(Response.status == 'ERROR')))

    def test_failing_now_flows_exist(self):
        self.seed('--responses', '20000')
        recent = UNTIL - timedelta(hours=6)
        rows = db.session.execute(
            select(Response.flow_code, Response.status, func.count())
            .where(Response.responded_at >= recent)
            .group_by(Response.flow_code, Response.status)).all()
        totals, errors = {}, {}
        for flow_code, status, count in rows:
            totals[flow_code] = totals.get(flow_code, 0) + count
            if status == 'ERROR':
                errors[flow_code] = count
        failing = [code for code, total in totals.items()
                   if total >= 5 and errors.get(code, 0) / total > 0.5]
        self.assertGreaterEqual(len(failing), 1)
        self.assertLessEqual(len(failing), 5)

    def test_refuses_to_overwrite_admin_loads(self):
        self.seed('--responses', '100')
        db.session.add(LoadBatch(dataset='responses', mode='append', loaded_by='CORP\\admin',
                                 status='succeeded'))
        db.session.commit()
        result = self.app.test_cli_runner().invoke(args=['seed-demo', '--responses', '100'])
        self.assertNotEqual(result.exit_code, 0)
        self.assertIn('--force', result.output)
        self.assertEqual(self.count(LoadBatch), 2)
        self.seed('--responses', '100', '--force')
        self.assertEqual(self.count(LoadBatch), 1)


RESPONSES_HEADER = 'response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason\n'


@on_every_backend
class SeedForceUndoHistoryTests(FlowdeskTestCase):
    """seed-demo --force takes the undo history with it, and batch ids are never handed out
    again, so undoing a load after the seed can never restore rows from before it."""

    def setUp(self):
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix='flowdesk-seed-'))
        self.addCleanup(lambda: [p.unlink() for p in self.folder.iterdir()] and None)

    def run_cli(self, *args) -> str:
        result = self.app.test_cli_runner().invoke(args=list(args))
        self.assertEqual(result.exit_code, 0, result.output)
        return result.output

    def seed(self, *extra):
        self.run_cli('seed-demo', '--responses', '50', '--flows', '3', '--until',
                     UNTIL.strftime('%Y-%m-%d %H:%M:%S'), *extra)

    def load_response(self, response_id: int, reason: str) -> int:
        """Upsert one response of the first demo flow with ``reason``; the batch id."""
        flow_code = db.session.scalar(select(Flow.flow_code).order_by(Flow.flow_code))
        path = self.folder / f'{response_id}-{len(list(self.folder.iterdir()))}.csv'
        path.write_text(RESPONSES_HEADER + f'{response_id},{flow_code},2026-11-19 10:00:00,ERROR,'
                        f'500,10,{reason}\n', encoding='utf-8')
        self.run_cli('load', 'responses', str(path), '--mode', 'upsert', '--allow-duplicate',
                     '--user', 'CORP\\admin')
        db.session.remove()
        return db.session.scalar(select(func.max(LoadBatch.id)))

    def reason_of(self, response_id: int):
        db.session.remove()
        return db.session.scalar(select(Response.error_reason)
                                 .where(Response.response_id == response_id))

    def test_undo_after_seed_force_restores_nothing_from_before_the_seed(self):
        self.seed()
        self.load_response(1, 'first edit before the seed')
        ids_before = [self.load_response(1, 'second edit before the seed')]
        ids_before += list(db.session.scalars(select(LoadBatch.id)))
        self.seed('--force')
        db.session.remove()
        self.assertEqual(db.session.scalar(select(func.count()).select_from(ResponseVersion)), 0)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(FlowVersion)), 0)
        seed_batch = db.session.scalar(select(LoadBatch.id))
        self.assertGreater(seed_batch, max(ids_before))
        seeded_reason = self.reason_of(1)
        first_after = self.load_response(10_001, 'new after the seed')
        second_after = self.load_response(10_002, 'another after the seed')
        self.assertLess(seed_batch, first_after)
        self.assertLess(first_after, second_after)
        self.run_cli('undo-load', str(second_after), '--user', 'CORP\\admin')
        self.assertIsNone(self.reason_of(10_002))
        self.assertEqual(self.reason_of(10_001), 'new after the seed')
        self.assertEqual(self.reason_of(1), seeded_reason)


class DemoGeneratorTests(unittest.TestCase):
    def test_scales_without_holding_rows(self):
        flows = make_flows()
        rows = iter_responses(flows, 1_000_000, until=UNTIL)
        first = next(rows)
        self.assertEqual(first[0], 1)
        # A generator: nothing beyond the first row has been built.
        self.assertEqual(rows.gi_frame.f_locals['offset'], 0)

    def test_ids_and_times_increase(self):
        rows = list(iter_responses(make_flows(), 500, until=UNTIL))
        self.assertEqual([r[0] for r in rows], list(range(1, 501)))
        self.assertEqual([r[2] for r in rows], sorted(r[2] for r in rows))


class InitDbTests(FlowdeskTestCase):
    CREATE_TABLES = False

    def test_creates_tables_in_development_and_testing(self):
        result = self.app.test_cli_runner().invoke(args=['init-db'])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Flow)), 0)
        db.drop_all()

    def test_refused_outside_development(self):
        from app import create_app
        app = create_app('uat', environ={**self.databases.settings, **GOOD_UAT})
        with app.app_context():
            result = app.test_cli_runner().invoke(args=['init-db'])
        self.assertNotEqual(result.exit_code, 0)
        self.assertIn('flask db upgrade', result.output)


class TestRunnerTests(unittest.TestCase):
    """`flask test` ends with the summary line CI reads, and fails when a test fails."""

    def run_flask_test(self, *names):
        return subprocess.run(
            [sys.executable, '-m', 'flask', '--app', 'flasky', 'test', *names],
            cwd=ROOT_DIR, capture_output=True, text=True, timeout=120,
            env={'PATH': '', 'SYSTEMROOT': '', 'HOME': str(ROOT_DIR / 'tests'),
                 'FLOWDESK_INSTANCE_PATH': str(ROOT_DIR / 'instance' / 'runner-check')})

    def test_summary_line_and_exit_codes(self):
        ok = self.run_flask_test('tests.samples.sample_suite.PassingSamples')
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertEqual(ok.stdout.strip().splitlines()[-1], '2 passed, 0 failed, 1 skipped')
        bad = self.run_flask_test('tests.samples.sample_suite')
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(bad.stdout.strip().splitlines()[-1], '3 passed, 2 failed, 1 skipped')

    def test_a_package_name_runs_the_modules_in_it(self):
        result = self.run_flask_test('tests.samples', '--pattern', 'sample_*.py')
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout.strip().splitlines()[-1], '3 passed, 2 failed, 1 skipped')


if __name__ == '__main__':
    unittest.main()
