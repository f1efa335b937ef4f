"""A load stores exactly what was validated: every row and column of an xlsx sheet whatever its
declared <dimension>; an export loads back unchanged; a load after a dry run reads the file as
the dry run did; control characters, rows of countless fields and inflated workbook parts are
refused with a message; a genuine U+FFFD loads; a kept upload that changed is not loaded."""
from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from app.extensions import db
from app.loading import LoadRequest, run_load
from app.loading.readers import open_source
from app.models import AuditEvent, Flow, LoadBatch, Response
from tests.base import ADMIN, on_every_backend
from tests.functional.browse_data import SeededTestCase
from tests.functional.test_loads import LoadTestCase, table_checksum

FLOW_HEADER = ['flow_code', 'name', 'flow_type', 'source_system', 'target_system', 'owner_team',
               'owner_email', 'schedule', 'active', 'description']
RESPONSE_HEADER = ['response_id', 'flow_code', 'responded_at', 'status', 'result_code',
                   'duration_ms', 'error_reason', 'payload_bytes']
#: stored error reasons an export must bring back byte for byte
TRICKY_REASONS = ['-ERR connection reset', "'quoted from the start", "'=already protected",
                  '=1+1', '@SUM(A1)', '+49 30 1234', "''two apostrophes", "'", 'plain']


def xlsx_bytes(rows, dimension: str | None = '') -> bytes:
    """A workbook of ``rows``; ``dimension`` rewrites the sheet's <dimension ref> (None removes
    the element, '' keeps what openpyxl wrote)."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension == '':
        return buffer.getvalue()
    return rewrite_part(buffer.getvalue(), 'xl/worksheets/sheet1.xml', lambda xml: re.sub(
        rb'<dimension ref="[^"]*"\s*/>',
        b'' if dimension is None else f'<dimension ref="{dimension}"/>'.encode(), xml))


def rewrite_part(data: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, 'w', zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, change(content) if item.filename == name else content)
    return output.getvalue()


def flow_rows(count: int):
    return [FLOW_HEADER] + [[f'FLOW-{n:02d}', f'Flow {n}', 'API', 'A', 'B', 'Team', None, None,
                             'true', f'description {n}'] for n in range(count)]


class FidelityTestCase(LoadTestCase):
    def write(self, name: str, data: bytes | str) -> Path:
        path = Path(self.databases.folder) / name
        path.write_bytes(data.encode('utf-8') if isinstance(data, str) else data)
        return path

    def load_file(self, dataset: str, path: Path, mode: str = 'append', **options):
        return run_load(LoadRequest(dataset=dataset, mode=mode, path=path, file_name=path.name,
                                    user=ADMIN, allow_duplicate=True, **options))

    def problem(self, outcome, words: str):
        self.assertEqual(outcome.status, 'failed', outcome.message)
        return next(p for p in outcome.problems.kept if words in p.message)


@on_every_backend
class XlsxDimensionTest(FidelityTestCase):
    def test_stale_dimension_loads_every_row_and_column(self):
        path = self.write('stale.xlsx', xlsx_bytes(flow_rows(10), 'A1:E3'))
        outcome = self.load_file('flows', path, mode='replace')
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual((outcome.counts.inserted, outcome.counts.deleted), (10, 0))
        self.assertEqual(db.session.get(Flow, 'FLOW-09').description, 'description 9')

    def test_missing_dimension_loads_every_row(self):
        path = self.write('nodim.xlsx', xlsx_bytes(flow_rows(10), None))
        outcome = self.load_file('flows', path)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(self.count(Flow), 10)
        self.assertEqual(db.session.get(Flow, 'FLOW-05').description, 'description 5')

    def test_huge_dimension_reads_only_the_real_cells(self):
        self.load_file('flows', self.write('flows.xlsx', xlsx_bytes(flow_rows(1))))
        rows = [RESPONSE_HEADER] + [[n, 'FLOW-00', '2026-03-01 10:00:00', 'OK', 0, 5, None, 1]
                                    for n in range(1, 5001)]
        path = self.write('huge.xlsx', xlsx_bytes(rows, 'A1:XFD1048576'))
        source = open_source(path)
        try:
            read = 0
            for _line, cells in source.rows():
                self.assertLessEqual(len(cells), 8, 'no padding to the declared 16,384 columns')
                read += 1
            self.assertEqual(read, 5001)
        finally:
            source.close()
        outcome = self.load_file('responses', path)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(outcome.counts.inserted, 5000)

    def test_a_value_far_right_of_the_header_is_refused(self):
        rows = flow_rows(2)
        rows[2] = rows[2] + [None] * 100 + ['stray']
        outcome = self.load_file('flows', self.write('wide.xlsx', xlsx_bytes(rows)))
        self.assertEqual(self.problem(outcome, 'the header has 10 columns').line, 3)


@on_every_backend
class ExportRoundTripTest(SeededTestCase):
    """Export, then load the export with upsert: nothing is updated, nothing differs (the
    seeded message and correlation ids included; the tricky texts are ids as well)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with db.engines['ops'].begin() as connection:
            ids = list(connection.scalars(select(Response.response_id)
                                          .order_by(Response.response_id)
                                          .limit(len(TRICKY_REASONS))))
            for response_id, reason in zip(ids, TRICKY_REASONS, strict=True):
                connection.execute(update(Response).where(Response.response_id == response_id)
                                   .values(error_reason=reason, message_id=reason,
                                           correlation_id=reason))
        cls.tricky_ids = ids

    def round_trip(self, extension: str):
        response = self.client.get(f'/responses/export.{extension}')
        self.assertEqual(response.status_code, 200)
        path = Path(self.databases.folder) / f'export.{extension}'
        path.write_bytes(response.get_data())
        before = table_checksum('responses')
        outcome = LoadTestCase.load(self, 'responses', path.name, mode='upsert', path=path,
                                    allow_duplicate=True)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual((outcome.counts.updated, outcome.counts.inserted), (0, 0))
        self.assertEqual(outcome.counts.unchanged, self.count_where())
        self.assertEqual(table_checksum('responses'), before)
        for column in (Response.error_reason, Response.message_id, Response.correlation_id):
            stored = dict(db.session.execute(select(Response.response_id, column)
                                             .where(Response.response_id.in_(self.tricky_ids))).all())
            self.assertEqual([stored[i] for i in self.tricky_ids], TRICKY_REASONS)
        return response

    def test_csv_export_loads_back_unchanged(self):
        body = self.round_trip('csv').get_data(as_text=True)
        self.assertIn(",'-ERR connection reset,", body)
        self.assertIn(",''quoted from the start,", body)

    def test_xlsx_export_loads_back_unchanged(self):
        self.round_trip('xlsx')


@on_every_backend
class ControlCharacterTest(FidelityTestCase):
    def test_control_characters_are_refused_with_line_and_column(self):
        self.base_data()
        before = self.checksums()
        path = self.write('control.csv', ','.join(RESPONSE_HEADER) + '\r\n'
                          '31,HR-SYNC,2026-03-01 10:00:00,OK,0,5,"tab\tand\nbreak are fine",1\r\n'
                          '32,HR-SYNC,2026-03-01 10:00:00,ERROR,0,5,bell\x07here,1\r\n'
                          '33,HR-SYNC,2026-03-01 10:00:00,ERROR,0,5,\x1b[31mred,1\r\n')
        outcome = self.load_file('responses', path)
        bell = self.problem(outcome, 'U+0007')
        self.assertEqual((bell.line, bell.column), (4, 'error_reason'))  # row 31 spans 2 lines
        escape = self.problem(outcome, 'U+001B')
        self.assertEqual((escape.line, escape.column), (5, 'error_reason'))
        self.assertEqual(outcome.problems.count, 2)
        self.assertEqual(self.checksums(), before)

    def test_xlsx_export_of_stored_control_characters_does_not_fail(self):
        self.base_data()
        with db.engines['ops'].begin() as connection:
            connection.execute(update(Response).where(Response.response_id == 1)
                               .values(error_reason='bell\x01 and \x1b[31m escape'))
        response = self.admin_client().get('/responses/export.xlsx')
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        reasons = {row[0]: row[6] for row in sheet.iter_rows(min_row=2, values_only=True)}
        self.assertEqual(reasons[1], 'bell\ufffd and \ufffd[31m escape')
        csv_body = self.admin_client().get('/responses/export.csv').get_data(as_text=True)
        self.assertIn('bell\x01 and \x1b[31m escape', csv_body)


@on_every_backend
class EncodingTest(FidelityTestCase):
    def test_a_genuine_replacement_character_loads(self):
        self.base_data()
        path = self.write('fffd.csv', ','.join(RESPONSE_HEADER) + '\r\n'
                          '41,HR-SYNC,2026-03-01 10:00:00,ERROR,0,5,Umlaut lost: M\ufffdller,1\r\n')
        outcome = self.load_file('responses', path)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(db.session.get(Response, 41).error_reason, 'Umlaut lost: M\ufffdller')

    def test_bytes_invalid_in_the_encoding_are_still_refused(self):
        self.base_data()
        path = self.write('bad.csv', (','.join(RESPONSE_HEADER) + '\r\n').encode()
                          + b'42,HR-SYNC,2026-03-01 10:00:00,ERROR,0,5,caf\xe9 \x81,1\r\n')
        outcome = self.load_file('responses', path, encoding='cp1252')
        problem = self.problem(outcome, 'Bad encoding')
        self.assertEqual((problem.line, problem.column), (2, 'error_reason'))
        self.assertEqual(problem.value, 'café \ufffd')

    def test_cp1252_past_the_first_mib_is_refused_with_its_line(self):
        self.base_data()
        lines = [','.join(RESPONSE_HEADER)] + [
            f'{n},HR-SYNC,2026-03-01 10:00:00,OK,0,5,{"x" * 200},1' for n in range(100, 6100)]
        data = ('\r\n'.join(lines) + '\r\n').encode() \
            + b'9999,HR-SYNC,2026-03-01 10:00:00,ERROR,0,5,Caf\xe9,1\r\n'
        self.assertGreater(len(data), 1 << 20)
        outcome = self.load_file('responses', self.write('late.csv', data), dry_run=True)
        problem = self.problem(outcome, 'not valid UTF-8')
        self.assertEqual(problem.line, len(lines) + 1)
        self.assertIn('Windows-1252', problem.message)

    def test_load_after_dry_run_reads_the_file_as_the_dry_run_did(self):
        admin = self.admin_client()
        path = self.write('cafe.csv', 'flow_code;name;flow_type;source_system;target_system\r\n'
                                      'CAFE-01;Café feed;FILE;Shop;SAP\r\n')
        response = admin.post('/admin/loads', data={
            'dataset': 'flows', 'mode': 'append', 'encoding': 'cp1252', 'dry_run': 'y',
            'file': (io.BytesIO(path.read_bytes()), 'cafe.csv')},
            content_type='multipart/form-data', follow_redirects=True)
        page = self.assertPageContains(response, 'Load this file now', 'Windows-1252, semicolon')
        batch = db.session.scalars(select(LoadBatch).order_by(LoadBatch.id.desc())).first()
        self.assertEqual((batch.encoding, batch.delimiter), ('cp1252', 'semicolon'))
        form = page[page.index('action="/admin/loads/stored"'):]
        form = form[:form.index('</form>')]
        fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form))
        response = admin.post('/admin/loads/stored', data=fields, follow_redirects=True)
        self.assertPageContains(response, '1 records loaded')
        self.assertEqual(db.session.get(Flow, 'CAFE-01').name, 'CafÃ© feed')


@on_every_backend
class FieldCapTest(FidelityTestCase):
    def test_a_row_of_far_too_many_fields_is_refused_with_its_line(self):
        self.base_data()
        before = self.checksums()
        path = self.write('wide.csv', ','.join(RESPONSE_HEADER) + '\r\n'
                          '51,HR-SYNC,2026-03-01 10:00:00,OK,0,5,,1\r\n'
                          '52,HR-SYNC,2026-03-01 10:00:00,OK,0,5,"a,b\r\nc,d",1' + ',' * 500
                          + '\r\n')
        outcome = self.load_file('responses', path)
        problem = self.problem(outcome, 'more than 264 values')
        self.assertEqual(problem.line, 3)
        self.assertEqual(self.checksums(), before)

    def test_quoted_delimiters_and_a_few_empty_trailing_cells_still_load(self):
        self.base_data()
        path = self.write('ok.csv', ','.join(RESPONSE_HEADER) + '\r\n'
                          '53,HR-SYNC,2026-03-01 10:00:00,OK,0,5,"' + ',' * 3000 + '",1,,,\r\n')
        outcome = self.load_file('responses', path)
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(db.session.get(Response, 53).error_reason, ',' * 3000)

    def test_peak_memory_of_a_40_mb_line_of_commas(self):
        self.base_data()
        path = Path(self.databases.folder) / 'commas.csv'
        with open(path, 'wb') as handle:
            handle.write((','.join(RESPONSE_HEADER) + '\r\n').encode())
            handle.write(b'61,HR-SYNC,2026-03-01 10:00:00,OK,0,5,,1\r\n')
            handle.write(b',' * (40 << 20) + b'\r\n')
        tracemalloc.start()
        try:
            outcome = self.load_file('responses', path)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertEqual(self.problem(outcome, 'more than 264 values').line, 3)
        self.assertLess(peak, 200 << 20, f'peak {peak >> 20} MB')


@on_every_backend
class KeptUploadTest(FidelityTestCase):
    def test_a_kept_upload_that_changed_is_discarded_not_loaded(self):
        self.load('flows', 'flows_good.csv')
        admin = self.admin_client()
        self.upload(admin, 'responses', 'responses_good.csv', dry_run=True)
        batch = db.session.scalars(select(LoadBatch).order_by(LoadBatch.id.desc())).first()
        kept = Path(self.app.config['UPLOAD_FOLDER']) / f'{batch.sha256}.upload'
        kept.write_bytes(kept.read_bytes().replace(b'5120', b'9999'))
        before = self.checksums()
        response = admin.post('/admin/loads/stored', data={
            'sha256': batch.sha256, 'dataset': 'responses', 'mode': 'append',
            'encoding': 'utf-8', 'delimiter': 'comma', 'file_name': batch.file_name,
            'allow_duplicate': ''})
        self.assertPageContains(response, 'has changed on the server', status=409)
        self.assertFalse(kept.exists())
        self.assertEqual(self.checksums(), before)
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == 'upload.discarded')).one()
        self.assertIn('responses_good.csv', event.detail)


class InflatedPartTest(FidelityTestCase):
    def test_an_inflated_styles_part_is_refused_in_bounded_memory(self):
        styles = (b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.'
                  b'openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font/></fonts>'
                  b'<fills count="1"><fill/></fills><borders count="1"><border/></borders>'
                  b'<cellXfs count="140000">'
                  + b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * 140_000
                  + b'</cellXfs></styleSheet>')
        data = rewrite_part(xlsx_bytes(flow_rows(2)), 'xl/styles.xml', lambda _xml: styles)
        self.assertLess(len(data), 64 << 10)
        path = self.write('styles.xlsx', data)
        tracemalloc.start()
        try:
            outcome = self.load_file('flows', path)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertIn('xl/styles.xml', self.problem(outcome, 'expands to').message)
        self.assertLess(peak, 20 << 20, f'peak {peak >> 20} MB')
        self.assertEqual(self.count(Flow), 0)
