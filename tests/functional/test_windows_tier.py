"""The Windows-likeness tier: the page, API, export, load and CLI suites run again in a process
that sees the world as the IIS server does, and the checks that keep it that way.

Windows has no system time zone database: zoneinfo falls back to the ``tzdata`` package. The
tier hides this machine's database (PYTHONTZPATH names an empty folder), writes stdout and
stderr in cp1252 (a Task Scheduler log), makes Europe/Berlin the display and data time zone,
and turns a text file opened in app/ without an encoding into an error. The PostgreSQL halves
of the suites are left to the main run (the tier is about the operating system)."""
import importlib.metadata
import re
import subprocess
import sys
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

from tests.runner import ROOT_DIR
from tests.windows.environment import windows_like_environment

#: What the tier runs: its own smoke tests, then the suites of every page, the API, both exports,
#: loads and the command line (seed-demo, init-db). tests.functional.test_cli_encoding runs its
#: `flask` subprocesses in cp1252 in the main run already.
TIER_SUITES = [
    'tests.windows.smoke',
    'tests.functional.test_dashboard',
    'tests.functional.test_responses',
    'tests.functional.test_flows',
    'tests.functional.test_api',
    'tests.functional.test_export',
    'tests.functional.test_loads',
    'tests.functional.test_cli.SeedDemoTests_sqlite',
    'tests.functional.test_cli.InitDbTests',
]
SUMMARY = re.compile(r'^(\d+) passed, (\d+) failed, (\d+) skipped$')
INSTALL_SCRIPT = ROOT_DIR / 'scripts' / 'iis' / 'Install-Flowdesk.ps1'
ZONE_CHECK = "import zoneinfo; zoneinfo.ZoneInfo('Europe/Berlin')"
def hidden_tzdata(folder: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes ``tzdata`` look not installed."""
    package = folder / 'tzdata'
    package.mkdir()
    (package / '__init__.py').write_text(
        "raise ImportError('tzdata is not installed (as on a server without it)')\n",
        encoding='utf-8')
    return folder


class WindowsLikeTierTests(unittest.TestCase):
    def setUp(self):
        folder = TemporaryDirectory(prefix='flowdesk-windows-')
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        self.no_zones = self.folder / 'no-system-zoneinfo'
        self.no_zones.mkdir()

    def python(self, *args, cwd=ROOT_DIR, **extra):
        return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True,
                              env=windows_like_environment(self.no_zones, **extra), timeout=600,
                              check=False)

    def test_the_suites_pass_as_on_windows(self):
        result = self.python('-m', 'flask', '--app', 'flasky', 'test', *TIER_SUITES)
        stdout = result.stdout.decode('cp1252')   # strict: the whole report is cp1252
        tail = (stdout + result.stderr.decode('cp1252', 'replace'))[-4000:]
        lines = stdout.strip().splitlines()
        summary = SUMMARY.match(lines[-1]) if lines else None
        self.assertIsNotNone(summary, f'no summary line; the tier ended with:\n{tail}')
        passed, failed, _skipped = map(int, summary.groups())
        self.assertEqual((failed, result.returncode), (0, 0),
                         f'the Windows-like tier failed; its last output:\n{tail}')
        self.assertGreaterEqual(passed, 100, tail)   # the suites really ran

    def test_without_tzdata_zoneinfo_fails_here_as_on_windows(self):
        """Why the tier proves something: with the system database hidden, only the tzdata
        package gives zoneinfo its zones."""
        with_tzdata = self.python('-c', ZONE_CHECK, cwd=self.no_zones)
        self.assertEqual(with_tzdata.returncode, 0, with_tzdata.stderr.decode('cp1252', 'replace'))
        without = self.python('-c', ZONE_CHECK, cwd=self.no_zones,
                              PYTHONPATH=str(hidden_tzdata(self.folder)))
        self.assertNotEqual(without.returncode, 0)
        self.assertIn(b'ZoneInfoNotFoundError', without.stderr)


class TimeZoneDatabaseInstallTests(unittest.TestCase):
    def test_requirements_pin_the_installed_tzdata(self):
        requirements = (ROOT_DIR / 'requirements.txt').read_text(encoding='utf-8')
        self.assertIn(f"\ntzdata=={importlib.metadata.version('tzdata')}\n", requirements)

    def test_install_script_checks_the_zone_database_and_stops_with_a_clear_message(self):
        script = INSTALL_SCRIPT.read_text(encoding='utf-8')
        self.assertIn(f'$ZoneCheck = "{ZONE_CHECK}"', script)
        check = script[script.index('$ZoneCheck ='):]
        check = check[:check.index('Write-Step')]
        self.assertIn("Invoke-Python @('-c', $ZoneCheck)", check)
        self.assertIn('if ($zoneResult.ExitCode -ne 0)', check)
        message = re.search(r'throw \((".+?")\)', check, re.DOTALL)
        self.assertIsNotNone(message, check)
        text = re.sub(r'"\s*\+\s*"', '', message.group(1))   # the message as one string
        for words in ('cannot find the time zone database', 'tzdata',
                      'pip install -r requirements.txt', 'run this script again'):
            self.assertIn(words, text)
        # The step sits before anything is installed or changed.
        self.assertLess(script.index('$ZoneCheck ='), script.index('# -- 1. IIS features'))


if __name__ == '__main__':
    unittest.main()
