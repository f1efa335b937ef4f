"""Retention: ``flask purge`` and the ``retention`` job archive responses past the retention
period to monthly gzip CSV files, then delete them in short batches; the archives load back to
identical data, a killed purge loses nothing, readers keep reading, the daily summary stays,
and undo of a load whose rows were purged is refused with the reason."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

from sqlalchemy import event, func, select

from app.clock import utc_now
from app.datasets import RESPONSES
from app.extensions import db
from app.jobs.registry import JobContext, get_job
from app.loading import LoadRefused, LoadRequest, run_load, undo_batch
from app.models import AuditEvent, Response, ResponseDayTotal
from app.retention import purge
from app.retention.archive import TEMP_SUFFIX, archived_ids, month_file
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.functional.test_faults import FLOWS_CSV
from tests.integrity import data_checksums

ROOT = Path(__file__).resolve().parents[2]
HEADER = ('response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,'
          'payload_bytes,message_id,correlation_id\r\n')
#: One response every 6 hours over 150 days: five to six calendar months.
ROWS = 600
KEEP_DAYS = 60


def write_responses(path: Path, ids: range, hours_ago) -> None:
    """Responses ``ids``; response n happened ``hours_ago(n)`` hours before now."""
    now = utc_now().replace(microsecond=0)
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        handle.write(HEADER)
        for number in ids:
            moment = now - timedelta(hours=hours_ago(number), microseconds=number * 1001)
            status = ('ERROR', 'WARN', 'OK', 'OK', 'OK')[number % 5]
            reason = f'Timeout on /api/orders/{number} at {moment:%H:%M:%S}' if status != 'OK' else ''
            message_id = f'=M{number}' if number % 11 == 0 else f'{number:08x}' * (number % 4 > 0)
            correlation_id = f'ORDER-{number // 3}' if number % 2 else ''
            handle.write(f'{number},{"ORD-SAP" if number % 3 else "INV-DWH"},'
                         f'{moment.isoformat(" ")},{status},{500 if reason else 200},'
                         f'{number % 997},"{reason}",{number * 3 if number % 7 else ""},'
                         f'{message_id},{correlation_id}\r\n')


def responses_checksum() -> tuple[int, str]:
    """The responses' data (every file column and the reason hash), in key order, read on a
    fresh connection; the batch id is left out (a re-load is a new batch)."""
    table = RESPONSES.table
    columns = [table.c[name] for name in RESPONSES.column_names] + [table.c.reason_hash]
    digest, count = hashlib.sha256(), 0
    with db.engines['ops'].connect() as connection:
        for row in connection.execute(select(*columns).order_by(table.c.response_id)):
            digest.update(repr(tuple(row)).encode('utf-8'))
            count += 1
    return count, digest.hexdigest()


class RetentionTestCase(FlowdeskTestCase):
    SETTINGS = {'PURGE_BATCH_ROWS': '25'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = Path(cls.databases.folder) / 'retention-files'
        cls.work.mkdir()
        (cls.work / 'flows.csv').write_text(FLOWS_CSV, encoding='utf-8', newline='')

    def setUp(self):
        super().setUp()
        self.archive = self.work / f'archive-{self.id().rsplit(".", 1)[-1]}'
        self.app.config['ARCHIVE_FOLDER'] = self.archive
        self.load(self.work / 'flows.csv', 'flows')
        write_responses(self.work / 'responses.csv', range(1, ROWS + 1), lambda n: n * 6)
        self.load_id = self.load(self.work / 'responses.csv')
        self.cutoff = utc_now() - timedelta(days=KEEP_DAYS)
        self.old = db.session.scalar(select(func.count()).where(
            Response.responded_at < self.cutoff))

    def load(self, path: Path, dataset: str = 'responses') -> int:
        outcome = run_load(LoadRequest(dataset=dataset, mode='append', path=path,
                                       file_name=path.name, user=ADMIN, allow_duplicate=True,
                                       lock_wait_seconds=30))
        self.assertEqual(outcome.status, 'succeeded', outcome.message)
        return outcome.batch_id

    def purge(self, *args: str) -> str:
        result = self.app.test_cli_runner().invoke(
            args=['purge', '--older-than', str(KEEP_DAYS), *args])
        self.assertEqual(result.exit_code, 0, result.output)
        return result.output

    def archives(self) -> list[Path]:
        return sorted(self.archive.glob('responses_*.csv.gz'))

    def reload_archives(self) -> None:
        for path in self.archives():
            result = self.app.test_cli_runner().invoke(
                args=['load', 'responses', str(path), '--allow-duplicate'])
            self.assertEqual(result.exit_code, 0, result.output)

    def remaining(self) -> int:
        with db.engines['ops'].connect() as connection:
            return connection.scalar(select(func.count()).select_from(RESPONSES.table))


@on_every_backend
class PurgeTests(RetentionTestCase):
    def test_archive_purge_and_reload_give_identical_data(self):
        before, daily = responses_checksum(), data_checksums()['ops.response_daily']
        self.assertGreater(self.old, 200)

        output = self.purge()
        self.assertIn(f'Deleted {self.old:,} responses older than', output)
        self.assertEqual(self.remaining(), ROWS - self.old)
        self.assertEqual(db.session.scalar(select(func.min(Response.responded_at)))
                         >= self.cutoff, True)
        # one file per month, the daily summary untouched, every month audited
        months = {path.name[len('responses_'):-len('.csv.gz')] for path in self.archives()}
        self.assertGreaterEqual(len(months), 2)
        self.assertEqual(data_checksums()['ops.response_daily'], daily)
        audited = db.session.scalars(select(AuditEvent.target).filter_by(
            action='responses.purged')).all()
        self.assertEqual(set(audited), months)
        self.assertEqual(sum(len(archived_ids(path)) for path in self.archives()), self.old)

        self.reload_archives()
        self.assertEqual(responses_checksum(), before)
        self.assertEqual(data_checksums()['ops.response_daily'], daily)

    def test_a_second_purge_adds_to_the_month_file_without_repeating_rows(self):
        self.purge()
        write_responses(self.work / 'late.csv', range(5001, 5011), lambda n: 24 * 100 + n)
        self.load(self.work / 'late.csv')
        self.purge()
        ids = [archived_ids(path) for path in self.archives()]
        self.assertEqual(sum(map(len, ids)), self.old + 10)
        self.assertTrue(set().union(*ids) >= set(range(5001, 5011)))
        with gzip.open(self.archives()[0], 'rt', encoding='utf-8', newline='') as handle:
            self.assertEqual(handle.read().count('response_id,'), 1, 'one header row')

    def test_each_month_is_deleted_only_once_its_archive_is_complete(self):
        """Deletes run on a thread of their own while the next month is archived; a month's
        deletion still starts only when its archive file is complete, and months are recorded
        oldest first."""
        events = []
        archive_planned, delete_planned = purge.archive_planned, purge.delete_planned

        def archiving(engine, folder, planned):
            archive_planned(engine, folder, planned)
            events.append(('archived', planned.month))

        def deleting(engine, planned, *args):
            path = month_file(self.archive, planned.month)
            events.append(('deleting', planned.month, path.exists(),
                           path.with_name(path.name + TEMP_SUFFIX).exists()))
            delete_planned(engine, planned, *args)

        with mock.patch.object(purge, 'archive_planned', archiving), \
                mock.patch.object(purge, 'delete_planned', deleting):
            self.purge()
        months = sorted({event[1] for event in events})
        self.assertGreaterEqual(len(months), 2)
        for month in months:
            archived = events.index(('archived', month))
            deleted = [event for event in events if event[:2] == ('deleting', month)]
            self.assertEqual(deleted, [('deleting', month, True, False)])
            self.assertLess(archived, events.index(deleted[0]))
        audited = db.session.scalars(select(AuditEvent.target).filter_by(
            action='responses.purged').order_by(AuditEvent.id)).all()
        self.assertEqual(audited, [f'{month:%Y-%m}' for month in months])
        self.assertEqual(self.remaining(), ROWS - self.old)

    def test_a_damaged_archive_is_refused_and_loads_nothing(self):
        self.purge()
        path = self.archives()[1]
        damaged = self.work / 'damaged.csv.gz'
        damaged.write_bytes(path.read_bytes()[:-40])
        before = data_checksums()
        result = self.app.test_cli_runner().invoke(
            args=['load', 'responses', str(damaged), '--allow-duplicate'])
        self.assertNotEqual(result.exit_code, 0)
        self.assertIn('damaged', result.output)
        self.assertEqual(data_checksums(), before)

    def test_dry_run_changes_nothing(self):
        before = data_checksums()
        output = self.purge('--dry-run')
        self.assertIn(f'Would delete {self.old:,} responses', output)
        self.assertEqual(data_checksums(), before)
        self.assertEqual(self.archives(), [])

    def test_readers_keep_reading_during_a_delete_batch(self):
        """While a batch's DELETE is uncommitted, a second connection reads the committed
        rows at once (no lock waits on it)."""
        engine = db.engines['ops']
        seen = []

        def read_meanwhile(connection, clause, *_args):
            if clause.is_delete and clause.table.name == 'responses' and not seen:
                started = time.monotonic()
                with engine.connect() as reader:
                    seen.append((reader.scalar(select(func.count()).select_from(Response)),
                                 time.monotonic() - started))

        event.listen(engine, 'after_execute', read_meanwhile)
        try:
            self.purge()
        finally:
            event.remove(engine, 'after_execute', read_meanwhile)
        count, seconds = seen[0]
        self.assertEqual(count, ROWS, 'the reader saw the committed rows')
        self.assertLess(seconds, 2.0, 'the reader did not wait for the purge')
        page = self.client.get('/responses?status=ERROR')
        self.assertEqual(page.status_code, 200)

    def test_undo_of_a_load_whose_rows_were_purged_is_refused(self):
        write_responses(self.work / 'recent.csv', range(9001, 9021), lambda n: 1)
        recent_id = self.load(self.work / 'recent.csv')
        self.purge()
        # the latest load lost nothing: undo works
        self.assertEqual(undo_batch(recent_id, ADMIN).removed, 20)
        # the earlier load lost its old rows to retention: undo is refused, nothing changes
        before = data_checksums()
        with self.assertRaises(LoadRefused) as refused:
            undo_batch(self.load_id, ADMIN)
        self.assertIn('retention has since archived and deleted', str(refused.exception))
        self.assertEqual(data_checksums(), before)

    def test_prior_versions_are_pruned_and_undo_of_their_load_refused(self):
        write_responses(self.work / 'changed.csv', range(500, 511), lambda n: n * 6 + 1)
        outcome = run_load(LoadRequest(dataset='responses', mode='upsert',
                                       path=self.work / 'changed.csv', file_name='changed.csv',
                                       user=ADMIN, allow_duplicate=True))
        self.assertEqual(outcome.counts.updated, 11, outcome.message)
        versions = RESPONSES.version_table
        self.assertEqual(self.count(versions), 11)

        self.assertIn('and 11 prior versions', self.purge())
        self.assertEqual(self.count(versions), 0)
        with self.assertRaises(LoadRefused) as refused:
            undo_batch(outcome.batch_id, ADMIN)
        self.assertIn('retention has since archived and deleted', str(refused.exception))

    def count(self, table) -> int:
        with db.engines['ops'].connect() as connection:
            return connection.scalar(select(func.count()).select_from(table))


@on_every_backend
class RetentionJobTests(RetentionTestCase):
    def run_job(self) -> str:
        return get_job('retention').function(JobContext.for_app())

    def test_empty_setting_keeps_everything(self):
        self.app.config['RESPONSES_RETENTION_DAYS'] = None
        self.assertIn('Retention is off', self.run_job())
        self.assertEqual(self.remaining(), ROWS)

    def test_job_purges_past_the_retention_period(self):
        self.app.config['RESPONSES_RETENTION_DAYS'] = KEEP_DAYS
        try:
            self.assertIn(f'Deleted {self.old:,} responses', self.run_job())
        finally:
            self.app.config['RESPONSES_RETENTION_DAYS'] = None
        self.assertEqual(self.remaining(), ROWS - self.old)
        self.assertEqual(sum(len(archived_ids(path)) for path in self.archives()), self.old)


@on_every_backend
class KilledPurgeTests(RetentionTestCase):
    """A real ``flask purge`` process is killed with SIGKILL right after its first batch."""

    def environ(self, marker: Path) -> dict[str, str]:
        environ = {key: value for key, value in os.environ.items()
                   if not key.startswith(('FLASK_', 'FLOWDESK_', 'DATABASE_URL', 'OPS_'))}
        environ.update(self.databases.settings, FLASK_APP='flasky', FLASK_CONFIG='testing',
                       LOG_LEVEL='ERROR', PYTHONPATH=str(ROOT), PURGE_BATCH_ROWS='25',
                       ARCHIVE_FOLDER=str(self.archive), FLOWDESK_TEST_PURGE_HOLD=str(marker))
        return environ

    def test_killed_purge_loses_nothing(self):
        before = responses_checksum()
        all_ids = set(db.session.scalars(select(Response.response_id)))
        marker = self.work / 'first-batch-deleted'
        process = subprocess.Popen(
            [sys.executable, '-m', 'flask', 'purge', '--older-than', str(KEEP_DAYS)],
            cwd=ROOT, env=self.environ(marker), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not marker.exists():
                self.assertIsNone(process.poll(), 'the purge ended before its first batch')
                self.assertLess(time.monotonic(), deadline, 'no batch was deleted in 60 s')
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
        self.assertEqual(process.returncode, -signal.SIGKILL)

        remaining = set(db.session.scalars(select(Response.response_id)))
        deleted = all_ids - remaining
        self.assertEqual(len(deleted), 25, 'exactly the first batch was deleted')
        archived = set().union(*(archived_ids(path) for path in self.archives()))
        self.assertLessEqual(deleted, archived, 'every deleted row is in a complete archive')
        self.assertEqual(list(self.archive.glob(f'*{TEMP_SUFFIX}')), [])

        self.purge()  # the next run finishes the work without archiving a row twice
        archived_lists = [archived_ids(path) for path in self.archives()]
        self.assertEqual(sum(map(len, archived_lists)), self.old)
        self.reload_archives()
        self.assertEqual(responses_checksum(), before)


class BenchReferenceTests(RetentionTestCase):
    """scripts/bench_purge.py compares the purge with the engine's own delete on a copy of the
    same database: that reference (a bare DELETE through the sqlite3 module, the cutoff written
    as SQLite stores times) must take exactly the rows the purge takes, or the ratio it prints
    compares different work."""

    def test_the_reference_delete_takes_the_rows_the_purge_takes(self):
        sys.path.insert(0, str(ROOT / 'scripts'))
        try:
            import bench_purge  # noqa: PLC0415 (a script, POSIX only: imported where needed)
        finally:
            sys.path.remove(str(ROOT / 'scripts'))
        with db.engines['ops'].connect() as connection:
            connection.exec_driver_sql('PRAGMA wal_checkpoint(TRUNCATE)')
        copy = self.work / 'reference'
        copy.mkdir(exist_ok=True)
        shutil.copyfile(Path(self.databases.folder) / 'ops.db', copy / 'ops.db')
        spec = json.dumps({'cutoff': self.cutoff.isoformat()})
        self.assertGreater(self.old, 0)
        self.assertEqual(bench_purge.child_engine_delete('sqlite', str(copy), spec)['rows'],
                         self.old)
        self.assertEqual(purge.purge_responses(self.cutoff).responses, self.old)


class PurgeCacheTests(RetentionTestCase):
    """On SQLite the deleting connection gets a page cache sized to its batches (so a batch's
    pages are not written out part-way) and secure_delete FAST while it deletes, then its own
    settings back, which frees the pages: the pooled connection keeps no large cache."""

    def settings(self, connection) -> tuple[int, int]:
        return (connection.exec_driver_sql('PRAGMA cache_size').scalar(),
                connection.exec_driver_sql('PRAGMA secure_delete').scalar())

    def test_the_deleting_connection_gets_a_cache_for_its_batches_then_the_default(self):
        engine, pragmas = db.engines['ops'], []
        with engine.connect() as connection:
            before = self.settings(connection)

        def remember(connection, _cursor, statement, *_args):
            if statement.startswith('PRAGMA cache_size ='):
                pragmas.append(statement)
            if statement == 'PRAGMA secure_delete = FAST':  # what the batches then run with
                pragmas.append(self.settings(connection))

        self.app.config['PURGE_BATCH_ROWS'] = 10_000
        event.listen(engine, 'after_cursor_execute', remember)
        try:
            self.purge()
        finally:
            event.remove(engine, 'after_cursor_execute', remember)
            self.app.config['PURGE_BATCH_ROWS'] = 25
        self.assertEqual(self.remaining(), ROWS - self.old)
        # each month's responses, then its prior versions: 12 KiB per row of a batch, and the
        # default after each
        self.assertGreaterEqual(len(pragmas), 6)
        self.assertEqual(pragmas, ['PRAGMA cache_size = -120000', (-120000, 2),
                                   'PRAGMA cache_size = -2000'] * (len(pragmas) // 3))
        with engine.connect() as connection:
            self.assertEqual(self.settings(connection), before)
            self.assertEqual(before[0], -2000)


@on_every_backend
class PurgedCountTests(RetentionTestCase):
    """A purge keeps the summaries of the days it empties, for the dashboard's history; the
    responses list counts only the rows still stored, whatever the filter, even when the
    cutoff fell in the middle of a day."""

    def shown_count(self, query: str = '') -> str:
        body = self.assertPageContains(self.client.get(f'/responses?{query}'))
        return re.search(r'<strong>([\d,+]+)</strong>', body).group(1)

    def test_the_list_counts_only_the_rows_still_stored(self):
        self.assertGreater(self.old, 0)
        flow = db.session.scalar(select(Response.flow_code).limit(1))
        before = self.shown_count()
        self.purge()
        stored = db.session.scalar(select(func.count()).select_from(Response))
        self.assertEqual(stored, ROWS - self.old)
        self.assertNotEqual(before, f'{stored:,}')
        cases = {'': [], 'status=ERROR': [Response.status == 'ERROR'],
                 f'flow={flow}': [Response.flow_code == flow],
                 f'flow={flow}&status=OK': [Response.flow_code == flow, Response.status == 'OK']}
        for query, where in cases.items():
            with self.subTest(query=query):
                expected = db.session.scalar(select(func.count()).where(*where)) if where \
                    else stored
                self.assertEqual(self.shown_count(query), f'{expected:,}')
        # the dashboard's history keeps the purged days
        self.assertEqual(db.session.scalar(select(func.sum(ResponseDayTotal.responses))), ROWS)
