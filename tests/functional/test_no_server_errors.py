"""No GET route answers 5xx, whatever its query string or path holds (property-based, with
Hypothesis).

Every GET route of ``app.url_map`` is tried, as an admin (who reaches every page), with edge and
random values — huge and negative numbers, 0, dates at and past the calendar's ends, unicode,
NUL, very long text, empty values, damaged cursors — in every parameter it reads: the API's
parameters come from its OpenAPI document, the pages' from ``PAGE_PARAMETERS`` below, and path
parameters get edge values too. A route missing from that list fails the test, so a new page
must say what it reads. Runs are derandomized (the same examples every run) and bounded.
"""
from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api.openapi import openapi_document
from app.seeding import seed_demo
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend

#: The query parameters each page (endpoint) reads. The API's are read from its OpenAPI document.
RESPONSE_FILTER = ('q', 'id', 'flow', 'status', 'range', 'from', 'to', 'result_code', 'sort', 'size',
                   'cursor')
PAGE_PARAMETERS = {
    'main.index': ('days',),
    'main.whoami': (),
    'main.responses': RESPONSE_FILTER + ('view',),
    'main.export_csv': RESPONSE_FILTER + ('columns',),
    'main.export_xlsx': RESPONSE_FILTER + ('columns',),
    'main.response_detail': (),
    'main.flows': ('q', 'type', 'team', 'system', 'page', 'view'),
    'main.flow_detail': ('days',),
    'admin.upload': (),
    'admin.confirm_load': ('sha256', 'dataset', 'mode', 'encoding', 'file_name', 'previous',
                           'profile'),
    'admin.batches': ('page', 'dataset'),
    'admin.batch': (),
    'admin.batch_errors': (),
    'admin.users': ('q', 'role', 'status', 'page'),
    'admin.audit_log': ('who', 'action', 'date_from', 'date_to', 'page'),
    'admin.jobs': ('job',),
    'admin.inboxes': (),
    'admin.new_inbox': (),
    'admin.edit_inbox': (),
    'admin.profiles': (),
    'admin.new_profile': (),
    'admin.edit_profile': (),
    'admin.builtin_profile': (),
    'admin.export_profile': (),
    'admin.export_builtin': (),
    'auth.sign_in': (),
    'views.index': (),
    'alerts.incidents': (),
    'alerts.incident': (),
    'alerts.alert_rules': (),
    'alerts.new_alert_rule': (),
    'alerts.edit_alert_rule': (),
    'alerts.deliveries': ('failed',),
    'alerts.profile': (),
    'alerts.unfollow': (),
    'health.healthz': (),
    'static': (),
    'bootstrap.static': (),
}
EXAMPLES_PER_ROUTE = 15

EDGE_VALUES = [
    '', ' ', '0', '-1', '1', '2147483647', '2147483648', '-2147483649', '9223372036854775807',
    '9223372036854775808', '99999999999999999999', '-99999999999999999999', '1e309', 'NaN',
    '9999-12-31', '0001-01-01', '9999-12-31T23:59:59-05:00', '0001-01-01T00:00:00+05:00',
    '2026-02-30', '2026-11-20 12:00', 'custom', 'all', 'OK,WARN', 'ERROR', 'newest', 'slowest',
    'é€😀', 'ＡＢＣ', '\x00', 'a\x00b', '\u202e', 'x' * 5000, '9' * 5000, "'; DROP TABLE x;--",
    '../../etc/passwd', '%00', '{}', '[]',
]


#: Tried in every parameter (and path parameter) on its own, before the random examples.
SWEPT_VALUES = ['', '0', '-1', '2147483648', '9223372036854775808', '99999999999999999999',
                '9999-12-31', '0001-01-01', '9999-12-31T23:59:59-05:00', '\x00', 'é€😀',
                'x' * 5000]


def encoded(parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode('utf-8')).decode('ascii').rstrip('=')


SWEPT_CURSORS = [encoded(['n', 'newest', 0, '2026-01-01T00:00:00', 10**30, 2]),
                 encoded(['p', 'slowest', 0, 10**30, 5, 2]),
                 encoded(['n', 'oldest', 0, '9999-12-31T23:59:59', 1, 10**30]),
                 encoded(['n', 'fastest', 1, None, -10**30, 1])]


#: Cursors: edited ones that decode to JSON of about the right shape, and random text.
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                         st.sampled_from(['n', 'p', 'newest', 'slowest', '9999-12-31T23:59:59',
                                          '0001-01-01T00:00:00']))
cursors = st.one_of(st.lists(json_scalars, min_size=0, max_size=7).map(encoded),
                    st.text(max_size=60))
values = st.one_of(st.sampled_from(EDGE_VALUES), st.text(max_size=40),
                   st.integers().map(str), st.dates().map(str),
                   st.datetimes().map(lambda moment: moment.isoformat()))
path_values = st.one_of(st.sampled_from(EDGE_VALUES[:14] + ['ORD-SAP', 'é€😀', 'x' * 300]),
                        st.integers(min_value=0).map(str), st.text(min_size=1, max_size=30))
PATH_PARAMETER = re.compile(r'<(?:[^:<>]+:)?([^<>]+)>')


def api_parameters(app) -> dict[str, tuple[str, ...]]:
    """endpoint -> query parameter names, from the OpenAPI document."""
    with app.test_request_context():
        document = openapi_document()
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith('api.'):
            path = PATH_PARAMETER.sub(r'{\1}', rule.rule.removeprefix('/api/v1'))
            found[rule.endpoint] = tuple(p['name'] for p in document['paths'][path]['get']
                                         ['parameters'] if p['in'] == 'query')
    return found


@on_every_backend
class NoServerErrorTests(FlowdeskTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed_demo(flows=5, responses=300, force=True)
        cls.parameters = {**PAGE_PARAMETERS, **api_parameters(cls.app)}

    @staticmethod
    def empty_tables() -> None:
        """The seeded data is kept for the class (the routes only read)."""

    def get_routes(self):
        return sorted((rule for rule in self.app.url_map.iter_rules() if 'GET' in rule.methods),
                      key=lambda rule: rule.rule)

    def test_every_get_route_declares_its_parameters(self):
        undeclared = [rule.endpoint for rule in self.get_routes()
                      if rule.endpoint not in self.parameters]
        self.assertEqual(undeclared, [], 'add these endpoints to PAGE_PARAMETERS')

    def test_no_get_route_answers_a_server_error_for_an_edge_value(self):
        """Each edge value alone in each parameter: the cases that once gave 500s."""
        client = self.client_for(ADMIN)
        failures = []
        for rule in self.get_routes():
            path_names = PATH_PARAMETER.findall(rule.rule)
            ones = {name: '1' for name in path_names}
            for name in self.parameters[rule.endpoint]:
                for value in SWEPT_VALUES + (SWEPT_CURSORS if name == 'cursor' else []):
                    failures += self.server_errors(client, rule, ones, [(name, value)])
            for name in path_names:
                for value in SWEPT_VALUES[1:]:
                    failures += self.server_errors(client, rule, ones | {name: value}, [])
        self.assertEqual(failures, [], "\n".join(f[:80] for f in failures))

    @staticmethod
    def server_errors(client, rule, path: dict, pairs: list) -> list[str]:
        """[] when GET answers below 500, else a line saying what failed."""
        url = PATH_PARAMETER.sub(lambda m: quote(path[m.group(1)], safe=''), rule.rule)
        response = client.get(url + ('?' + urlencode(pairs) if pairs else ''))
        body = response.get_data()  # streamed answers fail while being read
        if response.status_code < 500:
            return []
        return [f'{response.status_code} GET {url}?{urlencode(pairs)[:200]}: {body[:200]!r}']

    def test_no_get_route_answers_a_server_error(self):
        """Random combinations of random and edge values in all parameters."""
        client = self.client_for(ADMIN)
        for rule in self.get_routes():
            with self.subTest(route=rule.rule):
                self.check_route(client, rule, self.parameters[rule.endpoint])

    def check_route(self, client, rule, names):
        query_value = {name: cursors if name == 'cursor' else values for name in names}
        queries = st.fixed_dictionaries({}, optional={
            name: st.lists(strategy, min_size=1, max_size=2)
            for name, strategy in query_value.items()})
        path_names = PATH_PARAMETER.findall(rule.rule)

        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        @given(query=queries, path=st.fixed_dictionaries({n: path_values for n in path_names}))
        def no_server_error(query, path):
            pairs = [(name, value) for name, many in query.items() for value in many]
            self.assertEqual(self.server_errors(client, rule, path, pairs), [])

        no_server_error()
