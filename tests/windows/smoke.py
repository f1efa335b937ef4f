"""Smoke tests of every page, the API, both exports and a load, run by the Windows-likeness tier
(tests.functional.test_windows_tier) in a process that sees the world as a Windows server does:
no system time zone database (PYTHONTZPATH names an empty folder, so zoneinfo reads the tzdata
package), stdout and stderr in cp1252, and DISPLAY_TIMEZONE / DATA_TIMEZONE = Europe/Berlin.
A text file opened in app/ without an encoding is an error here (PYTHONWARNDEFAULTENCODING)."""
import codecs
import csv
import importlib.resources
import io
import os
import sys
import warnings
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Flow, LoadBatch, Response
from tests.base import ASSETS, FlowdeskTestCase
from tests.functional.browse_data import SeededTestCase
from tests.windows.environment import ZONE_NAME

TIER_SETTINGS = {'DISPLAY_TIMEZONE': os.environ.get('DISPLAY_TIMEZONE', ZONE_NAME),
                 'DATA_TIMEZONE': os.environ.get('DATA_TIMEZONE', ZONE_NAME)}
HOW_TO_RUN = ('this module runs inside the Windows-likeness tier: '
              '`flask test tests.functional.test_windows_tier`')


def berlin(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo(ZONE_NAME))


class EncodingWarningsAreErrors:
    """Mixin: in app/, opening a text file without an encoding fails the test (it would read
    and write cp1252 on Windows)."""

    def setUp(self):
        super().setUp()
        self.enterContext(warnings.catch_warnings())
        warnings.filterwarnings('error', category=EncodingWarning, module=r'app(\.|$)')


class TierEnvironmentTests(EncodingWarningsAreErrors, FlowdeskTestCase):
    """The tier really is Windows-like; otherwise its other tests would prove nothing."""

    def test_system_time_zone_database_is_out_of_sight(self):
        self.assertTrue(zoneinfo.TZPATH, HOW_TO_RUN)
        for folder in map(Path, zoneinfo.TZPATH):
            for zone_file in ('UTC', 'Europe/Berlin'):
                self.assertFalse((folder / zone_file).exists(), f'{folder}: {HOW_TO_RUN}')

    def test_zones_come_from_the_tzdata_package(self):
        zone = zoneinfo.ZoneInfo(ZONE_NAME)
        self.assertEqual(datetime(2026, 1, 15, tzinfo=zone).utcoffset().total_seconds(), 3600)
        self.assertEqual(datetime(2026, 7, 15, tzinfo=zone).utcoffset().total_seconds(), 7200)
        self.assertIn('tzdata', sys.modules)
        self.assertTrue(importlib.resources.files('tzdata.zoneinfo')
                        .joinpath('Europe', 'Berlin').is_file())

    def test_console_is_cp1252_and_made_lenient_by_the_app(self):
        for stream in (sys.stdout, sys.stderr):
            self.assertEqual(codecs.lookup(stream.encoding).name, 'cp1252', HOW_TO_RUN)
            self.assertEqual(stream.errors, 'backslashreplace')
        self.assertEqual(TIER_SETTINGS, {'DISPLAY_TIMEZONE': ZONE_NAME, 'DATA_TIMEZONE': ZONE_NAME})
        self.assertEqual(sys.flags.warn_default_encoding, 1, HOW_TO_RUN)

    def test_an_app_module_opening_text_without_encoding_fails_here(self):
        path = Path(self.databases.folder) / 'probe.txt'
        path.write_text('x', encoding='utf-8')
        probe = {'__name__': 'app.probe'}
        exec(compile(  # noqa: S102 - a fixed two-line module posing as app code
            'def read(p):\n    return open(p).read()\n', 'app/probe.py', 'exec'), probe)
        with self.assertRaises(EncodingWarning):
            probe['read'](path)


class PagesApiAndExportsTests(EncodingWarningsAreErrors, SeededTestCase):
    SETTINGS = TIER_SETTINGS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.row = db.session.scalars(select(Response).where(Response.status == 'ERROR')
                                     .order_by(Response.response_id).limit(1)).one()
        cls.flow_code = cls.row.flow_code
        cls.batch_id = db.session.scalar(select(LoadBatch.id).limit(1))
        db.session.remove()

    def test_every_page_answers_in_the_display_zone(self):
        viewer_pages = ['/', '/responses', '/responses?status=ERROR&sort=oldest',
                        f'/responses/{self.row.response_id}', '/flows',
                        f'/flows/{self.flow_code}', '/whoami']
        admin_pages = ['/admin/loads', '/admin/batches', f'/admin/batches/{self.batch_id}',
                       '/admin/users', '/admin/audit']
        admin = self.admin_client()
        for client, pages in ((self.client, viewer_pages), (admin, admin_pages)):
            for page in pages:
                with self.subTest(page=page):
                    self.assertPageContains(client.get(page), f'times in {ZONE_NAME}')

    def test_a_response_shows_its_time_in_the_display_zone(self):
        expected = berlin(self.row.responded_at).strftime('%Y-%m-%d %H:%M:%S')
        self.assertPageContains(self.client.get(f'/responses/{self.row.response_id}'),
                                f'{expected}.', f'({ZONE_NAME})')

    def test_api_answers_in_utc_and_names_the_display_zone(self):
        listed = self.client.get('/api/v1/responses?status=ERROR&sort=oldest').get_json()
        first = next(item for item in listed['items']
                     if item['response_id'] == self.row.response_id)
        self.assertEqual(first['responded_at'], self.row.responded_at.isoformat() + 'Z')
        flow = self.client.get(f'/api/v1/flows/{self.flow_code}').get_json()
        self.assertEqual(flow['flow_code'], self.flow_code)
        daily = self.client.get('/api/v1/stats/daily').get_json()
        self.assertEqual(daily['time_zone'], 'UTC')
        self.assertTrue(daily['items'])
        spec = self.client.get('/api/v1/openapi.json').get_json()
        self.assertEqual(spec['x-display-time-zone'], ZONE_NAME)

    def test_csv_and_xlsx_exports_carry_the_display_zone_offset(self):
        query = f'flow={self.flow_code}&sort=oldest'
        response = self.client.get(f'/responses/export.csv?{query}')
        self.assertEqual(response.status_code, 200)
        rows = list(csv.reader(io.StringIO(response.get_data().decode('utf-8-sig'), newline='')))
        expected = db.session.scalars(select(Response).where(Response.flow_code == self.flow_code)
                                      .order_by(Response.responded_at, Response.response_id)).all()
        self.assertEqual([int(r[0]) for r in rows[1:]], [r.response_id for r in expected])
        for row, source in zip(rows[1:], expected, strict=True):
            shown, local = datetime.fromisoformat(row[2]), berlin(source.responded_at)
            self.assertEqual(shown.utcoffset(), local.utcoffset())
            self.assertEqual(shown.astimezone(UTC), local.astimezone(UTC))
            self.assertRegex(row[2], r'\+0[12]:00$')
        response = self.client.get(f'/responses/export.xlsx?{query}')
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
        cells = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        self.assertEqual([(c[0], c[2]) for c in cells], [(int(r[0]), r[2]) for r in rows[1:]])


class LoadTests(EncodingWarningsAreErrors, FlowdeskTestCase):
    SETTINGS = TIER_SETTINGS

    def load(self, dataset, path):
        result = self.app.test_cli_runner().invoke(args=['load', dataset, str(path)])
        self.assertEqual(result.exit_code, 0, result.output)
        return result.output

    def test_times_without_offset_are_read_in_the_data_zone(self):
        self.load('flows', ASSETS / 'loads' / 'flows_good.csv')
        self.load('flows', ASSETS / 'windows' / 'flows_non_western.csv')
        path = Path(self.databases.folder) / 'berlin.csv'
        path.write_text('response_id,flow_code,responded_at,status\n'
                        '1,JP-ORDERS,2026-01-15 10:00:00,OK\n'
                        '2,JP-ORDERS,2026-07-15 10:00:00,OK\n'
                        '3,ORD-SAP-CRM,2026-07-15 10:00:00+00:00,OK\n', encoding='utf-8')
        output = self.load('responses', path)
        self.assertIn('3 records loaded into responses', output)
        stored = dict(db.session.execute(select(Response.response_id, Response.responded_at)).all())
        self.assertEqual(stored, {1: datetime(2026, 1, 15, 9), 2: datetime(2026, 7, 15, 8),
                                  3: datetime(2026, 7, 15, 10)})
        self.assertEqual(db.session.scalar(select(Flow.name).where(Flow.flow_code == 'JP-ORDERS')),
                         '受注 → 倉庫 🚚')
