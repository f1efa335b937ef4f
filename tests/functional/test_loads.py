"""Admin data loads end to end, on SQLite and PostgreSQL: uploads through the web form, the
fixture files in tests/assets/loads (every bad file names its problem and line and changes
nothing), modes, dry run then load, identical-file confirmation, undo, locking, history."""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from parameterized import parameterized
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.clock import utc_now
from app.datasets import DATASETS
from app.extensions import db
from app.loading import LoadBusy, LoadRequest, run_load, undo_batch
from app.loading.locks import DatasetLock
from app.models import BATCH_RUNNING, BATCH_SUCCEEDED, AuditEvent, LoadBatch, Response, ResponseDaily
from tests.base import ADMIN, ASSETS, FlowdeskTestCase, on_every_backend

LOADS = ASSETS / 'loads'
CONTENT_TYPES = {'.csv': 'text/csv',
                 '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'}

#: bad fixture -> (dataset, line, column, words the message must contain)
BAD_FILES = [
    ('bad_missing_header.csv', 'responses', 1, None, 'lacks the required column status'),
    ('bad_ragged.csv', 'responses', 3, None, 'This row has 6 values but the header has 8 columns'),
    ('bad_type_error.csv', 'responses', 2, 'duration_ms', 'duration_ms is not a whole number'),
    ('bad_out_of_range.csv', 'responses', 3, 'result_code',
     'result_code is out of range (-2,147,483,648 to 2,147,483,647)'),
    ('bad_negative_duration.csv', 'responses', 2, 'duration_ms', 'duration_ms is out of range (0 to'),
    ('bad_enum.csv', 'responses', 2, 'status', 'status must be one of OK, WARN, ERROR'),
    ('bad_timestamp.csv', 'responses', 2, 'responded_at',
     'responded_at is not a date and time like 2026-03-01 14:05:09'),
    ('bad_too_long.csv', 'responses', 2, 'error_reason',
     'error_reason is 4,001 characters long; at most 4,000 allowed'),
    ('bad_ids_too_long.csv', 'responses', 3, 'message_id',
     'message_id is 101 characters long; at most 100 allowed'),
    ('bad_repeated_key.csv', 'responses', 4, 'response_id',
     'response_id 21 is repeated: line 2 of this file has it too'),
    ('bad_unknown_flow.csv', 'responses', 2, 'flow_code',
     'flow_code NO-SUCH-FLOW names no flow in the database'),
    ('bad_encoding.csv', 'responses', 3, 'error_reason', 'Bad encoding'),
    ('bad_header_only.csv', 'responses', 1, None, 'The file has a header row but no data rows'),
    ('bad_empty.csv', 'responses', None, None, 'The file is empty'),
    ('bad_renamed_pdf.csv', 'responses', None, None, 'This file is a PDF document, not a CSV or xlsx file'),
    ('bad_renamed_png.csv', 'flows', None, None, 'This file is a PNG image, not a CSV or xlsx file'),
    ('bad_zip_not_xlsx.xlsx', 'flows', None, None, 'ZIP archive, not an Excel workbook'),
    ('bad_responses.xlsx', 'responses', 2, 'duration_ms', 'duration_ms is not a whole number'),
    ('bad_flows_email.csv', 'flows', 2, 'owner_email', 'owner_email is not an e-mail address'),
    ('bad_flows_code.csv', 'flows', 2, 'flow_code', 'flow_code must be 2-32 letters, digits'),
]


def table_checksum(name: str) -> str:
    """A digest of every row of a dataset table (all columns, in key order)."""
    spec = DATASETS[name]
    table = spec.table
    digest = hashlib.sha256()
    with db.engines['ops'].connect() as connection:
        for row in connection.execute(select(table).order_by(table.c[spec.key])):
            digest.update(repr(tuple(row)).encode('utf-8'))
    return digest.hexdigest()


class LoadTestCase(FlowdeskTestCase):
    def load(self, dataset: str, fixture: str, mode: str = 'append', dry_run: bool = False,
             allow_duplicate: bool = False, path: Path | None = None):
        return run_load(LoadRequest(dataset=dataset, mode=mode, path=path or LOADS / fixture,
                                    file_name=fixture, user=ADMIN, dry_run=dry_run,
                                    allow_duplicate=allow_duplicate))

    def upload(self, client, dataset: str, fixture: str, mode: str = 'append',
               dry_run: bool = False, name: str | None = None, follow: bool = True):
        path = LOADS / fixture
        data = {'dataset': dataset, 'mode': mode, 'encoding': 'auto',
                'file': FileStorage(stream=io.BytesIO(path.read_bytes()), filename=name or fixture,
                                    content_type=CONTENT_TYPES.get(path.suffix, 'text/plain'))}
        if dry_run:
            data['dry_run'] = 'y'
        return client.post('/admin/loads', data=data, content_type='multipart/form-data',
                           follow_redirects=follow)

    def count(self, model) -> int:
        with db.engines['ops'].connect() as connection:
            return connection.scalar(select(db.func.count()).select_from(model))

    def checksums(self) -> tuple[str, str]:
        return table_checksum('flows'), table_checksum('responses')

    def base_data(self):
        self.assertTrue(self.load('flows', 'flows_good.csv').ok)
        self.assertTrue(self.load('responses', 'responses_good.csv').ok)


@on_every_backend
class UploadPageTest(LoadTestCase):
    def test_upload_of_good_files_loads_them(self):
        admin = self.admin_client()
        self.assertPageContains(self.upload(admin, 'flows', 'flows_good.csv'),
                                '3 records loaded', 'succeeded')
        body = self.assertPageContains(self.upload(admin, 'responses', 'responses_good.csv'),
                                       '5 records loaded')
        self.assertIn('5 inserted', body)
        self.assertEqual(self.count(Response), 5)
        body = self.assertPageContains(self.upload(admin, 'responses', 'responses_good.xlsx'),
                                       '3 records loaded')
        self.assertEqual(self.count(Response), 8)
        with db.engines['ops'].connect() as connection:
            stored = dict(connection.execute(select(Response.response_id, Response.error_reason)).all())
            days = connection.scalar(select(db.func.sum(ResponseDaily.responses)))
        self.assertEqual(stored[2], 'Service Unavailable: upstream CRM\nsaid "busy"')  # quoted newline
        self.assertEqual(stored[3], '=HYPERLINK("http://evil.example")')  # kept as plain text
        self.assertEqual(stored[13], '=SUM(A1:A2)')  # an xlsx formula is kept as its text
        self.assertEqual(days, 8)  # the daily summary moved with the rows

    def test_values_are_normalised(self):
        self.base_data()
        with db.engines['ops'].connect() as connection:
            rows = {row.response_id: row for row in connection.execute(select(Response))}
        self.assertEqual(rows[5].flow_code, 'INV-FILE')
        self.assertEqual(rows[5].status, 'OK')
        self.assertEqual(str(rows[3].responded_at), '2026-03-01 22:30:00')  # +01:00 → UTC
        self.assertEqual(str(rows[2].responded_at), '2026-03-01 14:06:00.250000')
        self.assertIsNone(rows[1].error_reason)

    def test_semicolon_windows_1252_file_with_extra_column(self):
        body = self.assertPageContains(
            self.upload(self.admin_client(), 'flows', 'flows_semicolon_cp1252.csv'),
            '2 records loaded', 'Ignored column Comment', 'Windows-1252')
        self.assertIn('2 inserted', body)
        from app.models import Flow
        flow = db.session.get(Flow, 'CAFE-02')
        self.assertEqual((flow.name, flow.flow_type, flow.active), ('Crème brûlée', 'DB', False))
        self.assertEqual(db.session.get(Flow, 'CAFE-01').name, 'Café orders € feed')

    def test_dry_run_changes_nothing_and_can_be_loaded_without_upload(self):
        admin = self.admin_client()
        self.load('flows', 'flows_good.csv')
        before = self.checksums()
        body = self.assertPageContains(self.upload(admin, 'responses', 'responses_good.csv',
                                                   dry_run=True),
                                       'Dry run: the file is valid and nothing was changed',
                                       'Would insert', 'Load this file now')
        self.assertEqual(self.checksums(), before)
        batch = db.session.scalars(select(LoadBatch).order_by(LoadBatch.id.desc())).first()
        self.assertEqual((batch.status, batch.dry_run, batch.inserted), ('validated', True, 5))
        response = admin.post('/admin/loads/stored', data={
            'sha256': batch.sha256, 'dataset': 'responses', 'mode': 'append', 'encoding': 'auto',
            'file_name': batch.file_name, 'allow_duplicate': ''}, follow_redirects=True)
        self.assertPageContains(response, '5 records loaded')
        self.assertIn('Load this file', body)
        self.assertEqual(self.count(Response), 5)

    def test_identical_file_asks_for_confirmation(self):
        admin = self.admin_client()
        self.load('flows', 'flows_good.csv')
        self.upload(admin, 'responses', 'responses_good.csv')
        before = self.checksums()
        response = self.upload(admin, 'responses', 'responses_good.csv', mode='upsert')
        body = self.assertPageContains(response, 'Load an identical file again?', 'Yes, load it again')
        self.assertEqual(self.checksums(), before)
        sha = hashlib.sha256((LOADS / 'responses_good.csv').read_bytes()).hexdigest()
        response = admin.post('/admin/loads/stored', data={
            'sha256': sha, 'dataset': 'responses', 'mode': 'upsert', 'encoding': 'auto',
            'file_name': 'responses_good.csv', 'allow_duplicate': '1'}, follow_redirects=True)
        self.assertPageContains(response, '5 records loaded', '5 unchanged')
        self.assertIn(sha, body)

    def test_uploads_are_stored_under_their_sha256_not_their_name(self):
        self.load('flows', 'flows_good.csv')
        self.upload(self.admin_client(), 'responses', 'responses_good.csv',
                    name='../../etc/passwd.csv')
        folder = Path(self.app.config['UPLOAD_FOLDER'])
        sha = hashlib.sha256((LOADS / 'responses_good.csv').read_bytes()).hexdigest()
        names = [p.name for p in folder.iterdir()]
        self.assertIn(f'{sha}.upload', names)
        self.assertFalse([name for name in names if 'passwd' in name])
        self.assertFalse((folder.parent.parent / 'etc').exists())

    def test_failed_upload_shows_problems_and_error_report(self):
        admin = self.admin_client()
        self.load('flows', 'flows_good.csv')
        response = self.upload(admin, 'responses', 'bad_repeated_key.csv')
        self.assertPageContains(response, 'Rejected: 1 problem found; nothing was changed',
                                'response_id 21 is repeated', 'Download the full error report')
        batch = db.session.scalars(select(LoadBatch).order_by(LoadBatch.id.desc())).first()
        report = admin.get(f'/admin/batches/{batch.id}/errors.csv')
        self.assertEqual(report.mimetype, 'text/csv')
        rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip('\ufeff'))))
        self.assertEqual(rows[0], ['line', 'column', 'value', 'problem'])
        self.assertEqual(rows[1][:3], ['4', 'response_id', '21'])

    def test_error_report_neutralises_formulas(self):
        self.load('flows', 'flows_good.csv')
        path = Path(self.app.config['UPLOAD_FOLDER']) / 'formula.csv'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('response_id,flow_code,responded_at,status\n'
                        '1,=cmd|calc!A1,2026-03-01 10:00:00,OK\n', encoding='utf-8')
        outcome = self.load('responses', 'formula.csv', path=path)
        report = self.admin_client().get(f'/admin/batches/{outcome.batch_id}/errors.csv')
        body = report.get_data(as_text=True)
        self.assertIn("'=CMD|CALC!A1", body)
        self.assertNotIn(',=CMD', body)

    def test_viewer_cannot_upload(self):
        response = self.upload(self.client, 'flows', 'flows_good.csv', follow=False)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.count(LoadBatch), 0)

    def test_form_errors_are_shown(self):
        response = self.admin_client().post('/admin/loads', data={'dataset': 'flows',
                                                                  'mode': 'append'})
        self.assertPageContains(response, 'Choose a CSV or xlsx file.', status=400)
        response = self.upload(self.admin_client(), 'flows', 'flows_good.csv', name='flows.pdf')
        self.assertPageContains(response, 'Only CSV (.csv, .txt) or Excel (.xlsx) files.', status=400)

    def test_history_lists_batches(self):
        self.base_data()
        body = self.assertPageContains(self.admin_client().get('/admin/batches'),
                                       'flows_good.csv', 'responses_good.csv', 'Undo')
        self.assertEqual(body.count('>Undo</button>'), 2)  # the latest load of each dataset


class CsrfTest(LoadTestCase):
    SETTINGS = {'WTF_CSRF_ENABLED': '1'}

    def test_upload_without_csrf_token_is_refused(self):
        response = self.upload(self.admin_client(), 'flows', 'flows_good.csv', follow=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.count(LoadBatch), 0)


@on_every_backend
class BadFileTest(LoadTestCase):
    @parameterized.expand(BAD_FILES)
    def test_bad_file_is_rejected_with_its_line_and_changes_nothing(self, fixture, dataset, line,
                                                                    column, message):
        self.base_data()
        before = self.checksums()
        outcome = self.load(dataset, fixture)
        self.assertEqual(outcome.status, 'failed')
        self.assertEqual(self.checksums(), before)
        problem = outcome.problems.kept[0]
        self.assertIn(message, problem.message)
        self.assertEqual((problem.line, problem.column), (line, column))
        batch = db.session.get(LoadBatch, outcome.batch_id)
        self.assertEqual((batch.status, batch.error_count), ('failed', outcome.problems.count))
        self.assertEqual(batch.errors.first().message, problem.message)
        # A rejected load wrote nothing, and its record says so.
        self.assertEqual((batch.inserted, batch.updated, batch.unchanged, batch.deleted),
                         (0, 0, 0, 0))

    def test_existing_key_in_append_mode(self):
        self.base_data()
        before = self.checksums()
        outcome = self.load('responses', 'responses_upsert.csv')
        self.assertEqual(self.checksums(), before)
        messages = [(p.line, p.message) for p in outcome.problems.kept]
        self.assertIn((2, f'response_id 1 already exists (loaded by batch #{outcome.batch_id - 1}). '
                          'Append only adds new keys: use upsert or replace to change it.'),
                      messages)

    def test_every_problem_is_reported(self):
        self.base_data()
        path = Path(self.app.config['UPLOAD_FOLDER']) / 'many.csv'
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ['response_id,flow_code,responded_at,status,duration_ms']
        lines += [f'{100 + i},ORD-SAP-CRM,2026-03-01 10:00:00,{"BAD" if i % 2 else "OK"},x'
                  for i in range(300)]
        path.write_text('\n'.join(lines), encoding='utf-8')
        outcome = self.load('responses', 'many.csv', path=path)
        self.assertEqual(outcome.problems.count, 450)  # 300 durations + 150 statuses
        body = self.assertPageContains(
            self.admin_client().get(f'/admin/batches/{outcome.batch_id}'),
            '450 problems found; the first 200 are shown')
        self.assertEqual(body.count('<tr><td class="text-end">'), 200)

    def test_replace_of_flows_still_used_by_responses_is_refused(self):
        self.base_data()
        before = self.checksums()
        path = Path(self.app.config['UPLOAD_FOLDER']) / 'one_flow.csv'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((LOADS / 'flows_good.csv').read_text(encoding='utf-8').splitlines()[0]
                        + '\nNEW-FLOW,New,API,A,B,,,,true,\n', encoding='utf-8')
        outcome = self.load('flows', 'one_flow.csv', mode='replace', path=path)
        self.assertEqual(outcome.status, 'failed')
        self.assertIn('Replace would delete flows that responses still name (HR-SYNC, INV-FILE, '
                      'ORD-SAP-CRM)', outcome.problems.kept[0].message)
        self.assertEqual(self.checksums(), before)


@on_every_backend
class ModesAndUndoTest(LoadTestCase):
    def test_upsert_counts_unchanged_and_undo_restores(self):
        self.base_data()
        before = self.checksums()
        outcome = self.load('responses', 'responses_upsert.csv', mode='upsert')
        counts = outcome.counts
        self.assertEqual((counts.inserted, counts.updated, counts.unchanged, counts.deleted),
                         (1, 1, 1, 0))
        self.assertNotEqual(self.checksums(), before)
        with db.engines['ops'].connect() as connection:
            batches = dict(connection.execute(select(Response.response_id, Response.batch_id)).all())
        self.assertEqual(batches[1], outcome.batch_id - 1)  # unchanged rows are not rewritten
        self.assertEqual(batches[2], outcome.batch_id)
        undo = undo_batch(outcome.batch_id, ADMIN)
        self.assertEqual(undo.status, 'succeeded', undo.message)
        self.assertEqual(self.checksums(), before)

    def test_replace_then_undo(self):
        self.base_data()
        before = self.checksums()
        summary_before = self.summary()
        outcome = self.load('responses', 'responses_replace.csv', mode='replace')
        counts = outcome.counts
        self.assertEqual((counts.inserted, counts.unchanged, counts.deleted), (1, 1, 4))
        self.assertEqual(self.count(Response), 2)
        self.assertEqual(undo_batch(outcome.batch_id, ADMIN).status, 'succeeded')
        self.assertEqual(self.checksums(), before)
        self.assertEqual(self.summary(), summary_before)

    def test_append_then_undo_and_flows_modes(self):
        self.load('flows', 'flows_good.csv')
        before = self.checksums()
        outcome = self.load('responses', 'responses_good.csv')
        self.assertEqual(undo_batch(outcome.batch_id, ADMIN).status, 'succeeded')
        self.assertEqual(self.checksums(), before)
        self.assertEqual(self.count(ResponseDaily), 0)
        upsert = self.load('flows', 'flows_upsert.csv', mode='upsert')
        self.assertEqual((upsert.counts.inserted, upsert.counts.updated, upsert.counts.unchanged),
                         (1, 1, 1))
        replace = self.load('flows', 'flows_replace.csv', mode='replace')
        self.assertEqual((replace.counts.updated, replace.counts.unchanged), (1, 3))
        undo_batch(replace.batch_id, ADMIN)
        undo_batch(upsert.batch_id, ADMIN)
        self.assertEqual(self.checksums(), before)

    def test_undo_through_the_page_is_audited_and_ordered(self):
        self.base_data()
        first = self.load('responses', 'responses_upsert.csv', mode='upsert')
        admin = self.admin_client()
        older = first.batch_id - 1
        response = admin.post(f'/admin/batches/{older}/undo', follow_redirects=True)
        self.assertPageContains(response, f'Batch #{older} is not the most recent load of '
                                          f'responses: batch #{first.batch_id} came after it')
        response = admin.post(f'/admin/batches/{first.batch_id}/undo', follow_redirects=True)
        self.assertPageContains(response, f'Undid batch #{first.batch_id}')
        response = admin.post(f'/admin/batches/{first.batch_id}/undo', follow_redirects=True)
        self.assertPageContains(response, 'has already been undone')
        actions = db.session.scalars(select(AuditEvent.action)).all()
        self.assertIn('undo.succeeded', actions)
        self.assertIn('load.succeeded', actions)
        undo = db.session.scalars(select(LoadBatch).where(LoadBatch.mode == 'undo')).one()
        self.assertEqual((undo.undo_of, undo.loaded_by), (first.batch_id, ADMIN))

    def test_undo_of_flows_used_by_later_responses_is_refused(self):
        self.base_data()
        before = self.checksums()
        flows = db.session.scalars(select(LoadBatch).where(LoadBatch.dataset == 'flows')).one()
        outcome = undo_batch(flows.id, ADMIN)
        self.assertEqual(outcome.status, 'failed')
        self.assertIn('rows of another dataset still use rows this load added', outcome.message)
        self.assertEqual(self.checksums(), before)

    def summary(self):
        with db.engines['ops'].connect() as connection:
            return sorted(tuple(row) for row in connection.execute(select(ResponseDaily)))


@on_every_backend
class ConcurrencyTest(LoadTestCase):
    def test_second_load_is_told_who_is_loading(self):
        self.load('flows', 'flows_good.csv')
        with db.engines['ops'].begin() as connection:
            connection.execute(LoadBatch.__table__.insert().values(
                dataset='responses', mode='append', dry_run=False, file_name='big.csv',
                loaded_by='CORP\\other', started_at=utc_now(), status=BATCH_RUNNING, rows_read=0,
                inserted=0, updated=0, unchanged=0, deleted=0, error_count=0))
        lock = DatasetLock('responses')
        self.assertTrue(lock.acquire())
        try:
            with self.assertRaises(LoadBusy) as caught:
                run_load(LoadRequest('responses', 'append', LOADS / 'responses_good.csv',
                                     'responses_good.csv', ADMIN, lock_wait_seconds=0.05))
            self.assertIn('A load of responses is running since', str(caught.exception))
            self.assertIn('started by CORP\\other', str(caught.exception))
            response = self.upload(self.admin_client(), 'responses', 'responses_good.csv')
            self.assertPageContains(response, 'A load of responses is running since', status=409)
        finally:
            lock.release()
        self.assertEqual(self.count(Response), 0)

    def test_running_batch_without_its_lock_is_shown_as_interrupted(self):
        with db.engines['ops'].begin() as connection:
            connection.execute(LoadBatch.__table__.insert().values(
                dataset='responses', mode='append', dry_run=False, file_name='killed.csv',
                loaded_by='CORP\\other', started_at=utc_now(), status=BATCH_RUNNING, rows_read=0,
                inserted=0, updated=0, unchanged=0, deleted=0, error_count=0))
        body = self.assertPageContains(self.admin_client().get('/admin/batches'), 'killed.csv')
        self.assertIn('interrupted', body)
        batch = db.session.scalars(select(LoadBatch)).one()
        self.assertEqual(batch.status, 'interrupted')

    def test_undo_while_an_undo_runs_is_told_who_is_undoing(self):
        self.load('flows', 'flows_good.csv')
        loaded = db.session.scalars(select(LoadBatch)).one()
        with db.engines['ops'].begin() as connection:
            connection.execute(LoadBatch.__table__.insert().values(
                dataset='flows', mode='undo', dry_run=False, file_name='undo of batch #1',
                loaded_by='CORP\\other', started_at=utc_now(), status=BATCH_RUNNING, rows_read=0,
                inserted=0, updated=0, unchanged=0, deleted=0, error_count=0))
        before = self.checksums()
        lock = DatasetLock('flows')
        self.assertTrue(lock.acquire())
        with lock, self.assertRaises(LoadBusy) as caught:
            undo_batch(loaded.id, ADMIN, lock_wait_seconds=0.05)
        self.assertIn('An undo of flows is running since', str(caught.exception))
        self.assertIn('started by CORP\\other', str(caught.exception))
        self.assertEqual(self.checksums(), before)
        db.session.expire_all()
        self.assertEqual(db.session.get(LoadBatch, loaded.id).status, BATCH_SUCCEEDED)


@on_every_backend
class LoadCommandTest(LoadTestCase):
    def invoke(self, *args):
        return self.app.test_cli_runner().invoke(args=['load', *args])

    def test_load_and_dry_run_from_the_command_line(self):
        result = self.invoke('flows', str(LOADS / 'flows_good.csv'), '--user', 'CORP\\ops')
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('3 records loaded into flows', result.output)
        result = self.invoke('responses', str(LOADS / 'responses_good.csv'), '--dry-run')
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('would insert', result.output)
        self.assertEqual(self.count(Response), 0)
        result = self.invoke('responses', str(LOADS / 'responses_good.csv'), '--mode', 'upsert')
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(self.count(Response), 5)

    def test_rejected_file_exits_non_zero_with_the_report(self):
        self.load('flows', 'flows_good.csv')
        report = Path(self.app.config['UPLOAD_FOLDER']) / 'report.csv'
        report.parent.mkdir(parents=True, exist_ok=True)
        result = self.invoke('responses', str(LOADS / 'bad_enum.csv'), '--errors-csv', str(report))
        self.assertEqual(result.exit_code, 1)
        self.assertIn('status must be one of OK, WARN, ERROR', result.output)
        self.assertIn('Rejected: 1 problem found', result.output)
        self.assertIn('status must be one of', report.read_text(encoding='utf-8-sig'))
        result = self.invoke('responses', str(LOADS / 'bad_renamed_pdf.csv'))
        self.assertEqual(result.exit_code, 1)
        self.assertIn('This file is a PDF document', result.output)

    def test_identical_file_needs_allow_duplicate(self):
        self.load('flows', 'flows_good.csv')
        result = self.invoke('flows', str(LOADS / 'flows_good.csv'), '--mode', 'upsert')
        self.assertEqual(result.exit_code, 1)
        self.assertIn('identical (same SHA-256)', result.output)
        result = self.invoke('flows', str(LOADS / 'flows_good.csv'), '--mode', 'upsert',
                             '--allow-duplicate')
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('3 unchanged', result.output)

    def test_undo_load_command(self):
        outcome = self.load('flows', 'flows_good.csv')
        result = self.app.test_cli_runner().invoke(args=['undo-load', str(outcome.batch_id)])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn(f'Undid batch #{outcome.batch_id}', result.output)
        from app.models import Flow
        self.assertEqual(self.count(Flow), 0)
