"""Admin journeys in Chromium: a rejected upload with its error table and report, a dry run
loaded without uploading again, the new rows in the list, undo; the upload progress bar on a
large file; and what a viewer sees (no admin links, 403 pages)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import Flow, LoadBatch, Response
from tests.browser.base import ADMIN, VIEWER, BrowserTestCase, By, Select
from tests.browser.upload_files import LARGE_FIRST_ID, NEW_IDS, large_responses_file, responses_file

ADMIN_PAGES = ['/admin/loads', '/admin/batches', '/admin/users', '/admin/audit']


class AdminJourneyTest(BrowserTestCase):

    def setUp(self):
        super().setUp()
        self.sign_in(ADMIN)
        with db.engines['ops'].connect() as connection:
            self.flow_code = connection.scalar(select(Flow.flow_code).order_by(Flow.flow_code))
        self.files = self.scratch / 'files'
        self.files.mkdir(exist_ok=True)

    # -- helpers ---------------------------------------------------------------------------
    def ops_count(self, *where) -> int:
        with db.engines['ops'].connect() as connection:
            return connection.scalar(select(func.count()).select_from(Response).where(*where))

    def new_rows_in_database(self) -> int:
        return self.ops_count(Response.response_id.in_(NEW_IDS))

    def choose_upload(self, path: Path, dry_run: bool) -> None:
        """Fill in the Load data form for a responses file (append mode)."""
        self.open('/admin/loads')
        self.assertEqual(self.heading(), 'Load data')
        Select(self.find('#dataset')).select_by_value('responses')
        Select(self.find('#mode')).select_by_value('append')
        self.find('#file').send_keys(str(path))
        if self.find('#dry_run').is_selected() != dry_run:
            self.click(self.find('#dry_run'))

    def upload(self, path: Path, dry_run: bool) -> None:
        self.choose_upload(path, dry_run)
        self.follow(self.find('#upload-submit'))
        self.assertRegex(self.path(), r'^/admin/batches/\d+$')

    def flash(self) -> str:
        return ' '.join(alert.text for alert in self.find_all('main .alert'))

    def oldest_listed(self) -> tuple[list[int], int]:
        """(IDs on the first page of all responses, oldest first; the match count)."""
        self.open('/responses?sort=oldest')
        ids = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('table.responses-table tbody tr'),"
            " tr => parseInt(tr.querySelector('td:last-child').textContent, 10));")
        count = int(self.find('#result-count strong').text.replace(',', ''))
        return ids, count

    # -- journeys --------------------------------------------------------------------------
    def test_rejected_upload_dry_run_load_without_reupload_and_undo(self):
        demo_rows = self.seed.responses
        broken = responses_file(self.files / 'responses-march.csv', self.flow_code, broken=True)
        fixed = responses_file(self.files / 'responses-march-fixed.csv', self.flow_code,
                               broken=False)

        # 1. A file with errors: rejected, every problem listed with its line, nothing changed.
        self.upload(broken, dry_run=False)
        self.assertIn('failed', self.heading())
        self.assertIn('Rejected: 3 problems found; nothing was changed.',
                      self.find('#batch-message').text)
        # The one-time message survives the upload script (it shows the page it received).
        self.assertIn('Rejected: 3 problems found', self.flash())
        inserted = self.driver.find_element(
            By.XPATH, '//th[normalize-space()="Inserted"]/following-sibling::td[1]')
        self.assertEqual(inserted.text.strip(), '0')
        problems = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#problems tbody tr'),"
            " tr => Array.from(tr.querySelectorAll('td'), td => td.textContent.trim()));")
        self.assertEqual([(p[0], p[1]) for p in problems],
                         [('3', 'status'), ('4', 'flow_code'), ('5', 'duration_ms')])
        self.assertEqual([p[2] for p in problems], ['FINE', 'NO-SUCH-FLOW', '-5'])
        self.assertEqual(self.new_rows_in_database(), 0)

        # ... and the full error report downloads with the same lines.
        self.click(self.find('#error-report-link'))
        report = self.read_csv(self.wait_for_download('.csv'))
        self.assertEqual([(r['line'], r['column'], r['value']) for r in report],
                         [tuple(p[:3]) for p in problems])
        self.assertEqual([r['problem'] for r in report], [p[3] for p in problems])

        # 2. The fixed file as a dry run: valid, would insert 5, still nothing changed.
        self.upload(fixed, dry_run=True)
        dry_run_path = self.path()
        self.assertIn('dry run validated', self.heading())
        self.assertIn('Dry run: the file is valid and nothing was changed. Loading it would give '
                      '5 inserted', self.find('#batch-message').text)
        self.assertIn('Dry run: the file is valid', self.flash())
        self.assertEqual(self.new_rows_in_database(), 0)

        # 3. Loaded from the dry run without choosing the file again.
        self.follow(self.driver.find_element(
            By.XPATH, '//button[starts-with(normalize-space(), "Load this file now")]'))
        self.assertNotEqual(self.path(), dry_run_path)
        self.assertIn('5 records loaded into responses (5 inserted', self.flash())
        self.assertIn('5 records loaded into responses', self.find('#batch-message').text)
        self.assertIn('succeeded', self.heading())
        self.assertEqual(self.new_rows_in_database(), 5)
        with db.engines['ops'].connect() as connection:
            batch = connection.execute(select(LoadBatch).where(
                LoadBatch.id == int(self.path().rsplit('/', 1)[1]))).one()
        self.assertEqual((batch.file_name, batch.inserted, batch.dry_run),
                         ('responses-march-fixed.csv', 5, False))

        # 4. The new rows are in the list (dated before everything else).
        ids, count = self.oldest_listed()
        self.assertEqual(ids[:5], NEW_IDS)
        self.assertEqual(count, demo_rows + 5)

        # 5. Undone from the load history: the rows are gone again.
        self.open('/admin/batches')
        self.assertEqual(self.heading(), 'Load history')
        newest = self.find('#batches tbody tr')
        self.assertIn('responses-march-fixed.csv', newest.text)
        self.follow(newest.find_element(By.XPATH, './/button[normalize-space()="Undo"]'))
        self.assertIn(f'Undid batch #{batch.id}', self.flash())
        self.assertEqual(self.new_rows_in_database(), 0)
        ids, count = self.oldest_listed()
        self.assertFalse(set(ids) & set(NEW_IDS), ids[:10])
        self.assertEqual(count, demo_rows)

        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()

    def test_large_upload_shows_the_progress_bar(self):
        path, rows = large_responses_file(self.files / 'responses-large.csv', self.flow_code,
                                          megabytes=2.5)
        self.choose_upload(path, dry_run=True)
        self.assertFalse(self.find('#upload-progress').is_displayed())
        # About 2.5 s of upload at 1 MB/s: long enough to watch the bar move.
        self.throttle_uploads(1024 * 1024)
        self.mark_page()
        self.click(self.find('#upload-submit'))

        seen: list[int] = []

        def bar_moved(driver):
            state = driver.execute_script(
                "const bar = document.getElementById('upload-progress-bar');"
                "if (!bar) return null;"
                "return {shown: !document.getElementById('upload-progress').hidden,"
                " value: bar.getAttribute('value'),"
                " label: document.getElementById('upload-progress-text').textContent};")
            if state and state['shown'] and state['value'] not in (None, '0', '100'):
                self.assertRegex(state['label'], r'^Uploading \d+\.\d MB of 2\.\d MB…$')
                if int(state['value']) not in seen:
                    seen.append(int(state['value']))
            return len(seen) >= 3

        self.wait().until(bar_moved, 'the upload progress bar never moved')
        self.assertTrue(self.find('#upload-progress').is_displayed())
        self.assertTrue(self.find('#upload-submit').get_attribute('disabled'))
        self.assertEqual(seen, sorted(seen), 'the progress went backwards')
        self.assertTrue(all(0 < value < 100 for value in seen), seen)

        # The server answers with the dry run's batch page once every row is checked.
        self.wait_for_new_page()
        self.assertRegex(self.path(), r'^/admin/batches/\d+$')
        self.assertIn('Dry run: the file is valid', self.find('#batch-message').text)
        self.assertIn(f'{rows:,}', self.find('#batch-counts').text)
        self.assertEqual(self.ops_count(Response.response_id > LARGE_FIRST_ID), 0)
        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()

    def test_viewer_sees_no_admin_links_and_cannot_reach_admin_pages(self):
        # The admin's navbar has the Admin menu (so its absence below means something).
        self.open('/')
        admin_links = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('nav a'), a => a.pathname)"
            ".filter(path => path.startsWith('/admin'));")
        self.assertLessEqual(set(ADMIN_PAGES), set(admin_links))

        self.sign_in(VIEWER)
        self.open('/')
        self.assertIn('CORP\\viewer', self.find('#signed-in-user').text)
        self.assertNotIn('admin)', self.find('#signed-in-user').text)
        nav_paths = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('a'), a => a.pathname);")
        self.assertIn('/responses', nav_paths)
        self.assertEqual([p for p in nav_paths if p.startswith('/admin')], [])
        self.assertNotIn('Admin', self.find('nav').text)

        for path in ADMIN_PAGES + ['/admin/batches/1']:
            with self.subTest(path=path):
                self.open(path)
                self.assertEqual(self.status_of_page(), 403)
                self.assertEqual(self.heading(), 'Not allowed (403)')
                self.assertIn('This page is for Flowdesk admins.', self.find('main').text)
                self.assertEqual(self.find_all('form[method="post"]'), [])
        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()
