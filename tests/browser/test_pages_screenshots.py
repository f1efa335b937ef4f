"""Every page at desktop (1366×900) and phone (390×844) widths: it renders (right heading and
HTTP status), nothing overflows sideways on the phone, no console errors, no request leaves
the app, axe-core finds no serious or critical accessibility violation (report in
artifacts/accessibility/) — and a full-page screenshot of each lands in SCREENSHOT_DIR (README
"Browser tests")."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Response
from tests.browser.accessibility import axe_source, blocking, run_axe, write_report
from tests.browser.base import ADMIN, DESKTOP, NARROW, SCREENSHOT_DIR, VIEWER, BrowserTestCase, By, Select
from tests.browser.upload_files import responses_file

WIDTHS = {'desktop': DESKTOP, 'narrow': NARROW}


class PageScreenshotsTest(BrowserTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.axe = axe_source()
        cls.axe_runs = []

    @classmethod
    def tearDownClass(cls):
        if cls.axe_runs:
            write_report(cls.axe_runs)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.assertIsNotNone(self.axe, 'axe.min.js not found: install axe-selenium-python '
                                       '(requirements.txt)')
        self.checked = []
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
            self.shoot_and_check(name, width_name)
        self.stop_emulating_screen()

    def shoot_and_check(self, name: str, width_name: str) -> None:
        """Screenshot the page as it is on screen and run axe on it."""
        path = self.screenshot(f'{name}-{width_name}')
        self.assertGreater(path.stat().st_size, 5_000, f'{path} is suspiciously small')
        self.shots.append(path.name)
        run = run_axe(self.driver, self.axe, name, width_name)
        self.checked.append(run)
        self.axe_runs.append(run)

    def assertAccessible(self) -> None:
        """No serious or critical axe violation on any page this test checked."""
        self.assertTrue(self.checked, 'axe checked no page')
        self.assertEqual(blocking(self.checked), [], 'serious or critical accessibility '
                         'violations (see artifacts/accessibility/axe-report.md)')

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
                ('/admin/profiles', 'profiles', 'Source profiles'),
                ('/admin/profiles/builtin/1', 'profile-builtin',
                 'SAP Integration Suite message processing logs'),
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

        self.assertEqual(len(self.shots), 2 * 19)
        self.assertTrue(all((SCREENSHOT_DIR / shot).is_file() for shot in self.shots))
        self.assertEqual(self.overflowing, [], 'pages that scroll sideways')
        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()
        self.assertAccessible()

    def test_filter_states_saved_views_and_column_chooser(self):
        """The states the page list above does not reach: form errors, an empty result, the
        saved-views page; and the Views menu and the column chooser opened, at both widths."""
        self.open('/responses?q=ab&status=NOPE')
        self.capture('responses-form-errors', 'Responses', status=400)
        self.assertIn('Search text needs at least 3 characters', self.find('#filter-errors').text)
        self.open('/responses?q=no-such-reason-anywhere')
        self.capture('responses-empty', 'Responses')
        self.assertIn('No responses match', self.find('.empty-state').text)

        self.open(f'/responses?flow={self.flow_code}&status=ERROR')
        self.click(self.find('#save-view summary'))
        self.find('#sv-name').send_keys('Errors of the top flow')
        self.click(self.find('#sv-shared'))
        self.follow(self.find('#save-view button[type="submit"]'))
        self.assertIn('Saved the view', self.find('main .alert-success').text)
        self.open('/views')
        self.capture('saved-views', 'Saved views')

        self.open(f'/responses?flow={self.flow_code}')
        for width_name, size in WIDTHS.items():
            self.emulate_screen(size)
            self.settle()
            toggler = self.find('.navbar-toggler')
            if toggler.is_displayed():
                self.click(toggler)
                self.wait().until(lambda d: self.find('#views-menu').is_displayed())
            self.click(self.find('#views-menu .dropdown-toggle'))
            self.wait().until(lambda d: next(
                (a for a in self.find_all('#views-menu .dropdown-item')
                 if a.is_displayed() and 'Errors of the top flow' in a.text), False))
            self.shoot_and_check('views-menu', width_name)
            self.open(f'/responses?flow={self.flow_code}')
        self.stop_emulating_screen()

        self.open(f'/responses?flow={self.flow_code}&status=ERROR')
        self.click(self.find('#export-columns summary'))
        self.wait().until(lambda d: self.find('#col-error_reason').is_displayed())
        self.capture('column-chooser', 'Responses')
        self.assertEqual(len(self.shots), 2 * 5)
        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()
        self.assertAccessible()

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
