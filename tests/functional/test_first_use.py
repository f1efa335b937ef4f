"""What a new user sees first: the address run-dev.sh prints, and a quiet command line (the
"started with the … configuration" line goes to the log once, when the server answers)."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from app import create_app
from tests.runner import ROOT_DIR

FAKE_FLASK = '#!/usr/bin/env bash\necho "flask $*"\n'
FAKE_PYTHON = '#!/usr/bin/env bash\nexit 0\n'


@unittest.skipUnless(shutil.which('bash') and sys.platform != 'win32', 'needs bash')
class RunDevScriptTests(unittest.TestCase):
    """scripts/run-dev.sh, run against a stand-in .venv whose flask only echoes its arguments."""

    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix='flowdesk-run-dev-'))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)
        (self.folder / 'scripts').mkdir()
        shutil.copy(ROOT_DIR / 'scripts' / 'run-dev.sh', self.folder / 'scripts' / 'run-dev.sh')
        (self.folder / 'requirements.txt').write_text('', encoding='utf-8')
        bin_folder = self.folder / '.venv' / 'bin'
        bin_folder.mkdir(parents=True)
        for name, body in (('python', FAKE_PYTHON), ('flask', FAKE_FLASK)):
            path = bin_folder / name
            path.write_text(body, encoding='utf-8')
            path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def run_script(self, **env):
        return subprocess.run(['bash', str(self.folder / 'scripts' / 'run-dev.sh')],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, 'PORT': '', **env})

    def test_prints_the_port_it_serves_on(self):
        result = self.run_script(PORT='5088')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('Flowdesk runs at http://127.0.0.1:5088 ', result.stdout)
        self.assertNotIn(':5000', result.stdout)
        self.assertIn('flask run --host 127.0.0.1 --port 5088', result.stdout)

    def test_default_port_is_5000(self):
        env = {key: value for key, value in os.environ.items() if key != 'PORT'}
        result = subprocess.run(['bash', str(self.folder / 'scripts' / 'run-dev.sh')],
                                capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('Flowdesk runs at http://127.0.0.1:5000 ', result.stdout)
        self.assertIn('--port 5000', result.stdout)

    def test_powershell_script_prints_the_same_port_it_serves_on(self):
        script = (ROOT_DIR / 'scripts' / 'run-dev.ps1').read_text(encoding='utf-8')
        printed = next(line for line in script.splitlines() if 'Flowdesk runs at' in line)
        self.assertIn('$port', printed)
        self.assertLess(script.index('$port = '), script.index(printed))


class StartLineTests(unittest.TestCase):
    """The start line: not on flask commands, once at INFO in the log when serving."""

    def setUp(self):
        self.folder = Path(tempfile.mkdtemp(prefix='flowdesk-first-use-'))
        self.addCleanup(shutil.rmtree, self.folder, ignore_errors=True)

    def test_flask_command_in_development_prints_no_start_line(self):
        result = subprocess.run(
            [sys.executable, '-m', 'flask', '--app', 'flasky', 'routes'], cwd=ROOT_DIR,
            capture_output=True, text=True, timeout=120,
            env={**os.environ, 'FLASK_CONFIG': 'development',
                 'FLOWDESK_INSTANCE_PATH': str(self.folder)})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('main.responses', result.stdout)
        self.assertNotIn('started with the', result.stdout + result.stderr)

    def test_server_logs_the_start_line_once_at_info(self):
        log_file = self.folder / 'flowdesk.log'
        app = create_app('development', environ={'FLOWDESK_INSTANCE_PATH': str(self.folder),
                                                 'LOG_FILE': str(log_file)})
        self.assertFalse(log_file.exists() and 'started with' in log_file.read_text('utf-8'))
        client = app.test_client()
        for _ in range(3):
            client.get('/healthz')
        for handler in app.logger.handlers:
            handler.flush()
        lines = [line for line in log_file.read_text(encoding='utf-8').splitlines()
                 if 'started with the development configuration' in line]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(' INFO ', lines[0])


if __name__ == '__main__':
    unittest.main()
