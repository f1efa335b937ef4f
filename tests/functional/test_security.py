"""Security checks over the whole app: response headers, the session cookie, open redirects,
tracebacks, CSRF on every POST, admin-only pages and API writes, SQL-injection strings in every
filter.

The lists of routes are read from ``app.url_map`` and the filters from the pages' own forms and
the OpenAPI description, so a new form, admin page or filter is covered without editing this
file.
"""
from __future__ import annotations

import re
import tempfile
import unittest
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import abort, g
from flask.logging import default_handler
from werkzeug.routing import AnyConverter, IntegerConverter

from app import create_app
from app.clock import utc_now
from app.extensions import db
from app.models import Flow
from app.seeding import seed_demo
from tests.base import ADMIN, ASSETS, VIEWER, FlowdeskTestCase, on_every_backend
from tests.integrity import table_checksums
from tests.unit.test_config import GOOD_PRODUCTION, GOOD_UAT

WRITE_METHODS = {'POST', 'PUT', 'PATCH', 'DELETE'}
#: Values for URL arguments, by argument name, so pages render with real rows where they can.
ARGUMENT_SAMPLES = {'flow_code': 'ORD-SAP', 'response_id': '1', 'user_id': '1', 'batch_id': '1'}
EVIL = 'evil.example'
#: Redirect targets that leave the site, spelled the ways browsers accept.
OFFSITE_TARGETS = [
    f'https://{EVIL}/',
    f'//{EVIL}/',
    f'///{EVIL}/',
    f'/\\{EVIL}/',
    f'\\\\{EVIL}\\',
    f'https:{EVIL}',
    f'/admin/users//{EVIL}',
    f'/admin/users/../..//{EVIL}',
    'javascript:alert(document.domain)',
    f'\t//{EVIL}/',
]


def sample_path(rule, **values) -> str:
    """A URL for a rule, with real-looking values for its arguments."""
    arguments = {}
    for name, converter in rule._converters.items():
        if name in values:
            arguments[name] = values[name]
        elif isinstance(converter, AnyConverter):
            arguments[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            arguments[name] = int(ARGUMENT_SAMPLES.get(name, '1'))
        else:
            arguments[name] = ARGUMENT_SAMPLES.get(name, 'x')
    return rule.build(arguments, append_unknown=False)[1]


def rules_of(app, predicate) -> list:
    return sorted((rule for rule in app.url_map.iter_rules() if predicate(rule)),
                  key=lambda rule: (rule.rule, sorted(rule.methods)))


def write_methods(rule) -> list[str]:
    return sorted(WRITE_METHODS & rule.methods)


class MarkupScanner(HTMLParser):
    """Collects what a Content-Security-Policy without 'unsafe-inline' would block, and the
    addresses of scripts and style sheets."""

    def __init__(self):
        super().__init__()
        self.inline_scripts, self.inline_styles, self.handlers, self.assets = [], [], [], []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith('on'):
                self.handlers.append(f'<{tag} {name}="{value}">')
            if name in ('href', 'src', 'action') and value and \
                    value.strip().lower().startswith('javascript:'):
                self.handlers.append(f'<{tag} {name}="{value}">')
        if 'style' in attributes:
            self.inline_styles.append(f'<{tag} style="{attributes["style"]}">')
        if tag == 'style':
            self.inline_styles.append('<style>')
        if tag == 'script':
            if attributes.get('src'):
                self.assets.append(attributes['src'])
            elif attributes.get('type', 'text/javascript') in ('text/javascript', 'module', ''):
                self._in_inline_script = True
        if tag == 'link' and 'stylesheet' in (attributes.get('rel') or ''):
            self.assets.append(attributes.get('href') or '')

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])

    def handle_endtag(self, tag):
        if tag == 'script':
            self._in_inline_script = False


class FormScanner(HTMLParser):
    """The names of the fields of a page's GET forms (its filters)."""

    def __init__(self):
        super().__init__()
        self.fields: set[str] = set()
        self._in_get_form = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == 'form':
            self._in_get_form = (attributes.get('method') or 'get').lower() == 'get'
        elif self._in_get_form and tag in ('input', 'select', 'textarea') and attributes.get('name'):
            if (attributes.get('type') or '').lower() not in ('submit', 'button', 'reset', 'image'):
                self.fields.add(attributes['name'])

    def handle_endtag(self, tag):
        if tag == 'form':
            self._in_get_form = False


def add_sample_flow() -> None:
    db.session.add(Flow(flow_code='ORD-SAP', name='Orders to SAP', flow_type='API',
                        source_system='Shop', target_system='SAP', active=True))
    db.session.commit()


def without_last_seen(sums: dict) -> dict:
    """Checksums where the users table counts only its rows: reading pages may refresh a
    user's last-seen time."""
    return {**sums, 'app.users': sums['app.users'][0]}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(';'):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def add_error_routes(app) -> None:
    """Routes under /_test that crash or abort, for checking error responses."""
    @app.route('/_test/crash')
    def crash():
        raise RuntimeError('secret internal detail')

    @app.route('/api/v1/_test/crash')
    def api_crash():
        raise RuntimeError('secret internal detail')

    @app.route('/_test/abort/<int:code>')
    def abort_with(code):
        abort(code)


class SecurityHeaderTests(FlowdeskTestCase):
    SETTINGS = {'FLOWDESK_ALLOW_TEST_LOGIN': 'yes'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_error_routes(cls.app)

    def assertSecurityHeaders(self, response, what):
        headers = response.headers
        csp = headers.get('Content-Security-Policy')
        self.assertTrue(csp, f'{what}: no Content-Security-Policy')
        directives = csp_directives(csp)
        self.assertEqual(directives.get('default-src'), ["'self'"], what)
        script_src = directives.get('script-src', directives['default-src'])
        self.assertEqual(script_src, ["'self'"], f'{what}: scripts from elsewhere or inline: {csp}')
        style_src = directives.get('style-src', directives['default-src'])
        self.assertNotIn("'unsafe-inline'", style_src, what)
        self.assertEqual(directives.get('frame-ancestors'), ["'none'"], what)
        self.assertEqual(directives.get('object-src'), ["'none'"], what)
        for sources in directives.values():
            for source in sources:
                self.assertFalse(source.startswith(('http:', 'https:', '*')) or '.' in source,
                                 f'{what}: CSP allows another site: {source}')
        self.assertEqual(headers.get('X-Content-Type-Options'), 'nosniff', what)
        self.assertEqual(headers.get('X-Frame-Options'), 'DENY', what)
        self.assertIn(headers.get('Referrer-Policy'),
                      ('same-origin', 'no-referrer', 'strict-origin', 'strict-origin-when-cross-origin'),
                      what)

    def test_headers_on_pages_errors_api_and_assets(self):
        add_sample_flow()
        admin = self.admin_client()
        checks = [
            ('dashboard', self.client.get('/'), 200),
            ('whoami', self.client.get('/whoami'), 200),
            ('admin page', admin.get('/admin/users'), 200),
            ('sign-in-as page', self.client_for(None).get('/auth/sign-in'), 200),
            ('400 page', self.client.get('/_test/abort/400'), 400),
            ('401 page', self.client_for(None).get('/'), 401),
            ('403 page', self.client.get('/admin/users'), 403),
            ('404 page', self.client.get('/no/such/page'), 404),
            ('405 page', self.client.post('/whoami'), 405),
            ('500 page', self.client.get('/_test/crash'), 500),
            ('API 404', self.client.get('/api/v1/no-such-thing'), 404),
            ('API 500', self.client.get('/api/v1/_test/crash'), 500),
            ('health', self.client_for(None).get('/healthz'), 200),
            ('static file', self.client.get('/static/css/flowdesk.css'), 200),
        ]
        api_reads = rules_of(self.app, lambda rule: rule.rule.startswith('/api/')
                             and 'GET' in rule.methods and not rule.arguments
                             and not rule.rule.startswith('/api/v1/_test'))
        for rule in api_reads:
            checks.append((f'API {rule.rule}', self.client.get(rule.rule), 200))
        for what, response, status in checks:
            with self.subTest(what):
                self.assertEqual(response.status_code, status, response.get_data(as_text=True)[:300])
                self.assertSecurityHeaders(response, what)
                response.close()

    def test_no_page_needs_inline_script_or_style(self):
        """The CSP blocks inline script, inline styles and event-handler attributes, so no page
        may contain them (they would silently not work), and every script and style sheet comes
        from Flowdesk itself."""
        add_sample_flow()
        admin = self.admin_client()
        pages = rules_of(self.app, lambda rule: 'GET' in rule.methods
                         and rule.endpoint.split('.')[0] in {'main', 'admin', 'auth'})
        self.assertGreaterEqual(len(pages), 4)
        for rule in pages:
            path = sample_path(rule)
            with self.subTest(path=path):
                response = admin.get(path)
                if response.mimetype != 'text/html':
                    response.close()
                    continue
                scanner = MarkupScanner()
                scanner.feed(response.get_data(as_text=True))
                self.assertEqual(scanner.inline_scripts, [], 'inline <script>')
                self.assertEqual(scanner.handlers, [], 'event-handler attributes / javascript: URLs')
                self.assertEqual(scanner.inline_styles, [], 'inline styles')
                for asset in scanner.assets:
                    self.assertTrue(asset.startswith('/') and not asset.startswith('//'),
                                    f'asset from elsewhere: {asset}')


class CacheControlTests(FlowdeskTestCase):
    """``Cache-Control: no-store`` on every response that may hold company data: every GET
    route (pages, API, CSV and Excel exports, load error reports), error pages and answers to
    writes. Only the static assets stay cacheable."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_error_routes(cls.app)

    def setUp(self):
        super().setUp()
        from app.loading import LoadRequest, run_load
        from app.models import LoadBatch, Response, User
        seed_demo(flows=4, responses=40)
        rejected = run_load(LoadRequest(
            dataset='responses', mode='append', path=ASSETS / 'loads' / 'bad_repeated_key.csv',
            file_name='bad_repeated_key.csv', user=ADMIN))
        self.assertGreater(db.session.get(LoadBatch, rejected.batch_id).error_count, 0)
        self.admin_client().get('/')
        from app.models import Inbox
        from app.saved_views.store import create_view
        inbox = Inbox(name='drop', folder=str(ASSETS), dataset='responses', mode='append')
        db.session.add(inbox)
        db.session.commit()
        view = create_view(ADMIN, 'responses', 'errors', 'status=ERROR', shared=False)
        rule, incident = self.alert_rule_and_incident()
        from tests.functional.profiles_support import CUSTOM, add_profile
        profile = add_profile('Plattform', CUSTOM)
        self.values = {
            'rule_id': rule.id,
            'incident_id': incident.id,
            'inbox_id': inbox.id,
            'profile_id': profile.id,
            'number': 1,
            'view_id': view.id,
            'batch_id': rejected.batch_id,
            'response_id': db.session.scalars(db.select(Response.response_id)).first(),
            'flow_code': db.session.scalars(db.select(Flow.flow_code)).first(),
            'user_id': db.session.scalars(db.select(User.id)).first(),
        }

    @staticmethod
    def alert_rule_and_incident():
        from app.models import AlertRule, Incident
        now = utc_now()
        rule = AlertRule(name='Errors', condition='error_rate', scope='all', severity='critical',
                         use_schedule=False, active=True, created_at=now, updated_at=now,
                         threshold_percent=50, window_minutes=60, min_responses=4)
        db.session.add(rule)
        db.session.flush()
        incident = Incident(rule_id=rule.id, rule_name=rule.name, severity='critical',
                            title='Errors: FLOW-1', opened_at=now, seen_at=now)
        db.session.add(incident)
        db.session.commit()
        return rule, incident

    def assertNoStore(self, response, what):
        self.assertIn('no-store', response.headers.get('Cache-Control', ''),
                      f'{what}: {response.status_code} {response.headers}')
        response.close()

    def test_every_get_route_is_no_store(self):
        admin = self.admin_client()
        rules = rules_of(self.app, lambda rule: 'GET' in rule.methods and rule.endpoint not in
                         ('static', 'bootstrap.static') and '/_test/' not in rule.rule)
        data_endpoints = {'api.responses', 'api.response', 'main.export_csv', 'main.export_xlsx',
                          'admin.batch_errors', 'main.responses', 'main.response_detail'}
        self.assertTrue(data_endpoints <= {rule.endpoint for rule in rules})
        for rule in rules:
            path = sample_path(rule, **self.values)
            with self.subTest(path=path):
                response = admin.get(path)
                # Every data route answers with its data; a few pages need more than a GET
                # (a kept upload, the sign-in-as setting) and answer 404, also no-store.
                self.assertEqual(response.status_code < 400, rule.endpoint not in
                                 ('admin.confirm_load', 'auth.sign_in'), path)
                self.assertNoStore(response, path)

    def test_errors_and_writes_are_no_store(self):
        checks = [
            ('anonymous 401', self.client_for(None).get('/')),
            ('viewer 403', self.client.get('/admin/users')),
            ('page 404', self.client.get('/no/such/page')),
            ('API 404', self.client.get('/api/v1/responses/999999')),
            ('API 400', self.client.get('/api/v1/responses?limit=nope')),
            ('500 page', self.client.get('/_test/crash')),
            ('API 500', self.client.get('/api/v1/_test/crash')),
            ('write 303', self.admin_client().post(
                f'/admin/users/{self.values["user_id"]}/deactivate', data={'next': '/'})),
        ]
        for what, response in checks:
            with self.subTest(what):
                self.assertNoStore(response, what)

    def test_static_assets_stay_cacheable(self):
        for path in ('/static/css/flowdesk.css', '/bootstrap/static/css/bootstrap.min.css'):
            with self.subTest(path=path):
                response = self.client.get(path)
                self.assertEqual(response.status_code, 200)
                self.assertNotIn('no-store', response.headers.get('Cache-Control', ''))
                response.close()


class SessionCookieTests(unittest.TestCase):
    """The session cookie (it carries the CSRF secret and the tester's choice) is HttpOnly and
    SameSite everywhere, and Secure in production."""

    def cookie_of(self, app) -> str:
        with app.test_request_context('/'):
            from flask import session
            session['probe'] = 'value'
            response = app.make_response('')
            app.session_interface.save_session(app, session, response)
            cookies = response.headers.getlist('Set-Cookie')
        self.assertEqual(len(cookies), 1, cookies)
        return cookies[0]

    def attributes(self, cookie: str) -> dict[str, str]:
        parts = [part.strip() for part in cookie.split(';')]
        return {part.split('=', 1)[0].lower(): (part.split('=', 1)[1] if '=' in part else '')
                for part in parts[1:]}

    def test_production_cookie_is_secure_httponly_samesite(self):
        with tempfile.TemporaryDirectory() as folder:
            app = create_app('production', environ={**GOOD_PRODUCTION,
                                                    'FLOWDESK_INSTANCE_PATH': folder})
            attributes = self.attributes(self.cookie_of(app))
        self.assertIn('secure', attributes)
        self.assertIn('httponly', attributes)
        self.assertEqual(attributes.get('samesite', '').lower(), 'lax')

    def test_uat_cookie_is_httponly_samesite(self):
        with tempfile.TemporaryDirectory() as folder:
            app = create_app('uat', environ={**GOOD_UAT, 'FLOWDESK_INSTANCE_PATH': folder})
            attributes = self.attributes(self.cookie_of(app))
        self.assertIn('httponly', attributes)
        self.assertEqual(attributes.get('samesite', '').lower(), 'lax')

    def test_production_cannot_switch_secure_off_silently(self):
        """SESSION_COOKIE_SECURE is on in production unless deliberately turned off."""
        with tempfile.TemporaryDirectory() as folder:
            app = create_app('production', environ={**GOOD_PRODUCTION,
                                                    'FLOWDESK_INSTANCE_PATH': folder})
        self.assertTrue(app.config['SESSION_COOKIE_SECURE'])
        self.assertTrue(app.config['SESSION_COOKIE_HTTPONLY'])


class RealSessionCookieTests(FlowdeskTestCase):
    SETTINGS = {'WTF_CSRF_ENABLED': '1'}

    def test_cookie_set_by_a_form_page(self):
        response = self.admin_client().get('/admin/users')
        self.assertEqual(response.status_code, 200)
        cookies = response.headers.getlist('Set-Cookie')
        self.assertTrue(cookies, 'a page with a CSRF-protected form sets the session cookie')
        for cookie in cookies:
            lowered = cookie.lower()
            self.assertIn('httponly', lowered)
            self.assertIn('samesite=lax', lowered)


class OpenRedirectTests(FlowdeskTestCase):
    """No address sends the browser to another site, whatever ``next`` (or any similar
    parameter) says."""
    SETTINGS = {'FLOWDESK_ALLOW_TEST_LOGIN': 'yes'}
    REDIRECT_PARAMETERS = ('next', 'return_to', 'redirect', 'url', 'back')

    def assertStaysOnSite(self, response, what):
        if response.status_code not in (301, 302, 303, 307, 308):
            return
        location = response.headers['Location']
        parts = urlsplit(location.strip())
        self.assertIn(parts.scheme, ('', 'http'), f'{what} → {location}')
        self.assertIn(parts.netloc, ('', 'localhost'), f'{what} → {location}')
        self.assertTrue(parts.path.startswith('/') and not parts.path.startswith(('//', '/\\')),
                        f'{what} → {location}')
        self.assertNotIn(EVIL, location, what)

    def test_user_change_returns_only_to_the_users_list(self):
        self.admin_client().get('/')
        self.client.get('/')
        viewer_id = self.user_id(VIEWER)
        admin = self.admin_client()
        for target in OFFSITE_TARGETS:
            with self.subTest(target=target):
                response = admin.post(f'/admin/users/{viewer_id}/deactivate',
                                      data={'next': target})
                self.assertEqual(response.status_code, 303)
                self.assertStaysOnSite(response, target)
                admin.post(f'/admin/users/{viewer_id}/reactivate')
        response = admin.post(f'/admin/users/{viewer_id}/deactivate',
                              data={'next': '/admin/users?q=viewer'})
        self.assertEqual(response.headers['Location'], '/admin/users?q=viewer')

    def user_id(self, login: str) -> int:
        from app.models import User
        return db.session.execute(db.select(User.id).filter_by(login=login)).scalar_one()

    def test_no_route_redirects_off_site(self):
        add_sample_flow()
        admin = self.admin_client()
        rules = rules_of(self.app, lambda rule: rule.endpoint not in ('static', 'bootstrap.static'))
        for rule in rules:
            path = sample_path(rule)
            for target in OFFSITE_TARGETS[:4]:
                evil = {name: target for name in self.REDIRECT_PARAMETERS}
                with self.subTest(rule=rule.rule, target=target):
                    if 'GET' in rule.methods:
                        response = admin.get(f'{path}?{urlencode(evil)}')
                        self.assertStaysOnSite(response, f'GET {path}')
                        response.close()
                    for method in write_methods(rule):
                        response = admin.open(path, method=method, data=evil)
                        self.assertStaysOnSite(response, f'{method} {path}')
                        response.close()


class NoTracebackTests(unittest.TestCase):
    """An unexpected error gives the generic 500 page (or JSON under /api/) in every
    configuration people use, with the details in the log only."""
    SECRET = 'secret internal detail 7f3a'

    def app_for(self, name: str, folder: str):
        log_file = str(Path(folder) / 'flowdesk.log')
        environ = {'FLOWDESK_INSTANCE_PATH': folder, 'LOG_FILE': log_file, 'LOG_LEVEL': 'ERROR'}
        if name == 'production':
            environ.update(GOOD_PRODUCTION)
        else:
            environ.update(GOOD_UAT, FLOWDESK_DEV_USER='CORP\\tester')
        app = create_app(name, environ=environ)
        app.logger.removeHandler(default_handler)  # the log file is what is checked
        secret = self.SECRET

        def crash_on_test_paths():
            # Runs before the identity check, so production (SQL Server unreachable here)
            # reaches the crash.
            from flask import request
            if request.path.endswith('/_test/crash'):
                raise RuntimeError(secret)

        app.before_request_funcs.setdefault(None, []).insert(0, crash_on_test_paths)
        return app, Path(log_file)

    def check(self, name: str):
        with tempfile.TemporaryDirectory() as folder:
            app, log_file = self.app_for(name, folder)
            client = app.test_client()
            client.environ_base['REMOTE_USER'] = 'CORP\\tester'
            page = client.get('/_test/crash')
            body = page.get_data(as_text=True)
            self.assertEqual(page.status_code, 500)
            self.assertEqual(page.mimetype, 'text/html')
            self.assertIn('Something went wrong', body)
            api = client.get('/api/v1/_test/crash')
            self.assertEqual(api.status_code, 500)
            self.assertEqual(api.get_json()['error']['status'], 500)
            for response in (page, api):
                text = response.get_data(as_text=True)
                for leak in ('Traceback', self.SECRET, 'RuntimeError', 'File "', '.py'):
                    self.assertNotIn(leak, text)
            for handler in app.logger.handlers:
                handler.flush()
            logged = log_file.read_text(encoding='utf-8')
            self.assertIn('Traceback', logged)
            self.assertIn(self.SECRET, logged)
            for handler in list(app.logger.handlers):
                if getattr(handler, 'baseFilename', None) == str(log_file.resolve()):
                    handler.close()
                    app.logger.removeHandler(handler)

    def test_testing(self):
        self.check('testing')

    def test_uat(self):
        self.check('uat')

    def test_production(self):
        self.check('production')


class CsrfTests(FlowdeskTestCase):
    """With CSRF on (as in every real configuration), every route that accepts a write method
    refuses a request without a valid token with 400, and changes nothing."""
    SETTINGS = {'WTF_CSRF_ENABLED': '1', 'FLOWDESK_ALLOW_TEST_LOGIN': 'yes'}

    def setUp(self):
        super().setUp()
        # The class-wide app context outlives requests, and Flask-WTF caches the token of the
        # session it last saw in ``g``: start each test without one.
        g.pop('csrf_token', None)

    def write_rules(self):
        rules = rules_of(self.app, lambda rule: bool(write_methods(rule)))
        endpoints = {rule.endpoint for rule in rules}
        self.assertIn('admin.change_user', endpoints)
        self.assertIn('auth.sign_in', endpoints)
        return rules

    def test_every_write_without_a_token_is_refused(self):
        add_sample_flow()
        self.client.get('/')
        admin = self.admin_client()
        admin.get('/admin/users')  # a real session, with a CSRF secret in it
        viewer_id = str(self.user_id(VIEWER))
        before = table_checksums()
        for rule in self.write_rules():
            path = sample_path(rule, user_id=viewer_id)
            for method in write_methods(rule):
                for what, data, headers in (
                        ('no token', {'next': '/'}, {}),
                        ('forged token', {'csrf_token': 'forged.token.value'}, {}),
                        ('forged header', {}, {'X-CSRFToken': 'forged.token.value'})):
                    with self.subTest(method=method, path=path, case=what):
                        response = admin.open(path, method=method, data=data, headers=headers)
                        body = response.get_data(as_text=True)
                        self.assertEqual(response.status_code, 400, body[:300])
                        self.assertIn('CSRF', body)
        self.assertEqual(table_checksums(), before)

    def test_multipart_upload_without_a_token_is_refused(self):
        import io
        admin = self.admin_client()
        for rule in self.write_rules():
            if not rule.endpoint.startswith('admin.'):
                continue
            path = sample_path(rule, user_id=str(self.user_id(ADMIN)))
            with self.subTest(path=path):
                response = admin.post(path, data={'file': (io.BytesIO(b'flow_code\nX1\n'), 'f.csv')},
                                      content_type='multipart/form-data')
                self.assertEqual(response.status_code, 400)

    def test_with_the_token_the_same_request_goes_through(self):
        """The control: the refusal above is about the token, not the request."""
        self.client.get('/')
        admin = self.admin_client()
        page = admin.get('/admin/users').get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token" value="([^"]+)"', page)
        self.assertIsNotNone(token, 'the users page carries a CSRF token')
        viewer_id = self.user_id(VIEWER)
        response = admin.post(f'/admin/users/{viewer_id}/deactivate',
                              data={'csrf_token': token.group(1)})
        self.assertEqual(response.status_code, 303)
        from app.models import User
        db.session.expire_all()
        self.assertFalse(db.session.get(User, viewer_id).active)

    def user_id(self, login: str) -> int:
        from app.models import User
        self.client_for(login).get('/whoami')
        return db.session.execute(db.select(User.id).filter_by(login=login)).scalar_one()


class AdminOnlyTests(FlowdeskTestCase):
    """Every admin page (any method) and every API write refuses viewers (403) and anonymous
    requests (401), and changes nothing."""

    def test_viewers_and_anonymous_are_refused(self):
        add_sample_flow()
        self.admin_client().get('/')
        rules = rules_of(self.app, lambda rule: rule.endpoint.startswith('admin.')
                         or (rule.rule.startswith('/api/') and write_methods(rule)))
        admin_endpoints = {rule.endpoint for rule in rules}
        self.assertTrue({'admin.users', 'admin.audit_log', 'admin.change_user'} <= admin_endpoints)
        self.client.get('/')  # the viewer's first visit creates the viewer
        before = without_last_seen(table_checksums())
        for rule in rules:
            path = sample_path(rule)
            methods = sorted(rule.methods - {'HEAD', 'OPTIONS'})
            for method in methods:
                for who, client, status in (('viewer', self.client, 403),
                                            ('anonymous', self.client_for(None), 401)):
                    with self.subTest(method=method, path=path, who=who):
                        response = client.open(path, method=method, data={'next': '/'})
                        self.assertEqual(response.status_code, status,
                                         response.get_data(as_text=True)[:300])
        self.assertEqual(without_last_seen(table_checksums()), before)

    def test_a_remote_user_header_makes_nobody_admin(self):
        anonymous = self.client_for(None)
        for header in ('Remote-User', 'X-Remote-User', 'X-Forwarded-User'):
            with self.subTest(header=header):
                response = anonymous.get('/admin/users', headers={header: ADMIN})
                self.assertEqual(response.status_code, 401)
                response = self.client.get('/admin/users', headers={header: ADMIN})
                self.assertEqual(response.status_code, 403)


#: Strings that break naively built SQL on one engine or another.
INJECTION_STRINGS = [
    "' OR '1'='1",
    '" OR ""="',
    "'; DROP TABLE responses; --",
    "1 UNION SELECT login, role FROM users --",
    "%' AND 1=0 UNION SELECT NULL --",
    "\\'; SELECT pg_sleep(5); --",
    "%_%",
    "x\x00y",
]


@on_every_backend
class SqlInjectionTests(FlowdeskTestCase):
    """SQL-injection strings in every filter of the responses and flows pages, their exports
    and the API return normal results: 200, or 400 with the filter's own message for a value of
    the wrong kind (an export sends the browser back to the list with that message instead);
    never a 5xx, and every table unchanged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed_demo(flows=8, responses=300)
        cls.app.test_client().get('/', environ_base={'REMOTE_USER': VIEWER})  # first visit
        cls.checksums = without_last_seen(table_checksums())

    def setUp(self):
        # Keep the seeded data: this class only reads.
        self.client = self.client_for(VIEWER)

    def page_filters(self, path: str) -> set[str]:
        response = self.client.get(path)
        self.assertEqual(response.status_code, 200)
        scanner = FormScanner()
        scanner.feed(response.get_data(as_text=True))
        return scanner.fields

    def api_filters(self) -> dict[str, set[str]]:
        """API list paths and their query parameters, from the OpenAPI description."""
        spec_rules = rules_of(self.app, lambda rule: rule.rule.startswith('/api/')
                              and 'openapi' in rule.rule and not rule.arguments)
        if not spec_rules:
            return {}
        spec = self.client.get(spec_rules[0].rule).get_json()
        base = (spec.get('servers') or [{'url': ''}])[0]['url'].rstrip('/')
        filters = {}
        for path, operations in spec.get('paths', {}).items():
            if '{' in path or 'get' not in operations:
                continue
            names = {parameter['name'] for parameter in operations['get'].get('parameters', [])
                     if parameter.get('in') == 'query'}
            if names:
                full = path if path.startswith('/api/') else base + path
                filters[full] = names
        return filters

    def targets(self) -> list[tuple[str, set[str], tuple[int, ...]]]:
        targets = []
        for endpoint in ('main.responses', 'main.flows'):
            rule = next(rule for rule in self.app.url_map.iter_rules() if rule.endpoint == endpoint)
            fields = self.page_filters(rule.rule)
            self.assertTrue(fields, f'{rule.rule} has filters')
            targets.append((rule.rule, fields, (200, 400)))
            if endpoint == 'main.responses':
                # The exports share the list's filter parser: every filter through the CSV
                # export, the text search through the Excel one (slower to build).
                for export, export_fields in (('main.export_csv', fields),
                                              ('main.export_xlsx', {'q'} & fields)):
                    export_rule = next((r for r in self.app.url_map.iter_rules()
                                        if r.endpoint == export), None)
                    if export_rule is not None and export_fields:
                        targets.append((export_rule.rule, export_fields, (200, 302, 400)))
        for path, names in self.api_filters().items():
            targets.append((path, names, (200, 400)))
        return targets

    def test_injection_strings_in_every_filter(self):
        targets = self.targets()
        self.assertGreaterEqual(len(targets), 2)
        for path, fields, allowed in targets:
            for field in sorted(fields):
                for payload in INJECTION_STRINGS:
                    with self.subTest(path=path, field=field, payload=payload):
                        response = self.client.get(path, query_string={field: payload})
                        textual = response.mimetype.startswith('text/') or response.is_json
                        body = response.get_data(as_text=True) if textual else ''
                        self.assertIn(response.status_code, allowed, body[:300])
                        self.assertNotIn('Traceback', body)
                        if response.status_code == 302:
                            self.assertTrue(response.headers['Location'].startswith('/'))
                        if response.status_code == 400:
                            self.assertIn('could not be used' if response.mimetype == 'text/html'
                                          else 'error', body)
                        if path.startswith('/api/'):
                            self.assertIsNotNone(response.get_json(silent=True))
        self.assertEqual(without_last_seen(table_checksums()), self.checksums)

    def test_a_quote_trick_does_not_widen_the_text_search(self):
        rule = next(rule for rule in self.app.url_map.iter_rules()
                    if rule.endpoint == 'main.responses')
        fields = self.page_filters(rule.rule)
        text_field = next((name for name in ('q', 'text', 'search') if name in fields), None)
        if text_field is None:
            self.skipTest(f'no text filter among {sorted(fields)}')
        everything = self.client.get(rule.rule).get_data(as_text=True)
        trick = self.client.get(rule.rule, query_string={text_field: "' OR '1'='1"})
        self.assertEqual(trick.status_code, 200)
        rows = re.compile(r'<tr[ >]')
        self.assertLess(len(rows.findall(trick.get_data(as_text=True))),
                        len(rows.findall(everything)))


if __name__ == '__main__':
    unittest.main()
