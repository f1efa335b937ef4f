"""Numbers and dates in URLs beyond what the databases or Python can hold: each answers a 400
or 404 that says what is wrong, never a 500, on every page, the API and the exports."""
from __future__ import annotations

import base64
import json

from parameterized import parameterized

from app.browse import keyset
from app.params import INT64_MAX
from tests.base import ADMIN, on_every_backend
from tests.functional.browse_data import SeededTestCase

HUGE = '99999999999999999999'


def cursor(*parts) -> str:
    raw = json.dumps(list(parts)).encode('utf-8')
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


@on_every_backend
class ParameterBoundsTests(SeededTestCase):

    def body(self, response) -> str:
        return response.get_data(as_text=True)

    @parameterized.expand([
        ('flows_page', f'/flows?page={HUGE}', 'The page number must be a whole number'),
        ('flows_page_zero', '/flows?page=0', 'The page number must be a whole number'),
        ('to_page', '/responses?to=9999-12-31', 'Dates must be between 1900-01-01 and 2999-12-31'),
        ('from_page', '/responses?from=0001-01-01', 'Dates must be between'),
        ('to_time_page', '/responses?to=9999-12-31T23:59:59-05:00', 'Dates must be between'),
        ('to_api', '/api/v1/responses?to=9999-12-31', 'Dates must be between'),
        ('daily_to', '/api/v1/stats/daily?to=0001-01-01', 'Dates must be between'),
        ('daily_from', '/api/v1/stats/daily?from=9999-12-31', 'Dates must be between'),
    ])
    def test_out_of_range_value_is_a_400_with_a_message(self, _name, url, message):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 400, self.body(response)[:500])
        self.assertIn(message, self.body(response))

    def test_csv_export_with_an_out_of_range_date_goes_back_to_the_list_with_the_message(self):
        response = self.client.get('/responses/export.csv?to=9999-12-31')
        self.assertEqual(response.status_code, 302)
        page = self.client.get(response.headers['Location'])
        self.assertEqual(page.status_code, 400)
        self.assertIn('Dates must be between', self.body(page))

    @parameterized.expand([
        ('page', '/responses/99999999999999999999999'),
        ('api', '/api/v1/responses/99999999999999999999999'),
        ('batch', f'/admin/batches/{HUGE}'),
        ('batch_errors', f'/admin/batches/{HUGE}/errors.csv'),
        ('batch_past_int32', '/admin/batches/2147483648'),
    ])
    def test_an_id_too_big_for_the_database_is_not_found(self, _name, url):
        client = self.client_for(ADMIN) if url.startswith('/admin') else self.client
        response = client.get(url)
        self.assertEqual(response.status_code, 404, self.body(response)[:500])
        self.assertIn('Not found', self.body(response))

    def test_the_largest_id_is_looked_up_and_not_found(self):
        response = self.client.get(f'/api/v1/responses/{INT64_MAX}')
        self.assertEqual(response.status_code, 404)
        self.assertIn(f'There is no response {INT64_MAX}', self.body(response))

    @parameterized.expand([
        ('users', f'/admin/users?page={HUGE}'),
        ('audit', f'/admin/audit?page={HUGE}'),
        ('batches', f'/admin/batches?page={HUGE}'),
        ('text', '/admin/batches?page=second'),
    ])
    def test_admin_page_number_that_overflows_is_a_400(self, _name, url):
        response = self.client_for(ADMIN).get(url)
        self.assertEqual(response.status_code, 400, self.body(response)[:500])
        self.assertIn('The page number must be a whole number from 1 to 2,147,483,647.',
                      self.body(response))

    @parameterized.expand([
        ('audit_date', '/admin/audit?date_to=9999-12-31', 'Dates must be between'),
        ('audit_nul', '/admin/audit?who=a%00b', 'cannot contain control characters'),
        ('users_nul', '/admin/users?q=a%00b', 'cannot contain control characters'),
    ])
    def test_admin_filter_out_of_range_is_ignored_with_a_message(self, _name, url, message):
        response = self.client_for(ADMIN).get(url)
        self.assertPageContains(response, 'The filter was not understood and is ignored', message)

    def test_unknown_dataset_in_the_load_history_is_a_400(self):
        response = self.client_for(ADMIN).get('/admin/batches?dataset=a%00b')
        self.assertPageContains(response, 'Unknown dataset: use one of', status=400)

    @parameterized.expand([
        ('huge_id', ['n', 'newest', 0, '2026-01-01T00:00:00', 10**30, 2]),
        ('negative_id', ['n', 'newest', 0, '2026-01-01T00:00:00', -1, 2]),
        ('huge_duration', ['n', 'slowest', 0, 10**30, 5, 2]),
        ('huge_page', ['n', 'newest', 0, '2026-01-01T00:00:00', 5, 10**30]),
        ('bool_segment', ['n', 'slowest', True, None, 5, 2]),
        ('aware_time', ['n', 'newest', 0, '2026-01-01T00:00:00+05:00', 5, 2]),
    ])
    def test_cursor_with_an_impossible_position_is_a_400(self, _name, parts):
        sort = parts[1]
        token = cursor(*parts)
        for url in (f'/responses?sort={sort}&cursor={token}',
                    f'/api/v1/responses?sort={sort}&cursor={token}'):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 400, url)
            self.assertIn('The page link is damaged or out of date', self.body(response))

    def test_deeply_nested_cursor_is_a_400(self):
        token = base64.urlsafe_b64encode(b'[' * 100_000).decode('ascii')
        with self.assertRaises(keyset.CursorError):
            keyset.decode_cursor(token, 'newest')
        response = self.client.get(f'/api/v1/responses?cursor={token}')
        self.assertEqual(response.status_code, 400)

    def test_dates_at_the_edges_of_the_range_still_work(self):
        response = self.client.get('/api/v1/responses?from=1900-01-01&to=2999-12-31&size=1')
        self.assertEqual(response.status_code, 200, self.body(response))
        self.assertEqual(len(response.get_json()['items']), 1)
        daily = self.client.get('/api/v1/stats/daily?to=2999-12-31')
        self.assertEqual(daily.get_json()['from'], '2999-12-02')
