"""The response list: each filter (alone and combined) shows exactly the matching rows, links
keep every filter, bad values get a message on the page (400, nothing listed), and each
response has a detail page."""
import re
from datetime import datetime, timedelta
from unittest import mock
from urllib.parse import quote_plus

from parameterized import parameterized
from sqlalchemy import func, or_, select

from app.browse import responses as queries
from app.clock import utc_now
from app.extensions import db
from app.models import Flow, Response
from app.seeding import seed_demo
from app.summary import refresh_after_write
from tests.base import on_every_backend
from tests.functional.browse_data import ROW_ID, SeededTestCase


@on_every_backend
class ResponseListTests(SeededTestCase):
    def expected_ids(self, *conditions) -> list[int]:
        return list(db.session.scalars(
            select(Response.response_id).where(*conditions)
            .order_by(Response.responded_at.desc(), Response.response_id.desc())))

    def test_filter_matrix(self):
        now = utc_now()
        codes = self.flow_codes()
        error = self.any_response(Response.status == 'ERROR')
        reason_word = error.error_reason.split()[0]
        flow_words = db.session.scalar(select(Flow.name).where(Flow.flow_code == codes[1]))
        name_word = flow_words.split()[0]
        like = f'%{reason_word.lower()}%'
        name_like = f'%{name_word.lower()}%'
        named_flows = list(db.session.scalars(select(Flow.flow_code).where(or_(
            func.lower(Flow.name).like(name_like), func.lower(Flow.flow_code).like(name_like)))))
        cases = [
            ('', []),
            (f'flow={codes[0]}', [Response.flow_code == codes[0]]),
            (f'flow={codes[0]},{codes[2]}', [Response.flow_code.in_([codes[0], codes[2]])]),
            ('status=ERROR', [Response.status == 'ERROR']),
            ('status=WARN&status=ERROR', [Response.status.in_(['WARN', 'ERROR'])]),
            ('range=24h', [Response.responded_at >= now - timedelta(hours=24)]),
            (f'result_code={error.result_code}', [Response.result_code == error.result_code]),
            (f'flow={error.flow_code}&status=ERROR&range=7d',
             [Response.flow_code == error.flow_code, Response.status == 'ERROR',
              Response.responded_at >= now - timedelta(days=7)]),
            (f'q={reason_word}',
             [or_(func.lower(Response.error_reason).like(like),
                  Response.flow_code.in_(self._flows_like(like)))]),
            (f'q={name_word}&status=OK',
             [or_(func.lower(Response.error_reason).like(name_like),
                  Response.flow_code.in_(named_flows)), Response.status == 'OK']),
        ]
        for query, conditions in cases:
            with self.subTest(query=query):
                expected = self.expected_ids(*conditions)
                if not conditions:
                    expected = expected[:200]          # the unfiltered list: first page only
                    body = self.client.get('/responses?size=200').get_data(as_text=True)
                    self.assertEqual([int(i) for i in ROW_ID.findall(body)], expected)
                    continue
                self.assertEqual(self.listed_ids(query), expected)

    def _flows_like(self, like):
        return list(db.session.scalars(select(Flow.flow_code).where(or_(
            func.lower(Flow.name).like(like), func.lower(Flow.flow_code).like(like)))))

    def test_custom_range_in_the_display_zone(self):
        row = self.any_response()
        start = row.responded_at.replace(microsecond=0)
        query = (f'range=custom&from={start:%Y-%m-%dT%H:%M:%S}'
                 f'&to={start + timedelta(hours=2):%Y-%m-%dT%H:%M:%S}')
        expected = self.expected_ids(Response.responded_at >= start,
                                     Response.responded_at < start + timedelta(hours=2))
        self.assertEqual(self.listed_ids(query), expected)
        self.assertTrue(expected)

    def test_count_is_exact_or_capped(self):
        body = self.client.get('/responses?status=ERROR').get_data(as_text=True)
        errors = self.count_where(Response.status == 'ERROR')
        self.assertIn(f'<strong>{errors:,}</strong>', body)

    def test_links_keep_the_filters(self):
        code = self.flow_codes()[0]
        body = self.client.get(f'/responses?flow={code}&status=ERROR&status=WARN&size=25'
                               '&sort=oldest').get_data(as_text=True)
        export = re.search(r'id="export-csv" href="([^"]+)"', body) or \
            re.search(r'href="([^"]+)" id="export-csv"', body)
        self.assertIsNotNone(export)
        for part in (f'flow={code}', 'status=WARN', 'status=ERROR', 'sort=oldest', 'size=25'):
            self.assertIn(part, export.group(1))

    @parameterized.expand([
        ('q=ab', 'Search text needs at least 3 characters'),
        ('status=BROKEN', 'Unknown status BROKEN'),
        ('range=forever', 'Unknown time range'),
        ('from=yesterday', 'is not a date or time'),
        ('result_code=x1', 'is not a whole number'),
        ('size=1000', 'Page size must be one of'),
        ('sort=best', 'Unknown sort'),
        ('flow=NO-SUCH-FLOW', 'There is no flow NO-SUCH-FLOW'),
        ('cursor=garbage', 'The page link is damaged'),
    ])
    def test_bad_values_get_a_message_not_a_500(self, query, message):
        body = self.assertPageContains(self.client.get(f'/responses?{query}'), message,
                                       'id="filter-errors"', status=400)
        self.assertEqual(ROW_ID.findall(body), [])

    def test_form_has_a_label_for_every_input(self):
        body = self.client.get('/responses').get_data(as_text=True)
        form = body[body.index('<form'):body.index('</form>')]
        ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', form)
        self.assertGreater(len(ids), 8)
        for input_id in ids:
            self.assertIn(f'for="{input_id}"', form)

    def test_detail_page(self):
        row = self.any_response(Response.status == 'ERROR')
        body = self.assertPageContains(self.client.get(f'/responses/{row.response_id}'),
                                       f'Response {row.response_id}', row.flow_code)
        self.assertIn(row.error_reason.replace("'", '&#39;').replace('"', '&#34;')[:40], body)

    def test_missing_response_is_a_404_with_a_hint(self):
        self.assertPageContains(self.client.get('/responses/999999999'),
                                'There is no response 999999999', status=404)

    def test_admin_sees_the_same_list(self):
        body = self.assertPageContains(self.admin_client().get('/responses?status=ERROR'))
        self.assertTrue(ROW_ID.findall(body))

    def test_anonymous_is_refused(self):
        self.assertEqual(self.client_for(None).get('/responses').status_code, 401)


@on_every_backend
class ListCountTests(SeededTestCase):
    """The count of a list filtered by flows and statuses at most comes from the summaries,
    which every write keeps: a flow's count sums its own days of the daily summary, the count
    over all flows the day totals (a few rows a day); both are exact at once."""

    def shown_count(self, query: str = '') -> str:
        body = self.assertPageContains(self.client.get(f'/responses?{query}'))
        return re.search(r'<strong>([\d,+]+)</strong>', body).group(1)

    def test_summary_counts_follow_every_write(self):
        seed_demo(flows=4, responses=1000, until=datetime(2026, 11, 20, 12))
        flow = db.session.scalars(select(Flow.flow_code).order_by(Flow.flow_code)).first()
        errors = self.count_where(Response.status == 'ERROR')
        of_flow = self.count_where(Response.flow_code == flow)
        self.assertEqual(self.shown_count(), '1,000')
        self.assertEqual(self.shown_count('status=ERROR'), f'{errors:,}')
        # A row and its summaries written the way every write path keeps them: each count
        # sees it at once.
        db.session.add(Response(response_id=10_001, flow_code=flow, status='ERROR',
                                responded_at=datetime(2026, 11, 20, 11)))
        db.session.commit()
        with db.engines['ops'].begin() as connection:
            refresh_after_write(connection)
        self.assertEqual(self.shown_count(), '1,001')
        self.assertEqual(self.shown_count('status=ERROR'), f'{errors + 1:,}')
        self.assertEqual(self.shown_count('status=OK&status=WARN'), f'{1000 - errors:,}')
        self.assertEqual(self.shown_count(f'flow={flow}'), f'{of_flow + 1:,}')
        flow_errors = self.count_where(Response.flow_code == flow, Response.status == 'ERROR')
        self.assertEqual(self.shown_count(f'flow={flow}&status=ERROR'), f'{flow_errors:,}')
        seed_demo(flows=4, responses=1200, until=datetime(2026, 11, 20, 12))
        self.assertEqual(self.shown_count(), '1,200')
        self.assertEqual(self.shown_count('status=ERROR'),
                         f'{self.count_where(Response.status == "ERROR"):,}')

    def test_a_count_cut_short_never_says_less_than_the_page_shows(self):
        """A text-search count that runs out of its budget early says "at least" what it has
        found, which can be fewer than the page lists ("0+"): the page and the API then say at
        least the rows shown so far, and an empty first page says none match."""
        seed_demo(flows=4, responses=2000, until=datetime(2026, 11, 20, 12))
        reason = db.session.scalar(
            select(Response.error_reason).where(Response.error_reason.is_not(None))
            .group_by(Response.error_reason).order_by(func.count().desc()).limit(1))
        matches = self.count_where(Response.error_reason == reason)
        self.assertGreater(matches, 25)
        cut_short = queries.Count(0, True)
        with mock.patch.object(queries, 'count', return_value=cut_short):
            self.assertEqual(self.shown_count(f'q={quote_plus(reason)}&size=25'), '26+')
            self.assertEqual(self.shown_count('q=no-such-text-anywhere'), '0')
            body = self.client.get(f'/api/v1/responses?q={quote_plus(reason)}&size=20').get_json()
        self.assertEqual(len(body['items']), 20)
        self.assertEqual(body['count'], {'value': 21, 'capped': True})
