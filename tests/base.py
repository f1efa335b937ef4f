"""Base classes for Flowdesk's test suites.

``FlowdeskTestCase`` gives each test class an app (testing config), a pushed app context, fresh
databases for both binds and a test client; every test starts with empty tables. Identity is
set the way IIS sets it: ``REMOTE_USER`` in the WSGI environ (``client_for(login)``).

``@on_every_backend`` runs a class once on SQLite and once on PostgreSQL (the real-server tier).
The PostgreSQL run needs ``TEST_DATABASE_URL`` and ``TEST_OPS_DATABASE_URL``; without them it is
skipped with a reason. Each database gets its schema (``TEST_APP_SCHEMA``/``TEST_OPS_SCHEMA``,
default ``flowdesk_app``/``flowdesk_ops``) dropped and created by the class setup.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import unittest
from pathlib import Path

from flask.testing import FlaskClient
from parameterized import parameterized_class
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

ASSETS = Path(__file__).resolve().parent / 'assets'
VIEWER = 'CORP\\viewer'
ADMIN = 'CORP\\admin'

PG_SKIP_REASON = ('PostgreSQL tier: TEST_DATABASE_URL and TEST_OPS_DATABASE_URL are not set '
                  '(.ci/run sets them when PostgreSQL answers on 127.0.0.1:5432; see README "Tests")')


def class_name(cls, _index, params):
    return f'{cls.__name__}_{params["backend"]}'


#: Decorator: run the class on SQLite and on PostgreSQL.
on_every_backend = parameterized_class(
    [{'backend': 'sqlite'}, {'backend': 'postgresql'}], class_name_func=class_name)


def postgres_urls() -> tuple[str, str] | None:
    app_url = os.environ.get('TEST_DATABASE_URL')
    ops_url = os.environ.get('TEST_OPS_DATABASE_URL')
    if not app_url or not ops_url:
        return None
    for url in (app_url, ops_url):
        if make_url(url).get_backend_name() != 'postgresql':
            raise RuntimeError(f'TEST_DATABASE_URL / TEST_OPS_DATABASE_URL must be PostgreSQL URLs, '
                               f'got {make_url(url).render_as_string()}')
    return app_url, ops_url


def reset_postgres_schema(url: str, schema: str) -> None:
    engine = create_engine(url, isolation_level='AUTOCOMMIT')
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in a real server:
    ``g`` and the database session never carry over from the test or an earlier request."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class TestDatabases:
    """Where one test class keeps its data: a temporary folder (SQLite) or two PostgreSQL
    schemas. ``environ()`` is the configuration that points the app at them."""

    def __init__(self, backend: str):
        self.backend = backend
        self.folder = Path(tempfile.mkdtemp(prefix='flowdesk-test-'))
        self.settings = {'FLOWDESK_INSTANCE_PATH': str(self.folder)}
        if backend == 'postgresql':
            urls = postgres_urls()
            if urls is None:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise unittest.SkipTest(PG_SKIP_REASON)
            app_schema = os.environ.get('TEST_APP_SCHEMA', 'flowdesk_app')
            ops_schema = os.environ.get('TEST_OPS_SCHEMA', 'flowdesk_ops')
            reset_postgres_schema(urls[0], app_schema)
            reset_postgres_schema(urls[1], ops_schema)
            self.settings.update(DATABASE_URL=urls[0], OPS_DATABASE_URL=urls[1],
                                 APP_SCHEMA=app_schema, OPS_SCHEMA=ops_schema)

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class FlowdeskTestCase(unittest.TestCase):
    """An app with fresh databases per class, empty tables per test, and a viewer client."""

    backend = 'sqlite'
    CONFIG_NAME = 'testing'
    #: Extra settings (environment variables) for this class's app.
    SETTINGS: dict[str, str] = {}
    #: Create the tables from the models (True) or leave the databases empty.
    CREATE_TABLES = True

    @classmethod
    def base_settings(cls) -> dict[str, str]:
        return {'FLOWDESK_ADMINS': ADMIN, 'LOG_LEVEL': 'CRITICAL'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.databases = TestDatabases(cls.backend)
        environ = {**cls.base_settings(), **cls.databases.settings, **cls.SETTINGS}
        cls.app = create_app(cls.CONFIG_NAME, environ=environ)
        cls.app.test_client_class = FreshContextClient
        cls.app_context = cls.app.app_context()
        cls.app_context.push()
        if cls.CREATE_TABLES:
            db.create_all()

    @classmethod
    def tearDownClass(cls):
        db.session.remove()
        if cls.CREATE_TABLES and cls.backend == 'postgresql':
            db.drop_all()
        for engine in db.engines.values():
            engine.dispose()
        cls.app_context.pop()
        cls.databases.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if self.CREATE_TABLES:
            self.empty_tables()
        self.client = self.client_for(VIEWER)

    def tearDown(self):
        db.session.remove()
        super().tearDown()

    # -- helpers ---------------------------------------------------------------------------
    def client_for(self, login: str | None, **environ):
        """A test client whose requests carry ``REMOTE_USER`` as IIS would set it
        (``None``: anonymous)."""
        client = self.app.test_client()
        if login is not None:
            client.environ_base['REMOTE_USER'] = login
        client.environ_base.update(environ)
        return client

    def admin_client(self):
        return self.client_for(ADMIN)

    @staticmethod
    def empty_tables() -> None:
        db.session.remove()
        for bind_key, metadata in db.metadatas.items():
            with db.engines[bind_key].begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())

    def assertPageContains(self, response, *texts, status: int = 200):
        body = response.get_data(as_text=True)
        self.assertEqual(response.status_code, status, body[:2000])
        for expected in texts:
            self.assertIn(expected, body)
        return body
