"""Source profiles in the load pipeline, on SQLite and PostgreSQL: a CPI-style and a
Logic-Apps-style export load unchanged through ``run_load``, ``flask load --profile`` and an
inbox, every row mapped as documented; a bad file is rejected with the source's line and
column and changes nothing; loading the same export again, or Flowdesk's export of the mapped
rows, changes nothing (0 updated)."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from parameterized import parameterized

from app.extensions import db
from app.jobs import JobContext, get_job
from app.jobs.runner import run_job
from app.loading import LoadRefused, LoadRequest, run_load
from app.models import LoadBatch
from app.profiles import resolve
from app.profiles.builtins import LOGIC_APPS, SAP_CPI
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.functional.jobs_support import add_inbox
from tests.functional.profiles_support import (
    CORRELATION,
    CPI_FILE,
    CPI_ROWS,
    CUSTOM,
    LOGIC_APPS_FILE,
    LOGIC_APPS_ROWS,
    PROFILES,
    add_flows,
    add_profile,
    expected_id,
    stored_responses,
)
from tests.functional.test_loads import table_checksum


class ProfileLoadCase(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        add_flows()

    def load(self, path: Path, profile: str | None, mode: str = 'upsert', **options):
        return run_load(LoadRequest(dataset='responses', mode=mode, path=path,
                                    file_name=path.name, user=ADMIN,
                                    profile=resolve(profile), **options))

    def assert_ids(self, row, source_id: str):
        """The source's own id and its correlation id are kept, for the id search and trace."""
        self.assertEqual((row.message_id, row.correlation_id),
                         (source_id, CORRELATION[source_id]))

    def assert_cpi_rows(self):
        rows = stored_responses()
        self.assertEqual(len(rows), len(CPI_ROWS))
        for guid, (flow, at, status, duration) in CPI_ROWS.items():
            row = rows[expected_id(SAP_CPI, guid)]
            self.assertEqual((row.flow_code, row.responded_at, row.status, row.duration_ms),
                             (flow, at, status, duration), guid)
            self.assert_ids(row, guid)

    def assert_logic_apps_rows(self):
        rows = stored_responses()
        self.assertEqual(len(rows), len(LOGIC_APPS_ROWS))
        for run_id, (flow, at, status, duration, reason) in LOGIC_APPS_ROWS.items():
            row = rows[expected_id(LOGIC_APPS, run_id)]
            self.assertEqual((row.flow_code, row.responded_at, row.status, row.duration_ms,
                              row.error_reason), (flow, at, status, duration, reason), run_id)
            self.assert_ids(row, run_id)


@on_every_backend
class BuiltInProfileTests(ProfileLoadCase):
    def test_cpi_export_loads_every_final_row_as_documented(self):
        outcome = self.load(CPI_FILE, SAP_CPI)
        self.assertTrue(outcome.ok, outcome.problems.kept)
        self.assertEqual((outcome.counts.read, outcome.counts.inserted), (8, 7))
        self.assertIn(f'Skipped 1 row whose Status is PROCESSING: not a final state, so the '
                      f'source profile {SAP_CPI} leaves it', outcome.message)
        self.assertNotIn('Ignored column', outcome.message)
        self.assert_cpi_rows()
        self.assertEqual(db.session.get(LoadBatch, outcome.batch_id).profile, SAP_CPI)

    def test_logic_apps_export_loads_every_final_run_as_documented(self):
        outcome = self.load(LOGIC_APPS_FILE, LOGIC_APPS)
        self.assertTrue(outcome.ok, outcome.problems.kept)
        self.assertEqual((outcome.counts.read, outcome.counts.inserted), (6, 4))
        self.assertIn('Skipped 2 rows whose Status is Running', outcome.message)
        self.assert_logic_apps_rows()

    def test_loading_the_same_export_again_changes_nothing(self):
        self.load(CPI_FILE, SAP_CPI)
        before = table_checksum('responses')
        again = self.load(CPI_FILE, SAP_CPI, allow_duplicate=True)
        self.assertEqual((again.counts.inserted, again.counts.updated, again.counts.unchanged),
                         (0, 0, 7))
        self.assertEqual(table_checksum('responses'), before)

    def test_flowdesk_export_of_mapped_rows_reloads_with_nothing_updated(self):
        self.load(LOGIC_APPS_FILE, LOGIC_APPS)
        before = table_checksum('responses')
        export = self.client.get('/responses/export.csv?range=all')
        self.assertEqual(export.status_code, 200)
        path = Path(self.databases.folder) / 'export.csv'
        path.write_bytes(export.get_data())
        outcome = self.load(path, None)
        self.assertTrue(outcome.ok, outcome.problems.kept)
        self.assertEqual((outcome.counts.inserted, outcome.counts.updated,
                          outcome.counts.unchanged), (0, 0, 4))
        self.assertEqual(table_checksum('responses'), before)

    def test_the_same_derived_id_with_another_message_id_is_an_error_with_its_line(self):
        guid = 'AGWx3l1Hq7Wm3Ke9Pz2Nc5Vd8Tfa'  # line 4 of the CPI fixture
        path = Path(self.databases.folder) / 'collision.csv'
        path.write_text('response_id,flow_code,responded_at,status,message_id\r\n'
                        f'{expected_id(SAP_CPI, guid)},INVOICEREPLICATION,2026-03-01 10:00:00,OK,'
                        'ANOTHER-MESSAGE\r\n', encoding='utf-8', newline='')
        self.assertTrue(self.load(path, None).ok)
        before = table_checksum('responses')
        outcome = self.load(CPI_FILE, SAP_CPI)
        self.assertFalse(outcome.ok)
        problem, = outcome.problems.kept
        self.assertEqual((problem.line, problem.column, problem.value), (4, 'MessageGuid', guid))
        self.assertIn(f'derived from {guid}, is already stored for ANOTHER-MESSAGE',
                      problem.message)
        self.assertEqual(table_checksum('responses'), before)

    def test_a_profile_of_another_dataset_is_refused(self):
        with self.assertRaisesRegex(LoadRefused, 'maps files to responses, not to flows'):
            run_load(LoadRequest(dataset='flows', mode='append', path=CPI_FILE,
                                 file_name='x.csv', user=ADMIN, profile=resolve(SAP_CPI)))

    def test_a_file_without_the_profiles_columns_is_rejected_before_any_row(self):
        outcome = self.load(LOGIC_APPS_FILE, SAP_CPI)
        self.assertFalse(outcome.ok)
        problem = outcome.problems.kept[0]
        self.assertEqual(problem.line, 1)
        self.assertIn('This file lacks the columns MessageGuid, CorrelationId, '
                      'IntegrationFlowName, LogEnd, LogStart that the source profile',
                      problem.message)


@on_every_backend
class RejectedSourceFileTests(ProfileLoadCase):
    """A bad file names the source's line and column, and changes nothing."""

    @parameterized.expand([
        ('unmapped_status', 'sap_cpi_bad_status.csv', 4, 'Status', 'WAITING',
         'Status WAITING is not in the source profile\'s value map (COMPLETED, FAILED'),
        ('bad_timestamp', 'sap_cpi_bad_timestamp.csv', 3, 'LogEnd', '02.03.2026 08:15',
         'LogEnd is not a date and time like 2026-03-01 14:05:09'),
        ('unknown_flow', 'sap_cpi_unknown_flow.csv', 7, 'IntegrationFlowName',
         'PRICELISTUPLOAD', 'IntegrationFlowName PRICELISTUPLOAD names no flow in the database'),
    ])
    def test_rejected_with_source_line_and_column(self, _name, fixture, line, column, value,
                                                  words):
        self.load(CPI_FILE, SAP_CPI)
        before = table_checksum('responses')
        outcome = self.load(PROFILES / fixture, SAP_CPI)
        self.assertFalse(outcome.ok)
        self.assertIn((line, column, value), [(p.line, p.column, p.value)
                                              for p in outcome.problems.kept])
        messages = ' '.join(p.message for p in outcome.problems.kept)
        self.assertIn(words, messages)
        self.assertEqual(outcome.counts.inserted + outcome.counts.updated, 0)
        self.assertEqual(table_checksum('responses'), before)

    def test_a_message_listed_twice_is_named_by_its_source_id(self):
        path = Path(self.databases.folder) / 'twice.csv'
        lines = CPI_FILE.read_text(encoding='utf-8').splitlines()
        path.write_text('\r\n'.join(lines + [lines[3]]) + '\r\n', encoding='utf-8')
        outcome = self.load(path, SAP_CPI)
        self.assertEqual([(p.line, p.column, p.value, p.message) for p in outcome.problems.kept],
                         [(10, 'MessageGuid', 'AGWx3l1Hq7Wm3Ke9Pz2Nc5Vd8Tfa',
                           'MessageGuid AGWx3l1Hq7Wm3Ke9Pz2Nc5Vd8Tfa is repeated: line 4 of this '
                           'file has it too.')])
        self.assertTrue(self.load(CPI_FILE, SAP_CPI).ok)
        appended = self.load(CPI_FILE, SAP_CPI, mode='append', allow_duplicate=True)
        self.assertIn('MessageGuid AGWx3kV0n6h1sQ8R2mZp7YtLcUa9 already exists',
                      appended.problems.kept[0].message)

    def test_unknown_flow_name_rejected_by_a_lookup_that_rejects(self):
        add_profile('Plattform', CUSTOM)
        path = Path(self.databases.folder) / 'plattform.csv'
        path.write_text('Lauf;Schnittstelle;Beginn;Ende;Ergebnis;Bemerkung\r\n'
                        '1;Bestellungen an SAP;01.03.2026 09:00:00;01.03.2026 09:00:02;OK;\r\n'
                        '2;Preislisten;01.03.2026 09:10:00;01.03.2026 09:10:01;ok;neu\r\n',
                        encoding='utf-8', newline='')
        outcome = self.load(path, 'Plattform')
        self.assertEqual([(p.line, p.column, p.value) for p in outcome.problems.kept],
                         [(3, 'Schnittstelle', 'Preislisten')])
        self.assertIn('Schnittstelle Preislisten is not in the source profile\'s flow lookup',
                      outcome.problems.kept[0].message)
        self.assertEqual(stored_responses(), {})


@on_every_backend
class CustomProfileTests(ProfileLoadCase):
    def write(self, text: str) -> Path:
        path = Path(self.databases.folder) / 'plattform.csv'
        path.write_text(text, encoding='utf-8', newline='')
        return path

    def test_pattern_times_in_the_profiles_zone_become_utc(self):
        add_profile('Plattform', CUSTOM)
        path = self.write('Lauf;Schnittstelle;Beginn;Ende;Ergebnis;Bemerkung\r\n'
                          '41;bestellungen an sap;01.07.2026 08:59:58;01.07.2026 09:00:00;'
                          'Fehler;x\r\n')
        outcome = self.load(path, 'plattform')
        self.assertTrue(outcome.ok, outcome.problems.kept)
        row = stored_responses()[41]
        self.assertEqual((row.flow_code, row.responded_at, row.status, row.duration_ms,
                          row.result_code),
                         ('SALESORDERREPLICATION', datetime(2026, 7, 1, 7, 0), 'ERROR', 2000, 200))

    def test_a_duration_across_the_clock_change_counts_real_time(self):
        add_profile('Plattform', CUSTOM)
        path = self.write('Lauf;Schnittstelle;Beginn;Ende;Ergebnis\r\n'
                          '5;Bestellungen an SAP;29.03.2026 01:59:00;29.03.2026 03:01:00;ok\r\n')
        outcome = self.load(path, 'Plattform')
        self.assertTrue(outcome.ok, outcome.problems.kept)
        row = stored_responses()[5]
        self.assertEqual((row.responded_at, row.duration_ms), (datetime(2026, 3, 29, 1, 1), 120000))

    @parameterized.expand([
        ('offset_and_none', '2026-03-01T09:00:00Z', '2026-03-01 09:00:01.5', '1500'),
        ('two_offsets', '2026-03-01T10:00:00+01:00', '2026-03-01T09:00:02Z', '2000'),
        ('no_offsets', '2026-03-01 09:00:00', '2026-03-01 09:00:00.25', '250'),
    ])
    def test_iso_differences(self, _name, start, end, expected):
        definition = {**CUSTOM, 'timestamps': {'format': 'iso', 'timezone': 'UTC'}}
        add_profile('ISO', definition)
        outcome = self.load(self.write(f'Lauf,Schnittstelle,Beginn,Ende,Ergebnis\r\n'
                                       f'3,Bestellungen an SAP,{start},{end},ok\r\n'), 'ISO')
        self.assertTrue(outcome.ok, outcome.problems.kept)
        self.assertEqual(str(stored_responses()[3].duration_ms), expected)

    def test_problems_name_the_columns_as_the_file_spells_them(self):
        add_profile('Plattform', CUSTOM)
        path = self.write('LAUF;schnittstelle;beginn;ende;ergebnis\r\n'
                          '1;Bestellungen an SAP;01.03.2026 09:00:00;01.03.2026 09:00:01;gut\r\n')
        outcome = self.load(path, 'Plattform')
        self.assertEqual([(p.line, p.column, p.value) for p in outcome.problems.kept],
                         [(2, 'ergebnis', 'gut')])
        self.assertTrue(outcome.problems.kept[0].message.startswith('ergebnis gut is not in'))

    def test_an_end_before_its_start_is_named(self):
        add_profile('Plattform', CUSTOM)
        path = self.write('Lauf;Schnittstelle;Beginn;Ende;Ergebnis\r\n'
                          '1;Bestellungen an SAP;01.03.2026 09:00:05;01.03.2026 09:00:00;ok\r\n')
        outcome = self.load(path, 'Plattform')
        self.assertEqual([(p.line, p.column, p.message) for p in outcome.problems.kept],
                         [(2, 'Ende', 'Ende is before Beginn (01.03.2026 09:00:05).')])

    def test_excel_serial_times(self):
        definition = {**CUSTOM, 'timestamps': {'format': 'excel', 'timezone': 'UTC'}}
        add_profile('Excel', definition)
        path = self.write('Lauf,Schnittstelle,Beginn,Ende,Ergebnis\r\n'
                          '7,Bestellungen an SAP,46082.5,46082.50001157407,ok\r\n')
        outcome = self.load(path, 'Excel')
        self.assertTrue(outcome.ok, outcome.problems.kept)
        row = stored_responses()[7]
        self.assertEqual((row.responded_at, row.duration_ms), (datetime(2026, 3, 1, 12, 0, 1), 1000))

    def test_a_bad_pattern_time_names_its_source_column(self):
        add_profile('Plattform', CUSTOM)
        path = self.write('Lauf;Schnittstelle;Beginn;Ende;Ergebnis\r\n'
                          '1;Bestellungen an SAP;01.03.2026 09:00:00;2026-03-01 09:00:02;ok\r\n')
        outcome = self.load(path, 'Plattform')
        self.assertEqual([(p.line, p.column) for p in outcome.problems.kept], [(2, 'Ende')])
        self.assertIn('Ende is not a date and time in the profile\'s format %d.%m.%Y %H:%M:%S',
                      outcome.problems.kept[0].message)


@on_every_backend
class ProfileEntryPointTests(ProfileLoadCase):
    SETTINGS = {'INBOX_SETTLE_SECONDS': '0'}

    def test_flask_load_with_profile(self):
        result = self.app.test_cli_runner().invoke(args=[
            'load', 'responses', str(CPI_FILE), '--mode', 'upsert', '--profile', SAP_CPI,
            '--user', ADMIN])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('7 records loaded into responses', result.output)
        self.assertIn('Skipped 1 row whose Status is PROCESSING', result.output)
        self.assert_cpi_rows()

    def test_flask_load_with_an_unknown_profile_names_the_profiles(self):
        result = self.app.test_cli_runner().invoke(args=[
            'load', 'responses', str(CPI_FILE), '--profile', 'SAP PI'])
        self.assertEqual(result.exit_code, 1)
        self.assertIn("There is no source profile named 'SAP PI'", result.output)
        self.assertIn(LOGIC_APPS, result.output)
        self.assertEqual(stored_responses(), {})

    def test_an_inbox_maps_its_files_with_its_profile(self):
        folder = Path(self.databases.folder) / f'inbox {self._testMethodName[-12:]}'
        folder.mkdir()
        inbox = add_inbox('logic-apps', folder, mode='upsert')
        inbox.profile = LOGIC_APPS
        db.session.commit()
        shutil.copy(LOGIC_APPS_FILE, folder / 'runs-2026-03-03.csv')
        run_job(get_job('inbox'), JobContext(config=self.app.config), force=True)
        self.assert_logic_apps_rows()
        batch = db.session.scalars(db.select(LoadBatch)).one()
        self.assertEqual((batch.profile, batch.inserted), (LOGIC_APPS, 4))
        self.assertEqual([p.name for p in (folder / 'processed').glob('*/*')],
                         ['runs-2026-03-03.csv'])
