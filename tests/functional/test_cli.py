"""The command-line tools: seed-demo, init-db, and the test runner's closing line."""
import subprocess
import sys
import unittest
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.demo_data import iter_responses, make_flows
from app.extensions import db
from app.models import Flow, LoadBatch, Response, ResponseDaily
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


if __name__ == '__main__':
    unittest.main()
