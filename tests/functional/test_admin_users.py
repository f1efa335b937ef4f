"""The admin users page: the list (search, filters, pages) and role and access changes with
their rules, each audited."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from app import roles
from app.admin.users_views import USERS_PER_PAGE
from app.extensions import db
from app.models import AuditEvent, User
from tests.base import ADMIN, VIEWER, FlowdeskTestCase, on_every_backend
from tests.csrf_helpers import form_page, token_from

SECOND_ADMIN = 'CORP\\boss'


def user(login: str) -> User:
    db.session.expire_all()
    return db.session.execute(db.select(User).filter_by(login=login)).scalar_one()


def add_user(login: str, role: str = 'viewer', active: bool = True, seen: datetime | None = None):
    seen = seen or datetime(2026, 3, 1, 8, 30)
    db.session.add(User(login=login, display_name=login.split('\\')[1], role=role, active=active,
                        first_seen=seen, last_seen=seen))
    db.session.commit()


def audit_events() -> list[tuple[str, str, str, str | None]]:
    return [(e.actor, e.action, e.target, e.remote_addr) for e in
            db.session.scalars(db.select(AuditEvent).where(AuditEvent.action != 'user.created')
                               .order_by(AuditEvent.id))]


@on_every_backend
class UserListTest(FlowdeskTestCase):

    def setUp(self):
        super().setUp()
        self.admin = self.admin_client()
        self.assertEqual(self.admin.get('/whoami').status_code, 200)

    def test_list_shows_role_status_and_first_and_last_seen(self):
        add_user('CORP\\jdoe', seen=datetime(2026, 3, 1, 8, 30, 15))
        add_user('CORP\\gone', active=False)
        body = self.assertPageContains(self.admin.get('/admin/users'), '3 users.',
                                       '<tr data-login="CORP\\jdoe">', '2026-03-01 08:30:15',
                                       '<span class="text-danger">deactivated</span>')
        self.assertIn('/admin/users/', body)
        self.assertIn('Make admin', body)
        self.assertIn('Reactivate', body)

    def test_search_by_login_or_name(self):
        for login in ('CORP\\jdoe', 'CORP\\jdoherty', 'CORP\\msmith', 'CORP\\under_score'):
            add_user(login)
        body = self.assertPageContains(self.admin.get('/admin/users?q=JDO'), '2 users.')
        self.assertIn('data-login="CORP\\jdoe"', body)
        self.assertIn('data-login="CORP\\jdoherty"', body)
        self.assertNotIn('data-login="CORP\\msmith"', body)
        # LIKE wildcards in the search are plain characters
        self.assertPageContains(self.admin.get('/admin/users?q=r_s'), '1 user.',
                                'data-login="CORP\\under_score"')
        self.assertPageContains(self.admin.get('/admin/users?q=%25'), '0 users.',
                                'No user matches this search.')

    def test_filter_by_role_and_status(self):
        add_user('CORP\\jdoe')
        add_user('CORP\\gone', active=False)
        add_user(SECOND_ADMIN, role='admin')
        admins = self.admin.get('/admin/users?role=admin').get_data(True)
        self.assertIn('2 users.', admins)
        self.assertNotIn('data-login="CORP\\jdoe"', admins)
        deactivated = self.admin.get('/admin/users?status=deactivated').get_data(True)
        self.assertIn('1 user.', deactivated)
        self.assertIn('data-login="CORP\\gone"', deactivated)

    def test_unknown_filter_value_is_reported_and_ignored(self):
        add_user('CORP\\jdoe')
        self.assertPageContains(self.admin.get('/admin/users?role=superuser'),
                                'The filter was not understood and is ignored', '2 users.')

    def test_pages(self):
        for number in range(USERS_PER_PAGE + 5):
            add_user(f'CORP\\user{number:03d}')
        first = self.assertPageContains(self.admin.get('/admin/users'),
                                        f'{USERS_PER_PAGE + 6} users, page 1 of 2.')
        self.assertEqual(first.count('<tr data-login='), USERS_PER_PAGE)
        second = self.assertPageContains(self.admin.get('/admin/users?page=2'), 'page 2 of 2.')
        self.assertEqual(second.count('<tr data-login='), 6)
        self.assertIn('data-login="CORP\\user054"', second)


@on_every_backend
class RoleChangeTest(FlowdeskTestCase):

    def setUp(self):
        super().setUp()
        self.admin = self.admin_client()
        self.assertEqual(self.admin.get('/whoami').status_code, 200)
        self.assertEqual(self.client.get('/whoami').status_code, 200)
        self.viewer_id = user(VIEWER).id
        self.admin_id = user(ADMIN).id

    def change(self, client, user_id, change, follow=True):
        return client.post(f'/admin/users/{user_id}/{change}',
                           data={'next': '/admin/users?q=viewer'}, follow_redirects=follow)

    def test_grant_admin_is_audited_with_actor_target_and_address(self):
        response = self.change(self.admin, self.viewer_id, 'grant-admin', follow=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.location, '/admin/users?q=viewer')
        self.assertEqual(user(VIEWER).role, 'admin')
        self.assertEqual(audit_events(), [(ADMIN, 'role.granted', VIEWER, '127.0.0.1')])
        self.assertEqual(self.client.get('/admin/users').status_code, 200)

    def test_revoke_admin(self):
        add_user(SECOND_ADMIN, role='admin')
        self.assertPageContains(self.change(self.admin, user(SECOND_ADMIN).id, 'revoke-admin'),
                                'CORP\\boss is now a viewer.')
        self.assertEqual(user(SECOND_ADMIN).role, 'viewer')
        self.assertEqual(audit_events(), [(ADMIN, 'role.revoked', SECOND_ADMIN, '127.0.0.1')])

    def test_deactivate_and_reactivate(self):
        self.assertPageContains(self.change(self.admin, self.viewer_id, 'deactivate'),
                                'CORP\\viewer is deactivated and can no longer use Flowdesk.')
        self.assertEqual(self.client.get('/').status_code, 403)
        self.assertPageContains(self.change(self.admin, self.viewer_id, 'reactivate'),
                                'CORP\\viewer can use Flowdesk again.')
        self.assertEqual(self.client.get('/').status_code, 200)
        self.assertEqual([event[1] for event in audit_events()],
                         ['user.deactivated', 'user.reactivated'])

    def test_an_admin_cannot_demote_themself(self):
        add_user(SECOND_ADMIN, role='admin')
        boss = self.client_for(SECOND_ADMIN)
        self.assertPageContains(self.change(boss, user(SECOND_ADMIN).id, 'revoke-admin'),
                                'You cannot remove your own admin role')
        self.assertEqual(user(SECOND_ADMIN).role, 'admin')
        self.assertEqual(audit_events(), [])

    def test_an_admin_cannot_deactivate_themself(self):
        self.assertPageContains(self.change(self.admin, self.admin_id, 'deactivate'),
                                'You cannot deactivate your own account')
        self.assertTrue(user(ADMIN).active)
        self.assertEqual(audit_events(), [])

    def test_listed_admin_cannot_be_revoked_in_the_ui(self):
        add_user(SECOND_ADMIN, role='admin')
        boss = self.client_for(SECOND_ADMIN)
        self.assertPageContains(self.change(boss, self.admin_id, 'revoke-admin'),
                                'listed in the FLOWDESK_ADMINS setting')
        self.assertEqual(user(ADMIN).role, 'admin')

    def test_listed_admin_can_be_deactivated_by_another_admin(self):
        add_user(SECOND_ADMIN, role='admin')
        self.change(self.client_for(SECOND_ADMIN), self.admin_id, 'deactivate')
        self.assertFalse(user(ADMIN).active)
        self.assertEqual(self.admin.get('/admin/users').status_code, 403)

    def test_the_last_active_admin_cannot_be_removed(self):
        """Two admins removing each other at once: the second change finds that the first one
        already left the target as the only active admin, and changes nothing."""
        db.session.execute(update(User).where(User.login == ADMIN).values(active=False))
        db.session.commit()
        add_user(SECOND_ADMIN, role='admin')
        add_user('CORP\\chief', role='admin')
        boss, chief = user(SECOND_ADMIN), user('CORP\\chief')
        # The chief's request demoting the boss commits first, on its own connection.
        with db.engines[None].begin() as connection:
            connection.execute(update(User.__table__).where(User.__table__.c.id == boss.id)
                               .values(role='viewer'))
        for change in (roles.DEACTIVATE, roles.REVOKE_ADMIN):
            with self.subTest(change=change):
                with self.assertRaisesRegex(roles.ChangeRefused,
                                            'CORP\\\\chief is the last active admin'):
                    roles.change_user(boss, chief, change)
                self.assertEqual((user('CORP\\chief').role, user('CORP\\chief').active),
                                 ('admin', True))
        self.assertEqual(audit_events(), [])

    def test_refusals_leave_things_as_they_were(self):
        self.change(self.admin, self.viewer_id, 'deactivate')
        self.assertPageContains(self.change(self.admin, self.viewer_id, 'grant-admin'),
                                'reactivate the account first')
        self.assertPageContains(self.change(self.admin, self.admin_id, 'grant-admin'),
                                'CORP\\admin is already an admin.')
        self.assertEqual((user(VIEWER).role, user(VIEWER).active), ('viewer', False))
        self.assertEqual([event[1] for event in audit_events()], ['user.deactivated'])

    def test_viewer_cannot_change_anyone(self):
        response = self.change(self.client, self.viewer_id, 'grant-admin', follow=False)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(user(VIEWER).role, 'viewer')
        self.assertEqual(audit_events(), [])

    def test_unknown_user_and_change(self):
        self.assertEqual(self.change(self.admin, 999999, 'grant-admin').status_code, 404)
        self.assertEqual(self.change(self.admin, self.viewer_id, 'delete').status_code, 404)
        self.assertEqual(self.admin.get(f'/admin/users/{self.viewer_id}/grant-admin')
                         .status_code, 405)

    def test_next_outside_the_users_page_is_not_followed(self):
        response = self.admin.post(f'/admin/users/{self.viewer_id}/grant-admin',
                                   data={'next': 'https://evil.example/admin/users'})
        self.assertEqual(response.location, '/admin/users')


class RoleChangeCsrfTest(FlowdeskTestCase):
    """Role changes are POST forms with a CSRF token; without it nothing changes."""
    SETTINGS = {'WTF_CSRF_ENABLED': 'yes'}

    def setUp(self):
        super().setUp()
        self.assertEqual(self.client.get('/whoami').status_code, 200)
        self.admin = self.admin_client()

    def test_post_without_token_is_400(self):
        form_page(self.admin, '/admin/users')
        response = self.admin.post(f'/admin/users/{user(VIEWER).id}/grant-admin')
        self.assertEqual(response.status_code, 400)
        self.assertIn('CSRF token is missing', response.get_data(True))
        self.assertEqual(user(VIEWER).role, 'viewer')

    def test_post_with_the_pages_token_changes_the_role(self):
        token = token_from(self.admin, '/admin/users')
        response = self.admin.post(f'/admin/users/{user(VIEWER).id}/grant-admin',
                                   data={'csrf_token': token})
        self.assertEqual(response.status_code, 303)
        self.assertEqual(user(VIEWER).role, 'admin')
