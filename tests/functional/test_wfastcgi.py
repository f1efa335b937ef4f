"""Flowdesk hosted by the real wfastcgi.py over FastCGI, as IIS hosts it, plus checks of the
repository's web.config and IIS install script.

Each class prepares a temporary IIS application folder holding ``Web.config`` (exact case:
wfastcgi looks for that name) generated from the repository's web.config, changing only what a
Linux test machine needs:

- PYTHONPATH → this repository, WSGI_LOG → a file in the temporary folder;
- WSGI_RESTART_FILE_REGEX → empty (the file watcher is Windows-only);
- FLASK_CONFIG: ``production`` as shipped when the PostgreSQL tier is configured
  (TEST_DATABASE_URL / TEST_OPS_DATABASE_URL), since production refuses SQLite; otherwise ``uat``
  on two SQLite files in the temporary folder, the closest configuration that accepts SQLite.

Secrets and database settings reach the worker as environment variables, the way the install
script sets them on the application pool. Tables are created in setUpClass. One wfastcgi process
per class serves all of that class's requests one after another, as a worker does under IIS.
"""
from __future__ import annotations

import os
import re
import secrets
import unittest
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from flask import url_for

from app import create_app
from app.extensions import db
from config import ProductionConfig
from tests.base import TestDatabases, postgres_urls
from tests.fastcgi_client import Browser, IisSite, WfastcgiProcess, csrf_token, installed_wfastcgi

ROOT = Path(__file__).resolve().parents[2]
WEB_CONFIG = ROOT / 'web.config'
INSTALL_SCRIPT = ROOT / 'scripts' / 'iis' / 'Install-Flowdesk.ps1'
ADMIN = 'CORP\\admin'
VIEWER = 'CORP\\jdoe'


def app_settings(path: Path) -> dict[str, str]:
    """The <appSettings> of a web.config, as wfastcgi reads them."""
    tree = ET.parse(path)
    return {element.get('key'): element.get('value')
            for element in tree.getroot().findall('./appSettings/add')}


def write_web_config(source: Path, target: Path, overrides: dict[str, str | None]) -> None:
    """Copy a web.config, replacing (or adding) appSettings values; None removes the setting."""
    tree = ET.parse(source)
    settings = tree.getroot().find('appSettings')
    remaining = dict(overrides)
    for element in settings.findall('add'):
        if element.get('key') not in remaining:
            continue
        value = remaining.pop(element.get('key'))
        if value is None:
            settings.remove(element)
        else:
            element.set('value', value)
    for key, value in remaining.items():
        if value is not None:
            ET.SubElement(settings, 'add', {'key': key, 'value': value})
    tree.write(target, encoding='utf-8', xml_declaration=True)


class LinkCollector(HTMLParser):
    """Every URL a page links to (href, src, form action)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ('href', 'src', 'action') and value:
                self.urls.append(value)


def links_in(html: str) -> list[str]:
    collector = LinkCollector()
    collector.feed(html)
    return collector.urls


class HostedFlowdeskCase(unittest.TestCase):
    """A temporary IIS application folder, databases with tables, and one wfastcgi worker."""

    #: appSettings changed on top of the test machine's (e.g. SCRIPT_NAME, a broken handler;
    #: None removes a setting).
    EXTRA_APP_SETTINGS: dict[str, str | None] = {}
    CREATE_TABLES = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = 'postgresql' if postgres_urls() else 'sqlite'
        cls.config_name = 'production' if cls.backend == 'postgresql' else 'uat'
        cls.databases = TestDatabases(cls.backend)
        try:
            cls.folder = cls.databases.folder
            cls.app_folder = cls.folder / 'site'
            cls.app_folder.mkdir()
            cls.wsgi_log = cls.folder / 'wfastcgi.log'
            write_web_config(WEB_CONFIG, cls.app_folder / 'Web.config', {
                'PYTHONPATH': str(ROOT),
                'WSGI_LOG': str(cls.wsgi_log),
                'WSGI_RESTART_FILE_REGEX': '',
                'FLASK_CONFIG': cls.config_name,
                **cls.EXTRA_APP_SETTINGS,
            })
            if cls.CREATE_TABLES:
                cls.create_tables()
            cls.worker = WfastcgiProcess(IisSite(cls.app_folder), cls.pool_environment())
        except BaseException:
            cls.databases.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.worker.close()
        finally:
            cls.databases.cleanup()
        super().tearDownClass()

    @classmethod
    def create_tables(cls):
        app = create_app('testing', environ=dict(cls.databases.settings))
        with app.app_context():
            db.create_all()
            for engine in db.engines.values():
                engine.dispose()

    @classmethod
    def pool_environment(cls) -> dict[str, str]:
        """The worker's environment: what an application pool gives it (see the install
        script), nothing of this test process's Flask or database settings."""
        environ = {name: os.environ[name] for name in ('PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR')
                   if name in os.environ}
        environ.update(cls.databases.settings)
        environ.update({
            'SECRET_KEY': secrets.token_hex(32),
            'FLOWDESK_ADMINS': ADMIN,
            'LOG_FILE': str(cls.folder / 'logs' / 'flowdesk.log'),
            'PYTHONDONTWRITEBYTECODE': '1',
        })
        return environ

    def browser(self, remote_user: str | None) -> Browser:
        return Browser(self.worker, remote_user)

    def assertStatus(self, response, status: int):
        self.assertEqual(response.status, status,
                         f'body: {response.text[:1500]}\nstderr: {response.stderr[:1500]!r}')


class WfastcgiHostingTest(HostedFlowdeskCase):
    """The shipped web.config's appSettings, the site at the root of its host."""

    def test_a_page_shows_the_windows_user(self):
        response = self.browser(VIEWER).get('/whoami')
        self.assertStatus(response, 200)
        self.assertIn(f'id="whoami-login">{VIEWER}</dd>', response.text)
        self.assertIn('Negotiate', response.text)
        self.assertEqual(response.stderr, b'')

    def test_windows_login_spellings_are_one_user(self):
        for spelling in ('corp\\MSmith', 'CORP\\msmith'):
            response = self.browser(spelling).get('/whoami')
            self.assertStatus(response, 200)
            self.assertIn('id="whoami-login">CORP\\msmith</dd>', response.text)

    def test_admin_pages_are_for_admins(self):
        refused = self.browser(VIEWER).get('/admin/users')
        self.assertStatus(refused, 403)
        self.assertIn('This page is for Flowdesk admins.', refused.text)

        allowed = self.browser(ADMIN).get('/admin/users')
        self.assertStatus(allowed, 200)
        self.assertIn('<h1 class="h3">Users</h1>', allowed.text)

    def test_a_form_post_with_its_csrf_token_is_accepted(self):
        self.assertStatus(self.browser('CORP\\newhire').get('/whoami'), 200)
        admin = self.browser(ADMIN)
        page = admin.get('/admin/users?q=newhire')
        self.assertStatus(page, 200)
        action = next(url for url in links_in(page.text) if url.endswith('/grant-admin'))

        without_token = admin.post_form(action, {})
        self.assertStatus(without_token, 400)
        self.assertIn('whoami-role">viewer', self.browser('CORP\\newhire').get('/whoami').text)

        granted = admin.post_form(action, {'csrf_token': csrf_token(page.text),
                                           'next': '/admin/users?q=newhire'},
                                  referer=admin.site_url('/admin/users?q=newhire'))
        self.assertStatus(granted, 303)
        self.assertEqual(granted.header('Location'), '/admin/users?q=newhire')
        self.assertIn('whoami-role">admin', self.browser('CORP\\newhire').get('/whoami').text)

        log = admin.get('/admin/audit?action=role.granted&who=newhire')
        self.assertStatus(log, 200)
        row = re.search(r'<tr data-action="role.granted">(.*?)</tr>', log.text, re.S).group(1)
        self.assertIn(f'<code>{ADMIN}</code>', row)
        self.assertIn('<code>CORP\\newhire</code>', row)
        self.assertIn(self.worker.site.client_address, row)

    def test_a_multipart_upload_arrives_intact(self):
        app = create_app('testing', environ=dict(self.databases.settings))
        if 'admin.upload' not in app.view_functions:
            self.skipTest('no admin upload page (admin.upload): the multipart round trip '
                          'through wfastcgi is tested against it')
        with app.test_request_context():
            upload_url = url_for('admin.upload')
        admin = self.browser(ADMIN)
        page = admin.get(upload_url)
        self.assertStatus(page, 200)
        # A UTF-8 file with a BOM, non-ASCII text and CRLF line ends, as Excel on Windows saves it.
        flows_csv = ('\ufeffflow_code,name,flow_type,source_system,target_system,active\r\n'
                     'WF-UPLOAD-1,Ünïcode payroll feed – €,API,SAP,Workday,yes\r\n'
                     'WF-UPLOAD-2,Stock levels,FILE,WMS,ERP,no\r\n').encode('utf-8')
        response = admin.post_multipart(
            upload_url, {'csrf_token': csrf_token(page.text), 'dataset': 'flows',
                         'mode': 'append', 'encoding': 'auto'},
            {'file': ('flows.csv', flows_csv, 'text/csv')})
        self.assertIn(response.status, (302, 303), response.text[:2000])
        with app.app_context():
            from app.models import Flow
            loaded = dict(db.session.execute(db.select(Flow.flow_code, Flow.name)).all())
            for engine in db.engines.values():
                engine.dispose()
        self.assertEqual(loaded, {'WF-UPLOAD-1': 'Ünïcode payroll feed – €',
                                  'WF-UPLOAD-2': 'Stock levels'})

    def test_an_anonymous_request_is_refused_with_401(self):
        response = self.browser(None).get('/')
        self.assertStatus(response, 401)
        self.assertEqual(response.header('WWW-Authenticate'), 'Negotiate')
        if self.config_name == 'production':
            self.assertIn('<strong>Windows Authentication</strong> must be <em>Enabled</em>',
                          response.text)

    def test_identity_headers_from_the_client_are_ignored(self):
        forged = {'Remote-User': ADMIN, 'X-Remote-User': ADMIN}
        response = self.browser(None).get('/admin/users', headers=forged)
        self.assertStatus(response, 401)
        as_viewer = self.browser(VIEWER).get('/admin/users', headers=forged)
        self.assertStatus(as_viewer, 403)

    def test_health_probe_answers_without_identity(self):
        response = self.browser(None).get('/healthz')
        self.assertStatus(response, 200)
        self.assertIn('"status":"ok"', response.text.replace(' ', ''))
        self.assertIn(f'"environment":"{self.config_name}"', response.text.replace(' ', ''))


class WfastcgiSubPathTest(HostedFlowdeskCase):
    """Flowdesk as an IIS application under a site (https://host/flowdesk/): IIS passes the
    full URL path, and the SCRIPT_NAME appSetting tells wfastcgi where the application starts."""

    EXTRA_APP_SETTINGS = {'SCRIPT_NAME': '/flowdesk'}

    def test_links_carry_the_application_path(self):
        response = self.browser(ADMIN).get('/flowdesk/admin/users')
        self.assertStatus(response, 200)
        urls = [url for url in links_in(response.text) if url.startswith('/')]
        self.assertIn('/flowdesk/static/css/flowdesk.css', urls)
        self.assertIn('/flowdesk/admin/audit', urls)
        self.assertGreater(len(urls), 5)
        self.assertEqual([url for url in urls if not url.startswith('/flowdesk/')], [])

    def test_redirects_stay_under_the_application_path(self):
        self.assertStatus(self.browser('CORP\\subpath.user').get('/flowdesk/whoami'), 200)
        admin = self.browser(ADMIN)
        page = admin.get('/flowdesk/admin/users?q=subpath.user')
        [action] = [url for url in links_in(page.text) if url.endswith('/deactivate')]
        self.assertTrue(action.startswith('/flowdesk/admin/users/'), action)
        response = admin.post_form(action, {'csrf_token': csrf_token(page.text),
                                            'next': '/flowdesk/admin/users?q=subpath.user'},
                                   referer=admin.site_url('/flowdesk/admin/users?q=subpath.user'))
        self.assertStatus(response, 303)
        self.assertEqual(response.header('Location'), '/flowdesk/admin/users?q=subpath.user')
        self.assertStatus(self.browser('CORP\\subpath.user').get('/flowdesk/whoami'), 403)


class WfastcgiBrokenHandlerTest(HostedFlowdeskCase):
    """A WSGI_HANDLER that cannot be imported: the worker answers 500 and the traceback goes
    to the log, not to the user."""

    EXTRA_APP_SETTINGS = {'WSGI_HANDLER': 'flasky.no_such_app'}
    CREATE_TABLES = False

    def test_the_500_holds_no_traceback(self):
        response = self.browser(VIEWER).get('/whoami')
        self.assertEqual(response.status, 500)
        self.assertNotIn(b'Traceback', response.body)
        self.assertNotIn(b'flasky', response.body)
        # wfastcgi puts the traceback on FastCGI STDERR; IIS's default stderrMode would return
        # it as the page, which is why the install script sets ReturnGeneric500.
        self.assertIn(b'Traceback', response.stderr)
        status, body = response.as_iis_sends_it('ReturnGeneric500')
        self.assertEqual(status, 500)
        self.assertNotIn(b'Traceback', body)
        self.assertIn(b'Traceback', response.as_iis_sends_it('ReturnStdErrIn500')[1])
        self.assertRegex(INSTALL_SCRIPT.read_text(encoding='utf-8'),
                         r"stderrMode = 'ReturnGeneric500'")
        # The operator finds the reason in WSGI_LOG; the worker exits and IIS starts a new one.
        self.assertEqual(self.worker.wait_for_exit(), 0)
        log = self.wsgi_log.read_text(encoding='utf-8')
        self.assertIn('Error occurred while reading WSGI handler', log)
        self.assertIn("module 'flasky' has no attribute 'no_such_app'", log)


class WfastcgiWithoutFlaskConfigTest(HostedFlowdeskCase):
    """A web.config without FLASK_CONFIG: Flowdesk refuses to start rather than run the
    development configuration, whose stand-in admin would serve every visitor. IIS answers
    500 and the reason is in WSGI_LOG."""

    EXTRA_APP_SETTINGS = {'FLASK_CONFIG': None}

    def test_no_visitor_gets_the_stand_in_admin(self):
        self.assertNotIn('FLASK_CONFIG', app_settings(self.app_folder / 'Web.config'))
        # An anonymous visitor from another computer (anonymous authentication left on).
        self.assertNotEqual(self.worker.site.client_address, '127.0.0.1')
        response = self.browser(None).get('/admin/users')
        self.assertEqual(response.status, 500, response.text[:500])
        self.assertNotIn(b'developer', response.body)
        status, body = response.as_iis_sends_it('ReturnGeneric500')
        self.assertEqual(status, 500)
        self.assertNotIn(b'developer', body)
        # The worker exits after a failed start; IIS starts a new one for the next request.
        self.assertEqual(self.worker.wait_for_exit(), 0)
        log = self.wsgi_log.read_text(encoding='utf-8')
        self.assertIn('Error occurred while reading WSGI handler', log)
        self.assertIn('refuses to start under IIS (wfastcgi) without FLASK_CONFIG', log)


class WebConfigTest(unittest.TestCase):
    """The repository's web.config is what IIS and wfastcgi need, and agrees with the app."""

    @classmethod
    def setUpClass(cls):
        cls.tree = ET.parse(WEB_CONFIG)  # raises when the file is not well-formed XML
        cls.root = cls.tree.getroot()
        cls.settings = app_settings(WEB_CONFIG)

    def test_app_settings_start_flowdesk_in_production(self):
        self.assertEqual(self.settings['WSGI_HANDLER'], 'flasky.app')
        self.assertEqual(self.settings['FLASK_CONFIG'], 'production')
        self.assertTrue(self.settings['PYTHONPATH'])
        self.assertTrue(self.settings['WSGI_LOG'].endswith('.log'))
        for secret in ('SECRET_KEY', 'DATABASE_URL', 'OPS_DATABASE_URL', 'MSSQL_PASSWORD'):
            self.assertNotIn(secret, self.settings, 'secrets belong in the pool environment')

    def test_wsgi_handler_is_importable(self):
        module_name, _, attribute = self.settings['WSGI_HANDLER'].rpartition('.')
        module = __import__(module_name, fromlist=[attribute])
        handler = getattr(module, attribute)
        self.assertTrue(callable(handler))
        self.assertTrue(hasattr(handler, 'wsgi_app'))

    def test_fastcgi_handler_runs_wfastcgi(self):
        handler = self.root.find("./system.webServer/handlers/add[@name='Flowdesk']")
        self.assertEqual(handler.get('modules'), 'FastCgiModule')
        self.assertEqual(handler.get('path'), '*')
        python, _, script = handler.get('scriptProcessor').partition('|')
        self.assertTrue(python.lower().endswith('python.exe'))
        self.assertTrue(script.lower().endswith('\\' + installed_wfastcgi().name))

    def test_windows_authentication_only(self):
        auth = self.root.find('./system.webServer/security/authentication')
        self.assertEqual(auth.find('windowsAuthentication').get('enabled'), 'true')
        self.assertEqual(auth.find('anonymousAuthentication').get('enabled'), 'false')

    def test_request_limit_equals_the_apps_upload_limit(self):
        limits = self.root.find('./system.webServer/security/requestFiltering/requestLimits')
        app_limit = ProductionConfig({}).MAX_CONTENT_LENGTH
        self.assertEqual(int(limits.get('maxAllowedContentLength')), app_limit)
        self.assertEqual(app_limit, 200 * 1024 * 1024)

    def test_app_error_pages_pass_through(self):
        errors = self.root.find('./system.webServer/httpErrors')
        self.assertEqual(errors.get('existingResponse'), 'PassThrough')

    def test_static_files_are_served_by_iis(self):
        location = self.root.find("./location[@path='static']")
        handlers = location.find('./system.webServer/handlers')
        self.assertIsNotNone(handlers.find('clear'))
        modules = [add.get('modules') for add in handlers.findall('add')]
        self.assertEqual(len(modules), 1)
        self.assertIn('StaticFileModule', modules[0])
        self.assertTrue((ROOT / 'app' / 'static' / 'css' / 'flowdesk.css').is_file())
        script = INSTALL_SCRIPT.read_text(encoding='utf-8')
        self.assertRegex(script, r"Join-Path \$AppRoot 'app\\static'")


class InstallScriptTest(unittest.TestCase):
    """The IIS install script does each step the deployment needs (it runs only on Windows)."""

    @classmethod
    def setUpClass(cls):
        cls.script = INSTALL_SCRIPT.read_text(encoding='utf-8')

    def test_installs_the_iis_features(self):
        for feature in ('Web-CGI', 'Web-Windows-Auth', 'Web-Static-Content'):
            self.assertIn(f"'{feature}'", self.script)

    def test_unlocks_the_sections_web_config_sets(self):
        for section in ('system.webServer/handlers',
                        'system.webServer/security/authentication/windowsAuthentication',
                        'system.webServer/security/authentication/anonymousAuthentication'):
            self.assertIn(f"'{section}'", self.script)

    def test_registers_wfastcgi_and_sets_permissions(self):
        self.assertIn('wfastcgi-enable', self.script)
        self.assertIn('icacls', self.script)
        self.assertIn("$pool.ManagedRuntimeVersion = ''", self.script)

