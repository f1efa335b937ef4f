"""An employee's journey in Chromium: dashboard → a failing flow → filtered responses → pages
forward and back → one response → CSV export of the filter (checked against the database)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Response
from tests.browser.base import BrowserTestCase, By, Select

PAGE_SIZE = 25
DEFAULT_PAGE_SIZE = 50


class EmployeeJourneyTest(BrowserTestCase):

    def responses_of(self, flow_code: str) -> list[Response]:
        """The flow's responses, oldest first (the order the journey asks for)."""
        with db.engines['ops'].connect() as connection:
            return connection.execute(
                select(Response.response_id, Response.status, Response.result_code,
                       Response.duration_ms, Response.error_reason)
                .where(Response.flow_code == flow_code)
                .order_by(Response.responded_at, Response.response_id)).all()

    def listed_rows(self) -> list[dict]:
        """The rows of the responses table as the employee reads them (read in one script
        call: a WebDriver round trip per cell would dominate the test's time)."""
        return self.driver.execute_script("""
            return Array.from(document.querySelectorAll('table.responses-table tbody tr'), tr => {
                const cells = tr.querySelectorAll('td');
                return {flow: cells[1].querySelector('a').textContent.trim(),
                        status: cells[2].textContent.trim(),
                        id: parseInt(cells[cells.length - 1].textContent, 10)};
            });""")

    def listed_ids(self) -> list[int]:
        return [row['id'] for row in self.listed_rows()]

    def match_count(self) -> int:
        return int(self.find('#result-count strong').text.replace(',', ''))

    def test_dashboard_failing_flow_filter_pages_detail_and_csv_export(self):
        # The dashboard: totals, and the flows with the most errors.
        self.open('/')
        self.assertEqual(self.heading(), 'Dashboard')
        self.assertIn(f'{self.seed.responses:,} responses in all', self.find('main').text)
        top_flow = self.find('section[aria-labelledby="h-top-flows"] tbody th a')
        flow_code = top_flow.text

        # Following the worst flow lists its recent errors.
        self.follow(top_flow)
        self.assertEqual(self.heading(), 'Responses')
        self.assertEqual(self.find('#f-flow').get_attribute('value'), flow_code)
        self.assertTrue(self.find('#f-status-error').is_selected())
        self.assertEqual(Select(self.find('#f-range')).first_selected_option.get_attribute('value'), '7d')
        errors = self.listed_rows()
        self.assertTrue(errors, 'the top failing flow lists no errors')
        self.assertEqual({(row['flow'], row['status']) for row in errors}, {(flow_code, 'ERROR')})
        self.assertEqual(len(errors), min(self.match_count(), DEFAULT_PAGE_SIZE))

        # The employee widens the filter: every status, any time, oldest first, 25 a page.
        self.find('#f-status-error').click()
        Select(self.find('#f-range')).select_by_value('all')
        Select(self.find('#f-sort')).select_by_value('oldest')
        Select(self.find('#f-size')).select_by_value(str(PAGE_SIZE))
        self.follow(self.driver.find_element(By.XPATH, '//button[normalize-space()="Apply filters"]'))
        self.assertIn(f'flow={flow_code}', self.path())
        self.assertNotIn('status=', self.path())
        expected = self.responses_of(flow_code)
        expected_ids = [row.response_id for row in expected]
        self.assertGreater(len(expected_ids), 3 * PAGE_SIZE, 'the demo flow is too small to page')
        self.assertEqual(self.match_count(), len(expected_ids))
        self.assertEqual(self.listed_ids(), expected_ids[:PAGE_SIZE])

        # Forward two pages, back two pages: each page holds the next rows, none skipped.
        for page in (2, 3):
            self.follow(self.find('a[rel="next"]'))
            self.assertIn(f'Page {page}', self.find('.pagination .active').text)
            self.assertEqual(self.listed_ids(),
                             expected_ids[(page - 1) * PAGE_SIZE:page * PAGE_SIZE])
        for page in (2, 1):
            self.follow(self.find('a[rel="prev"]'))
            self.assertIn(f'Page {page}', self.find('.pagination .active').text)
            self.assertEqual(self.listed_ids(),
                             expected_ids[(page - 1) * PAGE_SIZE:page * PAGE_SIZE])
        self.assertEqual(self.find_all('a[rel="prev"]'), [], 'page 1 offers a previous page')

        # One response in detail.
        chosen = expected[2]
        self.follow(self.find(f'a[aria-label="Response {chosen.response_id} details"]'))
        self.assertTrue(self.heading().startswith(f'Response {chosen.response_id}'), self.heading())
        self.assertIn(chosen.status, self.heading())
        detail = self.find('dl.detail-list').text
        self.assertIn(flow_code, detail)
        self.assertIn(chosen.error_reason or '—', detail)
        self.driver.back()
        self.wait_for_page()
        self.assertEqual(self.listed_ids(), expected_ids[:PAGE_SIZE])

        # Export CSV: the downloaded file holds exactly the filter's rows.
        self.find('#export-csv').click()
        exported = self.read_csv(self.wait_for_download('.csv'))
        self.assertEqual([int(row['response_id']) for row in exported], expected_ids)
        self.assertEqual({row['flow_code'] for row in exported}, {flow_code})
        self.assertEqual([row['status'] for row in exported], [row.status for row in expected])
        self.assertEqual([row['duration_ms'] for row in exported],
                         ['' if row.duration_ms is None else str(row.duration_ms)
                          for row in expected])

        self.assertOnlyAppRequests()
        self.assertNoConsoleErrors()
