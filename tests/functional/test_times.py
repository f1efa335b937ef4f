"""Times you can trust, on SQLite and PostgreSQL: implausible response times are refused, the
daylight-saving gap and overlap of DATA_TIMEZONE are decided on purpose (an error, and a
warning in the load report on the page and the command line), demo data ends at the seeding
moment, and times are shown as people read them while exports keep every digit loaded.

The server's clock is fixed through the app's ``CLOCK`` setting (app.clock), never slept on."""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from parameterized import parameterized
from sqlalchemy import func, select

from app.clock import utc_now
from app.extensions import db
from app.models import AuditEvent, LoadBatch, LoadError, Response, User
from tests.base import ADMIN, on_every_backend
from tests.functional.test_loads import LOADS, LoadTestCase

#: The server's time in these tests (naive UTC).
NOW = datetime(2026, 11, 30, 4, 0, 0)
HEADER = ('response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,'
          'payload_bytes')

#: zone -> (gap fixture, gap line, gap message, overlap fixture, stored UTC times by id, warning)
ZONES = [
    ('Europe/Berlin', 'dst_gap_europe_berlin.csv',
     '2026-03-29 02:30:00 does not exist in Europe/Berlin: clocks jump from 02:00 to 03:00',
     'dst_overlap_europe_berlin.csv',
     {1: datetime(2026, 10, 24, 23, 59, 59), 2: datetime(2026, 10, 25, 0, 30),
      3: datetime(2026, 10, 25, 0, 30), 4: datetime(2026, 10, 25, 1, 30),
      5: datetime(2026, 10, 25, 2, 0)},
     '2 timestamps fell in the repeated hour of 2026-10-25 02:00–03:00 Europe/Berlin; '
     'read as CEST; give a UTC offset to be exact.'),
    ('America/New_York', 'dst_gap_america_new_york.csv',
     '2026-03-08 02:30:00 does not exist in America/New_York: clocks jump from 02:00 to 03:00',
     'dst_overlap_america_new_york.csv',
     {1: datetime(2026, 11, 1, 4, 59, 59), 2: datetime(2026, 11, 1, 5, 30),
      3: datetime(2026, 11, 1, 5, 30), 4: datetime(2026, 11, 1, 6, 30),
      5: datetime(2026, 11, 1, 7, 0)},
     '2 timestamps fell in the repeated hour of 2026-11-01 01:00–02:00 America/New_York; '
     'read as EDT; give a UTC offset to be exact.'),
]


class TimesTestCase(LoadTestCase):
    """Loads with the server's clock fixed at NOW and the flows of flows_good.csv in place."""

    def setUp(self):
        super().setUp()
        self.app.config['CLOCK'] = lambda: NOW
        self.addCleanup(self.app.config.pop, 'CLOCK', None)
        self.assertTrue(self.load('flows', 'flows_good.csv').ok)

    def set_config(self, **settings):
        for name, value in settings.items():
            previous = self.app.config[name]
            self.app.config[name] = value
            self.addCleanup(self.app.config.__setitem__, name, previous)

    def folder(self) -> Path:
        folder = Path(tempfile.mkdtemp(prefix='flowdesk-times-'))
        self.addCleanup(shutil.rmtree, folder, True)
        return folder

    def write(self, *rows: str) -> Path:
        path = self.folder() / 'responses.csv'
        path.write_text('\n'.join((HEADER, *rows)) + '\n', encoding='utf-8')
        return path

    def stored_times(self) -> dict[int, datetime]:
        with db.engines['ops'].connect() as connection:
            rows = connection.execute(select(Response.response_id, Response.responded_at))
            return dict(rows.tuples().all())

    def cli_load(self, fixture: str, *options: str):
        return self.app.test_cli_runner().invoke(
            args=['load', 'responses', str(LOADS / fixture), '--user', ADMIN, *options])


@on_every_backend
class PlausibleTimesTest(TimesTestCase):
    def test_future_and_ancient_times_are_refused_with_line_column_and_server_time(self):
        body = self.assertPageContains(self.upload(self.admin_client(), 'responses',
                                                   'times_implausible.csv'), 'Rejected: 2 problems')
        self.assertEqual(self.count(Response), 0)
        with db.engines['ops'].connect() as connection:
            problems = connection.execute(
                select(LoadError.line, LoadError.column, LoadError.message)
                .order_by(LoadError.line)).all()
        self.assertEqual([(line, column) for line, column, _ in problems],
                         [(3, 'responded_at'), (4, 'responded_at')])
        self.assertIn('2062-03-01 09:00:00 UTC is in the future', problems[0].message)
        self.assertIn("the server's time is now 2026-11-30 04:00:00 UTC", problems[0].message)
        self.assertIn('MAX_CLOCK_SKEW_MINUTES', problems[0].message)
        self.assertIn('1970-01-01 00:00:00 UTC is before 2000-01-01', problems[1].message)
        self.assertIn('EARLIEST_RESPONSE_DATE', problems[1].message)
        self.assertIn('is in the future', body)

    def test_the_allowed_clock_skew_is_the_limit_to_the_second(self):
        limit = NOW + timedelta(minutes=15)
        late = self.load('responses', '', path=self.write(
            f'1,ORD-SAP-CRM,{limit + timedelta(seconds=1):%Y-%m-%d %H:%M:%S},OK,200,1,,'))
        self.assertFalse(late.ok)
        self.assertEqual(late.problems.kept[0].line, 2)
        ok = self.load('responses', '', path=self.write(
            f'1,ORD-SAP-CRM,{limit:%Y-%m-%d %H:%M:%S},OK,200,1,,',
            '2,ORD-SAP-CRM,2000-01-01 00:00:00,OK,200,1,,'))
        self.assertTrue(ok.ok, ok.problems.kept)
        self.assertEqual(self.stored_times(), {1: limit, 2: datetime(2000, 1, 1)})

    def test_limits_follow_the_settings(self):
        self.set_config(MAX_CLOCK_SKEW_MINUTES=0,
                        EARLIEST_RESPONSE_DATE=datetime(1970, 1, 1).date())
        outcome = self.load('responses', '', path=self.write(
            '1,ORD-SAP-CRM,1970-01-01 00:00:00,OK,200,1,,',
            '2,ORD-SAP-CRM,2026-11-30 04:00:01,OK,200,1,,'))
        self.assertEqual([(p.line, p.column) for p in outcome.problems.kept], [(3, 'responded_at')])
        self.assertIn('at most 0 minutes', outcome.problems.kept[0].message)

    def test_the_upload_page_states_both_limits(self):
        body = self.assertPageContains(self.admin_client().get('/admin/loads'),
                                       'plus 15 minutes', 'MAX_CLOCK_SKEW_MINUTES',
                                       'not before 2000-01-01', 'EARLIEST_RESPONSE_DATE')
        self.assertIn('daylight-saving gap', body)


@on_every_backend
class DaylightSavingTest(TimesTestCase):
    @parameterized.expand([(zone[0], *zone[1:3]) for zone in ZONES])
    def test_a_local_time_in_the_gap_is_an_error_naming_the_gap(self, zone, fixture, message):
        self.set_config(DATA_TIMEZONE=zone)
        outcome = self.load('responses', fixture)
        self.assertEqual(outcome.status, 'failed')
        self.assertEqual([(p.line, p.column) for p in outcome.problems.kept], [(3, 'responded_at')])
        self.assertIn(message, outcome.problems.kept[0].message)
        self.assertEqual(self.count(Response), 0)

    @parameterized.expand([(zone[0], *zone[3:]) for zone in ZONES])
    def test_the_repeated_hour_loads_as_the_first_occurrence_with_a_warning_on_the_page(
            self, zone, fixture, expected, warning):
        self.set_config(DATA_TIMEZONE=zone)
        body = self.assertPageContains(self.upload(self.admin_client(), 'responses', fixture),
                                       '5 records loaded', 'alert-warning')
        self.assertIn(f'Warning: {warning}', body)
        self.assertEqual(self.stored_times(), expected)  # the offset (row 4) wins over the zone
        with db.engines['ops'].connect() as connection:
            batch = connection.execute(select(LoadBatch.id, LoadBatch.warnings).where(
                LoadBatch.dataset == 'responses')).one()
        self.assertEqual(batch.warnings, warning)  # kept with the batch
        page = self.assertPageContains(self.admin_client().get(f'/admin/batches/{batch.id}'),
                                       'id="batch-warnings"')
        self.assertIn(f'<li>{warning}</li>', page)

    @parameterized.expand([(zone[0], *zone[3:]) for zone in ZONES])
    def test_the_warning_shows_on_the_command_line_and_in_a_dry_run(
            self, zone, fixture, _expected, warning):
        self.set_config(DATA_TIMEZONE=zone)
        dry = self.cli_load(fixture, '--dry-run')
        self.assertEqual(dry.exit_code, 0, dry.output)
        self.assertIn(f'Warning: {warning}', dry.output)
        self.assertEqual(self.count(Response), 0)
        loaded = self.cli_load(fixture)
        self.assertEqual(loaded.exit_code, 0, loaded.output)
        self.assertIn(f'Warning: {warning}', loaded.output)
        self.assertEqual(self.count(Response), 5)

    def test_a_warning_is_counted_once_when_the_row_has_another_problem(self):
        self.set_config(DATA_TIMEZONE='Europe/Berlin')
        outcome = self.load('responses', '', path=self.write(
            '1,ORD-SAP-CRM,2026-10-25 02:30:00,OK,200,oops,,'))
        self.assertFalse(outcome.ok)
        self.assertIn('1 timestamp fell in the repeated hour', ' '.join(outcome.warnings))

    def test_times_without_a_transition_and_with_offsets_give_no_warning(self):
        self.set_config(DATA_TIMEZONE='Europe/Berlin')
        outcome = self.load('responses', '', path=self.write(
            '1,ORD-SAP-CRM,2026-07-01 12:00:00,OK,200,1,,',
            '2,ORD-SAP-CRM,2026-10-25T02:30:00Z,OK,200,1,,',
            '3,ORD-SAP-CRM,2026-03-29T02:30:00+02:00,OK,200,1,,'))
        self.assertTrue(outcome.ok, outcome.problems.kept)
        self.assertEqual(outcome.warnings, [])
        self.assertEqual(self.stored_times(), {1: datetime(2026, 7, 1, 10),
                                               2: datetime(2026, 10, 25, 2, 30),
                                               3: datetime(2026, 3, 29, 0, 30)})


@on_every_backend
class RecordedTimesFollowTheClockTest(TimesTestCase):
    """Every time Flowdesk records (column defaults included) comes from the server's clock."""

    def test_a_load_batch_is_stamped_with_the_servers_clock(self):
        batch = db.session.scalars(select(LoadBatch).order_by(LoadBatch.id.desc())).first()
        self.assertEqual((batch.started_at, batch.finished_at), (NOW, NOW))

    def test_a_new_user_and_the_audit_event_are_stamped_with_the_servers_clock(self):
        self.assertEqual(self.client_for('CORP\\newcomer').get('/whoami').status_code, 200)
        user = db.session.scalar(select(User).where(User.login == 'CORP\\newcomer'))
        self.assertEqual((user.first_seen, user.last_seen), (NOW, NOW))
        events = db.session.scalars(select(AuditEvent.at).where(
            AuditEvent.target == user.login)).all()
        self.assertTrue(events)
        self.assertEqual(set(events), {NOW})


@on_every_backend
class SeedDemoEndsNowTest(TimesTestCase):
    def seed(self, *args):
        return self.app.test_cli_runner().invoke(
            args=['seed-demo', '--force', '--responses', '2000', *args])

    def newest(self) -> datetime:
        return db.session.scalar(select(func.max(Response.responded_at)))

    def test_demo_data_ends_at_the_seeding_moment(self):
        seeding_moment = NOW + timedelta(minutes=7, seconds=3)
        self.app.config['CLOCK'] = lambda: seeding_moment
        result = self.seed()
        self.assertEqual(result.exit_code, 0, result.output)
        newest = self.newest()
        self.assertLessEqual(newest, seeding_moment)
        self.assertGreater(newest, seeding_moment - timedelta(hours=2))  # it still reaches "now"
        self.assertIn('to 2026-11-30 04:07 UTC', result.output)

    def test_with_the_real_clock_nothing_lies_in_the_future(self):
        self.app.config.pop('CLOCK')
        result = self.seed()
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertLessEqual(self.newest(), utc_now())

    def test_an_until_in_the_future_is_refused(self):
        result = self.seed('--until', '2026-11-30 05:00:00')
        self.assertEqual(result.exit_code, 1)
        self.assertIn('is in the future', result.output)
        self.assertEqual(self.count(Response), 0)


@on_every_backend
class TimeDisplayTest(TimesTestCase):
    LOADED = {1: '2026-11-30 02:44:47.147', 2: '2026-11-30 02:44:48.123456',
              3: '2026-11-30 02:44:49', 4: '2026-11-30 02:44:50.1'}

    def setUp(self):
        super().setUp()
        self.assertTrue(self.load('responses', 'times_precision.csv').ok)

    def test_the_response_page_shows_milliseconds_without_trailing_zeros(self):
        body = self.assertPageContains(self.client.get('/responses/1'),
                                       '<time datetime="2026-11-30T02:44:47.147Z" '
                                       'title="2026-11-30T02:44:47.147Z">'
                                       '2026-11-30 02:44:47.147</time>')
        self.assertNotIn('147000', body)
        self.assertPageContains(self.client.get('/responses/2'),
                                '<time datetime="2026-11-30T02:44:48.123Z" '
                                'title="2026-11-30T02:44:48.123456Z">'
                                '2026-11-30 02:44:48.123</time>')
        self.assertPageContains(self.client.get('/responses/3'),
                                'title="2026-11-30T02:44:49Z">2026-11-30 02:44:49</time>')
        self.assertPageContains(self.client.get('/responses/4'), '>2026-11-30 02:44:50.1</time>')

    def test_lists_show_seconds_in_time_markup(self):
        body = self.assertPageContains(self.client.get('/responses'),
                                       '<time datetime="2026-11-30T02:44:47.147Z" '
                                       'title="2026-11-30T02:44:47.147Z">'
                                       '2026-11-30 02:44:47</time>')
        self.assertNotIn('02:44:47.147<', body)
        self.assertPageContains(self.client.get('/flows'), '>2026-11-30 02:44:50</time>')

    def test_the_api_gives_iso_8601_with_an_offset(self):
        item = self.client.get('/api/v1/responses/1').get_json()
        self.assertEqual(item['responded_at'], '2026-11-30T02:44:47.147000Z')
        self.assertEqual(datetime.fromisoformat(item['responded_at']).utcoffset(), timedelta(0))

    def test_exports_keep_every_digit_and_load_back_unchanged(self):
        response = self.client.get('/responses/export.csv')
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip('\ufeff'))))
        exported = {int(row['response_id']): datetime.fromisoformat(row['responded_at'])
                    for row in rows}
        workbook = load_workbook(io.BytesIO(self.client.get('/responses/export.xlsx').data),
                                 read_only=True)
        sheet_rows = list(workbook.active.iter_rows(values_only=True))
        in_xlsx = {row[0]: datetime.fromisoformat(row[2]) for row in sheet_rows[1:]}
        expected = {key: datetime.fromisoformat(value + '+00:00')
                    for key, value in self.LOADED.items()}
        self.assertEqual(exported, expected)
        self.assertEqual(in_xlsx, expected)
        before = self.stored_times()
        for name, data in (('export.csv', response.data),
                           ('export.xlsx', self.client.get('/responses/export.xlsx').data)):
            path = self.folder() / name
            path.write_bytes(data)
            outcome = self.load('responses', name, mode='upsert', path=path, allow_duplicate=True)
            self.assertTrue(outcome.ok, outcome.problems.kept)
            self.assertEqual((outcome.counts.unchanged, outcome.counts.updated), (4, 0), name)
        self.assertEqual(self.stored_times(), before)
