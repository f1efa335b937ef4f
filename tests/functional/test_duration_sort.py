"""Sorting by duration: combined with every filter, the page and the API walk the same rows in
the same order (slowest or fastest first, ties by response id, responses without a duration
last), page after page; and the order is read from ``ix_responses_duration`` instead of sorting
the table."""
from datetime import timedelta
from unittest import mock

from parameterized import parameterized
from sqlalchemy import func, insert, or_, select

from app.browse import keyset
from app.browse import responses as queries
from app.browse.filters import ResponseFilter
from app.clock import utc_now
from app.extensions import db
from app.models import Flow, Response
from app.summary import refresh_after_write
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.browse_data import ROW_ID, SeededTestCase
from tests.unit.test_pagination import expected_order, seed_rows

TIED_MS = 777


def add_ties_and_untimed(first_id: int, flow_code: str) -> None:
    """Twelve responses of one flow in the last hour: six share a duration, six have none."""
    now = utc_now().replace(microsecond=0)
    rows = [{'response_id': first_id + index, 'flow_code': flow_code,
             'responded_at': now - timedelta(minutes=index % 3), 'status': 'ERROR',
             'result_code': 500, 'duration_ms': TIED_MS if index < 6 else None,
             'error_reason': None, 'payload_bytes': None} for index in range(12)]
    with db.engines['ops'].begin() as connection:
        connection.execute(insert(Response), rows)
        refresh_after_write(connection)


def in_order(rows, sort):
    timed = sorted((r for r in rows if r.duration_ms is not None),
                   key=lambda r: (r.duration_ms, r.response_id), reverse=sort == 'slowest')
    untimed = sorted((r for r in rows if r.duration_ms is None),
                     key=lambda r: r.response_id, reverse=sort == 'slowest')
    return [r.response_id for r in timed + untimed]


@on_every_backend
class DurationSortTests(SeededTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        code = db.session.scalar(select(Response.flow_code).order_by(Response.flow_code).limit(1))
        add_ties_and_untimed(10_000_000, code)
        cls.tied_flow = code
        db.session.remove()

    def api_ids(self, query: str) -> list[int]:
        ids, url = [], f'/api/v1/responses?{query}&size=25'
        while url:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
            data = response.get_json()
            ids += [item['response_id'] for item in data['items']]
            cursor = data['page']['next_cursor']
            url = f'/api/v1/responses?{query}&size=25&cursor={cursor}' if cursor else None
        return ids

    def expected(self, sort, *conditions):
        rows = db.session.execute(select(Response.response_id, Response.duration_ms)
                                  .where(*conditions)).all()
        return in_order(rows, sort)

    @parameterized.expand([('slowest',), ('fastest',)])
    def test_filters_with_the_duration_sort_page_alike_on_the_page_and_the_api(self, sort):
        now = utc_now()
        codes = list(db.session.scalars(select(Response.flow_code).distinct()
                                        .order_by(Response.flow_code)))
        error = db.session.execute(select(Response.result_code, Response.error_reason)
                                   .where(Response.status == 'ERROR',
                                          Response.error_reason.is_not(None)).limit(1)).one()
        word = error.error_reason.split()[0]
        cases = [
            (f'flow={self.tied_flow}', [Response.flow_code == self.tied_flow]),
            ('status=ERROR&range=7d', [Response.status == 'ERROR',
                                       Response.responded_at >= now - timedelta(days=7)]),
            ('range=24h', [Response.responded_at >= now - timedelta(hours=24)]),
            (f'flow={codes[1]}&status=WARN&status=ERROR',
             [Response.flow_code == codes[1], Response.status.in_(['WARN', 'ERROR'])]),
            (f'result_code={error.result_code}', [Response.result_code == error.result_code]),
            (f'q={word}', [or_(func.lower(Response.error_reason).like(f'%{word.lower()}%'),
                               Response.flow_code.in_(select(Flow.flow_code).where(or_(
                                   func.lower(Flow.name).like(f'%{word.lower()}%'),
                                   func.lower(Flow.flow_code).like(f'%{word.lower()}%')))))]),
        ]
        for query, conditions in cases:
            with self.subTest(query=query):
                expected = self.expected(sort, *conditions)
                self.assertTrue(expected)
                query = f'{query}&sort={sort}'
                self.assertEqual(self.listed_ids(query, size=25), expected)
                self.assertEqual(self.api_ids(query), expected)

    def test_ties_and_responses_without_a_duration_keep_their_place(self):
        ids = self.api_ids(f'flow={self.tied_flow}&sort=slowest&range=1h')
        tail = [10_000_000 + index for index in range(11, 5, -1)]   # no duration: last
        tied = [10_000_000 + index for index in range(5, -1, -1)]   # same duration: by id
        self.assertEqual(ids[-6:], tail)
        self.assertEqual([i for i in ids if i in tied], tied)


    def test_a_duration_sort_over_too_many_rows_asks_to_narrow_the_filters(self):
        query = f'flow={self.tied_flow}&sort=slowest'
        with mock.patch.object(queries, 'SORT_CAP', 5):
            page = self.client.get(f'/responses?{query}')
            api = self.client.get(f'/api/v1/responses?{query}')
            by_time = self.client.get(f'/responses?flow={self.tied_flow}')
            export = self.client.get(f'/responses/export.csv?{query}')
        body = page.get_data(as_text=True)
        self.assertEqual(page.status_code, 400)
        self.assertIn('more than 5 match these filters: narrow them', body)
        self.assertEqual(ROW_ID.findall(body), [])
        self.assertEqual(api.status_code, 400)
        message = api.get_json()['error']['fields']['sort']
        self.assertIn(message.replace("'", '&#39;'), body)
        self.assertEqual(by_time.status_code, 200)
        # an export reads every row anyway: it may sort any number of them
        self.assertEqual(export.status_code, 200)
        exported = [int(line.split(',')[0]) for line in
                    export.get_data(as_text=True).splitlines()[1:]]
        self.assertEqual(exported, self.expected('slowest', Response.flow_code == self.tied_flow))

    def test_the_plan_reads_at_most_the_cap_or_the_index(self):
        flow = ResponseFilter(flows=(self.tied_flow,), sort='fastest')
        recent = ResponseFilter(sort='fastest', range='24h', start=utc_now() - timedelta(hours=1))
        self.assertEqual(queries.duration_plan(ResponseFilter(sort='slowest')), 'walk')
        self.assertEqual(queries.duration_plan(ResponseFilter(sort='newest')), 'time')
        self.assertEqual(queries.duration_plan(flow), 'sort')
        self.assertEqual(queries.duration_plan(recent), 'sort')
        with mock.patch.object(queries, 'SORT_CAP', 5), \
                mock.patch.object(queries, '_scan_threshold', return_value=5):
            self.assertEqual(queries.duration_plan(flow), 'refuse')
            self.assertEqual(queries.duration_plan(recent), 'walk')


class DurationSortPlanTests(FlowdeskTestCase):
    """SQLite's plan for a duration page walks ix_responses_duration and stops after the page:
    no temporary sort of the table. (PostgreSQL chooses by its statistics, which a test table
    does not have; scripts/bench_browse.py measures both at 2,000,000 responses.)"""

    def plan(self, flt: ResponseFilter) -> str:
        statement = queries.base_select(flt).where(Response.duration_ms.is_not(None)) \
            .order_by(Response.duration_ms.desc(), Response.response_id.desc()).limit(51)
        engine = db.engines['ops']
        compiled = statement.compile(
            dialect=engine.dialect, compile_kwargs={'literal_binds': True},
            schema_translate_map=engine.get_execution_options().get('schema_translate_map'),
            render_schema_translate=True)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f'EXPLAIN QUERY PLAN {compiled}').all()
        return '\n'.join(str(row[-1]) for row in rows)

    def test_the_duration_order_is_read_from_its_index(self):
        for flt in (ResponseFilter(sort='slowest'),
                    ResponseFilter(sort='slowest', start=utc_now() - timedelta(hours=1))):
            with self.subTest(start=flt.start):
                plan = self.plan(flt)
                self.assertIn('ix_responses_duration', plan)
                self.assertNotIn('TEMP B-TREE', plan)


@on_every_backend
class BothPlansPageAlikeTests(FlowdeskTestCase):
    """Walking the duration index and sorting the matches give the same pages, forward and
    back, with many ties and rows without a duration (the rows of tests.unit.test_pagination)."""

    def setUp(self):
        super().setUp()
        self.rows = seed_rows()

    def walk(self, flt) -> tuple[list[int], list[list[int]]]:
        ids, back, cursor, page = [], [], None, None
        while True:
            page = queries.fetch_page(flt, cursor)
            ids += [row.response_id for row in page.rows]
            if not page.next_cursor:
                break
            cursor = keyset.decode_cursor(page.next_cursor, flt.sort)
        while page.prev_cursor:
            page = queries.fetch_page(flt, keyset.decode_cursor(page.prev_cursor, flt.sort))
            back.append([row.response_id for row in page.rows])
        return ids, back

    @parameterized.expand([(sort, plan) for sort in keyset.DURATION_SORTS
                           for plan in ('walk', 'sort')])
    def test_each_plan_visits_every_row_once_in_order(self, sort, plan):
        for flt, rows in ((ResponseFilter(sort=sort, size=7), self.rows),
                          (ResponseFilter(sort=sort, size=4, flows=('FLOW-B',)),
                           [r for r in self.rows if r['flow_code'] == 'FLOW-B'])):
            with self.subTest(flows=flt.flows), \
                    mock.patch.object(queries, 'duration_plan', return_value=plan):
                ids, back = self.walk(flt)
                self.assertEqual(ids, expected_order(rows, sort))
                self.assertEqual([i for page in reversed(back) for i in page],
                                 ids[:len([i for page in back for i in page])])

    def test_sorting_the_matches_names_the_keys_so_no_index_supplies_the_order(self):
        from sqlalchemy.dialects import mssql
        statements = []
        list(keyset.seek(lambda st: statements.append(st) or [], queries.base_select(
            ResponseFilter(sort='slowest', flows=('FLOW-A',))), 'slowest', 51,
            position=(100, 5), sorted_here=True))
        sql = str(statements[0].compile(dialect=mssql.dialect(),
                                        compile_kwargs={'literal_binds': True}))
        self.assertIn('SELECT TOP 51', sql)
        self.assertIn('ORDER BY [ops].[responses].duration_ms + 0 DESC, '
                      '[ops].[responses].response_id + 0 DESC', sql)
        self.assertIn('[ops].[responses].duration_ms + 0 <= 100', sql)
