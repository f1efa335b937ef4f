"""The loading package's public names, the one schema-qualified quoting helper, the batch
statuses as templates style them, and reading back the days ``day_of`` selects."""
from __future__ import annotations

import unittest
from datetime import date, datetime
from types import SimpleNamespace

from flask import render_template_string
from parameterized import parameterized
from sqlalchemy.dialects import mssql, postgresql, sqlite

from app import create_app
from app.database import qualified_name, quoted_schema
from app.datasets import RESPONSES
from app.migration_support import schema_of
from app.models import (
    BATCH_FAILED,
    BATCH_INTERRUPTED,
    BATCH_RUNNING,
    BATCH_STATUSES,
    BATCH_SUCCEEDED,
    BATCH_UNDONE,
    BATCH_VALIDATED,
)
from app.summary import as_day


def app_with(**environ):
    return create_app('testing', environ={'LOG_LEVEL': 'CRITICAL', **environ})


class LoadingPackageTest(unittest.TestCase):
    def test_public_names_stay_importable(self):
        from app.loading import (
            MODE_HELP,
            MODES,
            DuplicateFile,
            LoadBusy,
            LoadOutcome,
            LoadRefused,
            LoadRequest,
            run_load,
            sweep_interrupted,
            undo_batch,
            undo_refusal,
            undoable_batch_ids,
        )
        from app.loading.locks import DatasetLock
        from app.loading.report import write_report
        from app.loading.storage import file_sha256
        self.assertEqual(MODES, ('append', 'upsert', 'replace'))
        self.assertEqual(set(MODE_HELP), set(MODES))
        self.assertTrue(issubclass(LoadBusy, LoadRefused))
        self.assertTrue(issubclass(DuplicateFile, LoadRefused))
        for name in (LoadOutcome, LoadRequest, run_load, sweep_interrupted, undo_batch,
                     undo_refusal, undoable_batch_ids, DatasetLock, write_report, file_sha256):
            self.assertTrue(callable(name), name)

    def test_batch_statuses_are_distinct_and_fit_their_column(self):
        self.assertEqual(len(set(BATCH_STATUSES)), 6)
        self.assertTrue(all(len(status) <= 16 for status in BATCH_STATUSES))


class QualifiedNameTest(unittest.TestCase):
    """Statements that bypass SQLAlchemy (COPY, executemany) name tables as the models do."""

    def names(self, environ, dialect):
        app = app_with(**environ)
        with app.app_context():
            return (qualified_name(RESPONSES.table, 'ops', dialect), quoted_schema('ops'),
                    schema_of('ops'))

    @parameterized.expand([
        ('mssql', mssql.dialect(), '[ops].[responses]'),
        ('postgresql', postgresql.dialect(), '"ops"."responses"'),
    ])
    def test_schema_is_always_quoted(self, _name, dialect, expected):
        name, schema, migration_schema = self.names({'OPS_SCHEMA': 'ops'}, dialect)
        self.assertEqual(name, expected)
        self.assertEqual((schema, schema.quote), ('ops', True))
        self.assertEqual(migration_schema, schema)

    def test_schema_with_a_space_is_quoted_once(self):
        name, _schema, _ = self.names({'OPS_SCHEMA': 'Ops Data'}, mssql.dialect())
        self.assertEqual(name, '[Ops Data].[responses]')

    def test_no_schema_gives_the_bare_quoted_table(self):
        name, schema, migration_schema = self.names({}, sqlite.dialect())
        self.assertEqual(name, '"responses"')
        self.assertIsNone(schema)
        self.assertIsNone(migration_schema)

    def test_default_dialect_is_the_binds(self):
        app = app_with()
        with app.app_context():
            self.assertEqual(qualified_name(RESPONSES.table, 'ops'), '"responses"')


class BatchStatusBadgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = app_with()

    def badge(self, status: str, dry_run: bool = False) -> str:
        with self.app.test_request_context():
            return render_template_string("{% include 'admin/_batch_status.html' %}",
                                          batch=SimpleNamespace(status=status, dry_run=dry_run))

    @parameterized.expand([
        (BATCH_SUCCEEDED, 'success'), (BATCH_VALIDATED, 'info'), (BATCH_FAILED, 'danger'),
        (BATCH_RUNNING, 'primary'), (BATCH_INTERRUPTED, 'warning'), (BATCH_UNDONE, 'secondary'),
    ])
    def test_each_status_has_its_colour(self, status, colour):
        badge = self.badge(status)
        self.assertIn(f'text-bg-{colour}"', badge)
        self.assertIn(f'>{status}</span>', badge)

    def test_dry_run_is_named(self):
        self.assertIn('>dry run validated</span>', self.badge(BATCH_VALIDATED, dry_run=True))


class AsDayTest(unittest.TestCase):
    @parameterized.expand([
        ('date', date(2026, 3, 29)),
        ('datetime', datetime(2026, 3, 29, 23, 59, 59)),
        ('sqlite text', '2026-03-29'),
        ('text with a time', '2026-03-29 00:00:00'),
    ])
    def test_day_of_each_driver_form(self, _name, value):
        self.assertEqual(as_day(value), date(2026, 3, 29))
