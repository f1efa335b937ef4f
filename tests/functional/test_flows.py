"""The flow list (search, type/team/system filters, last response, 7-day error rate) and the
flow page (attributes, daily chart, latest responses)."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.clock import utc_today
from app.extensions import db
from app.models import Flow, Response, ResponseDaily
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.browse_data import SeededTestCase

FLOW_LINK = re.compile(r'<th scope="row"><a href="/flows/([A-Z0-9_-]+)">')


@on_every_backend
class FlowListTests(SeededTestCase):
    def listed(self, query=''):
        body = self.assertPageContains(self.client.get(f'/flows?{query}'))
        return FLOW_LINK.findall(body), body

    def codes_where(self, *conditions):
        return list(db.session.scalars(select(Flow.flow_code).where(*conditions)
                                       .order_by(Flow.flow_code)))

    def test_filters(self):
        flow = db.session.execute(select(Flow).order_by(Flow.flow_code).limit(1)).scalar_one()
        cases = [
            ('', []),
            (f'type={flow.flow_type.lower()}', [Flow.flow_type == flow.flow_type]),
            (f'team={flow.owner_team}', [Flow.owner_team == flow.owner_team]),
            (f'system={flow.target_system}', [(Flow.source_system == flow.target_system)
                                             | (Flow.target_system == flow.target_system)]),
            (f'q={flow.flow_code[:3].lower()}', [Flow.flow_code.like(f'%{flow.flow_code[:3]}%')
                                                 | Flow.name.ilike(f'%{flow.flow_code[:3]}%')]),
        ]
        for query, conditions in cases:
            with self.subTest(query=query):
                self.assertEqual(self.listed(query)[0], self.codes_where(*conditions))

    def test_last_response_and_error_rate(self):
        code = self.flow_codes()[0]
        _codes, body = self.listed()
        row = body[body.index(f'href="/flows/{code}"'):]
        row = row[:row.index('</tr>')]
        first = utc_today() - timedelta(days=6)
        total = db.session.scalar(select(func.sum(ResponseDaily.responses)).where(
            ResponseDaily.flow_code == code, ResponseDaily.day >= first)) or 0
        self.assertIn(f'{total:,}', row)
        last = db.session.scalar(select(func.max(Response.responded_at))
                                 .where(Response.flow_code == code))
        self.assertIn(f'{last:%Y-%m-%d %H:%M}', row)

    def test_unknown_type_is_a_message(self):
        self.assertPageContains(self.client.get('/flows?type=FTP'),
                                'Unknown flow type &#34;FTP&#34;', status=400)

    def test_no_match_says_what_to_do(self):
        self.assertPageContains(self.client.get('/flows?q=zzzzzz'), 'No flows match these filters',
                                'clear the filters')

    def test_flow_page(self):
        code = self.flow_codes()[1]
        flow = db.session.get(Flow, code)
        body = self.assertPageContains(self.client.get(f'/flows/{code.lower()}'),
                                       flow.name, flow.source_system, 'daily-chart',
                                       'Latest responses')
        latest = list(db.session.scalars(
            select(Response.response_id).where(Response.flow_code == code)
            .order_by(Response.responded_at.desc(), Response.response_id.desc()).limit(20)))
        shown = [int(i) for i in re.findall(r'aria-label="Response (\d+) details"', body)]
        self.assertEqual(shown, latest)
        self.assertIn(f'href="/responses?flow={code}"', body)

    def test_unknown_flow_is_404(self):
        self.assertPageContains(self.client.get('/flows/NOPE-1'), 'There is no flow NOPE-1',
                                status=404)


@on_every_backend
class EmptyFlowListTests(FlowdeskTestCase):
    def test_empty_state(self):
        self.assertPageContains(self.client.get('/flows'), 'No flows yet',
                                'An admin can load data on the Load data page')
