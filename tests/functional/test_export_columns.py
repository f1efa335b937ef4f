"""Exports choose their columns (``columns=``): the chooser on the page, a subset in CSV and
xlsx, a clear refusal of an unknown column, and the default layout still loading back
unchanged."""
import csv
import io
import tempfile
import unittest
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.datasets import RESPONSES
from app.exports.columns import parse_columns
from app.extensions import db
from app.models import Response
from tests.base import on_every_backend
from tests.functional.browse_data import SeededTestCase


def snapshot():
    db.session.expire_all()
    rows = db.session.execute(select(Response).order_by(Response.response_id)).scalars()
    return [(r.response_id, r.flow_code, r.responded_at, r.status, r.result_code, r.duration_ms,
             r.error_reason, r.payload_bytes) for r in rows]


@on_every_backend
class ExportColumnTests(SeededTestCase):

    def csv_rows(self, query):
        response = self.client.get(f'/responses/export.csv?{query}')
        self.assertEqual(response.status_code, 200, response.location)
        return list(csv.reader(io.StringIO(response.get_data().decode('utf-8-sig'), newline='')))

    def test_page_offers_every_upload_column_ticked_with_the_filter_kept(self):
        body = self.client.get('/responses?status=ERROR&range=30d').get_data(as_text=True)
        chooser = body[body.index('id="export-columns"'):]
        chooser = chooser[:chooser.index('</details>')]
        for column in RESPONSES.export_columns:
            self.assertIn(f'name="columns" value="{column}" id="col-{column}" checked', chooser)
        self.assertIn('<input type="hidden" name="status" value="ERROR">', chooser)
        self.assertIn('<input type="hidden" name="range" value="30d">', chooser)
        self.assertIn('formaction="/responses/export.xlsx"', chooser)

    def test_csv_with_chosen_columns_in_the_order_given(self):
        full = self.csv_rows('status=ERROR')
        chosen = self.csv_rows('status=ERROR&columns=status&columns=response_id,error_reason')
        self.assertEqual(chosen[0], ['status', 'response_id', 'error_reason'])
        self.assertEqual(chosen[1:], [[r[3], r[0], r[6]] for r in full[1:]])
        self.assertTrue(chosen[1:])

    def test_xlsx_with_chosen_columns(self):
        response = self.client.get('/responses/export.xlsx?status=WARN&columns=flow_code,'
                                   'duration_ms')
        self.assertEqual(response.status_code, 200)
        rows = list(load_workbook(io.BytesIO(response.get_data()), read_only=True)
                    .active.iter_rows(values_only=True))
        self.assertEqual(rows[0], ('flow_code', 'duration_ms'))
        full = self.csv_rows('status=WARN')
        self.assertEqual([(r[0], '' if r[1] is None else str(r[1])) for r in rows[1:]],
                         [(r[1], r[5]) for r in full[1:]])

    def test_unknown_column_is_refused_with_the_choices(self):
        response = self.client.get('/responses/export.csv?status=ERROR&columns=response_id,secret')
        self.assertEqual(response.status_code, 302)
        page = self.client.get(response.location).get_data(as_text=True)
        self.assertIn('Unknown export column secret', page)
        self.assertIn('payload_bytes', page)

    def test_default_columns_write_the_same_file_and_it_loads_back_unchanged(self):
        every = ','.join(RESPONSES.export_columns)
        plain = self.client.get('/responses/export.csv').get_data()
        explicit = self.client.get(f'/responses/export.csv?columns={every}').get_data()
        self.assertEqual(plain, explicit)
        before = snapshot()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / 'export.csv'
            path.write_bytes(explicit)
            result = self.app.test_cli_runner().invoke(
                args=['load', 'responses', str(path), '--mode', 'upsert'])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(snapshot(), before)
        self.assertEqual(len(before), self.count_where())


class ParseColumnsTests(unittest.TestCase):
    """``columns=`` parsing at unit level."""

    def test_parsing(self):
        cases = [
            ([], (None, None)),
            (['status, response_id', 'status'], (('status', 'response_id'), None)),
            ([','.join(RESPONSES.export_columns)], (None, None)),
            (['RESPONSE_ID'], (('response_id',), None)),
        ]
        for values, expected in cases:
            with self.subTest(values=values):
                self.assertEqual(parse_columns(MultiDict([('columns', v) for v in values])),
                                 expected)
        columns, error = parse_columns(MultiDict([('columns', 'nope')]))
        self.assertIsNone(columns)
        self.assertIn('Unknown export column nope', error)
