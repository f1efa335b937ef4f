"""Scheduled jobs: ``flask jobs run`` runs what is due (due-ness from ``job_runs``), each job
under its database lock; a failing job is recorded, the others still run, and the exit code
says so; ``--force``, ``list`` and ``--loop`` with SIGTERM; the sweep and prune-job-runs
jobs."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

from app.clock import utc_now
from app.extensions import db
from app.jobs.lock import JobLock
from app.loading.storage import SUFFIX
from app.models import JobRun, LoadBatch
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.jobs_support import SubprocessMixin, add_inbox, runs

JOB_NAMES = ['sweep', 'alerts', 'inbox', 'alert-delivery', 'retention', 'prune-job-runs']
EVERY_TICK = {'alerts', 'alert-delivery'}


def output_lines(output: str) -> dict[str, tuple[str, str]]:
    """``{job: (outcome, detail)}`` from the lines ``flask jobs run`` prints."""
    lines = {}
    for line in output.splitlines():
        parts = line.split(None, 2)
        if parts and parts[0] in JOB_NAMES:
            lines[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else '')
    return lines


@on_every_backend
class JobsRunTests(FlowdeskTestCase):
    def jobs(self, *args):
        return self.app.test_cli_runner().invoke(args=['jobs', *args])

    def test_runs_every_due_job_once_then_skips_until_due(self):
        first = self.jobs('run')
        self.assertEqual(first.exit_code, 0, first.output)
        self.assertEqual({job: outcome for job, (outcome, _) in output_lines(first.output).items()},
                         dict.fromkeys(JOB_NAMES, 'ran'))
        self.assertIn('6 jobs: 6 ran, 0 skipped, 0 failed', first.output)
        self.assertEqual(sorted(run.job for run in runs()), sorted(JOB_NAMES))
        self.assertTrue(all(run.outcome == 'succeeded' and run.finished_at for run in runs()))
        second = self.jobs('run')
        self.assertEqual(second.exit_code, 0, second.output)
        # alerts and alert-delivery run on every tick; the others wait for their interval.
        self.assertIn('6 jobs: 2 ran, 4 skipped, 0 failed', second.output)
        again = output_lines(second.output)
        self.assertEqual({job for job, (outcome, _) in again.items() if outcome == 'ran'},
                         EVERY_TICK)
        self.assertIn('not due until', again['inbox'][1])
        self.assertEqual(len(runs()), 8)

    def test_due_ness_is_read_from_the_database(self):
        db.session.add(JobRun(job='sweep', started_at=utc_now() - timedelta(minutes=20),
                              finished_at=utc_now(), host='other-server', outcome='succeeded'))
        db.session.add(JobRun(job='inbox', started_at=utc_now() - timedelta(seconds=10),
                              finished_at=utc_now(), host='other-server', outcome='succeeded'))
        db.session.commit()
        result = self.jobs('run')
        lines = output_lines(result.output)
        self.assertEqual(lines['sweep'][0], 'ran', 'its last run is older than its interval')
        self.assertEqual(lines['inbox'][0], 'skipped', 'another server ran it 10 s ago')
        self.assertEqual(len(runs('inbox')), 1)

    def test_force_runs_a_job_that_is_not_due(self):
        self.jobs('run')
        result = self.jobs('run', 'sweep', '--force')
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('1 job: 1 ran, 0 skipped, 0 failed', result.output)
        self.assertEqual(len(runs('sweep')), 2)
        self.assertEqual(len(runs('inbox')), 1)

    def test_force_needs_a_job_name_and_names_are_checked(self):
        result = self.jobs('run', '--force')
        self.assertNotEqual(result.exit_code, 0)
        self.assertIn('--force runs one job now: name it', result.output)
        result = self.jobs('run', 'nightly')
        self.assertNotEqual(result.exit_code, 0)
        self.assertIn("There is no job called 'nightly': the jobs are sweep, alerts, inbox, "
                      "alert-delivery, retention, prune-job-runs",
                      result.output)
        self.assertEqual(runs(), [])

    def test_a_job_running_elsewhere_is_skipped(self):
        with JobLock('sweep') as held:
            self.assertTrue(held.acquire())
            result = self.jobs('run')
        self.assertEqual(output_lines(result.output)['sweep'], ('skipped', 'running elsewhere'))
        self.assertEqual(output_lines(result.output)['inbox'][0], 'ran')
        self.assertEqual(runs('sweep'), [])

    def test_a_failing_job_is_recorded_the_others_run_and_the_exit_code_says_so(self):
        add_inbox('orders', Path(self.databases.folder) / 'no such folder')
        result = self.jobs('run')
        self.assertEqual(result.exit_code, 1, result.output)
        lines = output_lines(result.output)
        self.assertEqual(lines['inbox'][0], 'failed')
        self.assertIn('no such folder', lines['inbox'][1])
        self.assertEqual((lines['sweep'][0], lines['retention'][0], lines['prune-job-runs'][0]),
                         ('ran', 'ran', 'ran'))
        self.assertIn('6 jobs: 5 ran, 0 skipped, 1 failed', result.output)
        failed = runs('inbox')[0]
        self.assertEqual(failed.outcome, 'failed')
        self.assertIn('cannot be listed', failed.error)
        self.assertIn('Traceback', failed.error)

    def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(self):
        db.session.add(JobRun(job='sweep', started_at=utc_now() - timedelta(hours=1),
                              host='crashed', outcome='running'))
        db.session.commit()
        self.jobs('run', 'sweep', '--force')
        outcomes = [run.outcome for run in runs('sweep')]
        self.assertEqual(outcomes, ['interrupted', 'succeeded'])

    def test_list_shows_interval_last_run_and_next_due(self):
        self.jobs('run', 'inbox', '--force')
        result = self.jobs('list')
        self.assertEqual(result.exit_code, 0, result.output)
        rows = {line.split()[0]: line for line in result.output.splitlines()[1:]}
        self.assertRegex(rows['inbox'], r'inbox\s+1 min\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+succeeded')
        self.assertRegex(rows['sweep'], r'sweep\s+15 min\s+never\s+now$')
        self.assertIn('1 d', rows['prune-job-runs'])


@on_every_backend
class HousekeepingJobTests(FlowdeskTestCase):
    def jobs(self, *args):
        return self.app.test_cli_runner().invoke(args=['jobs', *args])

    def test_sweep_deletes_expired_uploads_and_marks_interrupted_batches(self):
        folder = Path(self.app.config['UPLOAD_FOLDER'])
        folder.mkdir(parents=True, exist_ok=True)
        old, fresh = folder / ('a' * 64 + SUFFIX), folder / ('b' * 64 + SUFFIX)
        for path in (old, fresh):
            path.write_bytes(b'x')
        hours = self.app.config['UPLOAD_RETENTION_HOURS']
        past = time.time() - (hours + 1) * 3600
        os.utime(old, (past, past))
        db.session.add(LoadBatch(dataset='responses', mode='append', loaded_by='CORP\\admin',
                                 status='running', started_at=utc_now()))
        db.session.commit()
        result = self.jobs('run', 'sweep', '--force')
        self.assertIn('1 interrupted batch marked, 1 expired upload deleted', result.output)
        self.assertFalse(old.exists())
        self.assertTrue(fresh.exists())
        db.session.expire_all()
        self.assertEqual(db.session.scalars(db.select(LoadBatch.status)).all(), ['interrupted'])

    def test_prune_keeps_recent_runs_and_each_jobs_latest(self):
        long_ago = utc_now() - timedelta(days=self.app.config['JOB_RUNS_KEEP_DAYS'] + 5)
        for job, days in (('sweep', 2), ('sweep', 1), ('inbox', 1)):
            db.session.add(JobRun(job=job, started_at=long_ago - timedelta(days=days),
                                  host='h', outcome='succeeded'))
        db.session.add(JobRun(job='sweep', started_at=long_ago, host='h', outcome='succeeded'))
        db.session.commit()
        result = self.jobs('run', 'prune-job-runs', '--force')
        self.assertIn('2 job runs older than', result.output)
        kept = [(run.job, run.started_at) for run in runs() if run.job != 'prune-job-runs']
        self.assertEqual(kept, [('inbox', long_ago - timedelta(days=1)), ('sweep', long_ago)])


@on_every_backend
class JobsLoopTests(SubprocessMixin, FlowdeskTestCase):
    def test_loop_ticks_until_sigterm_then_stops_cleanly(self):
        process = self.start_flask('jobs', 'run', '--loop', '--interval', '1')
        try:
            deadline = time.monotonic() + 120
            while len(runs('inbox')) < 2:
                self.assertIsNone(process.poll(), 'the loop ended by itself')
                self.assertLess(time.monotonic(), deadline, 'the loop did not tick twice')
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            output, errors = process.communicate(timeout=60)
        finally:
            process.kill()
        self.assertEqual(process.returncode, 0, errors)
        self.assertTrue(output.rstrip().endswith('Stopped.'), output)
        self.assertIn('6 jobs: 6 ran, 0 skipped, 0 failed', output)
        self.assertTrue(all(run.outcome == 'succeeded' for run in runs()))
