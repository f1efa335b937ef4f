"""Exports of the current filter: CSV with BOM, the upload columns, formula-looking text
neutralised, exactly the filtered rows; xlsx with the same rows and its row limit."""
import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select, update

from app.datasets import RESPONSES
from app.extensions import db
from app.models import Response
from tests.base import on_every_backend
from tests.functional.browse_data import SeededTestCase

FORMULA = '=HYPERLINK("http://evil.example","click")'


@on_every_backend
class ExportTests(SeededTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with db.engines['ops'].begin() as connection:
            cls.formula_id = connection.scalar(select(Response.response_id)
                                               .where(Response.status == 'ERROR').limit(1))
            connection.execute(update(Response).where(Response.response_id == cls.formula_id)
                               .values(error_reason=FORMULA))

    def read_csv(self, query):
        response = self.client.get(f'/responses/export.csv?{query}')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'text/csv')
        self.assertIn('attachment; filename="flowdesk-responses-',
                      response.headers['Content-Disposition'])
        data = response.get_data()
        self.assertTrue(data.startswith(b'\xef\xbb\xbf'), 'UTF-8 BOM first')
        return list(csv.reader(io.StringIO(data.decode('utf-8-sig'), newline='')))

    def test_csv_columns_and_rows_match_the_filter(self):
        code = self.flow_codes()[0]
        rows = self.read_csv(f'flow={code}&status=ERROR&status=WARN&sort=oldest')
        self.assertEqual(rows[0], RESPONSES.export_columns)
        expected = db.session.execute(
            select(Response).where(Response.flow_code == code,
                                   Response.status.in_(['ERROR', 'WARN']))
            .order_by(Response.responded_at, Response.response_id)).scalars().all()
        self.assertEqual([int(r[0]) for r in rows[1:]], [r.response_id for r in expected])
        first, source = rows[1], expected[0]
        self.assertEqual(first[1], code)
        self.assertEqual(datetime.fromisoformat(first[2]).replace(tzinfo=None),
                         source.responded_at)
        self.assertTrue(first[2].endswith('+00:00'))
        self.assertEqual(first[3], source.status)
        self.assertEqual(first[6], source.error_reason or '')

    def test_formula_is_neutralised(self):
        rows = self.read_csv('status=ERROR')
        cell = next(r[6] for r in rows[1:] if int(r[0]) == self.formula_id)
        self.assertEqual(cell, "'" + FORMULA)

    def test_whole_table_export_has_every_row_once(self):
        rows = self.read_csv('')
        ids = [int(r[0]) for r in rows[1:]]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(len(ids), self.count_where())

    def test_invalid_filter_goes_back_to_the_list_with_the_message(self):
        response = self.client.get('/responses/export.csv?status=NOPE', follow_redirects=True)
        self.assertPageContains(response, 'Unknown status NOPE')

    def test_xlsx_holds_the_same_rows_and_keeps_formulas_as_text(self):
        response = self.client.get('/responses/export.xlsx?status=ERROR')
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(list(rows[0]), RESPONSES.export_columns)
        csv_rows = self.read_csv('status=ERROR')
        self.assertEqual([r[0] for r in rows[1:]], [int(r[0]) for r in csv_rows[1:]])
        cell = next(r[6] for r in rows[1:] if r[0] == self.formula_id)
        self.assertEqual(cell, FORMULA)   # a string cell, never a formula

    def test_xlsx_row_limit(self):
        self.app.config['EXPORT_XLSX_MAX_ROWS'] = 10
        try:
            response = self.client.get('/responses/export.xlsx?status=OK', follow_redirects=True)
        finally:
            self.app.config['EXPORT_XLSX_MAX_ROWS'] = 100_000
        self.assertPageContains(response, 'more than 10 responses', 'export CSV')

    def test_anonymous_cannot_export(self):
        self.assertEqual(self.client_for(None).get('/responses/export.csv').status_code, 401)
