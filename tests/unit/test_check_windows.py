"""scripts/check_windows.py: each kind of Windows hazard planted in a file is caught, code that
is fine on Windows is not, the real tree is clean, and scripts/test.sh runs the check before the
tests."""
import importlib.util
import subprocess
import sys
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

from parameterized import parameterized

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'scripts' / 'check_windows.py'
_spec = importlib.util.spec_from_file_location('check_windows', SCRIPT)
check_windows = sys.modules['check_windows'] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_windows)

#: (rule, planted code): each must be reported once, on the line of the offending call.
VIOLATIONS = [
    ('W1', "open(path)"),
    ('W1', "open(path, 'w', newline='')"),
    ('W1', "io.open(path, mode='a')"),
    ('W1', "Path(path).read_text()"),
    ('W1', "Path(path).write_text(body)"),
    ('W1', "Path(path).open('r')"),
    ('W1', "io.TextIOWrapper(raw, errors='replace')"),
    ('W1', "tempfile.NamedTemporaryFile('w+', suffix='.csv')"),
    ('W2', "import fcntl"),
    ('W2', "import resource as limits"),
    ('W2', "from pwd import getpwnam"),
    ('W2', "from os import fork"),
    ('W2', "os.fork()"),
    ('W2', "uid = os.getuid()"),
    ('W2', "os.kill(pid, signal.SIGKILL)"),
    ('W2', "signal.signal(signal.SIGHUP, handler)"),
    ('W2', "signal.alarm(5)"),
    ('W2', "multiprocessing.get_context('fork')"),
    ('W3', "os.rename(source, target)"),
    ('W3', "Path(source).rename(target)"),
    ('W3', "from os import rename"),
    ('W4', "target = upload_folder + '/' + name"),
    ('W4', "target = f'{instance_path}/uploads/{name}'"),
    ('W4', "target = str(base_dir) + '\\\\logs'"),
    ('W4', "target = '/'.join([root_dir, 'a', name])"),
    ('W4', "target = '%s/%s' % (log_dir, name)"),
    ('W4', "target = '{}/{}'.format(config['UPLOAD_FOLDER'], name)"),
    ('W5', "with open(path, 'rb') as handle:\n    os.remove(path)"),
    ('W5', "with Path(path).open('rb') as handle:\n    Path(path).replace(target)"),
    ('W5', "with tempfile.NamedTemporaryFile(delete=False) as part:\n    shutil.move(part.name, target)"),
    ('W6', "with open(path, 'w', encoding='utf-8') as out:\n    csv.writer(out)"),
    ('W6', "rows = csv.reader(open(path, encoding='utf-8'))"),
]

#: Code that is fine on Windows: nothing may be reported.
FINE = [
    "open(path, 'rb')",
    "open(path, 'w', encoding='utf-8', newline='')",
    "Path(path).read_text(encoding='utf-8')",
    "Path(path).read_text('utf-8')",
    "Path(path).write_text(body, 'utf-8')",
    "Path(path).open('rb')",
    "io.TextIOWrapper(raw, encoding='cp1252', newline='')",
    "tempfile.TemporaryFile(suffix='.xlsx')",
    "zip_file.open(member)",
    "os.replace(source, target)",
    "os.kill(pid, signal.SIGTERM)",
    "code = name.replace('-', '_')",
    "frame = frame.rename(columns)  # windows-ok: a data frame, not a file",
    "target = Path(upload_folder) / name",
    "url = request.path + '/'",
    "url = base_url + '/api/v1'",
    "route = f'/flows/{flow.code}/runs'",
    "label = flow_code + ' / ' + name",
    "with open(path, 'rb') as handle:\n    data = handle.read()\nos.replace(path, target)",
    "with open(path, 'w', encoding='utf-8', newline='') as out:\n    csv.writer(out)",
    "open(path, 'w')  # windows-ok: planted on purpose",
]

PRELUDE = 'import csv, io, os, shutil, signal, tempfile, multiprocessing\n'


class PlantedViolationTests(unittest.TestCase):
    @parameterized.expand(VIOLATIONS)
    def test_each_kind_is_caught(self, rule, code):
        findings = check_windows.check_source(PRELUDE + code + '\n', 'planted.py')
        offending_line = 2 + code.count('\n')  # the last line of the planted code
        self.assertEqual([(f.rule, f.line) for f in findings], [(rule, offending_line)],
                         f'{code!r} -> {[str(f) for f in findings]}')

    @parameterized.expand([(code,) for code in FINE])
    def test_code_fine_on_windows_is_not_reported(self, code):
        findings = check_windows.check_source(PRELUDE + code + '\n', 'fine.py')
        self.assertEqual([str(f) for f in findings], [])


class CommandLineTests(unittest.TestCase):
    def run_check(self, *paths):
        return subprocess.run([sys.executable, str(SCRIPT), *paths], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)

    def test_a_planted_violation_fails_the_run_with_its_place(self):
        with TemporaryDirectory() as folder:
            package = Path(folder) / 'pkg'
            package.mkdir()
            (package / 'clean.py').write_text("x = open('a', 'rb')\n", encoding='utf-8')
            (package / 'bad.py').write_text(
                "import os\n\n\ndef move(a, b):\n    os.rename(a, b)\n", encoding='utf-8')
            result = self.run_check(str(package))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn('bad.py:5: W3 os.rename', result.stdout)
        self.assertNotIn('clean.py', result.stdout)
        self.assertIn('2 files, 1 finding(s)', result.stdout)

    def test_the_real_tree_is_clean(self):
        result = self.run_check()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r'Windows checks: \d{2,} files, 0 finding\(s\)')

    def test_ci_runs_the_check_on_app_before_the_tests(self):
        script = (ROOT / 'scripts' / 'test.sh').read_text(encoding='utf-8')
        check = script.index('scripts/check_windows.py app')
        self.assertLess(check, script.index('flask --app flasky test'))
        self.assertIn('set -euo pipefail', script)   # a finding stops the run


if __name__ == '__main__':
    unittest.main()
