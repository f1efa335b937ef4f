"""The dashboard's per-process cache: reused between requests, refreshed at once by a load."""
from datetime import datetime, timedelta

from app.clock import utc_now
from app.extensions import db
from app.models import Response
from app.seeding import seed_demo
from tests.base import FlowdeskTestCase


class DashboardCacheTests(FlowdeskTestCase):
    SETTINGS = {'DASHBOARD_CACHE_SECONDS': '60'}

    def total_shown(self):
        body = self.client.get('/').get_data(as_text=True)
        marker = ' responses in all'
        end = body.index(marker)
        return body[body.rindex(' ', 0, end) + 1:end]

    def test_figures_are_reused_until_the_next_load(self):
        seed_demo(responses=1000, until=datetime(2026, 11, 20, 12))
        self.assertEqual(self.total_shown(), '1,000')
        # A row written behind Flowdesk's back (no load batch) is not seen while cached...
        db.session.add(Response(response_id=10_001, flow_code=db.session.scalars(
            db.select(Response.flow_code)).first(), responded_at=utc_now() - timedelta(hours=1),
            status='OK'))
        db.session.commit()
        self.assertEqual(self.total_shown(), '1,000')
        # ...but any load, undo or seed writes a load batch, which shows at once.
        seed_demo(responses=1200, until=datetime(2026, 11, 20, 12))
        self.assertEqual(self.total_shown(), '1,200')

    def test_each_app_has_its_own_cache(self):
        seed_demo(responses=500, until=datetime(2026, 11, 20, 12))
        self.assertEqual(self.total_shown(), '500')
        self.assertIn('flowdesk_dashboard_cache', self.app.extensions)
