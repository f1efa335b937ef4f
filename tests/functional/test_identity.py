"""Identity through HTTP: REMOTE_USER only, normalised, a viewer on first visit, last_seen at most
once a minute, refusals (401 anonymous, 403 deactivated), the development stand-in and the
testers' "sign in as" page."""
from __future__ import annotations

import unittest
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from app.clock import utc_now
from app.extensions import db
from app.models import AuditEvent, User
from tests.base import ADMIN, VIEWER, FlowdeskTestCase, on_every_backend, postgres_urls
from tests.csrf_helpers import form_page
from tests.fastcgi_client import csrf_token

FORGED_HEADERS = {'Remote-User': ADMIN, 'X-Remote-User': ADMIN, 'X-Forwarded-User': ADMIN}


def users() -> list[User]:
    return db.session.scalars(db.select(User).order_by(User.login)).all()


def audit_actions() -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in
            db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


@on_every_backend
class RemoteUserTest(FlowdeskTestCase):
    SETTINGS = {'FLOWDESK_DOMAIN_MAP': 'corp.example=CORP'}

    def test_first_visit_creates_a_viewer(self):
        body = self.assertPageContains(self.client_for('corp\\JDoe').get('/whoami'),
                                       'id="whoami-login">CORP\\jdoe</dd>',
                                       'id="whoami-role">viewer</dd>')
        self.assertNotIn('Admin</a>', body)
        [user] = users()
        self.assertEqual((user.login, user.display_name, user.role, user.active),
                         ('CORP\\jdoe', 'jdoe', 'viewer', True))
        self.assertEqual(user.first_seen, user.last_seen)
        self.assertEqual(audit_actions(), [('CORP\\jdoe', 'user.created', 'CORP\\jdoe')])

    def test_spellings_of_one_login_are_one_user(self):
        for spelling in ('CORP\\jdoe', 'corp\\JDoe', 'jdoe@corp.example', 'JDoe@Corp.Example'):
            self.assertPageContains(self.client_for(spelling).get('/whoami'),
                                    'id="whoami-login">CORP\\jdoe</dd>')
        self.assertEqual([u.login for u in users()], ['CORP\\jdoe'])

    def test_identity_headers_never_authenticate(self):
        response = self.client_for(None).get('/whoami', headers=FORGED_HEADERS)
        self.assertPageContains(response, 'Sign-in needed', status=401)
        self.assertEqual(response.headers['WWW-Authenticate'], 'Negotiate')
        self.assertEqual(users(), [])

    def test_identity_headers_do_not_change_who_you_are(self):
        response = self.client.get('/admin/users', headers=FORGED_HEADERS)
        self.assertPageContains(response, 'This page is for Flowdesk admins.', status=403)
        self.assertEqual([u.login for u in users()], [VIEWER])

    def test_anonymous_request_gets_401_explaining_the_missing_identity(self):
        response = self.client_for(None).get('/')
        self.assertPageContains(response, 'Flowdesk did not receive your Windows identity.',
                                'FLOWDESK_DEV_USER', status=401)
        self.assertEqual(response.headers['WWW-Authenticate'], 'Negotiate')

    def test_unusable_remote_user_is_anonymous(self):
        response = self.client_for('CORP\\').get('/whoami')
        self.assertEqual(response.status_code, 401)
        self.assertEqual(users(), [])

    def test_last_seen_is_written_at_most_once_a_minute(self):
        client = self.client_for('CORP\\jdoe')
        self.assertEqual(client.get('/whoami').status_code, 200)
        first_seen = users()[0].last_seen
        db.session.remove()

        with self.recorded_writes() as writes:
            for _ in range(3):
                self.assertEqual(client.get('/whoami').status_code, 200)
        self.assertEqual(writes, [], 'reading pages within a minute must not write')
        self.assertEqual(users()[0].last_seen, first_seen)

        an_hour_ago = utc_now() - timedelta(hours=1)
        db.session.execute(db.update(User).values(last_seen=an_hour_ago))
        db.session.commit()
        db.session.remove()
        with self.recorded_writes() as writes:
            self.assertEqual(client.get('/whoami').status_code, 200)
        self.assertEqual(len(writes), 1, writes)
        self.assertGreater(users()[0].last_seen, an_hour_ago + timedelta(minutes=59))

    @staticmethod
    @contextmanager
    def recorded_writes():
        """The INSERT/UPDATE/DELETE statements sent to the app database inside the block."""
        writes = []

        def on_execute(_conn, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith(('INSERT', 'UPDATE', 'DELETE')):
                writes.append(statement)

        engine = db.engines[None]
        event.listen(engine, 'before_cursor_execute', on_execute)
        try:
            yield writes
        finally:
            event.remove(engine, 'before_cursor_execute', on_execute)

    def test_deactivated_user_gets_403(self):
        self.assertEqual(self.client.get('/').status_code, 200)
        db.session.execute(db.update(User).where(User.login == VIEWER).values(active=False))
        db.session.commit()
        self.assertPageContains(self.client.get('/'), 'The account CORP\\viewer is deactivated',
                                'Ask a Flowdesk admin to reactivate it.', status=403)

    def test_deactivated_admin_loses_admin_pages(self):
        admin = self.admin_client()
        self.assertEqual(admin.get('/admin/users').status_code, 200)
        db.session.execute(db.update(User).where(User.login == ADMIN).values(active=False))
        db.session.commit()
        self.assertEqual(admin.get('/admin/users').status_code, 403)
        self.assertEqual(admin.get('/whoami').status_code, 403)

    def test_listed_admin_is_an_admin_from_the_first_visit(self):
        self.assertPageContains(self.admin_client().get('/whoami'), 'whoami-role">admin</dd>')
        self.assertEqual(audit_actions(), [(ADMIN, 'user.created', ADMIN)])

    def test_login_added_to_flowdesk_admins_is_promoted_on_next_visit(self):
        db.session.add(User(login=ADMIN, display_name='admin', role='viewer', active=True))
        db.session.commit()
        self.assertPageContains(self.admin_client().get('/whoami'), 'whoami-role">admin</dd>')
        self.assertEqual(audit_actions(), [('system', 'role.granted', ADMIN)])

    def test_viewer_is_refused_admin_pages(self):
        for path in ('/admin/users', '/admin/audit'):
            self.assertPageContains(self.client.get(path), 'This page is for Flowdesk admins.',
                                    status=403)


class StandInIdentityTest(FlowdeskTestCase):
    """Development without IIS: FLOWDESK_DEV_USER stands in, a real REMOTE_USER wins."""
    SETTINGS = {'FLOWDESK_DEV_USER': 'corp\\Tester'}

    def test_stand_in_identity_is_used_without_remote_user(self):
        self.assertPageContains(self.client_for(None).get('/whoami'),
                                'whoami-login">CORP\\tester</dd>', 'stand-in identity (testing)')

    def test_remote_user_wins_over_the_stand_in(self):
        self.assertPageContains(self.client.get('/whoami'), f'whoami-login">{VIEWER}</dd>')

    def test_sign_in_page_is_off_without_the_setting(self):
        self.assertEqual(self.client_for(None).get('/auth/sign-in').status_code, 404)

    def test_a_test_login_in_the_session_is_ignored_without_the_setting(self):
        client = self.client_for(None)
        with client.session_transaction() as session:
            session['test_login'] = ADMIN
        self.assertPageContains(client.get('/whoami'), 'whoami-login">CORP\\tester</dd>')


class TestSignInPageTest(FlowdeskTestCase):
    """UAT and development: testers pick a test user; CSRF is on as in those configurations."""
    SETTINGS = {'FLOWDESK_ALLOW_TEST_LOGIN': 'yes', 'WTF_CSRF_ENABLED': 'yes'}

    def sign_in(self, client, login):
        page = form_page(client, '/auth/sign-in')
        return client.post('/auth/sign-in', data={'login': login,
                                                  'csrf_token': csrf_token(page.get_data(True))})

    def test_anonymous_401_links_to_the_sign_in_page(self):
        self.assertPageContains(self.client_for(None).get('/'), 'href="/auth/sign-in"',
                                status=401)

    def test_page_offers_viewer_and_admin_test_users(self):
        self.assertPageContains(self.client_for(None).get('/auth/sign-in'),
                                'CORP\\test.viewer</code> — viewer',
                                'CORP\\test.admin</code> — admin', 'Nobody is signed in.')

    def test_signing_in_as_the_test_admin(self):
        client = self.client_for(None)
        response = self.sign_in(client, 'CORP\\test.admin')
        self.assertEqual(response.status_code, 303, response.get_data(True))
        self.assertEqual(response.location, '/whoami')
        self.assertPageContains(client.get('/whoami'), 'whoami-login">CORP\\test.admin</dd>',
                                'whoami-role">admin</dd>')
        self.assertEqual(client.get('/admin/users').status_code, 200)
        self.assertIn(('system', 'role.granted', 'CORP\\test.admin'), audit_actions())
        self.assertIn(('CORP\\test.admin', 'auth.test_sign_in', 'CORP\\test.admin'),
                      audit_actions())

    def test_switching_to_a_viewer_and_signing_out(self):
        client = self.client_for(None)
        self.sign_in(client, 'CORP\\test.admin')
        self.sign_in(client, 'CORP\\test.viewer')
        self.assertEqual(client.get('/admin/users').status_code, 403)
        page = form_page(client, '/auth/sign-in').get_data(True)
        signed_out = client.post('/auth/sign-out', data={'csrf_token': csrf_token(page)})
        self.assertEqual(signed_out.status_code, 303)
        self.assertEqual(client.get('/whoami').status_code, 401)

    def test_only_offered_test_users_can_be_chosen(self):
        client = self.client_for(None)
        response = self.sign_in(client, ADMIN)
        self.assertPageContains(response, 'Not a valid choice')
        self.assertEqual(client.get('/whoami').status_code, 401)
        self.assertEqual(users(), [])

    def test_sign_in_without_csrf_token_is_refused(self):
        client = self.client_for(None)
        response = client.post('/auth/sign-in', data={'login': 'CORP\\test.admin'})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(client.get('/whoami').status_code, 401)

    def test_windows_authentication_wins_over_a_test_user(self):
        client = self.client
        self.sign_in(client, 'CORP\\test.admin')
        self.assertPageContains(client.get('/whoami'), f'whoami-login">{VIEWER}</dd>')
        self.assertEqual(client.get('/admin/users').status_code, 403)


class ProductionIdentityTest(FlowdeskTestCase):
    """The production configuration (PostgreSQL tier: production refuses SQLite)."""
    backend = 'postgresql'
    CONFIG_NAME = 'production'
    SETTINGS = {'SECRET_KEY': 'a-long-production-secret-for-tests-only'}

    @classmethod
    def setUpClass(cls):
        if postgres_urls() is None:
            raise unittest.SkipTest('production refuses SQLite: needs TEST_DATABASE_URL and '
                                    'TEST_OPS_DATABASE_URL (the PostgreSQL tier)')
        super().setUpClass()

    def test_anonymous_gets_401_about_windows_authentication_in_iis(self):
        response = self.client_for(None).get('/')
        self.assertPageContains(response, '<strong>Windows Authentication</strong> must be '
                                          '<em>Enabled</em>', 'Anonymous Authentication',
                                status=401)
        self.assertNotIn('FLOWDESK_DEV_USER', response.get_data(True))

    def test_a_test_login_in_the_session_is_ignored(self):
        client = self.client_for(None)
        with client.session_transaction() as session:
            session['test_login'] = ADMIN
        self.assertEqual(client.get('/whoami').status_code, 401)
        self.assertEqual(client.get('/auth/sign-in').status_code, 404)

    def test_remote_user_is_the_identity(self):
        self.assertPageContains(self.client.get('/whoami'), f'whoami-login">{VIEWER}</dd>',
                                'whoami-role">viewer</dd>')


@on_every_backend
class RefusedLoginTest(FlowdeskTestCase):
    """Logins that could be taken for someone else get a 401 that says why, and change nothing."""
    SETTINGS = {'FLOWDESK_DOMAIN_MAP': 'corp.example=CORP'}

    def assertRefused(self, login, *reasons):
        response = self.client_for(login).get('/admin/users')
        body = self.assertPageContains(response, 'Sign-in needed', *reasons, status=401)
        self.assertNotIn('Windows Authentication</strong> must be', body)
        return body

    def test_upn_from_an_unmapped_domain_is_refused(self):
        self.assertRefused('jdoe@corp.evil.example', 'corp.evil.example',
                           'not in FLOWDESK_DOMAIN_MAP')
        self.assertEqual(users(), [])
        self.assertPageContains(self.client_for('jdoe@corp.example').get('/whoami'),
                                'whoami-login">CORP\\jdoe</dd>')

    def test_kelvin_sign_does_not_become_another_account(self):
        self.assertPageContains(self.client_for('CORP\\kate').get('/whoami'),
                                'whoami-login">CORP\\kate</dd>')
        self.assertRefused('CORP\\\u212aate', 'U+212A KELVIN SIGN')
        self.assertEqual([u.login for u in users()], ['CORP\\kate'])

    def test_trailing_no_break_space_is_not_stripped_into_another_account(self):
        self.client_for('CORP\\kate').get('/whoami')
        self.assertRefused('CORP\\kate\u00a0', 'U+00A0 NO-BREAK SPACE')
        self.assertEqual([u.login for u in users()], ['CORP\\kate'])
        self.assertEqual([action for _actor, action, _target in audit_actions()],
                         ['user.created'])


class ForgedTestLoginSessionTest(FlowdeskTestCase):
    """UAT with the sign-in-as page on: a session cookie signed with the app's key that names
    anyone but a test user gives nothing (the key may have leaked; UAT refuses known keys)."""
    CONFIG_NAME = 'uat'
    SETTINGS = {'SECRET_KEY': 'a-long-random-uat-secret-0123456789',
                'FLOWDESK_ALLOW_TEST_LOGIN': 'yes'}

    def client_with_session(self, **values):
        client = self.client_for(None)
        cookie = self.app.session_interface.get_signing_serializer(self.app).dumps(values)
        client.set_cookie(self.app.config['SESSION_COOKIE_NAME'], cookie)
        return client

    def test_a_session_naming_an_admin_gives_nothing(self):
        self.admin_client().get('/whoami')  # the admin exists
        client = self.client_with_session(test_login=ADMIN)
        self.assertEqual(client.get('/whoami').status_code, 401)
        self.assertEqual(client.get('/admin/users').status_code, 401)
        self.assertEqual(audit_actions(), [(ADMIN, 'user.created', ADMIN)])

    def test_a_session_naming_an_unknown_boss_creates_nobody(self):
        client = self.client_with_session(test_login='CORP\\boss')
        self.assertEqual(client.get('/whoami').status_code, 401)
        self.assertEqual(users(), [])

    def test_a_session_naming_a_test_user_is_honoured(self):
        """The control: the signed cookie itself works, only the login it names is refused."""
        client = self.client_with_session(test_login='CORP\\test.viewer')
        self.assertPageContains(client.get('/whoami'), 'whoami-login">CORP\\test.viewer</dd>')


class DevelopmentStandInTest(FlowdeskTestCase):
    """The development configuration (what a missing FLASK_CONFIG starts) gives its stand-in
    admin only to requests from the server itself."""
    CONFIG_NAME = 'development'

    @classmethod
    def base_settings(cls):
        return {'LOG_LEVEL': 'CRITICAL'}  # FLOWDESK_ADMINS as development leaves it

    def test_loopback_clients_get_the_stand_in(self):
        for address in ('127.0.0.1', '::1'):
            with self.subTest(address=address):
                client = self.client_for(None, REMOTE_ADDR=address)
                self.assertPageContains(client.get('/whoami'),
                                        'whoami-login">CORP\\developer</dd>',
                                        'whoami-role">admin</dd>')

    def test_a_remote_visitor_gets_no_stand_in(self):
        for address in ('10.20.30.40', '192.168.1.5', 'fe80::1'):
            with self.subTest(address=address):
                client = self.client_for(None, REMOTE_ADDR=address)
                self.assertPageContains(client.get('/admin/users'), 'FLASK_CONFIG is not set',
                                        '127.0.0.1', status=401)
        self.assertEqual(users(), [])

    def test_a_remote_visitor_with_windows_authentication_is_that_user(self):
        client = self.client_for('CORP\\jdoe', REMOTE_ADDR='10.20.30.40')
        self.assertPageContains(client.get('/whoami'), 'whoami-login">CORP\\jdoe</dd>',
                                'whoami-role">viewer</dd>')
