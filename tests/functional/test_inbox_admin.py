"""Admin pages for inboxes (define, change, delete: each audited; Check folder) and for the
scheduled jobs; the health signal (/healthz ``jobs`` block and the admins' banner) that turns
when the ticks stop."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from app.clock import utc_now
from app.extensions import db
from app.models import AuditEvent, Inbox, JobRun, SchedulerTick
from tests.base import ADMIN, FlowdeskTestCase, on_every_backend
from tests.csrf_helpers import form_page, token_from
from tests.functional.jobs_support import add_inbox, write_responses
from tests.integrity import OpsOutageTestCase


def audit_events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(AuditEvent).filter_by(action=action)))


@on_every_backend
class InboxAdminTests(FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.admin = self.admin_client()
        self.folder = Path(self.databases.folder) / 'Exporte Zürich 2026'
        self.folder.mkdir(exist_ok=True)

    def form(self, **changes):
        data = {'name': 'orders', 'folder': str(self.folder), 'dataset': 'responses',
                'mode': 'upsert', 'pattern': '*.csv', 'active': 'y'}
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}

    def test_define_an_inbox_audited(self):
        response = self.admin.post('/admin/inboxes/new', data=self.form())
        self.assertEqual(response.status_code, 303, response.get_data(True))
        inbox = db.session.scalars(db.select(Inbox)).one()
        self.assertEqual((inbox.name, inbox.folder, inbox.mode, inbox.active),
                         ('orders', str(self.folder), 'upsert', True))
        event, = audit_events('inbox.created')
        self.assertEqual((event.actor.lower(), event.target), (ADMIN.lower(), 'inbox orders'))
        self.assertIn(str(self.folder), event.detail)
        self.assertPageContains(self.admin.get('/admin/inboxes'), 'orders', 'Exporte Zürich 2026',
                                'Check folder')

    def test_bad_definitions_are_explained_and_change_nothing(self):
        add_inbox('orders', self.folder)
        cases = [({'name': 'orders'}, 'Another inbox has this name.'),
                 ({'name': 'x', 'folder': 'relative\\path'}, 'Give a full path'),
                 ({'name': 'x', 'pattern': '..\\*.csv'}, 'names files of the folder only'),
                 ({'name': '<script>'}, 'Use letters, digits')]
        for changes, message in cases:
            with self.subTest(changes):
                response = self.admin.post('/admin/inboxes/new', data=self.form(**changes))
                self.assertPageContains(response, message)
        self.assertEqual(db.session.scalar(db.select(db.func.count()).select_from(Inbox)), 1)
        self.assertEqual(audit_events('inbox.created'), [])

    def test_change_and_delete_are_audited_with_what_changed(self):
        inbox = add_inbox('orders', self.folder)
        response = self.admin.post(f'/admin/inboxes/{inbox.id}/edit',
                                   data=self.form(mode='replace', active=None))
        self.assertEqual(response.status_code, 303)
        event, = audit_events('inbox.changed')
        self.assertIn('mode: append → replace', event.detail)
        self.assertIn('active: True → False', event.detail)
        response = self.admin.post(f'/admin/inboxes/{inbox.id}/delete')
        self.assertEqual(response.status_code, 303)
        self.assertEqual(db.session.scalars(db.select(Inbox)).all(), [])
        self.assertEqual(len(audit_events('inbox.deleted')), 1)
        self.assertTrue(self.folder.is_dir(), 'the folder itself is left alone')

    def test_check_folder_says_what_the_account_can_do(self):
        inbox = add_inbox('orders', self.folder)
        write_responses(self.folder / 'waiting.csv', 1)
        response = self.admin.post(f'/admin/inboxes/{inbox.id}/check', follow_redirects=True)
        self.assertPageContains(response, 'Can list the folder: 1 file matching *.csv waiting.',
                                'Can read the waiting files (waiting.csv).',
                                'Can create, read and move files into processed/ and rejected/.')
        self.assertEqual(sorted(p.name for p in self.folder.iterdir()),
                         ['processed', 'rejected', 'waiting.csv'], 'the probe file is gone')

    def test_check_folder_reports_a_missing_or_read_only_folder(self):
        missing = add_inbox('missing', self.folder / 'not there')
        response = self.admin.post(f'/admin/inboxes/{missing.id}/check', follow_redirects=True)
        self.assertPageContains(response, 'Cannot list', 'not there')
        if os.name == 'posix' and os.geteuid() != 0:
            read_only = self.folder / 'read only'
            read_only.mkdir()
            read_only.chmod(0o555)
            self.addCleanup(read_only.chmod, 0o755)
            inbox = add_inbox('read-only', read_only)
            response = self.admin.post(f'/admin/inboxes/{inbox.id}/check', follow_redirects=True)
            self.assertPageContains(response, 'Can list the folder',
                                    'Cannot create and move files in')

    def test_viewers_cannot_see_or_change_inboxes(self):
        inbox = add_inbox('orders', self.folder)
        self.assertEqual(self.client.get('/admin/inboxes').status_code, 403)
        self.assertEqual(self.client.post(f'/admin/inboxes/{inbox.id}/delete').status_code, 403)
        self.assertEqual(self.client.get('/admin/jobs').status_code, 403)
        self.assertIsNotNone(db.session.get(Inbox, inbox.id))


class InboxAdminCsrfTests(FlowdeskTestCase):
    SETTINGS = {'WTF_CSRF_ENABLED': 'yes'}

    def test_delete_needs_the_pages_token(self):
        inbox = add_inbox('orders', Path(self.databases.folder))
        admin = self.admin_client()
        form_page(admin, '/admin/inboxes')
        self.assertEqual(admin.post(f'/admin/inboxes/{inbox.id}/delete').status_code, 400)
        self.assertIsNotNone(db.session.get(Inbox, inbox.id))
        token = token_from(admin, '/admin/inboxes')
        response = admin.post(f'/admin/inboxes/{inbox.id}/delete', data={'csrf_token': token})
        self.assertEqual(response.status_code, 303)


@on_every_backend
class SchedulerHealthTests(FlowdeskTestCase):
    SETTINGS = {'JOBS_TICK_INTERVAL_SECONDS': '60'}

    def tick_at(self, when):
        db.session.merge(SchedulerTick(host='web01', ticked_at=when))
        db.session.commit()

    def health(self) -> dict:
        response = self.client_for(None).get('/healthz')
        self.assertEqual(response.status_code, 200)
        return response.get_json()['jobs']

    def test_the_signal_turns_when_the_ticks_stop(self):
        self.tick_at(utc_now() - timedelta(seconds=30))
        jobs = self.health()
        self.assertFalse(jobs['stale'])
        self.assertLess(jobs['last_tick_age_seconds'], 170)
        self.assertNotIn('scheduler-warning', self.admin_client().get('/admin/inboxes').get_data(True))

        self.tick_at(utc_now() - timedelta(minutes=4))  # three 60 s intervals missed
        jobs = self.health()
        self.assertTrue(jobs['stale'])
        self.assertGreaterEqual(jobs['last_tick_age_seconds'], 240)
        self.assertIn('Scheduled jobs have not run for 4 minutes (last tick on web01)',
                      jobs['message'])
        body = self.assertPageContains(self.admin_client().get('/admin/inboxes'),
                                       'id="scheduler-warning"', 'have not run for 4 minutes')
        self.assertIn('href="/admin/jobs"', body)
        self.assertNotIn('scheduler-warning', self.client.get('/').get_data(True),
                         'viewers cannot restart the scheduler')

    def test_never_ticked_is_only_a_problem_once_inboxes_wait(self):
        self.assertEqual(self.health(), {'last_tick_age_seconds': None, 'failing': [],
                                         'stale': False, 'message': None})
        add_inbox('orders', Path(self.databases.folder))
        jobs = self.health()
        self.assertTrue(jobs['stale'])
        self.assertIn('never run', jobs['message'])

    def test_failing_jobs_are_named_and_shown_with_their_error(self):
        now = utc_now()
        db.session.add_all([
            JobRun(job='inbox', started_at=now - timedelta(minutes=2), finished_at=now,
                   host='web01', outcome='succeeded', summary='1 loaded'),
            JobRun(job='inbox', started_at=now - timedelta(minutes=1), finished_at=now,
                   host='web02', outcome='failed', summary='FileNotFoundError: share gone',
                   error='Traceback: share <gone>'),
            JobRun(job='sweep', started_at=now, finished_at=now, host='web01',
                   outcome='succeeded')])
        db.session.commit()
        self.tick_at(now)
        self.assertEqual(self.health()['failing'], ['inbox'])
        body = self.assertPageContains(self.admin_client().get('/admin/jobs'),
                                       'FileNotFoundError: share gone', 'web02',
                                       'Traceback: share &lt;gone&gt;', 'prune-job-runs')
        self.assertIn('never', body)
        only_sweep = self.admin_client().get('/admin/jobs?job=sweep').get_data(True)
        self.assertNotIn('share gone</td>', only_sweep.split('Recent runs')[1])


@on_every_backend
class SchedulerHealthDuringOutageTests(OpsOutageTestCase):
    """The banner's check must not break admin pages while the ops database is away."""

    def test_app_database_pages_render_and_healthz_says_why(self):
        add_inbox('orders', Path(self.databases.folder))
        self.outage.down()
        body = self.assertPageContains(self.admin_client().get('/admin/inboxes'), 'orders')
        self.assertNotIn('scheduler-warning', body)
        response = self.client_for(None).get('/healthz')
        self.assertEqual(response.status_code, 503)
        self.assertIn('error', response.get_json()['jobs'])
