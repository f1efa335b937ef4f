"""The base layout: local assets only, environment badge, signed-in user, flash messages;
and the production log file."""
import logging
import re
import tempfile
import unittest
from pathlib import Path

from flask import flash, render_template
from parameterized import parameterized

from app import create_app
from tests.base import ADMIN, FlowdeskTestCase
from tests.unit.test_config import GOOD_PRODUCTION, GOOD_UAT


class LayoutTests(FlowdeskTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        @cls.app.route('/_test/flash')
        def flash_page():
            flash('Saved <b>everything</b>', 'success')
            return render_template('main/whoami.html')

    def test_every_asset_is_served_by_the_app(self):
        body = self.client.get('/whoami').get_data(as_text=True)
        urls = re.findall(r'(?:href|src)="([^"]+)"', body)
        assets = [u for u in urls if u.endswith(('.css', '.js'))]
        self.assertGreaterEqual(len(assets), 3)
        for url in urls:
            self.assertFalse(url.startswith(('http:', 'https:', '//')), url)
        for url in assets:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertGreater(len(response.data), 100, url)
            response.close()

    def test_shows_the_signed_in_user_and_badge(self):
        body = self.client.get('/whoami').get_data(as_text=True)
        self.assertIn('id="signed-in-user"', body)
        self.assertIn('CORP\\viewer', body)
        self.assertIn('>TEST</span>', body)
        self.assertNotIn('>Admin</a>', body)

    def test_admin_sees_admin_menu_when_admin_pages_exist(self):
        body = self.client_for(ADMIN).get('/whoami').get_data(as_text=True)
        self.assertIn('CORP\\admin', body)
        self.assertIn(', admin)', body)

    def test_flash_messages_are_escaped(self):
        body = self.client.get('/_test/flash').get_data(as_text=True)
        self.assertIn('alert-success', body)
        self.assertIn('Saved &lt;b&gt;everything&lt;/b&gt;', body)

    def test_security_headers(self):
        response = self.client.get('/whoami')
        self.assertIn("script-src 'self'", response.headers['Content-Security-Policy'])
        self.assertEqual(response.headers['X-Content-Type-Options'], 'nosniff')
        self.assertEqual(response.headers['X-Frame-Options'], 'DENY')


class BadgeTests(unittest.TestCase):
    @parameterized.expand([
        ('development', {}, 'DEV'),
        ('uat', GOOD_UAT, 'UAT'),
        ('production', GOOD_PRODUCTION, None),
    ])
    def test_environment_badge(self, name, environ, badge):
        app = create_app(name, environ=dict(environ))
        with app.test_request_context('/'):
            html = render_template('errors/error.html', code=404, title='Not found', detail='x')
        if badge:
            self.assertIn(f'>{badge}</span>', html)
        else:
            self.assertNotIn('env-badge', html)


class ProductionLogFileTests(unittest.TestCase):
    def test_production_writes_a_rotating_log_file(self):
        with tempfile.TemporaryDirectory() as folder:
            log_file = Path(folder) / 'logs' / 'flowdesk.log'
            app = create_app('production', environ={**GOOD_PRODUCTION, 'LOG_FILE': str(log_file)})
            app.logger.warning('load of responses failed: %s', 'bad header')
            for handler in app.logger.handlers:
                handler.flush()
            text = log_file.read_text(encoding='utf-8')
            self.assertIn('WARNING', text)
            self.assertIn('load of responses failed: bad header', text)
            for handler in list(app.logger.handlers):
                if isinstance(handler, logging.FileHandler):
                    handler.close()
                    app.logger.removeHandler(handler)


if __name__ == '__main__':
    unittest.main()
