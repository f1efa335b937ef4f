"""Every error page comes in the site layout, with a message a person can act on, and never a
traceback; API paths get JSON errors instead."""
import io
import unittest

from flask import abort, request
from parameterized import parameterized

from app.extensions import db
from app.models import User
from tests.base import ADMIN, VIEWER, FlowdeskTestCase


class ErrorPageTests(FlowdeskTestCase):
    SETTINGS = {'MAX_UPLOAD_MB': '1'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        @cls.app.route('/_test/abort/<int:code>')
        def abort_with(code):
            abort(code)

        @cls.app.route('/_test/crash')
        def crash():
            raise RuntimeError('secret internal detail')

        @cls.app.route('/_test/upload', methods=['POST'])
        def upload():
            return str(len(request.files))

    def assertLayoutPage(self, response, code, *texts):
        body = response.get_data(as_text=True)
        self.assertEqual(response.status_code, code, body[:500])
        self.assertEqual(response.mimetype, 'text/html')
        self.assertIn('<nav class="navbar', body)
        self.assertIn(f'({code})', body)
        self.assertNotIn('Traceback', body)
        for text in texts:
            self.assertIn(text, body)
        return body

    def test_400(self):
        self.assertLayoutPage(self.client.get('/_test/abort/400'), 400, 'Bad request')

    def test_401_for_anonymous(self):
        response = self.client_for(None).get('/')
        body = self.assertLayoutPage(response, 401, 'Sign-in needed', 'FLOWDESK_DEV_USER')
        self.assertEqual(response.headers['WWW-Authenticate'], 'Negotiate')
        self.assertNotIn('signed-in-user', body)

    def test_403_for_viewer_on_admin_page(self):
        # The admin blueprint guards every page; any admin URL will do once it exists.
        self.assertLayoutPage(self.client.get('/_test/abort/403'), 403, 'Not allowed')

    def test_403_names_the_deactivated_account(self):
        self.client.get('/whoami')
        user = db.session.execute(db.select(User).filter_by(login=VIEWER)).scalar_one()
        user.active = False
        db.session.commit()
        self.assertLayoutPage(self.client.get('/whoami'), 403, 'CORP\\viewer is deactivated')

    def test_404(self):
        self.assertLayoutPage(self.client.get('/no/such/page'), 404, 'Not found')

    def test_405(self):
        response = self.client.post('/whoami')
        self.assertLayoutPage(response, 405, 'Method not allowed')
        self.assertIn('GET', response.headers['Allow'])

    def test_413_names_the_limit(self):
        big = io.BytesIO(b'x' * (1024 * 1024 + 1))
        response = self.client.post('/_test/upload', data={'file': (big, 'big.csv')},
                                    content_type='multipart/form-data')
        self.assertLayoutPage(response, 413, 'File too large', '1 MB', 'flask load')

    def test_500_hides_the_exception(self):
        body = self.assertLayoutPage(self.client.get('/_test/crash'), 500, 'Something went wrong')
        self.assertNotIn('secret internal detail', body)
        self.assertNotIn('RuntimeError', body)

    def test_admin_sees_the_same_layout(self):
        body = self.assertLayoutPage(self.client_for(ADMIN).get('/no/such/page'), 404)
        self.assertIn('CORP\\admin', body)

    @parameterized.expand([(404, '/api/v1/no-such-thing'), (401, None)])
    def test_api_errors_are_json(self, code, path):
        client = self.client_for(None) if code == 401 else self.client
        response = client.get(path or '/api/v1/anything')
        self.assertEqual(response.status_code, code)
        self.assertEqual(response.get_json()['error']['status'], code)


if __name__ == '__main__':
    unittest.main()
