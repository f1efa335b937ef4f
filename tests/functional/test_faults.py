"""Faults: the ops database going away and coming back while Flowdesk serves; a load whose
database connection fails half-way; a load process killed with SIGKILL.

The outage is real (tests/integrity.py: OpsOutage): on SQLite the folder holding ops.db is
renamed away, on PostgreSQL the database stops accepting connections and its sessions are
terminated. Pages then answer a friendly 503 in the layout, the API a JSON 503, /healthz names
the bind that is down, pages that need only the app database keep working, and everything
serves normally again once the database is back, without restarting the app.

A load that loses its connection after some chunks were written, or whose process is killed
while it writes, leaves the data exactly as it was (checksums), its batch is recorded as failed
or interrupted, and the next load of the same file succeeds.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.loading import LoadRequest, run_load
from app.loading.writers import BulkWriter
from app.models import Flow, LoadBatch, Response
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.integrity import OpsOutageTestCase, admin_engine, data_checksums

ROOT = Path(__file__).resolve().parents[2]


def add_sample_rows() -> None:
    db.session.add(Flow(flow_code='ORD-SAP', name='Orders to SAP', flow_type='API',
                        source_system='Shop', target_system='SAP', active=True))
    db.session.add(Response(response_id=1, flow_code='ORD-SAP', status='ERROR',
                            responded_at=datetime(2026, 3, 1, 14, 5, 9), result_code=500,
                            error_reason='SAP gateway timed out'))
    db.session.commit()


@on_every_backend
class OpsDatabaseOutageTests(OpsOutageTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        @cls.app.route('/_test/ops-count')
        def ops_count():
            return str(db.session.scalar(db.select(db.func.count()).select_from(Response)))

    def setUp(self):
        super().setUp()
        add_sample_rows()

    def ops_pages(self) -> list[str]:
        """Every employee page and API read without URL arguments (they all read the ops
        database, except a few that need only the app database)."""
        paths = sorted({rule.rule for rule in self.app.url_map.iter_rules()
                        if rule.endpoint.split('.')[0] in {'main', 'api'}
                        and 'GET' in rule.methods and not rule.arguments})
        self.assertIn('/', paths)
        return paths

    def assertFriendly503(self, response):
        body = response.get_data(as_text=True)
        self.assertEqual(response.status_code, 503, body[:500])
        self.assertEqual(response.headers['Retry-After'], '60')
        for leak in ('Traceback', 'OperationalError', 'sqlite3', 'psycopg', 'ops.db',
                     self.outage.settings['OPS_DATABASE_URL']):
            self.assertNotIn(leak, body)
        return body

    def test_pages_answer_a_friendly_503_in_the_layout(self):
        self.outage.down()
        body = self.assertFriendly503(self.client.get('/'))
        self.assertEqual(self.client.get('/').mimetype, 'text/html')
        self.assertIn('<nav class="navbar', body)
        self.assertIn('Temporarily unavailable', body)
        self.assertIn('try again in a few minutes', body)

    def test_no_page_or_api_read_crashes_while_ops_is_down(self):
        self.outage.down()
        for path in self.ops_pages():
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertIn(response.status_code, (200, 503), response.get_data(as_text=True)[:300])
                if response.status_code == 503:
                    self.assertFriendly503(response)

    def test_api_answers_json_503(self):
        self.outage.down()
        response = self.client.get('/_test/ops-count', headers={'Accept': 'application/json'})
        self.assertFriendly503(response)
        self.assertEqual(response.get_json()['error']['status'], 503)
        api_paths = [path for path in self.ops_pages() if path.startswith('/api/')]
        for path in api_paths:
            with self.subTest(path=path):
                response = self.client.get(path)
                if response.status_code == 503:
                    self.assertFriendly503(response)
                    self.assertEqual(response.get_json()['error']['title'],
                                     'Temporarily unavailable')

    def test_healthz_names_the_bind_that_is_down(self):
        self.outage.down()
        response = self.client_for(None).get('/healthz')
        self.assertEqual(response.status_code, 503)
        body = response.get_json()
        self.assertEqual(body['status'], 'unavailable')
        self.assertEqual(body['databases']['app'], {'ok': True})
        self.assertFalse(body['databases']['ops']['ok'])
        self.assertIn('OperationalError', body['databases']['ops']['error'])

    def test_pages_of_the_app_database_keep_working(self):
        self.outage.down()
        self.assertPageContains(self.client.get('/whoami'), 'CORP\\viewer')
        self.assertPageContains(self.admin_client().get('/admin/users'), 'CORP\\admin')

    def test_serves_normally_once_the_database_is_back(self):
        self.assertEqual(self.client.get('/_test/ops-count').get_data(as_text=True), '1')
        self.outage.down()
        self.assertFriendly503(self.client.get('/_test/ops-count'))
        self.assertFriendly503(self.client.get('/'))
        self.assertEqual(self.client_for(None).get('/healthz').status_code, 503)
        self.outage.up()
        # The same app, without a restart: the pool replaces its dead connections.
        self.assertEqual(self.client.get('/_test/ops-count').get_data(as_text=True), '1')
        self.assertEqual(self.client.get('/').status_code, 200)
        health = self.client_for(None).get('/healthz')
        self.assertEqual(health.status_code, 200)
        self.assertEqual(health.get_json()['databases'], {'app': {'ok': True}, 'ops': {'ok': True}})
        for path in self.ops_pages():
            with self.subTest(path=path):
                self.assertEqual(self.client.get(path).status_code, 200)



FLOWS_CSV = ('flow_code,name,flow_type,source_system,target_system\r\n'
             'ORD-SAP,Orders to SAP,API,Shop,SAP\r\n'
             'INV-DWH,Invoices to the warehouse,BATCH,SAP,DWH\r\n')


def write_responses(path: Path, count: int, first_id: int = 1) -> None:
    """A valid responses file of ``count`` rows (several of the loader's chunks)."""
    start = datetime(2026, 3, 1)
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        handle.write('response_id,flow_code,responded_at,status,result_code,duration_ms,'
                     'error_reason,payload_bytes\r\n')
        for number in range(first_id, first_id + count):
            moment = start + timedelta(seconds=number * 7)
            status = 'ERROR' if number % 10 == 0 else 'OK'
            reason = 'Gateway timed out after 30 s' if status == 'ERROR' else ''
            handle.write(f'{number},{"ORD-SAP" if number % 3 else "INV-DWH"},'
                         f'{moment:%Y-%m-%d %H:%M:%S},{status},{500 if reason else 200},'
                         f'{number % 997},{reason},{number * 3}\r\n')


class LoadFaultTestCase(FlowdeskTestCase):
    """Flows and an earlier load of responses are in place before each test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = Path(cls.databases.folder) / 'files'
        cls.work.mkdir()
        (cls.work / 'flows.csv').write_text(FLOWS_CSV, encoding='utf-8', newline='')
        write_responses(cls.work / 'earlier.csv', 500, first_id=1_000_000)

    def setUp(self):
        super().setUp()
        for name, dataset in (('flows.csv', 'flows'), ('earlier.csv', 'responses')):
            outcome = self.load(self.work / name, dataset)
            self.assertTrue(outcome.ok, outcome.message)
        self.before = data_checksums()

    def load(self, path: Path, dataset: str = 'responses'):
        return run_load(LoadRequest(dataset=dataset, mode='append', path=path,
                                    file_name=path.name, user=ADMIN, allow_duplicate=True,
                                    lock_wait_seconds=30))

    def batch(self, batch_id: int) -> LoadBatch:
        db.session.expire_all()
        return db.session.get(LoadBatch, batch_id)


@on_every_backend
class ConnectionLostMidLoadTests(LoadFaultTestCase):
    """The ops connection fails after two chunks of rows have been written: on PostgreSQL the
    server really terminates the load's session; on SQLite (no server to lose) the write raises
    the error SQLite gives when its file becomes unusable."""
    ROWS = 10_001  # three chunks of the loader's 5,000 rows
    FAIL_AFTER_CHUNKS = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_responses(cls.work / 'big.csv', cls.ROWS)

    def break_connection(self, writer: BulkWriter) -> None:
        if self.backend == 'sqlite':
            raise sqlite3.OperationalError('disk I/O error')
        pid = writer.connection.exec_driver_sql('SELECT pg_backend_pid()').scalar()
        engine = admin_engine(self.app.config['SQLALCHEMY_BINDS']['ops']['url'])
        try:
            with engine.connect() as connection:
                connection.execute(text('SELECT pg_terminate_backend(:pid)'), {'pid': pid})
        finally:
            engine.dispose()

    def test_nothing_half_loaded_and_the_next_load_succeeds(self):
        original = BulkWriter.insert
        chunks = []

        def failing_insert(writer, rows):
            if rows and len(chunks) == self.FAIL_AFTER_CHUNKS:
                self.break_connection(writer)
            if rows:
                chunks.append(len(rows))
            return original(writer, rows)

        with mock.patch.object(BulkWriter, 'insert', failing_insert):
            outcome = self.load(self.work / 'big.csv')
        self.assertEqual(len(chunks), self.FAIL_AFTER_CHUNKS + (self.backend != 'sqlite'),
                         'chunks of rows were written before the failure')
        self.assertEqual(outcome.status, 'failed', outcome.message)
        self.assertIn('nothing was changed', outcome.message)
        self.assertIn('The database refused the load',
                      ' '.join(problem.message for problem in outcome.problems.kept))
        self.assertEqual(data_checksums(), self.before)
        batch = self.batch(outcome.batch_id)
        self.assertEqual(batch.status, 'failed')
        self.assertIsNotNone(batch.finished_at)

        retry = self.load(self.work / 'big.csv')
        self.assertEqual(retry.status, 'succeeded', retry.message)
        self.assertEqual(retry.counts.inserted, self.ROWS)
        self.assertEqual(db.session.scalar(db.select(db.func.count()).select_from(Response)),
                         self.ROWS + 500)


@on_every_backend
class KilledLoadTests(LoadFaultTestCase):
    """A real ``flask load`` process is killed with SIGKILL while it writes rows."""
    #: Large enough that the load is still writing when it is killed, however fast it is.
    ROWS = 300_000
    #: What "rows are being written" looks like from outside the load's transaction.
    WRITTEN_BYTES = 2 << 20
    #: Well past the 50,000th row, where a large SQLite load defers the table's indexes.
    LATE_WRITTEN_BYTES = 30 << 20

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_responses(cls.work / 'killed.csv', cls.ROWS)
        write_responses(cls.work / 'next.csv', 2_000, first_id=2_000_000)

    def environ(self) -> dict[str, str]:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith(('FLASK_', 'FLOWDESK_', 'DATABASE_URL', 'OPS_'))}
        environ.update(self.databases.settings, FLASK_APP='flasky', FLASK_CONFIG='testing',
                       LOG_LEVEL='ERROR', PYTHONPATH=str(ROOT))
        return environ

    def written_bytes(self) -> int:
        """Bytes the running load has written, seen from another connection: the size of the
        WAL (SQLite spills the open transaction's pages there) or of the responses table
        (PostgreSQL writes uncommitted rows into the table's pages)."""
        url = make_url(self.app.config['SQLALCHEMY_BINDS']['ops']['url'])
        if self.backend == 'sqlite':
            wal = Path(url.database + '-wal')
            return wal.stat().st_size if wal.exists() else 0
        with db.engines['ops'].connect() as connection:
            return connection.execute(text('SELECT pg_total_relation_size(:name)'), {
                'name': f'"{self.app.config["OPS_SCHEMA"]}".responses'}).scalar()

    def wait_for(self, condition, what: str, process=None, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            if process is not None and process.poll() is not None:
                self.fail(f'the load ended (status {process.returncode}) before {what}')
            time.sleep(0.01)
        self.fail(f'timed out waiting until {what}')

    def kill_load_once_written(self, written_bytes: int) -> int:
        """Start ``flask load`` of killed.csv, SIGKILL it once it has written
        ``written_bytes`` (seen from outside), and return its batch id."""
        start_size = self.written_bytes()
        process = subprocess.Popen(
            [sys.executable, '-m', 'flask', 'load', 'responses', str(self.work / 'killed.csv'),
             '--mode', 'append', '--allow-duplicate'],
            cwd=ROOT, env=self.environ(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.wait_for(lambda: self.written_bytes() > start_size + written_bytes,
                          'rows were being written', process)
            running = db.session.execute(db.select(LoadBatch).filter_by(status='running')) \
                .scalars().all()
            self.assertEqual(len(running), 1, 'the killed load had committed its batch as running')
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
        self.assertEqual(process.returncode, -signal.SIGKILL)
        return running[0].id

    def responses_indexes(self) -> dict[str, str]:
        """The responses table's indexes (name -> definition) from the database catalog."""
        with db.engines['ops'].connect() as connection:
            if self.backend == 'sqlite':
                query = text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                             "AND tbl_name = 'responses'")
                return {name: sql for name, sql in connection.execute(query)}
            query = text('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :schema '
                         "AND tablename = 'responses'")
            return dict(connection.execute(query, {'schema': self.app.config['OPS_SCHEMA']}).all())

    def test_killed_load_leaves_the_data_as_it_was(self):
        killed_id = self.kill_load_once_written(self.WRITTEN_BYTES)

        # Exactly as before, read from a fresh connection.
        self.assertEqual(data_checksums(), self.before)

        # After the restart, the history shows the batch as interrupted (the page sweeps
        # batches whose process is gone; PostgreSQL may take a moment to notice the dead session).
        admin = self.admin_client()
        self.wait_for(lambda: admin.get('/admin/batches').status_code == 200
                      and self.batch(killed_id).status == 'interrupted',
                      'the batch shows as interrupted')
        self.assertIn('Interrupted', self.batch(killed_id).message)
        self.assertEqual(data_checksums(), self.before)

        following = self.load(self.work / 'next.csv')
        self.assertEqual(following.status, 'succeeded', following.message)
        self.assertEqual(following.counts.inserted, 2_000)

    def test_killed_late_in_a_large_load_keeps_every_index(self):
        """Killed well past the point where a large SQLite load has dropped the responses
        indexes to build them at the end (50,000 rows, about 15 MB written): the database
        still has every index, intact, and the data as it was."""
        indexes = self.responses_indexes()
        self.assertGreaterEqual(len(indexes), len(Response.__table__.indexes))
        self.kill_load_once_written(self.LATE_WRITTEN_BYTES)
        self.assertEqual(self.responses_indexes(), indexes)
        self.assertEqual(data_checksums(), self.before)
        if self.backend == 'sqlite':
            with sqlite3.connect(make_url(self.app.config['SQLALCHEMY_BINDS']['ops']['url'])
                                 .database) as check:
                self.assertEqual(check.execute('PRAGMA integrity_check').fetchone()[0], 'ok')

if __name__ == '__main__':
    unittest.main()
