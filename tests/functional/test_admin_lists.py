"""What the admin pages share: the load history pages like the other admin lists (count line,
page links that keep the filter), and a batch or user named in the URL that does not exist is a
404 that says so."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from app.admin.loads_views import BATCHES_PER_PAGE
from app.extensions import db
from app.models import LoadBatch
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend

MISSING_ID = 987654


def file_names(body: str) -> list[str]:
    return re.findall(r'>(file-\d{3}\.csv)<', body)


@on_every_backend
class LoadHistoryPagesTest(FlowdeskTestCase):
    """Two responses batches, then enough flows batches for two pages even when filtered."""
    BATCHES = BATCHES_PER_PAGE + 5

    def setUp(self):
        super().setUp()
        self.admin = self.admin_client()
        started = datetime(2026, 3, 1, 8, 0)
        db.session.add_all(
            LoadBatch(dataset='responses' if number < 2 else 'flows', mode='append',
                      file_name=f'file-{number:03}.csv', loaded_by=ADMIN, status='failed',
                      started_at=started + timedelta(minutes=number),
                      finished_at=started + timedelta(minutes=number, seconds=5))
            for number in range(self.BATCHES))
        db.session.commit()

    def test_first_page_counts_every_load_and_shows_the_newest(self):
        body = self.assertPageContains(self.admin.get('/admin/batches'),
                                       f'{self.BATCHES} loads, page 1 of 2.')
        names = file_names(body)
        self.assertEqual(len(names), BATCHES_PER_PAGE)
        self.assertEqual(names[0], f'file-{self.BATCHES - 1:03}.csv')
        self.assertNotIn('file-004.csv', names)
        self.assertRegex(body, r'href="\s*/admin/batches\?page=2"')

    def test_second_page_holds_the_oldest(self):
        body = self.assertPageContains(self.admin.get('/admin/batches?page=2'), 'page 2 of 2.')
        self.assertEqual(file_names(body), [f'file-{n:03}.csv' for n in range(4, -1, -1)])

    def test_page_links_keep_the_dataset_filter(self):
        body = self.assertPageContains(self.admin.get('/admin/batches?dataset=flows'),
                                       f'{self.BATCHES - 2} loads, page 1 of 2.')
        self.assertRegex(body[body.index('class="pagination'):],
                         r'href="\s*/admin/batches\?dataset=flows&amp;page=2"')
        second = self.assertPageContains(self.admin.get('/admin/batches?dataset=flows&page=2'),
                                         'page 2 of 2.')
        self.assertEqual(file_names(second), ['file-004.csv', 'file-003.csv', 'file-002.csv'])

    def test_one_page_has_no_page_links(self):
        body = self.assertPageContains(self.admin.get('/admin/batches?dataset=responses'),
                                       '2 loads.')
        self.assertNotIn('class="pagination', body)
        self.assertEqual(file_names(body), ['file-001.csv', 'file-000.csv'])


@on_every_backend
class MissingRowTest(FlowdeskTestCase):
    """A batch or user id that matches a route but no row: 404 with what is missing."""

    def test_missing_batch_page_and_error_report(self):
        admin = self.admin_client()
        for url in (f'/admin/batches/{MISSING_ID}', f'/admin/batches/{MISSING_ID}/errors.csv'):
            with self.subTest(url=url):
                self.assertPageContains(admin.get(url), f'There is no load batch #{MISSING_ID}.',
                                        status=404)

    def test_change_of_a_missing_user(self):
        response = self.admin_client().post(f'/admin/users/{MISSING_ID}/grant-admin')
        self.assertPageContains(response, 'There is no such user: the list may be out of date, '
                                          'reload it.', status=404)
