"""Keyset pagination: walking every page forward and back (and exporting in chunks) returns each
matching row exactly once, in the stated order — with many rows sharing a timestamp or a
duration, and rows without a duration, on every backend."""
from datetime import datetime, timedelta

from parameterized import parameterized
from sqlalchemy import insert

from app.browse import keyset
from app.browse import responses as queries
from app.browse.filters import ResponseFilter
from app.extensions import db
from app.models import Flow, Response
from app.summary import refresh_after_write
from tests.base import FlowdeskTestCase, on_every_backend

BASE = datetime(2026, 3, 1, 8, 0, 0)


def make_rows():
    rows = []
    for index in range(1, 131):
        rows.append({
            'response_id': 1000 + index * 7 % 131,        # ids not in time order
            'flow_code': 'FLOW-A' if index % 3 else 'FLOW-B',
            'responded_at': BASE + timedelta(seconds=index // 6),   # 6 rows per timestamp
            'status': ('OK', 'WARN', 'ERROR')[index % 3 == 0 and 2 or index % 5 == 0 and 1 or 0],
            'result_code': 200,
            'duration_ms': None if index % 11 == 0 else (index * 37) % 9 * 100,  # many ties
            'error_reason': None,
            'payload_bytes': None,
        })
    return rows


def expected_order(rows, sort):
    if sort in ('newest', 'oldest'):
        ordered = sorted(rows, key=lambda r: (r['responded_at'], r['response_id']))
        return [r['response_id'] for r in (ordered[::-1] if sort == 'newest' else ordered)]
    timed = sorted((r for r in rows if r['duration_ms'] is not None),
                   key=lambda r: (r['duration_ms'], r['response_id']))
    untimed = sorted((r for r in rows if r['duration_ms'] is None),
                     key=lambda r: r['response_id'])
    if sort == 'slowest':
        timed, untimed = timed[::-1], untimed[::-1]
    return [r['response_id'] for r in timed + untimed]


def seed_rows() -> list[dict]:
    """Two flows and the ``make_rows`` responses, committed; returns the rows."""
    rows = make_rows()
    with db.engines['ops'].begin() as connection:
        connection.execute(insert(Flow), [
            {'flow_code': code, 'name': code, 'flow_type': 'API', 'source_system': 'A',
             'target_system': 'B', 'active': True} for code in ('FLOW-A', 'FLOW-B')])
        connection.execute(insert(Response), rows)
        refresh_after_write(connection)
    return rows


@on_every_backend
class KeysetPaginationTests(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.rows = seed_rows()

    def walk_forward(self, flt):
        ids, cursor, pages = [], None, []
        while True:
            page = queries.fetch_page(flt, cursor)
            pages.append(page)
            ids += [row.response_id for row in page.rows]
            if not page.next_cursor:
                return ids, pages
            cursor = keyset.decode_cursor(page.next_cursor, flt.sort)
            self.assertLess(len(pages), 1000, 'pagination does not end')

    @parameterized.expand([(sort, size) for sort in keyset.ORDERS for size in (1, 7, 25, 200)])
    def test_forward_then_back_visits_every_row_once_in_order(self, sort, size):
        flt = ResponseFilter(sort=sort, size=size)
        expected = expected_order(self.rows, sort)
        ids, pages = self.walk_forward(flt)
        self.assertEqual(ids, expected)
        self.assertEqual([p.page for p in pages], list(range(1, len(pages) + 1)))
        self.assertIsNone(pages[0].prev_cursor)
        # Back from the last page to the first: the same pages, in reverse.
        back, page = [], pages[-1]
        while page.prev_cursor:
            page = queries.fetch_page(flt, keyset.decode_cursor(page.prev_cursor, sort))
            back.append([row.response_id for row in page.rows])
        self.assertEqual(back, [[r.response_id for r in p.rows] for p in pages[:-1]][::-1])
        if len(pages) > 1:
            self.assertEqual(page.page, 1)
            self.assertIsNotNone(page.next_cursor)

    @parameterized.expand([('ERROR',), ('WARN',)])
    def test_filtered_walk(self, status):
        flt = ResponseFilter(statuses=(status,), size=4, sort='slowest')
        matching = [r for r in self.rows if r['status'] == status]
        ids, _pages = self.walk_forward(flt)
        self.assertEqual(ids, expected_order(matching, 'slowest'))

    @parameterized.expand([(sort,) for sort in keyset.ORDERS])
    def test_export_chunks_cover_every_row(self, sort):
        chunks = list(queries.iter_chunks(ResponseFilter(sort=sort), chunk=6))
        self.assertTrue(all(len(chunk) <= 6 for chunk in chunks))
        self.assertEqual([row.response_id for chunk in chunks for row in chunk],
                         expected_order(self.rows, sort))

    def test_empty_result_has_no_cursors(self):
        page = queries.fetch_page(ResponseFilter(flows=('NOPE',)), None)
        self.assertEqual((page.rows, page.next_cursor, page.prev_cursor), ([], None, None))


class CursorTests(FlowdeskTestCase):
    CREATE_TABLES = False

    def test_round_trip(self):
        cursor = keyset.Cursor('n', 'newest', 0, BASE, 42, 3)
        self.assertEqual(keyset.decode_cursor(cursor.encode(), 'newest'), cursor)
        timed = keyset.Cursor('p', 'slowest', 1, None, 7, 2)
        self.assertEqual(keyset.decode_cursor(timed.encode(), 'slowest'), timed)

    @parameterized.expand([
        ('garbage', '!!!'),
        ('not json', 'bm90IGpzb24'),
        ('wrong shape', keyset.Cursor('n', 'newest', 5, None, 1, 1).encode()),
        ('bad time', 'WyJuIiwibmV3ZXN0IiwwLCJ4IiwxLDFd'),
    ])
    def test_damaged_cursor_is_a_clear_error(self, _name, token):
        with self.assertRaisesRegex(keyset.CursorError, 'start again'):
            keyset.decode_cursor(token, 'newest')

    def test_cursor_of_another_sort_is_refused(self):
        token = keyset.Cursor('n', 'newest', 0, BASE, 42, 2).encode()
        with self.assertRaisesRegex(keyset.CursorError, 'another sort order'):
            keyset.decode_cursor(token, 'oldest')


class MssqlCompileTests(FlowdeskTestCase):
    """The statements behind pages and exports compile for SQL Server: no row-value
    comparisons, TOP instead of LIMIT, OFFSET only with ORDER BY, aggregates without FILTER."""
    CREATE_TABLES = False

    def compile(self, statement) -> str:
        from sqlalchemy.dialects import mssql
        return str(statement.compile(dialect=mssql.dialect(),
                                     compile_kwargs={'literal_binds': True}))

    def test_keyset_pages_and_exports(self):
        from sqlalchemy import select

        from app.browse.search_index import dictionary_matches, reason_in, row_contains
        text = "50%_off [x]"
        for where in (row_contains('mssql', text),
                      reason_in(dictionary_matches('mssql', text, indexed=True))):
            self.check_pages(select(*queries.LIST_COLUMNS).where(where))

    def test_text_search_counts_and_samples(self):
        from app.browse.search_index import dictionary_matches, limited_count, reason_in
        sample = self.compile(dictionary_matches('mssql', "O'Brien 50%", indexed=True).limit(65))
        self.assertIn('SELECT TOP 65 [ops].[error_reasons].reason_hash', sample)
        self.assertIn("LIKE N'%O''Brien 50\\%%' ESCAPE '\\'", sample)
        self.assertNotIn('MATCH', sample)          # no FTS5 on SQL Server
        batch = self.compile(limited_count([reason_in(list(range(-250, 250)))], 1000))
        self.assertIn('TOP 1001', batch)
        self.assertIn('reason_hash IS NOT NULL AND [ops].[responses].reason_hash IN (-250, ', batch)
        self.assertNotIn('LIMIT', batch)

    def test_a_walking_count_reads_the_newest_rows_first(self):
        """A count that walks (tests each row's reason) names the time order, so the engine
        reads a time range from its newest rows instead of scanning from the oldest."""
        from app.browse.search_index import limited_count, row_contains
        from app.models import Response
        where = [Response.responded_at >= BASE, row_contains('mssql', 'timeout')]
        sql = self.compile(limited_count(where, 1000, newest_first=True))
        self.assertIn('SELECT TOP 1001 1', sql)
        self.assertIn('ORDER BY [ops].[responses].responded_at DESC, '
                      '[ops].[responses].response_id DESC', sql)
        self.assertNotIn('ORDER BY', self.compile(limited_count(where, 1000)))

    def test_bounded_walk_count(self):
        from app.browse.text_search import bounded_walk
        from app.models import Response
        sql = self.compile(bounded_walk('mssql', 'timeout', [Response.flow_code == 'F1'],
                                        1000, 5000))
        self.assertIn('SELECT TOP 1001 1', sql)
        self.assertIn('SELECT TOP 5000 [ops].[responses].error_reason', sql)
        self.assertIn('ORDER BY [ops].[responses].responded_at DESC, '
                      '[ops].[responses].response_id DESC', sql)
        self.assertIn("error_reason LIKE N'%timeout%' ESCAPE '\\'", sql)
        self.assertNotIn('LIMIT', sql)

    def test_dashboard_top_reasons(self):
        """The hash is grouped as ``reason_hash + 0`` with the 0 written into the statement:
        SQL Server matches a select-list expression to its GROUP BY only when both are the
        same text, which two bound parameters would not be."""
        from sqlalchemy.dialects import mssql

        from app.browse.dashboard import top_reasons_statement
        statement = top_reasons_statement(BASE, 10)
        sql = str(statement.compile(dialect=mssql.dialect()))
        self.assertIn('SELECT TOP __[POSTCOMPILE_param_2] [ops].[responses].reason_hash + 0 AS '
                      'reason_hash, count(*) AS n', sql)
        self.assertIn('GROUP BY [ops].[responses].reason_hash + 0 '
                      'ORDER BY count(*) DESC, [ops].[responses].reason_hash + 0', sql)
        literal = self.compile(statement)
        self.assertIn('SELECT TOP 1 responses_1.error_reason', literal)
        self.assertIn('WHERE responses_1.reason_hash = anon_2.reason_hash AND '
                      'responses_1.reason_hash IS NOT NULL', literal)
        self.assertNotIn('LIMIT', literal)

    def check_pages(self, base):
        statements = []
        for sort, segments in keyset.ORDERS.items():
            for reverse in (False, True):
                statements += list(keyset.seek(
                    lambda st, found=statements: found.append(st) or [], base, sort, 51, reverse=reverse,
                    start_segment=len(segments) - 1 if reverse else 0,
                    position=(BASE if sort in ('newest', 'oldest') else 100, 5)))
        self.assertTrue(statements)
        for statement in statements:
            sql = self.compile(statement)
            self.assertIn('TOP 51', sql)
            self.assertIn("LIKE N'%50\\%\\_off \\[x]%' ESCAPE '\\'", sql)
            self.assertNotIn('LIMIT', sql)

    def test_flow_list_and_daily_figures(self):
        from sqlalchemy import case, func, select

        from app.browse import flows as flow_queries
        from app.browse.filters import FlowFilter
        from app.models import Flow, ResponseDaily
        statement = (select(*flow_queries.FLOW_COLUMNS, *flow_queries._last_response_columns())
                     .where(*flow_queries.flow_conditions(FlowFilter(text='sap', team='X')))
                     .order_by(Flow.flow_code).offset(100).limit(100))
        sql = self.compile(statement)
        self.assertRegex(sql, r'OFFSET 100 ROWS|mssql_rn > 100')
        self.assertIn('ORDER BY [ops].[flows].flow_code', sql)
        errors = func.sum(case((ResponseDaily.status == 'ERROR', ResponseDaily.responses),
                               else_=0))
        self.assertNotIn('FILTER', self.compile(select(ResponseDaily.flow_code, errors)
                                                .group_by(ResponseDaily.flow_code)))
