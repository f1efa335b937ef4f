"""/healthz: public, JSON, 503 naming the bind that does not answer."""
import unittest

from app import __version__, create_app
from tests.base import FlowdeskTestCase, on_every_backend

#: Nothing listens on port 1: connecting fails at once.
DEAD_DATABASE = 'postgresql+psycopg://flowdesk@127.0.0.1:1/flowdesk?connect_timeout=2'


@on_every_backend
class HealthTests(FlowdeskTestCase):
    def test_both_binds_answer(self):
        response = self.client_for(None).get('/healthz')
        self.assertEqual(response.status_code, 200)
        body = response.get_json()
        self.assertEqual(body['status'], 'ok')
        self.assertEqual(body['version'], __version__)
        self.assertEqual(body['databases'], {'app': {'ok': True}, 'ops': {'ok': True}})
        self.assertEqual(response.headers['Cache-Control'], 'no-store')

    def test_needs_no_identity(self):
        response = self.client_for(None).get('/healthz')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'application/json')


class HealthWithDeadDatabaseTests(FlowdeskTestCase):
    CREATE_TABLES = False

    def check_dead(self, setting, dead, alive):
        app = create_app('testing', environ={**self.databases.settings, setting: DEAD_DATABASE})
        response = app.test_client().get('/healthz')
        self.assertEqual(response.status_code, 503)
        body = response.get_json()
        self.assertEqual(body['status'], 'unavailable')
        self.assertFalse(body['databases'][dead]['ok'])
        self.assertIn('OperationalError', body['databases'][dead]['error'])
        self.assertTrue(body['databases'][alive]['ok'])
        self.assertNotIn('Traceback', response.get_data(as_text=True))

    def test_ops_bind_down(self):
        self.check_dead('OPS_DATABASE_URL', 'ops', 'app')

    def test_app_bind_down(self):
        self.check_dead('DATABASE_URL', 'app', 'ops')


if __name__ == '__main__':
    unittest.main()
