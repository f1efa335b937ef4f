"""The audit log page: every role change with actor, target, time and address; filters by
person, action and dates (in the display time zone); pages."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.admin.audit_views import EVENTS_PER_PAGE
from app.extensions import db
from app.models import AuditEvent, User
from tests.base import ADMIN, VIEWER, FlowdeskTestCase, on_every_backend


def add_event(at: datetime, actor: str, action: str, target: str | None = None,
              detail: str | None = None, address: str | None = '10.0.0.7'):
    db.session.add(AuditEvent(at=at, actor=actor, action=action, target=target, detail=detail,
                              remote_addr=address))
    db.session.commit()


def rows(body: str) -> list[str]:
    return [part.split('"', 1)[0] for part in body.split('<tr data-action="')[1:]]


@on_every_backend
class AuditLogTest(FlowdeskTestCase):
    # Berlin is UTC+1 in March: a day there starts at 23:00 UTC the day before.
    SETTINGS = {'DISPLAY_TIMEZONE': 'Europe/Berlin'}

    def setUp(self):
        super().setUp()
        self.admin = self.admin_client()
        self.assertEqual(self.admin.get('/whoami').status_code, 200)
        db.session.execute(db.delete(AuditEvent))  # the admin's own first visit
        db.session.commit()

    def test_role_change_appears_with_actor_target_time_and_address(self):
        self.assertEqual(self.client.get('/whoami').status_code, 200)
        viewer = db.session.execute(db.select(User).filter_by(login=VIEWER)).scalar_one()
        self.admin.post(f'/admin/users/{viewer.id}/grant-admin')
        event = db.session.execute(db.select(AuditEvent).filter_by(action='role.granted')
                                   ).scalar_one()
        shown_at = event.at + timedelta(hours=1)  # Berlin, winter time
        body = self.assertPageContains(self.admin.get('/admin/audit'),
                                       'Admin role granted', 'role viewer → admin',
                                       f'<code>{ADMIN}</code>', f'<code>{VIEWER}</code>',
                                       shown_at.strftime('%Y-%m-%d %H:%M:%S'), '127.0.0.1',
                                       'Times in Europe/Berlin')
        self.assertEqual(rows(body), ['role.granted', 'user.created'])

    def test_filter_by_person_matches_actor_or_target(self):
        add_event(datetime(2026, 3, 1, 9), ADMIN, 'role.granted', 'CORP\\jdoe')
        add_event(datetime(2026, 3, 1, 10), 'CORP\\jdoe', 'user.created', 'CORP\\jdoe')
        add_event(datetime(2026, 3, 1, 11), ADMIN, 'role.granted', 'CORP\\msmith')
        body = self.assertPageContains(self.admin.get('/admin/audit?who=JDOE'), '2 events.')
        self.assertNotIn('CORP\\msmith', body)

    def test_filter_by_action(self):
        add_event(datetime(2026, 3, 1, 9), ADMIN, 'role.granted', 'CORP\\jdoe')
        add_event(datetime(2026, 3, 1, 10), ADMIN, 'user.deactivated', 'CORP\\jdoe')
        add_event(datetime(2026, 3, 1, 11), 'CORP\\loader', 'load.completed', 'flows.csv')
        body = self.assertPageContains(self.admin.get('/admin/audit?action=user.deactivated'),
                                       '1 event.')
        self.assertEqual(rows(body), ['user.deactivated'])
        # actions other parts of Flowdesk record are offered too
        self.assertIn('<option value="load.completed">load.completed</option>', body)

    def test_filter_by_dates_in_the_display_time_zone(self):
        # UTC times; in Berlin (UTC+1 in winter) they are 23:59 Feb 28, 00:00 Mar 1,
        # 23:59 Mar 1 and 00:00 Mar 2
        add_event(datetime(2026, 2, 28, 22, 59), ADMIN, 'user.deactivated', 'CORP\\a')
        add_event(datetime(2026, 2, 28, 23, 0), ADMIN, 'user.reactivated', 'CORP\\b')
        add_event(datetime(2026, 3, 1, 22, 59), ADMIN, 'role.granted', 'CORP\\c')
        add_event(datetime(2026, 3, 1, 23, 0), ADMIN, 'role.revoked', 'CORP\\d')
        body = self.admin.get('/admin/audit?date_from=2026-03-01&date_to=2026-03-01').get_data(True)
        self.assertEqual(rows(body), ['role.granted', 'user.reactivated'])
        self.assertIn('2026-03-01 00:00:00', body)
        after = self.admin.get('/admin/audit?date_from=2026-03-02').get_data(True)
        self.assertEqual(rows(after), ['role.revoked'])
        before = self.admin.get('/admin/audit?date_to=2026-02-28').get_data(True)
        self.assertEqual(rows(before), ['user.deactivated'])

    def test_bad_dates_are_reported_and_ignored(self):
        add_event(datetime(2026, 3, 1, 9), ADMIN, 'role.granted', 'CORP\\jdoe')
        self.assertPageContains(self.admin.get('/admin/audit?date_from=yesterday'),
                                'The filter was not understood and is ignored', '1 event.')
        self.assertPageContains(
            self.admin.get('/admin/audit?date_from=2026-03-02&date_to=2026-03-01'),
            'must be on or after the &#34;From&#34; date', '1 event.')

    def test_pages_newest_first(self):
        start = datetime(2026, 3, 1, 8)
        for number in range(EVENTS_PER_PAGE + 3):
            add_event(start + timedelta(minutes=number), ADMIN, 'role.granted',
                      f'CORP\\u{number:03d}')
        first = self.assertPageContains(self.admin.get('/admin/audit'),
                                        f'{EVENTS_PER_PAGE + 3} events, page 1 of 2.')
        self.assertEqual(len(rows(first)), EVENTS_PER_PAGE)
        self.assertLess(first.index(f'CORP\\u{EVENTS_PER_PAGE + 2:03d}'), first.index('CORP\\u010'))
        second = self.admin.get('/admin/audit?page=2&action=role.granted').get_data(True)
        self.assertEqual(len(rows(second)), 3)
        self.assertIn('CORP\\u000', second)
        # the page links keep the filter
        self.assertIn('action=role.granted', second[second.index('class="pagination'):])

    def test_viewers_cannot_read_the_log(self):
        self.assertEqual(self.client.get('/admin/audit').status_code, 403)
