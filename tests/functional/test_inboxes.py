"""The inbox job, with real folders (named with spaces and non-ASCII characters): settled files
are loaded oldest first as ordinary batches and moved to processed/YYYY-MM-DD/; rejected
files go to rejected/ with their error report; a file already loaded is moved as a duplicate
and never loaded twice, which also heals a crash between a load's commit and the move; a
tick's time budget; a file still being written waits until it has settled."""
from __future__ import annotations

import csv
import os
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from app.clock import utc_now
from app.extensions import db
from app.jobs import JobContext, get_job
from app.jobs.runner import run_job, run_tick
from app.models import AuditEvent, InboxSighting, LoadBatch, Response
from tests.base import ASSETS, FlowdeskTestCase, on_every_backend
from tests.functional.jobs_support import (
    RESPONSES_HEADER,
    add_flows,
    add_inbox,
    response_lines,
    runs,
    write_responses,
)


class InboxTestCase(FlowdeskTestCase):
    SETTINGS = {'INBOX_SETTLE_SECONDS': '0'}

    def setUp(self):
        super().setUp()
        add_flows()
        self.folder = Path(self.databases.folder) / f'Eingang Köln {self._testMethodName[-20:]}'
        self.folder.mkdir()
        self.inbox = add_inbox('orders', self.folder)

    def tick(self, **context):
        """Run the inbox job now, as ``flask jobs run inbox --force`` does."""
        return run_job(get_job('inbox'), JobContext(config=self.app.config, **context), force=True)

    def batches(self) -> list[LoadBatch]:
        db.session.expire_all()
        return list(db.session.scalars(db.select(LoadBatch).order_by(LoadBatch.id)))

    def response_count(self) -> int:
        return db.session.scalar(db.select(db.func.count()).select_from(Response))

    def processed(self) -> list[str]:
        return sorted(path.name for path in (self.folder / 'processed').glob('*/*'))

    def waiting(self) -> list[str]:
        return sorted(path.name for path in self.folder.iterdir() if path.is_file())


@on_every_backend
class InboxJobTests(InboxTestCase):
    def test_good_file_is_loaded_and_moved_to_processed_by_day(self):
        write_responses(self.folder / 'März export.csv', 5)
        result = self.app.test_cli_runner().invoke(args=['jobs', 'run', 'inbox', '--force'])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('1 active inbox: 1 loaded', result.output)
        self.assertEqual(self.response_count(), 5)
        batch, = self.batches()
        self.assertEqual((batch.status, batch.file_name, batch.loaded_by),
                         ('succeeded', 'inbox orders: März export.csv', 'inbox:orders'))
        day = utc_now().date().isoformat()
        self.assertTrue((self.folder / 'processed' / day / 'März export.csv').is_file())
        self.assertEqual(self.waiting(), [])
        audit = db.session.scalars(db.select(AuditEvent).filter_by(action='load.succeeded')).one()
        self.assertEqual(audit.actor, 'inbox:orders')
        self.assertIn(f'batch #{batch.id}', audit.target)

    def test_rejected_file_goes_to_rejected_with_its_report(self):
        shutil.copy(ASSETS / 'loads' / 'bad_unknown_flow.csv', self.folder / 'bad.csv')
        write_responses(self.folder / 'good.csv', 3)
        result = self.tick()
        self.assertEqual(result.outcome, 'ran', result.detail)
        self.assertIn('1 loaded, 1 rejected', result.detail)
        self.assertTrue((self.folder / 'rejected' / 'bad.csv').is_file())
        with open(self.folder / 'rejected' / 'bad.errors.csv', encoding='utf-8-sig',
                  newline='') as handle:
            report = list(csv.reader(handle))
        self.assertEqual(report[0], ['line', 'column', 'value', 'problem'])
        self.assertEqual(report[1][:3], ['2', 'flow_code', 'NO-SUCH-FLOW'])
        self.assertEqual(self.response_count(), 3)
        self.assertEqual(sorted(b.status for b in self.batches()), ['failed', 'succeeded'])

    def test_names_never_collide(self):
        for round_number in range(2):
            write_responses(self.folder / 'daily.csv', 2, first_id=100 * round_number + 1)
            (self.folder / 'daily broken.csv').write_text('nonsense\r\n', encoding='utf-8')
            self.tick()
        self.assertEqual(self.processed(), ['daily (2).csv', 'daily.csv'])
        rejected = sorted(path.name for path in (self.folder / 'rejected').iterdir())
        self.assertEqual(rejected, ['daily broken (2).csv', 'daily broken (2).errors.csv',
                                    'daily broken.csv', 'daily broken.errors.csv'])
        self.assertEqual(self.response_count(), 4)

    def test_identical_file_is_moved_as_a_duplicate_and_not_loaded_again(self):
        write_responses(self.folder / 'first.csv', 4)
        self.tick()
        write_responses(self.folder / 'again.csv', 4)
        result = self.tick()
        self.assertIn('1 duplicate', result.detail)
        self.assertEqual(len(self.batches()), 1)
        self.assertEqual(self.response_count(), 4)
        self.assertEqual(self.processed(), ['again.csv', 'first.csv'])
        event = db.session.scalars(db.select(AuditEvent).filter_by(action='inbox.duplicate')).one()
        self.assertEqual(event.actor, 'inbox:orders')
        self.assertIn(f'already loaded as batch #{self.batches()[0].id}', event.detail)

    def test_crash_between_commit_and_move_does_not_load_twice(self):
        write_responses(self.folder / 'orders.csv', 6)
        with mock.patch('app.inboxes.folder.move_into', side_effect=KeyboardInterrupt):
            with self.assertRaises(KeyboardInterrupt):  # the process dies after the commit
                run_tick([get_job('inbox')], JobContext.for_app(), force=True)
        self.assertEqual(self.waiting(), ['orders.csv'])
        self.assertEqual([b.status for b in self.batches()], ['succeeded'])
        self.assertEqual(runs('inbox')[0].outcome, 'running')

        result = self.tick()
        self.assertIn('1 duplicate', result.detail)
        self.assertEqual(len(self.batches()), 1)
        self.assertEqual(self.response_count(), 6)
        self.assertEqual(self.processed(), ['orders.csv'])
        self.assertEqual([run.outcome for run in runs('inbox')], ['interrupted', 'succeeded'])

    def test_oldest_first_within_the_tick_budget(self):
        for number, name in enumerate(['c.csv', 'a.csv', 'b.csv']):
            write_responses(self.folder / name, 2, first_id=10 * number + 1)
            moment = 1_700_000_000 + number * 60
            os.utime(self.folder / name, (moment, moment))
        clock = iter(range(0, 10_000, 100))  # every look at the clock: 100 s later
        result = self.tick(monotonic=lambda: next(clock))
        self.assertIn('1 loaded, 2 left for the next tick', result.detail)
        self.assertEqual([b.file_name for b in self.batches()], ['inbox orders: c.csv'])
        self.tick(monotonic=lambda: 0)
        self.assertEqual([b.file_name for b in self.batches()],
                         ['inbox orders: c.csv', 'inbox orders: a.csv', 'inbox orders: b.csv'])

    def test_only_matching_finished_files_of_active_inboxes(self):
        for name in ('~$open.csv', '.hidden.csv', 'copying.csv.part', 'notes.txt'):
            write_responses(self.folder / name, 1)
        other = self.folder.parent / f'{self.folder.name} paused'
        other.mkdir()
        write_responses(other / 'waiting.csv', 1)
        add_inbox('paused', other, active=False)
        result = self.tick()
        self.assertIn('1 active inbox: no files waiting', result.detail)
        self.assertEqual(self.batches(), [])

    def test_a_load_of_the_dataset_in_progress_leaves_the_file_for_the_next_tick(self):
        write_responses(self.folder / 'later.csv', 2)
        from app.loading.locks import DatasetLock
        with mock.patch('app.inboxes.processing.LOCK_WAIT_SECONDS', 0):
            lock = DatasetLock('responses', wait_seconds=0)
            self.assertTrue(lock.acquire())
            try:
                result = self.tick()
            finally:
                lock.release()
        self.assertIn('1 busy', result.detail)
        self.assertEqual(self.waiting(), ['later.csv'])
        self.assertIn('1 loaded', self.tick().detail)


@on_every_backend
class SettleTests(InboxTestCase):
    """A file written slowly by another thread is not picked up until it has settled."""
    SETTINGS = {'INBOX_SETTLE_SECONDS': '60'}

    def test_a_file_still_being_written_waits_until_it_has_settled(self):
        path = self.folder / 'slow export.csv'
        first_part_written, write_the_rest, finished = (threading.Event(), threading.Event(),
                                                        threading.Event())

        def slow_writer():
            with open(path, 'w', encoding='utf-8', newline='') as handle:
                handle.write(RESPONSES_HEADER + response_lines(50))
                handle.flush()
                first_part_written.set()
                write_the_rest.wait(30)
                handle.write(response_lines(50, first_id=51))
            finished.set()

        writer = threading.Thread(target=slow_writer)
        writer.start()
        try:
            self.assertTrue(first_part_written.wait(30))
            just_now = utc_now() + timedelta(seconds=5)
            result = self.tick(now=lambda: just_now)
            self.assertIn('1 still being written', result.detail)
            seen = db.session.scalars(db.select(InboxSighting)).one()
            self.assertEqual(seen.size, path.stat().st_size)
        finally:
            write_the_rest.set()
            writer.join(30)
        self.assertTrue(finished.is_set())
        later = utc_now() + timedelta(minutes=5)
        result = self.tick(now=lambda: later)
        self.assertIn('1 still being written', result.detail, 'its size changed since the last tick')
        self.assertEqual(self.batches(), [])
        result = self.tick(now=lambda: later + timedelta(minutes=1))
        self.assertIn('1 loaded', result.detail)
        self.assertEqual(self.response_count(), 100)
        db.session.expire_all()
        self.assertEqual(db.session.scalars(db.select(InboxSighting)).all(), [])

    def test_recently_modified_file_waits_for_the_settle_time(self):
        path = write_responses(self.folder / 'fresh.csv', 3)
        modified = path.stat().st_mtime
        def at(seconds):
            return lambda: datetime.fromtimestamp(modified + seconds, UTC).replace(tzinfo=None)
        self.assertIn('1 still being written', self.tick(now=at(59)).detail)
        self.assertIn('1 loaded', self.tick(now=at(61)).detail)

    def test_a_file_another_program_holds_open_waits(self):
        write_responses(self.folder / 'locked.csv', 3)
        later = utc_now() + timedelta(minutes=5)
        with mock.patch('app.inboxes.folder.opens_exclusively', return_value=False):
            self.assertIn('1 still being written', self.tick(now=lambda: later).detail)
        self.assertIn('1 loaded', self.tick(now=lambda: later).detail)
