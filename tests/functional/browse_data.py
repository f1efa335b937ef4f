"""Shared data for the employee-page tests: the demo data set, small, seeded once per class
(the pages only read, so tests of a class can share it)."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Flow, Response
from app.seeding import seed_demo
from tests.base import FlowdeskTestCase

#: A response row of the list page.
ROW_ID = re.compile(r'aria-label="Response (\d+) details"')
DEMO_RESPONSES = 3000
DEMO_FLOWS = 12


class SeededTestCase(FlowdeskTestCase):
    """Demo flows and responses, seeded once for the class and kept between its tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed_demo(flows=DEMO_FLOWS, responses=DEMO_RESPONSES, force=True)

    @staticmethod
    def empty_tables() -> None:
        db.session.remove()

    def listed_ids(self, query: str, size: int = 200) -> list[int]:
        """Every response id the list shows for a query, following Next links."""
        ids, url = [], f'/responses?{query}&size={size}' if query else f'/responses?size={size}'
        while url:
            body = self.assertPageContains(self.client.get(url))
            ids += [int(found) for found in ROW_ID.findall(body)]
            match = re.search(r'rel="next" href="([^"]+)"', body)
            url = match.group(1).replace('&amp;', '&') if match else None
        return ids

    # -- facts computed the slow, obvious way to check the pages against ---------------------
    def count_where(self, *conditions) -> int:
        return db.session.scalar(select(func.count()).select_from(Response).where(*conditions))

    def flow_codes(self) -> list[str]:
        return list(db.session.scalars(select(Flow.flow_code).order_by(Flow.flow_code)))

    def any_response(self, *conditions):
        return db.session.execute(select(Response).where(*conditions)
                                  .order_by(Response.response_id).limit(1)).scalar_one()
