"""The browser test harness: the app behind a real WSGI server, and Chromium driving it.

- ``AppServer``: waitress on 127.0.0.1 with a free port, in a daemon thread, started and stopped
  by the test class. Ready means it answered ``/healthz``, not that some time has passed.
- ``RemoteUserMiddleware``: what IIS with Windows Authentication does for the app — it puts the
  signed-in Windows user in the WSGI environ as ``REMOTE_USER``. A test switches who is signed in
  by setting its ``login``; no header is ever involved.
- ``BrowserTestCase``: one headless Chromium per class (Debian's ``chromium`` through the system
  ``chromedriver``; Selenium never looks for or downloads a driver or browser), a fresh profile
  and download folder per class, the demo data seeded before each test, and helpers that wait
  on conditions, record every URL the browser requests, and write screenshots.

The classes skip with a reason when the browser, the driver or Selenium is missing.
"""
from __future__ import annotations

import base64
import csv
import http.client
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import unittest
from pathlib import Path
from urllib.parse import urlsplit

import waitress

from app.demo_data import default_until
from app.seeding import seed_demo
from tests.base import ADMIN, VIEWER, FlowdeskTestCase

# Selenium must never reach the network for a driver or a browser: the paths below are given
# explicitly (which skips Selenium Manager), and offline mode covers anything that would not.
os.environ['SE_OFFLINE'] = 'true'

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # pragma: no cover - the classes skip with a reason
    webdriver = None

__all__ = ['ADMIN', 'VIEWER', 'BrowserTestCase', 'By', 'Select', 'DESKTOP', 'NARROW',
           'SCREENSHOT_DIR']

CHROMIUM = Path(os.environ.get('FLOWDESK_CHROMIUM') or '/usr/bin/chromium')
CHROMEDRIVER = Path(os.environ.get('FLOWDESK_CHROMEDRIVER') or '/usr/bin/chromedriver')
ROOT = Path(__file__).resolve().parents[2]
#: Where the page screenshots go (git-ignored); FLOWDESK_SCREENSHOT_DIR overrides it.
SCREENSHOT_DIR = Path(os.environ.get('FLOWDESK_SCREENSHOT_DIR') or ROOT / 'artifacts' / 'screenshots')
DESKTOP = (1366, 900)
NARROW = (390, 844)
#: The longest any single wait may take before the test fails (a condition, never a sleep).
WAIT_SECONDS = 30
#: Full-page screenshots stop at this height (CSS pixels).
MAX_SCREENSHOT_HEIGHT = 6000

# waitress warns when requests queue behind its 4 threads (a page's assets do); not a problem here.
logging.getLogger('waitress.queue').setLevel(logging.ERROR)

CHROMIUM_FLAGS = (
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--no-proxy-server', '--disable-extensions',
    '--disable-default-apps', '--disable-features=Translate,OptimizationHints,MediaRouter',
    # Bootstrap scrolls smoothly unless reduced motion is asked for; a click must not land on
    # an element that is still gliding into view.
    '--force-prefers-reduced-motion',
)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if webdriver is None:
        return ('Browser tests: the selenium package is not installed '
                '(.venv/bin/pip install -r requirements.txt)')
    for path, package in ((CHROMIUM, 'chromium'), (CHROMEDRIVER, 'chromium-driver')):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return (f'Browser tests: {path} is missing; install Debian\'s {package} '
                    '(apt-get install chromium chromium-driver; scripts/test.sh does it as root)')
    return None


class RemoteUserMiddleware:
    """Test-only stand-in for IIS Windows Authentication: sets ``REMOTE_USER`` in the WSGI
    environ to ``login`` (None: nobody signed in), whatever the request carries."""

    def __init__(self, app, login: str | None = None):
        self.app = app
        self.login = login

    def __call__(self, environ, start_response):
        environ.pop('REMOTE_USER', None)
        if self.login:
            environ['REMOTE_USER'] = self.login
        return self.app(environ, start_response)


class AppServer:
    """A waitress server for one test class, on 127.0.0.1 and a port the OS chose."""

    def __init__(self, wsgi_app):
        self.server = waitress.create_server(wsgi_app, host='127.0.0.1', port=0, threads=4)
        self.port = self.server.effective_port
        self.origin = f'http://127.0.0.1:{self.port}'
        self.thread = threading.Thread(target=self.server.run, name=f'waitress-{self.port}',
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()
        # Ready when it answers a request (the socket listens from construction on, so a bare
        # connect would succeed before the serving loop runs).
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=WAIT_SECONDS)
        try:
            connection.request('GET', '/healthz')
            status = connection.getresponse().status
        finally:
            connection.close()
        if status != 200:
            raise RuntimeError(f'the test server answered /healthz with {status}')

    def stop(self) -> None:
        self.server.close()
        self.server.task_dispatcher.shutdown()
        # The serving loop ends once the browser's connections are closed (driver.quit() ran).
        self.thread.join(timeout=10)


def start_chromium(profile: Path, downloads: Path):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f'--user-data-dir={profile}')
    options.add_argument(f'--window-size={DESKTOP[0]},{DESKTOP[1]}')
    options.add_experimental_option('prefs', {
        'download.default_directory': str(downloads), 'download.prompt_for_download': False,
        'safebrowsing.enabled': False})
    options.set_capability('goog:loggingPrefs', {'performance': 'ALL', 'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd('Browser.setDownloadBehavior',
                           {'behavior': 'allow', 'downloadPath': str(downloads)})
    driver.set_page_load_timeout(WAIT_SECONDS)
    return driver


class BrowserTestCase(FlowdeskTestCase):
    """The app behind waitress, one Chromium per class, the demo data seeded for each test."""

    #: Forms post their CSRF tokens like in production.
    SETTINGS = {'WTF_CSRF_ENABLED': '1'}
    SEED_FLOWS = 40
    SEED_RESPONSES = 3000

    @classmethod
    def setUpClass(cls):
        reason = missing_browser()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        cls.until = default_until()
        cls.scratch = Path(tempfile.mkdtemp(prefix='flowdesk-browser-'))
        cls.downloads = cls.scratch / 'downloads'
        cls.downloads.mkdir()
        cls.identity = RemoteUserMiddleware(cls.app)
        cls.server = AppServer(cls.identity)
        cls.driver = None
        try:
            cls.server.start()
            cls.driver = start_chromium(cls.scratch / 'profile', cls.downloads)
        except Exception:
            cls.tearDownClass()
            raise
        cls.origin = cls.server.origin
        # The window's own frame (even headless): sizes below are of the page area.
        cls.frame = tuple(cls.driver.execute_script(
            'return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]'))
        cls.driver.get_log('performance')  # drop the browser's own start-up page requests
        cls.driver.get_log('browser')

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.driver is not None:
                cls.driver.quit()
            cls.server.stop()
        finally:
            shutil.rmtree(cls.scratch, ignore_errors=True)
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.seed = seed_demo(flows=self.SEED_FLOWS, responses=self.SEED_RESPONSES,
                              until=self.until)
        self.sign_in(VIEWER)
        for leftover in self.downloads.iterdir():
            leftover.unlink()
        self.driver.execute_cdp_cmd('Network.enable', {})
        self.driver.execute_cdp_cmd('Network.emulateNetworkConditions', {
            'offline': False, 'latency': 0, 'downloadThroughput': -1, 'uploadThroughput': -1})
        self.driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})
        self.driver.set_window_size(DESKTOP[0] + self.frame[0], DESKTOP[1] + self.frame[1])
        self.requested: list[str] = []
        self.documents: list[tuple[str, int]] = []
        self.console: list[str] = []
        self.drain_logs()
        self.requested.clear()
        self.documents.clear()
        self.console.clear()

    # -- who is signed in ------------------------------------------------------------------
    def sign_in(self, login: str | None) -> None:
        """Be ``login`` from the next request on, the way IIS would authenticate them."""
        self.identity.login = login

    # -- navigation and waiting ------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.origin + path

    def wait(self, timeout: float = WAIT_SECONDS) -> WebDriverWait:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05)

    def open(self, path: str) -> None:
        """Load a page of the app and wait until it has finished loading."""
        self.driver.get(self.url(path))
        self.wait_for_page()

    def wait_for_page(self) -> None:
        self.wait().until(
            lambda d: d.execute_script('return document.readyState') == 'complete')

    def click(self, element) -> None:
        """Click an element as a person would: scrolled into the middle of the window first."""
        self.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
        element.click()

    def follow(self, element) -> None:
        """Click a link or button that leads to another page, and wait for that page."""
        self.mark_page()
        self.click(element)
        self.wait_for_new_page()

    def mark_page(self) -> None:
        """Mark the current document, so that ``wait_for_new_page`` can tell when it is gone."""
        self.driver.execute_script('document.documentElement.flowdeskOldPage = true')

    def wait_for_new_page(self) -> None:
        """Wait until the marked document has been replaced and the new one has loaded.

        The mark lives on the old document's root element, so a new document never has it,
        also when the upload form writes the server's answer into the same window.
        While the browser swaps documents, a script call can fail ("node does not belong to
        the document", "no such execution context"); those are retried until the timeout,
        which is why this reads a mark instead of waiting for an element to go stale."""
        self.wait().until(self._new_page_loaded, 'the click never led to a new page')

    @staticmethod
    def _new_page_loaded(driver) -> bool:
        try:
            return driver.execute_script(
                "return !document.documentElement.flowdeskOldPage"
                " && document.readyState === 'complete'")
        except WebDriverException:
            return False

    def find(self, selector: str):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def heading(self) -> str:
        return self.find('h1').text

    def path(self) -> str:
        parts = urlsplit(self.driver.current_url)
        return parts.path + (f'?{parts.query}' if parts.query else '')

    # -- what the browser did --------------------------------------------------------------
    def drain_logs(self) -> None:
        """Move the browser's network and console logs into ``requested``, ``documents``
        (URL, HTTP status of each page) and ``console`` (errors)."""
        for entry in self.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            params = message.get('params', {})
            if message['method'] == 'Network.requestWillBeSent':
                self.requested.append(params['request']['url'])
            elif (message['method'] == 'Network.responseReceived'
                  and params.get('type') in ('Document', 'XHR')):
                # XHR too: the upload script shows the page its request received.
                self.documents.append((params['response']['url'], params['response']['status']))
        for entry in self.driver.get_log('browser'):
            if entry['level'] == 'SEVERE':
                self.console.append(entry['message'])

    def status_of_page(self) -> int:
        """The HTTP status the current page was served with."""
        self.drain_logs()
        current = self.driver.current_url
        statuses = [status for url, status in self.documents if url == current]
        self.assertTrue(statuses, f'no response for {current} in the network log')
        return statuses[-1]

    def is_app_url(self, url: str) -> bool:
        if url.startswith('data:'):
            return True
        if url.startswith('blob:'):
            url = url[len('blob:'):]
        parts = urlsplit(url)
        return f'{parts.scheme}://{parts.netloc}' == self.origin

    def assertOnlyAppRequests(self) -> None:
        """Every URL the browser requested in this test was the app's own (or a data: URL)."""
        self.drain_logs()
        self.assertTrue(self.requested, 'the network log recorded no request at all')
        outside = sorted({url for url in self.requested if not self.is_app_url(url)})
        self.assertEqual(outside, [], f'requests outside {self.origin}')

    def assertNoConsoleErrors(self) -> None:
        """No script error or Content-Security-Policy violation was logged. Responses with an
        HTTP error status are logged too; tests check those statuses themselves."""
        self.drain_logs()
        errors = [m for m in self.console if 'Failed to load resource' not in m]
        self.assertEqual(errors, [], 'errors in the browser console')

    # -- network conditions ----------------------------------------------------------------
    def throttle_uploads(self, bytes_per_second: int) -> None:
        self.driver.execute_cdp_cmd('Network.emulateNetworkConditions', {
            'offline': False, 'latency': 0, 'downloadThroughput': -1,
            'uploadThroughput': bytes_per_second})

    # -- downloads -------------------------------------------------------------------------
    def wait_for_download(self, suffix: str) -> Path:
        """The downloaded file once complete (Chromium writes ``*.crdownload`` until then)."""
        def finished(_driver):
            done = [p for p in self.downloads.iterdir() if p.suffix == suffix]
            return done[0] if done else False
        return self.wait().until(finished, f'no {suffix} file arrived in {self.downloads}')

    @staticmethod
    def read_csv(path: Path) -> list[dict]:
        return list(csv.DictReader(io.StringIO(path.read_text(encoding='utf-8-sig'), newline='')))

    # -- screenshots -----------------------------------------------------------------------
    def emulate_screen(self, size: tuple[int, int]) -> None:
        """Show the page as a screen of ``size`` CSS pixels would; a narrow size is a phone
        (mobile viewport rules, overlay scrollbars). For looking, not clicking: the journeys run
        in a real desktop-sized window."""
        width, height = size
        self.driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': 1,
            'mobile': width < DESKTOP[0] // 2})
        self.wait().until(lambda d: d.execute_script('return window.innerWidth') == width)

    def stop_emulating_screen(self) -> None:
        self.driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

    def screenshot(self, name: str) -> Path:
        """A full-page PNG of the current page in SCREENSHOT_DIR."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        metrics = self.driver.execute_cdp_cmd('Page.getLayoutMetrics', {})
        content = metrics['cssContentSize']
        # The whole window width: a full-page capture has no scrollbar, so the page lays out
        # across the scrollbar's place too.
        width, height = self.driver.execute_script('return [window.innerWidth, window.innerHeight]')
        clip = {'x': 0, 'y': 0, 'scale': 1, 'width': max(content['width'], width),
                'height': min(max(content['height'], height), MAX_SCREENSHOT_HEIGHT)}
        shot = self.driver.execute_cdp_cmd('Page.captureScreenshot', {
            'format': 'png', 'captureBeyondViewport': True, 'clip': clip})
        path = SCREENSHOT_DIR / f'{name}.png'
        path.write_bytes(base64.b64decode(shot['data']))
        return path
