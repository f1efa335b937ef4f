"""The data the text-search suites share (test_text_search.py, test_text_search_counts.py):
realistic-shape demo rows plus reasons with special characters, and the obvious answer to a
query read row by row in Python."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from unittest import mock

from sqlalchemy import select

from app.browse import text_plan
from app.datasets import RESPONSES
from app.error_reasons import reason_hash
from app.extensions import db
from app.loading.writers import writer_for
from app.models import Flow, Response
from app.seeding import seed_demo
from app.summary import refresh_after_write
from tests.base import FlowdeskTestCase

#: Reasons whose characters LIKE would read as wildcards or the index might fold.
SPECIAL_REASONS = [
    'Discount 50% off applied', 'Discount 50 off applied',
    'file a_b.csv missing', 'file axb.csv missing',
    'O\'Brien said "stop" twice', 'path C:\\temp\\in was locked',
    'bracket [x] here', 'bracket x] here',
    'Ümlaut failure in Zürich', 'ümlaut FAILURE in zürich',
    'MiXeD CaSe Needle found', 'Kelvin \u212a sign in the reading',
]
QUERIES = ['timeout', 'TIMEOUT', 'Timeout', 'correlation id', '50%', '50 o', 'a_b', "O'Brien",
           '"stop"', 'C:\\temp', '[x]', 'x] h', 'Ümlaut', 'ümlaut', 'ZÜRICH', 'needle',
           'case ne', 'kelvin k', 'zzqq-nothing', '%%%', '___']


def fold(dialect: str, value: str) -> str:
    """What the engine's case-insensitive match ignores: ASCII case on SQLite (LIKE), case on
    PostgreSQL (ILIKE)."""
    if dialect == 'postgresql':
        return value.lower()
    return ''.join(ch.lower() if 'A' <= ch <= 'Z' else ch for ch in value)


class TextSearchCase(FlowdeskTestCase):
    """Realistic-shape demo data (mostly distinct reasons) plus reasons with special
    characters, seeded once for the class; the obvious answer, read row by row in Python."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        summary = seed_demo(flows=12, responses=3000, force=True, shape='realistic')
        with db.engines['ops'].begin() as connection:
            flow = connection.scalar(select(Flow.flow_code).order_by(Flow.flow_code))
            writer = writer_for(connection, RESPONSES, summary.batch_id)
            start = summary.last - timedelta(days=3)
            writer.insert([(9_000_000 + index, flow, start + timedelta(minutes=index), 'ERROR', 1,
                            10, reason, 100, None, None, summary.batch_id, reason_hash(reason))
                           for index, reason in enumerate(SPECIAL_REASONS)])
            writer.finish_writes()
            refresh_after_write(connection)

    @staticmethod
    def empty_tables() -> None:
        db.session.remove()

    # -- the obvious answer -------------------------------------------------------------------
    def dialect(self) -> str:
        return db.engines['ops'].dialect.name

    def expected(self, needle: str, **where) -> list[int]:
        """Ids matching ``needle`` (reason, or flow code/name), newest first, by reading every
        row in Python."""
        dialect = self.dialect()
        wanted = fold(dialect, needle)
        flows = {code for code, name in db.session.execute(select(Flow.flow_code, Flow.name))
                 if needle.lower() in code.lower() or needle.lower() in name.lower()}
        rows = db.session.execute(select(Response.response_id, Response.flow_code,
                                         Response.status, Response.responded_at,
                                         Response.error_reason)).all()
        found = [row for row in rows
                 if (row.flow_code in flows or wanted in fold(dialect, row.error_reason or ''))
                 and all(getattr(row, name) in values for name, values in where.items())]
        found.sort(key=lambda row: (row.responded_at, row.response_id), reverse=True)
        return [row.response_id for row in found]

    def api_ids(self, **params) -> list[int]:
        """Every id the API lists, following its cursors."""
        ids, cursor = [], None
        while True:
            query = {**params, 'size': 500, **({'cursor': cursor} if cursor else {})}
            response = self.client.get('/api/v1/responses', query_string=query)
            self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
            body = response.get_json()
            ids += [item['response_id'] for item in body['items']]
            cursor = body.get('next_cursor')
            if not cursor:
                return ids

    def api_count(self, **params) -> dict:
        response = self.client.get('/api/v1/responses', query_string={**params, 'size': 1})
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        return response.get_json()['count']

    def export_ids(self, **params) -> list[int]:
        response = self.client.get('/responses/export.csv', query_string=params)
        self.assertEqual(response.status_code, 200)
        reader = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip('\ufeff')))
        return [int(row['response_id']) for row in reader]

    def forced(self, strategy: str):
        return mock.patch.object(text_plan, 'page_strategy', lambda *_args: strategy)
