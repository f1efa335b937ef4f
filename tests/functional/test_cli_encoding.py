"""`flask` commands on a console that cannot hold the data's characters (a Windows Task Scheduler
log or legacy console in cp1252): the commands finish, the exit code is right and the report is
complete, with such characters escaped (``\\u65e5``). Real subprocesses in a Windows-like
environment (cp1252, no system time zone database, Europe/Berlin)."""
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Flow, Response
from tests.base import ASSETS, FlowdeskTestCase
from tests.runner import ROOT_DIR
from tests.windows.environment import windows_like_environment

WINDOWS_ASSETS = ASSETS / 'windows'


def cp1252_view(text: str) -> str:
    """How a cp1252 console shows ``text`` once the command escapes what cp1252 lacks."""
    return text.encode('cp1252', 'backslashreplace').decode('cp1252')


class Cp1252ConsoleTests(FlowdeskTestCase):
    """SQLite is enough: the database receives the text as it is either way."""

    def setUp(self):
        super().setUp()
        self.work = Path(self.databases.folder) / 'files'
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir()

    def fixture(self, asset: str, name: str) -> Path:
        """A copy of a fixture under a name cp1252 cannot hold either."""
        path = self.work / name
        shutil.copyfile(WINDOWS_ASSETS / asset, path)
        return path

    def flask(self, *args):
        no_zones = self.work / 'no-system-zoneinfo'
        no_zones.mkdir(exist_ok=True)
        env = windows_like_environment(no_zones, **self.base_settings(),
                                       **self.databases.settings, FLASK_CONFIG='testing')
        result = subprocess.run([sys.executable, '-m', 'flask', '--app', 'flasky', *args],
                                cwd=ROOT_DIR, env=env, capture_output=True, timeout=300, check=False)
        # Every byte written is cp1252: a strict decode raises on anything else (e.g. UTF-8).
        stdout, stderr = result.stdout.decode('cp1252'), result.stderr.decode('cp1252')
        self.assertNotIn('Traceback', stderr, stderr)
        return result.returncode, stdout, stderr

    def load_flows(self):
        code, out, err = self.flask('load', 'flows', str(self.fixture('flows_non_western.csv',
                                                                        'flows_日本.csv')))
        self.assertEqual(code, 0, out + err)
        return out, err

    def test_accepted_file_loads_with_its_text_intact_and_a_complete_report(self):
        out, err = self.load_flows()
        self.assertIn(cp1252_view('Loading flows_日本.csv'), err)
        self.assertIn('\\u65e5\\u672c', err)
        path = self.fixture('responses_non_western.csv', 'responses_受信 ✅.csv')
        code, out, err = self.flask('load', 'responses', str(path), '--user', 'CORP\\山田')
        self.assertEqual(code, 0, out + err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r'^Batch #\d+ succeeded in ')
        self.assertRegex(out, r'inserted +2\n')
        self.assertRegex(out, r'errors +0\n')
        self.assertEqual(lines[-1], '2 records loaded into responses (2 inserted, 0 updated, '
                                    '0 unchanged, 0 deleted).')
        db.session.remove()
        self.assertEqual(db.session.scalar(select(Flow.name).where(Flow.flow_code == 'JP-ORDERS')),
                         '受注 → 倉庫 🚚')
        self.assertEqual(db.session.scalar(select(Response.error_reason)
                                           .where(Response.response_id == 2)),
                         'タイムアウト ⌛ → 再試行 🔁')

    def test_rejected_file_prints_every_problem_and_exits_1(self):
        self.load_flows()
        report = self.work / 'problèmes 日本.csv'
        path = self.fixture('responses_non_western_rejected.csv', 'responses_拒否.csv')
        code, out, err = self.flask('load', 'responses', str(path), '--errors-csv', str(report))
        self.assertEqual(code, 1, out + err)
        self.assertRegex(out, r'^Batch #\d+ failed in ')
        self.assertRegex(out, r'errors +4\n')
        problems = [('2', 'status', '日本→', 'status must be one of OK, WARN, ERROR.'),
                    ('3', 'flow_code', '🚀-FLOW', 'names no flow in the database'),
                    ('4', 'responded_at', '明日 ⏰', 'is not a date and time'),
                    ('5', 'duration_ms', '∞', 'duration_ms is not a whole number.')]
        rows = [line.split() for line in out.splitlines()]
        for line, column, value, message in problems:
            with self.subTest(line=line):
                row = next((r for r in rows if r[:2] == [line, column]), None)
                self.assertIsNotNone(row, out)
                self.assertIn(cp1252_view(value), ' '.join(row))
                self.assertIn(cp1252_view(message), ' '.join(row))
        self.assertIn(cp1252_view(f'Full error report written to {report}.'), out)
        self.assertEqual(out.splitlines()[-1], 'Rejected: 4 problems found; nothing was '
                                               'changed. Fix the file and load it again.')
        self.assertIn('日本→', report.read_text(encoding='utf-8-sig'))  # the file holds the text
        db.session.remove()
        self.assertEqual(db.session.scalars(select(Response)).all(), [])

    def test_seed_demo_finishes(self):
        code, out, err = self.flask('seed-demo', '--responses', '500', '--flows', '5')
        self.assertEqual(code, 0, out + err)
        self.assertRegex(out, r'Seeded 5 flows and 500 responses from \d{4}-\d\d-\d\d ')
        self.assertIn('Writing demo responses', out)


if __name__ == '__main__':
    unittest.main()
