"""End-to-end tests in a real browser: Debian's Chromium, driven by Selenium through the system
chromedriver, against the app served by waitress on 127.0.0.1 (README "Browser tests")."""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def load_tests(loader, standard_tests, pattern):
    """``flask test tests.browser`` runs every module of this package (unittest's package
    protocol), named as discovery from the project root names them."""
    standard_tests.addTests(loader.discover(start_dir=str(PACKAGE_DIR),
                                            pattern=pattern or 'test*.py',
                                            top_level_dir=str(PACKAGE_DIR.parents[1])))
    return standard_tests
