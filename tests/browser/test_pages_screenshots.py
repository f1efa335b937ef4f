"""Every page at desktop (1366×900) and phone (390×844) widths: it renders (right heading and
HTTP status), nothing overflows sideways on the phone, no console errors, no request leaves
the app — and a full-page screenshot of each lands in SCREENSHOT_DIR (README "Browser tests")."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Response
from tests.browser.base import (ADMIN, DESKTOP, NARROW, SCREENSHOT_DIR, VIEWER, BrowserTestCase,
                                By, Select)
from tests.browser.upload_files import responses_file

WIDTHS = {'desktop': DESKTOP, 'narrow': NARROW}


class PageScreenshotsTest(BrowserTestCase):

    def setUp(self):
        super().setUp()
        self.sign_in(ADMIN)
        with db.engines['ops'].connect() as connection:
            self.flow_code, = connection.execute(
                select(Response.flow_code).where(Response.status == 'ERROR')
                .group_by(Response.flow_code).order_by(func.count().desc(), Response.flow_code)
                .limit(1)).one()
            self.error_id = connection.scalar(
                select(func.max(Response.response_id)).where(Response.flow_code == self.flow_code,
                                                             Response.status == 'ERROR'))
        self.shots: list[str] = []
        self.overflowing: list[str] = []

    def upload(self, broken: bool, dry_run: bool = False) -> str:
        """Send a small responses file through the Load data page; the batch page's path."""
        path = responses_file(self.scratch / f'screenshot-{"broken" if broken else "good"}.csv',
                              self.flow_code, broken=broken)
        self.open('/admin/loads')
        Select(self.find('#dataset')).select_by_value('responses')
        self.find('#file').send_keys(str(path))
        if dry_run:
            self.click(self.find('#dry_run'))
        self.follow(self.find('#upload-submit'))
        self.assertRegex(self.path(), r'^/admin/batches/\d+$')
        return self.path()

    def settle(self) -> None:
        """Wait until the page has laid itself out for the current screen: two frames drawn,
        and every chart as wide as its box."""
        self.driver.execute_async_script(
            'const done = arguments[arguments.length - 1];'
            'requestAnimationFrame(() => requestAnimationFrame(() => done()));')
        self.wait().until(lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('canvas.daily-chart')).every(c => {"
            " const chart = window.Chart && Chart.getChart(c);"
            " return chart && Math.abs(chart.width - c.parentElement.clientWidth) <= 1; });"))

    def capture(self, name: str, heading: str, status: int = 200) -> None:
        """Check the page on screen is ``heading`` served with ``status``, then screenshot it
        at both widths."""
        self.assertTrue(self.heading().startswith(heading),
                        f'{name}: expected a page titled {heading!r}, got {self.heading()!r}')
        self.assertEqual(self.status_of_page(), status, name)
        for width_name, size in WIDTHS.items():
            self.emulate_screen(size)
            self.settle()
            overflow = self.driver.execute_script(
                'return document.documentElement.scrollWidth - document.documentElement.clientWidth;')
            if overflow > 0:
                self.overflowing.append(f'{name} ({width_name}): {overflow}px wider than the screen')
            path = self.screenshot(f'{name}-{width_name}')
            self.assertGreater(path.stat().st_size, 5_000, f'{path} is suspiciously small')
            self.shots.append(path.name)
        self.stop_emulating_screen()

    def test_every_page_at_desktop_and_narrow_widths(self):
        pages = [
            ('/', 'dashboard', 'Dashboard'),
            ('/responses', 'responses', 'Responses'),
            (f'/responses?flow={self.flow_code}&status=ERROR&status=WARN', 'responses-filtered',
             'Responses'),
            (f'/responses/{self.error_id}', 'response-detail', f'Response {self.error_id}'),
            ('/flows', 'flows', 'Flows'),
            (f'/flows/{self.flow_code}', 'flow', self.flow_code),
            ('/admin/loads', 'admin-upload', 'Load data'),
        ]
        for path, name, heading in pages:
            with self.subTest(page=name):
                self.open(path)
                self.capture(name, heading)
        # The filtered list really is filtered (the screenshot shows what it claims).
        self.open(pages[2][0])
        flows = {a.text for a in self.find_all('table.responses-table tbody td:nth-child(2) a')}
        self.assertEqual(flows, {self.flow_code})

        # Loads through the Load data page: rejected, dry run, then loaded from the dry run.
        rejected = self.upload(broken=True)
        self.capture('load-result-rejected', 'Load batch')
        self.assertEqual(len(self.find_all('#problems tbody tr')), 3)
        self.upload(broken=False, dry_run=True)
        self.capture('dry-run-result', 'Load batch')
        self.follow(self.driver.find_element(
            By.XPATH, '//button[starts-with(normalize-space(), "Load this file now")]'))
        self.capture('load-result', 'Load batch')
        self.assertIn('5 records loaded', self.find('main .alert-success').text)
        for path, name, heading in [
                ('/admin/batches', 'history', 'Load history'),
                (rejected, 'batch-detail', 'Load batch'),
                ('/admin/users', 'users', 'Users'),
                ('/admin/audit', 'audit-log', 'Audit log'),
                ('/whoami', 'whoami', 'Who Flowdesk thinks you are')]:
            with self.subTest(page=name):
                self.open(path)
                self.capture(name, heading)

        self.open('/responses/999999999')
        self.capture('error-404', 'Not found', status=404)
        self.assertIn('There is no response 999999999', self.find('main').text)
        self.sign_in(VIEWER)
        self.open('/admin/loads')
        self.capture('error-403', 'Not allowed', status=403)

        self.assertEqual(len(self.shots), 2 * 17)
        self.assertTrue(all((SCREENSHOT_DIR / shot).is_file() for shot in self.shots))
        self.assertEqual(self.overflowing, [], 'pages that scroll sideways')
        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()

    def test_the_checks_catch_outside_requests_and_policy_violations(self):
        """The two checks above can fail: a page that reaches outside is refused by the
        Content-Security-Policy (a console error), and a request that does leave is listed."""
        self.open('/whoami')
        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()
        self.driver.execute_script(
            "const img = new Image(); img.src = 'http://192.0.2.1/pixel.png';"
            " document.body.appendChild(img);")
        self.wait().until(lambda d: self.drain_logs() or any(
            'Content Security Policy' in message for message in self.console))
        with self.assertRaises(AssertionError):
            self.assertNoConsoleErrors()
        self.driver.get('http://127.0.0.2:9/')
        with self.assertRaisesRegex(AssertionError, r'http://127\.0\.0\.2:9/'):
            self.assertOnlyAppRequests()
