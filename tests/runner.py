"""The test runner behind ``flask test``: unittest discovery with a closing summary line
``N passed, N failed, N skipped`` (errors and unexpected successes count as failed)."""
from __future__ import annotations

import sys
import time
import unittest
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
ROOT_DIR = TESTS_DIR.parent


class CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1


def build_suite(names: list[str], pattern: str) -> unittest.TestSuite:
    """Every test under tests/, or the named ones; a name may be a package (``tests.unit``),
    whose modules are discovered, as well as a module, class or method."""
    loader = unittest.TestLoader()
    if not names:
        return loader.discover(str(TESTS_DIR), pattern=pattern, top_level_dir=str(ROOT_DIR))
    suite = unittest.TestSuite()
    for name in names:
        folder = ROOT_DIR.joinpath(*name.split('.'))
        if (folder / '__init__.py').is_file():
            suite.addTests(loader.discover(str(folder), pattern=pattern,
                                           top_level_dir=str(ROOT_DIR)))
        else:
            suite.addTests(loader.loadTestsFromName(name))
    return suite


def run_tests(names: list[str] | None = None, pattern: str = 'test*.py', verbosity: int = 1,
              failfast: bool = False) -> bool:
    if str(ROOT_DIR) not in sys.path:
        sys.path.insert(0, str(ROOT_DIR))
    suite = build_suite(names or [], pattern)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=verbosity, failfast=failfast,
                                     resultclass=CountingResult, buffer=False)
    started = time.perf_counter()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    print(f'Ran in {time.perf_counter() - started:.1f} s', flush=True)
    print(f'{result.passed} passed, {failed} failed, {skipped} skipped', flush=True)
    return failed == 0 and result.testsRun > 0
