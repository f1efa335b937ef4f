"""How the scheduler is deployed: the Task Scheduler script registers what the docs say, and
``flask jobs run`` started in the app folder takes its settings from ``.env`` there (how the
task gets the site's settings without them entering the repository)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from sqlalchemy import create_engine, text

from config import sqlite_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'scripts' / 'iis' / 'Register-FlowdeskJobs.ps1'


class RegisterJobsScriptTest(unittest.TestCase):
    """The script runs only on Windows; these check that it does each step."""

    @classmethod
    def setUpClass(cls):
        cls.script = SCRIPT.read_text(encoding='utf-8')

    def test_runs_flask_jobs_run_every_minute_in_the_app_folder(self):
        self.assertRegex(self.script, r"New-ScheduledTaskAction -Execute \$FlaskExe "
                                      r"-Argument 'jobs run' -WorkingDirectory \$AppRoot")
        self.assertIn('-RepetitionInterval (New-TimeSpan -Minutes $IntervalMinutes)', self.script)
        self.assertRegex(self.script, r'\[int\] \$IntervalMinutes = 1\b')
        self.assertIn('-MultipleInstances IgnoreNew', self.script)

    def test_settings_come_from_the_pool_into_a_locked_dotenv_file(self):
        self.assertIn("$pool.GetCollection('environmentVariables')", self.script)
        self.assertIn("FLASK_APP = 'flasky'; FLASK_CONFIG = 'production'", self.script)
        self.assertIn("/inheritance:r /grant:r 'BUILTIN\\Administrators:(F)'", self.script)
        self.assertIn('.env', (ROOT / '.gitignore').read_text(encoding='utf-8').split())

    def test_runs_as_the_account_that_owns_the_database_login(self):
        self.assertIn("[string] $ServiceAccount = 'NT AUTHORITY\\NETWORK SERVICE'", self.script)
        self.assertIn('-LogonType ServiceAccount', self.script)
        self.assertIn('-LogonType Password', self.script)  # a gMSA
        self.assertNotRegex(self.script, r'(?i)password\s*=\s*[\'"]')


class DotenvSettingsTest(unittest.TestCase):
    """A real ``flask jobs run`` in a folder holding ``.env`` uses the databases named there."""

    def test_flask_jobs_run_reads_dotenv_from_its_working_folder(self):
        folder = Path(tempfile.mkdtemp(prefix='flowdesk jobs task '))
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        instance = folder / 'instance'
        (folder / '.env').write_text(
            'FLASK_APP="flasky"\nFLASK_CONFIG="testing"\n'
            f'FLOWDESK_INSTANCE_PATH="{instance.as_posix()}"\nLOG_LEVEL="ERROR"\n',
            encoding='utf-8')
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith(('FLASK_', 'FLOWDESK_', 'DATABASE_URL', 'OPS_'))}
        environ['PYTHONPATH'] = str(ROOT)
        subprocess.run([sys.executable, '-m', 'flask', 'db', 'upgrade'], cwd=folder, env=environ,
                       check=True, capture_output=True)
        result = subprocess.run([sys.executable, '-m', 'flask', 'jobs', 'run'], cwd=folder,
                                env=environ, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(re.search(r'6 jobs: 6 ran', result.stdout), result.stdout)
        engine = create_engine(sqlite_url(instance / 'ops.db'))
        try:
            with engine.connect() as connection:
                jobs = connection.execute(text('SELECT job FROM job_runs ORDER BY job')).scalars()
                self.assertEqual(list(jobs), ['alert-delivery', 'alerts', 'inbox', 'prune-job-runs',
                                              'retention', 'sweep'])
        finally:
            engine.dispose()
