"""Message ids and correlation ids: loaded from the native layout (or left out), refused when too
long, kept exactly by upsert and undo, found by the one "id" box of the responses page and the
API, traced across flows on a response's page, and exported so that a re-load changes nothing.

The fixture ``responses_ids.csv`` sends one message (ORDER-4711) through three flows, listed out
of time order: ORD-SAP-CRM (102) at 09:00:01, INV-FILE (103) at 09:00:03.5, HR-SYNC (101) at
09:00:05."""
from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from unittest import mock

from openpyxl import load_workbook
from sqlalchemy import select, text

from app.browse import keyset
from app.browse.filters import ResponseFilter
from app.browse.responses import base_select
from app.extensions import db
from app.loading import undo_batch
from app.models import Response, ResponseVersion
from tests.base import ADMIN, on_every_backend
from tests.functional.test_loads import LoadTestCase, table_checksum

GUID_101 = '6f1c2a9e-0c1b-4d2e-9a51-3f0e8c7b2d11'
GUID_102 = '0b6f3c1d-2e4a-4c9b-8f7e-5a1d9c3e7b20'
#: ORDER-4711's responses in time order (the file lists them 101, 102, 103).
TRACE_4711 = [102, 103, 101]
IDS_HEADER = ('response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,'
              'payload_bytes,message_id,correlation_id')


class IdsTestCase(LoadTestCase):
    def load_ids(self):
        self.assertTrue(self.load('flows', 'flows_good.csv').ok)
        outcome = self.load('responses', 'responses_ids.csv')
        self.assertTrue(outcome.ok, outcome.message)
        return outcome

    def stored_ids(self) -> dict[int, tuple]:
        return {row.response_id: (row.message_id, row.correlation_id) for row in db.session.execute(
            select(Response.response_id, Response.message_id, Response.correlation_id))}

    def response_links(self, html: str) -> list[int]:
        """Response ids linked from a page, in page order."""
        return [int(found) for found in re.findall(r'href="/responses/(\d+)"', html)]


@on_every_backend
class LoadIdsTest(IdsTestCase):
    def test_native_file_with_the_columns_stores_them_trimmed_and_empty_as_null(self):
        self.assertEqual(self.load_ids().counts.inserted, 6)
        self.assertEqual(self.stored_ids(), {
            101: (GUID_101, 'ORDER-4711'), 102: (GUID_102, 'ORDER-4711'),
            103: (None, 'ORDER-4711'), 104: ('9d2e7f4a-1b3c-4e5d-8f6a-7b8c9d0e1f2a', 'ORDER-4712'),
            105: (None, None), 106: ('=2+3', 'ORDER-4712')})

    def test_file_without_the_columns_leaves_them_empty(self):
        self.base_data()
        self.assertEqual(set(self.stored_ids().values()), {(None, None)})

    def test_too_long_ids_are_refused_with_line_and_column_and_nothing_changes(self):
        self.base_data()
        before = self.checksums()
        outcome = self.load('responses', 'bad_ids_too_long.csv')
        self.assertEqual(outcome.status, 'failed')
        self.assertEqual(self.checksums(), before)
        self.assertEqual([(p.line, p.column, p.message) for p in outcome.problems.kept], [
            (3, 'message_id', 'message_id is 101 characters long; at most 100 allowed.'),
            (4, 'correlation_id', 'correlation_id is 201 characters long; at most 200 allowed.')])

    def test_upsert_of_changed_ids_keeps_the_old_ones_and_undo_restores_them_exactly(self):
        self.load_ids()
        before = table_checksum('responses')
        path = Path(self.databases.folder) / 'ids_changed.csv'
        path.write_text('\r\n'.join([
            IDS_HEADER,
            f'101,HR-SYNC,2026-03-10 09:00:05,OK,0,800,,,{GUID_101},ORDER-9999',
            '102,ORD-SAP-CRM,2026-03-10 09:00:01,OK,200,120,,512,,ORDER-4711',
            '103,INV-FILE,2026-03-10 09:00:03.5,ERROR,2,2500,File not found,,,ORDER-4711',
        ]) + '\r\n', encoding='utf-8')
        outcome = self.load('responses', path.name, mode='upsert', path=path)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual((outcome.counts.updated, outcome.counts.unchanged), (2, 1))
        self.assertEqual(self.stored_ids()[101], (GUID_101, 'ORDER-9999'))
        self.assertEqual(self.stored_ids()[102], (None, 'ORDER-4711'))
        kept = dict(db.session.execute(
            select(ResponseVersion.response_id, ResponseVersion.message_id)
            .where(ResponseVersion.superseded_by == outcome.batch_id)).all())
        self.assertEqual(kept, {101: GUID_101, 102: GUID_102})
        self.assertEqual(undo_batch(outcome.batch_id, ADMIN).status, 'succeeded')
        self.assertEqual(table_checksum('responses'), before)


@on_every_backend
class IdFilterTest(IdsTestCase):
    def setUp(self):
        super().setUp()
        self.load_ids()

    def test_the_id_box_finds_a_message_id(self):
        body = self.assertPageContains(self.client.get(f'/responses?id=%20{GUID_101}%20'),
                                       'id="f-id"', f'value=" {GUID_101} "')
        self.assertEqual(self.response_links(body), [101])
        self.assertRegex(body, r'<strong>1</strong> response match')

    def test_the_id_box_finds_every_response_of_a_correlation_id_newest_first(self):
        body = self.assertPageContains(self.client.get('/responses?id=ORDER-4711'))
        self.assertEqual(self.response_links(body), list(reversed(TRACE_4711)))
        body = self.assertPageContains(self.client.get('/responses?id=ORDER-4711&sort=oldest'))
        self.assertEqual(self.response_links(body), TRACE_4711)

    def test_an_id_combines_with_the_other_filters_and_pages(self):
        body = self.assertPageContains(self.client.get('/responses?id=ORDER-4711&status=ERROR'))
        self.assertEqual(self.response_links(body), [103])
        data = self.client.get('/api/v1/responses?id=ORDER-4711&size=2').get_json()
        self.assertEqual([item['response_id'] for item in data['items']], [101, 103])
        rest = self.client.get('/api/v1/responses?id=ORDER-4711&size=2&cursor='
                               + data['page']['next_cursor']).get_json()
        self.assertEqual([item['response_id'] for item in rest['items']], [102])

    def test_an_id_is_exact(self):
        for near in ('ORDER-471', 'order-4711', GUID_101[:-1]):
            body = self.assertPageContains(self.client.get(f'/responses?id={near}'),
                                           'No responses match these filters')
            self.assertEqual(self.response_links(body), [])

    def test_an_overlong_id_is_refused_with_a_message(self):
        body = self.assertPageContains(self.client.get('/responses?id=' + 'x' * 201),
                                       'An id can be at most 200 characters', status=400)
        self.assertEqual(self.response_links(body), [])

    def test_the_api_filters_by_id_and_lists_both_ids(self):
        data = self.client.get('/api/v1/responses?id=ORDER-4712').get_json()
        self.assertEqual(data['count'], {'value': 2, 'capped': False})
        self.assertEqual([(item['response_id'], item['message_id'], item['correlation_id'])
                          for item in data['items']],
                         [(106, '=2+3', 'ORDER-4712'),
                          (104, '9d2e7f4a-1b3c-4e5d-8f6a-7b8c9d0e1f2a', 'ORDER-4712')])
        response = self.client.get('/api/v1/responses?id=' + 'x' * 201)
        self.assertEqual(response.status_code, 400)
        self.assertIn('at most 200 characters', response.get_json()['error']['fields']['id'])

    def test_a_saved_view_keeps_the_id_and_opens_it(self):
        response = self.client.post('/views', data={
            'name': 'Order 4711', 'page': 'responses', 'query': 'id=+ORDER-4711+&cursor=x',
            'next': '/responses'})
        self.assertEqual(response.status_code, 302)
        views = self.client.get('/api/v1/views').get_json()['items']
        self.assertEqual([view['query'] for view in views], ['id=ORDER-4711'])
        data = self.client.get(f'/api/v1/responses?view={views[0]["id"]}').get_json()
        self.assertEqual([item['response_id'] for item in data['items']],
                         list(reversed(TRACE_4711)))


@on_every_backend
class IdPlanTest(IdsTestCase):
    """The id filter is answered from the two partial indexes, also under other filters and a
    keyset cursor, by a planner without statistics (PostgreSQL with sequential scans off: its
    tables here are tiny; that setting also prices the text filter's dictionary scans out of
    reach, so the text case is checked on SQLite only; with statistics, PostgreSQL keeps the id
    indexes for it too, as EXPLAIN at 2,000,000 responses showed)."""

    def plan(self, statement) -> str:
        engine = db.engines['ops']
        sql = str(statement.compile(
            dialect=engine.dialect, compile_kwargs={'literal_binds': True},
            schema_translate_map=engine.get_execution_options()['schema_translate_map'],
            render_schema_translate=True))
        with engine.begin() as connection:
            if engine.dialect.name == 'postgresql':
                connection.execute(text('SET LOCAL enable_seqscan = off'))
                return '\n'.join(row[0] for row in connection.exec_driver_sql('EXPLAIN ' + sql))
            return '\n'.join(row[-1] for row in
                             connection.exec_driver_sql('EXPLAIN QUERY PLAN ' + sql))

    def test_both_id_indexes_are_used(self):
        self.load_ids()
        after = keyset._after(keyset.ORDERS['newest'][0], datetime(2026, 3, 10, 9, 0, 5), 101,
                              reverse=False)
        for flt, extra in ((ResponseFilter(exact_id='ORDER-4711'), None),
                           (ResponseFilter(exact_id='ORDER-4711', flows=('HR-SYNC',),
                                           statuses=('OK', 'WARN')), after),
                           (ResponseFilter(exact_id='ORDER-4711', text='File', result_code=2,
                                           start=datetime(2026, 3, 1)), None)):
            if flt.text and self.backend == 'postgresql':
                continue
            statement = base_select(flt)
            if extra is not None:
                statement = statement.where(extra)
            plan = self.plan(statement.order_by(Response.responded_at.desc(),
                                                Response.response_id.desc()).limit(51))
            self.assertIn('ix_responses_message_time', plan)
            self.assertIn('ix_responses_correlation_time', plan)


@on_every_backend
class TraceTest(IdsTestCase):
    def setUp(self):
        super().setUp()
        self.load_ids()

    def trace_rows(self, html: str) -> list[str]:
        section = html[html.index('id="trace"'):html.index('</section>')]
        return re.findall(r'<tr[^>]*>\s*<td>.*?</tr>', section, re.S)

    def test_a_response_page_traces_its_correlation_id_across_three_flows_in_time_order(self):
        body = self.assertPageContains(self.client.get('/responses/103'),
                                       'Trace: responses with this correlation id',
                                       '<code class="source-id">ORDER-4711</code>')
        rows = self.trace_rows(body)
        self.assertEqual(len(rows), 3)
        for row, (response_id, flow) in zip(rows, [(102, 'ORD-SAP-CRM'), (103, 'INV-FILE'),
                                                   (101, 'HR-SYNC')], strict=True):
            self.assertIn(f'>{flow}</a>', row)
            if response_id == 103:
                self.assertIn('103 (this response)', row)
                self.assertIn('aria-current="true"', row)
            else:
                self.assertIn(f'<a href="/responses/{response_id}">{response_id}</a>', row)
        self.assertIn(GUID_102, rows[0])
        self.assertNotIn('the first', body)

    def test_a_response_without_a_correlation_id_has_no_trace(self):
        body = self.assertPageContains(self.client.get('/responses/105'))
        self.assertNotIn('id="trace"', body)
        self.assertIn('Correlation ID</dt><dd class="col-sm-9">—', body)

    def test_a_long_trace_is_capped_and_says_so(self):
        with mock.patch('app.browse.trace.TRACE_LIMIT', 2):
            body = self.assertPageContains(self.client.get('/responses/101'),
                                           'the first 2 are listed',
                                           'href="/responses?id=ORDER-4711"')
            data = self.client.get('/api/v1/responses/101').get_json()
        self.assertEqual(len(self.trace_rows(body)), 2)
        self.assertEqual(([item['response_id'] for item in data['trace']], data['trace_capped']),
                         (TRACE_4711[:2], True))

    def test_the_api_detail_has_both_ids_and_the_trace(self):
        data = self.client.get('/api/v1/responses/103').get_json()
        self.assertEqual((data['message_id'], data['correlation_id']), (None, 'ORDER-4711'))
        self.assertEqual([(item['response_id'], item['flow_code']) for item in data['trace']],
                         [(102, 'ORD-SAP-CRM'), (103, 'INV-FILE'), (101, 'HR-SYNC')])
        self.assertEqual(data['trace'][0], {'response_id': 102, 'flow_code': 'ORD-SAP-CRM',
                                            'responded_at': '2026-03-10T09:00:01Z',
                                            'status': 'OK', 'message_id': GUID_102})
        self.assertFalse(data['trace_capped'])
        alone = self.client.get('/api/v1/responses/105').get_json()
        self.assertEqual((alone['trace'], alone['trace_capped']), ([], False))


@on_every_backend
class IdExportTest(IdsTestCase):
    def setUp(self):
        super().setUp()
        self.load_ids()

    def test_csv_export_has_both_columns_protected_from_formulas(self):
        body = self.client.get('/responses/export.csv?sort=oldest').get_data(as_text=True)
        lines = body.lstrip('\ufeff').splitlines()
        self.assertEqual(lines[0], IDS_HEADER)
        self.assertTrue(lines[1].endswith(f',512,{GUID_102},ORDER-4711'), lines[1])
        self.assertTrue(lines[-1].endswith(",'=2+3,ORDER-4712"), lines[-1])
        self.assertTrue(lines[5].endswith(',,'), lines[5])     # 105: no ids

    def test_xlsx_export_has_both_columns_as_text(self):
        data = self.client.get('/responses/export.xlsx?sort=oldest').get_data()
        sheet = load_workbook(io.BytesIO(data), read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(list(rows[0]), IDS_HEADER.split(','))
        self.assertEqual(rows[-1][-2:], ('=2+3', 'ORDER-4712'))
        self.assertEqual(rows[1][-2:], (GUID_102, 'ORDER-4711'))

    def test_exports_load_back_with_nothing_updated(self):
        before = table_checksum('responses')
        for extension in ('csv', 'xlsx'):
            path = Path(self.databases.folder) / f'ids-export.{extension}'
            path.write_bytes(self.client.get(f'/responses/export.{extension}').get_data())
            outcome = self.load('responses', path.name, mode='upsert', path=path,
                                allow_duplicate=True)
            self.assertTrue(outcome.ok, outcome.message)
            self.assertEqual((outcome.counts.inserted, outcome.counts.updated,
                              outcome.counts.unchanged), (0, 0, 6))
            self.assertEqual(table_checksum('responses'), before)
