"""The JSON API: shapes, cursor pagination, the same filters as the pages, JSON errors with
proper status codes, identity rules, and an OpenAPI description that matches the routes and
parameters the app really has."""
import base64
import re
from datetime import timedelta

from parameterized import parameterized
from sqlalchemy import func, or_, select

from app.api.openapi import OPERATIONS
from app.clock import utc_today
from app.extensions import db
from app.models import Flow, Response, ResponseDaily
from tests.base import on_every_backend
from tests.functional.browse_data import SeededTestCase

RESPONSE_KEYS = {'response_id', 'flow_code', 'responded_at', 'status', 'result_code',
                 'duration_ms', 'error_reason', 'payload_bytes', 'message_id',
                 'correlation_id'}


@on_every_backend
class ApiTests(SeededTestCase):
    def get_json(self, url, status=200, client=None):
        response = (client or self.client).get(url)
        self.assertEqual(response.status_code, status, response.get_data(as_text=True)[:500])
        self.assertEqual(response.mimetype, 'application/json')
        return response.get_json()

    def test_responses_cursor_walk_matches_the_filter(self):
        code = self.flow_codes()[0]
        url = f'/api/v1/responses?flow={code}&size=37'
        ids, data = [], self.get_json(url)
        self.assertEqual(data['page']['number'], 1)
        self.assertIsNone(data['page']['prev_cursor'])
        while True:
            self.assertTrue(all(set(item) == RESPONSE_KEYS for item in data['items']))
            ids += [item['response_id'] for item in data['items']]
            if not data['page']['next_cursor']:
                break
            data = self.get_json(f'{url}&cursor={data["page"]["next_cursor"]}')
        expected = list(db.session.scalars(
            select(Response.response_id).where(Response.flow_code == code)
            .order_by(Response.responded_at.desc(), Response.response_id.desc())))
        self.assertEqual(ids, expected)
        first = self.get_json(url)
        self.assertEqual(first['count'], {'value': len(expected), 'capped': False})
        self.assertTrue(first['items'][0]['responded_at'].endswith('Z'))

    @parameterized.expand([('newest',), ('oldest',)])
    def test_text_search_pages_forward_and_back(self, sort):
        """Small pages of a text search, to the end and back to the start: each page is the
        matching rows in order (on PostgreSQL a text search reads the page's ids first, then
        their rows, which must come back in the page's order)."""
        word = db.session.scalar(select(Response.error_reason).where(
            Response.error_reason.is_not(None)).order_by(Response.response_id).limit(1)).split()[0]
        like = f'%{word.lower()}%'
        named = select(Flow.flow_code).where(or_(func.lower(Flow.name).like(like),
                                                 func.lower(Flow.flow_code).like(like)))
        order = (Response.responded_at.desc(), Response.response_id.desc()) if sort == 'newest' \
            else (Response.responded_at, Response.response_id)
        expected = list(db.session.scalars(select(Response.response_id).where(or_(
            func.lower(Response.error_reason).like(like), Response.flow_code.in_(named)))
            .order_by(*order)))
        self.assertGreater(len(expected), 10)
        url = f'/api/v1/responses?q={word}&size=4&sort={sort}'
        pages, data = [], self.get_json(url)
        while True:
            pages.append([item['response_id'] for item in data['items']])
            if not data['page']['next_cursor']:
                break
            data = self.get_json(f'{url}&cursor={data["page"]["next_cursor"]}')
        self.assertEqual(pages, [expected[i:i + 4] for i in range(0, len(expected), 4)])
        back = []
        while data['page']['prev_cursor']:
            data = self.get_json(f'{url}&cursor={data["page"]["prev_cursor"]}')
            back.append([item['response_id'] for item in data['items']])
        self.assertEqual(back, pages[-2::-1])

    def test_prev_cursor_returns_the_previous_page(self):
        first = self.get_json('/api/v1/responses?status=OK&size=10')
        second = self.get_json(f'/api/v1/responses?status=OK&size=10'
                               f'&cursor={first["page"]["next_cursor"]}')
        back = self.get_json(f'/api/v1/responses?status=OK&size=10'
                             f'&cursor={second["page"]["prev_cursor"]}')
        self.assertEqual(back['items'], first['items'])
        self.assertEqual(back['page']['number'], 1)

    @parameterized.expand([
        ('status=FAILED', 'status'),
        ('size=0', 'size'),
        ('size=501', 'size'),
        ('q=x', 'q'),
        ('cursor=abc', 'cursor'),
        ('from=2026-02-30', 'from'),
        ('flow=NOT-THERE', 'flow'),
    ])
    def test_bad_parameters_are_400_json_naming_the_field(self, query, field):
        data = self.get_json(f'/api/v1/responses?{query}', status=400)
        self.assertEqual(data['error']['status'], 400)
        self.assertIn(field, data['error']['fields'])
        self.assertTrue(data['error']['message'])

    def test_one_response_and_404(self):
        row = self.any_response()
        data = self.get_json(f'/api/v1/responses/{row.response_id}')
        self.assertEqual((data['response_id'], data['flow_code'], data['status']),
                         (row.response_id, row.flow_code, row.status))
        missing = self.get_json('/api/v1/responses/987654321', status=404)
        self.assertEqual(missing['error']['status'], 404)

    def test_flows_pages_and_one_flow(self):
        codes = self.flow_codes()
        data = self.get_json('/api/v1/flows?size=5')
        seen = [item['flow_code'] for item in data['items']]
        while data['page']['next_cursor']:
            data = self.get_json(f'/api/v1/flows?size=5&cursor={data["page"]["next_cursor"]}')
            seen += [item['flow_code'] for item in data['items']]
        self.assertEqual(seen, codes)
        self.assertEqual(data['count'], len(codes))
        one = self.get_json(f'/api/v1/flows/{codes[0].lower()}')
        self.assertEqual(one['flow_code'], codes[0])
        self.assertIn('error_rate_7d', one)
        self.get_json('/api/v1/flows/NOPE', status=404)
        refused = self.get_json('/api/v1/flows?type=FTP', status=400)
        self.assertIn('type', refused['error']['fields'])

    def test_daily_stats_match_the_summary(self):
        today = utc_today()
        data = self.get_json(f'/api/v1/stats/daily?from={today - timedelta(days=6)}&to={today}'
                             '&status=ERROR')
        total = db.session.scalar(select(func.sum(ResponseDaily.responses)).where(
            ResponseDaily.day >= today - timedelta(days=6), ResponseDaily.status == 'ERROR'))
        self.assertEqual(sum(item['responses'] for item in data['items']), total)
        self.assertEqual({item['status'] for item in data['items']}, {'ERROR'})
        self.assertIn('to', self.get_json('/api/v1/stats/daily?from=2026-03-05&to=2026-03-01',
                                          status=400)['error']['fields'])

    @parameterized.expand([
        ('responses', '/api/v1/responses?flow=a%20b', 'flow',
         'A B is not a flow code (flow codes are 2–32 letters, digits, - or _).'),
        ('daily', '/api/v1/stats/daily?flow=a%20b', 'flow',
         'A B is not a flow code (flow codes are 2–32 letters, digits, - or _).'),
        ('daily statuses', '/api/v1/stats/daily?status=ok,nope', 'status',
         'Unknown status NOPE: use OK, WARN, ERROR.'),
        ('daily too many flows', '/api/v1/stats/daily?flow=' + ','.join(f'F{n:02}'
                                                                        for n in range(51)),
         'flow', 'Choose at most 50 flows.'),
        ('responses size', '/api/v1/responses?size=501', 'size',
         'Page size must be between 1 and 500.'),
        ('flows size', '/api/v1/flows?size=0', 'size', 'Page size must be between 1 and 500.'),
        ('flows size not a number', '/api/v1/flows?size=ten', 'size',
         'Page size must be between 1 and 500.'),
    ])
    def test_the_api_and_the_pages_read_parameters_alike(self, _name, url, field, message):
        self.assertEqual(self.get_json(url, status=400)['error']['fields'][field], message)

    def test_daily_flows_and_statuses_are_case_insensitive_lists(self):
        code = self.flow_codes()[0]
        today = utc_today()
        data = self.get_json(f'/api/v1/stats/daily?flow={code.lower()},{code}&status=error')
        total = db.session.scalar(select(func.sum(ResponseDaily.responses)).where(
            ResponseDaily.day >= today - timedelta(days=29), ResponseDaily.day <= today,
            ResponseDaily.flow_code == code,
            ResponseDaily.status == 'ERROR'))
        self.assertEqual(sum(item['responses'] for item in data['items']), total or 0)

    def test_a_flow_cursor_with_a_trailing_newline_is_refused(self):
        """Flow codes match up to the very end of the text (``\\Z``): ``$`` would also accept
        a code followed by a newline."""
        code = self.flow_codes()[0]
        token = base64.urlsafe_b64encode(f'{code}\n'.encode()).decode('ascii').rstrip('=')
        data = self.get_json(f'/api/v1/flows?cursor={token}', status=400)
        self.assertIn('cursor', data['error']['fields'])

    def test_identity(self):
        anonymous = self.get_json('/api/v1/responses', status=401, client=self.client_for(None))
        self.assertEqual(anonymous['error']['status'], 401)
        forged = self.client_for(None, HTTP_REMOTE_USER='CORP\\admin')
        self.assertEqual(forged.get('/api/v1/flows').status_code, 401)
        self.get_json('/api/v1/flows', client=self.admin_client())

    def test_writes_are_not_accepted(self):
        response = self.client.post('/api/v1/responses')
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response.get_json()['error']['status'], 405)


@on_every_backend
class OpenApiTests(SeededTestCase):
    def test_document_matches_the_routes(self):
        spec = self.client.get('/api/v1/openapi.json').get_json()
        self.assertEqual(spec['openapi'], '3.0.3')
        routes = {re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}', rule.rule[len('/api/v1'):])
                  for rule in self.app.url_map.iter_rules() if rule.rule.startswith('/api/v1/')}
        self.assertEqual(set(spec['paths']), routes)
        for operation in spec['paths'].values():
            for ref in (r['content']['application/json']['schema'].get('$ref')
                        for r in operation['get']['responses'].values()):
                if ref:
                    self.assertIn(ref.split('/')[-1], spec['components']['schemas'])

    def test_every_documented_parameter_is_read_by_the_api(self):
        """A bad value for each documented enum/integer parameter must be refused with that
        parameter named, which proves the view reads it; valid examples must pass."""
        bad = {'status': 'NOPE', 'range': 'NOPE', 'sort': 'NOPE', 'size': '0',
               'result_code': 'x', 'q': 'x' * 201, 'cursor': '!!', 'from': 'x', 'to': 'x',
               'flow': 'a b', 'type': 'NOPE', 'team': 'x' * 101, 'system': 'x' * 101,
               'view': 'x', 'page': 'NOPE', 'before': '0', 'id': 'x' * 201}
        spec = self.client.get('/api/v1/openapi.json').get_json()
        for path, operation in spec['paths'].items():
            for param in operation['get']['parameters']:
                if param['in'] != 'query':
                    continue
                name = param['name']
                with self.subTest(path=path, parameter=name):
                    response = self.client.get(f'/api/v1{path}?{name}={bad[name]}')
                    self.assertEqual(response.status_code, 400, response.get_data(as_text=True))
                    self.assertIn(name, response.get_json()['error']['fields'])
        self.assertEqual(set(OPERATIONS), set(spec['paths']))
