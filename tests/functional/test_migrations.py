"""Migrations build both databases from nothing, match the models exactly, and print a T-SQL
script with the configured schemas for DBAs."""
import unittest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from app.migration_support import metadata_for, schema_of
from tests.base import FlowdeskTestCase, on_every_backend

OPS_TABLES = {'flows', 'responses', 'load_batches', 'load_errors', 'response_daily',
              'error_reasons', 'job_runs', 'scheduler_ticks'}
APP_TABLES = {'users', 'audit_events', 'inboxes', 'inbox_sightings'}


@on_every_backend
class MigrationTests(FlowdeskTestCase):
    CREATE_TABLES = False

    def tables(self, bind_key, name):
        schema = schema_of(name)
        return set(inspect(db.engines[bind_key]).get_table_names(schema=str(schema) if schema else None))

    def differences(self, bind_key, name):
        schema = schema_of(name)
        with db.engines[bind_key].connect() as connection:
            context = MigrationContext.configure(connection, opts={
                'compare_type': True, 'include_schemas': bool(schema),
                'include_name': lambda n, t, _p: (n == (str(schema) if schema else None)
                                                  if t == 'schema' else n != 'alembic_version'),
            })
            return compare_metadata(context, metadata_for(name))

    def test_upgrade_builds_both_databases_matching_the_models(self):
        upgrade()
        try:
            self.assertTrue(OPS_TABLES <= self.tables('ops', 'ops'))
            self.assertTrue(APP_TABLES <= self.tables(None, ''))
            self.assertFalse(OPS_TABLES & self.tables(None, ''), 'ops tables in the app database')
            self.assertEqual(self.differences('ops', 'ops'), [])
            self.assertEqual(self.differences(None, ''), [])
        finally:
            downgrade(revision='base')
        self.assertFalse(OPS_TABLES & self.tables('ops', 'ops'))
        self.assertFalse(APP_TABLES & self.tables(None, ''))

    def test_upgrade_twice_is_a_no_op(self):
        upgrade()
        try:
            upgrade()
            self.assertTrue(OPS_TABLES <= self.tables('ops', 'ops'))
        finally:
            downgrade(revision='base')


class SqlServerScriptTests(unittest.TestCase):
    """`flask db upgrade --sql` with SQL Server settings: the script a DBA runs."""

    @classmethod
    def setUpClass(cls):
        app = create_app('uat', environ={
            'MSSQL_SERVER': 'sql01.corp.example', 'MSSQL_DATABASE': 'Flowdesk',
            'MSSQL_OPS_DATABASE': 'FlowdeskOps', 'APP_SCHEMA': 'flowdesk', 'OPS_SCHEMA': 'opsdata'})
        with app.app_context():
            result = app.test_cli_runner().invoke(args=['db', 'upgrade', '--sql'])
        cls.exit_code, cls.script, cls.exception = result.exit_code, result.output, result.exception

    def test_script_is_printed(self):
        self.assertEqual(self.exit_code, 0, self.exception)
        self.assertIn('-- ===== Flowdesk app database (schema flowdesk) =====', self.script)
        self.assertIn('-- ===== Flowdesk ops database (schema opsdata) =====', self.script)

    def test_names_both_configured_schemas(self):
        self.assertIn('CREATE TABLE [opsdata].[responses]', self.script)
        self.assertIn('CREATE TABLE [opsdata].[flows]', self.script)
        self.assertIn('CREATE TABLE [flowdesk].[users]', self.script)
        self.assertIn('CREATE TABLE [flowdesk].[audit_events]', self.script)
        self.assertIn('REFERENCES [opsdata].[flows] (flow_code)', self.script)
        self.assertNotIn('[ops].', self.script)
        self.assertNotIn('[app].', self.script)

    def test_creates_missing_schemas_and_versions_each_database(self):
        self.assertIn("IF SCHEMA_ID(N'opsdata') IS NULL EXEC(N'CREATE SCHEMA [opsdata]')", self.script)
        self.assertIn("IF SCHEMA_ID(N'flowdesk') IS NULL EXEC(N'CREATE SCHEMA [flowdesk]')", self.script)
        self.assertIn('CREATE TABLE [opsdata].alembic_version', self.script)
        self.assertIn('CREATE TABLE [flowdesk].alembic_version', self.script)

    def test_uses_sql_server_types(self):
        self.assertIn('responded_at DATETIME2(6) NOT NULL', self.script)
        self.assertIn('response_id BIGINT NOT NULL,', self.script)
        self.assertIn('day DATE NOT NULL', self.script)
        self.assertIn('GO', self.script)
        self.assertNotIn('NTEXT', self.script)
        self.assertNotRegex(self.script, r'(?<!N)VARCHAR\((?!32\) NOT NULL,\s*CONSTRAINT alembic)')

    def test_jobs_and_inbox_tables_in_their_schemas_with_sql_server_types(self):
        self.assertIn('CREATE TABLE [opsdata].[job_runs]', self.script)
        self.assertIn('CREATE TABLE [opsdata].[scheduler_ticks]', self.script)
        self.assertIn('CREATE TABLE [flowdesk].[inboxes]', self.script)
        self.assertIn('CREATE TABLE [flowdesk].[inbox_sightings]', self.script)
        self.assertIn('REFERENCES [flowdesk].[inboxes] (id) ON DELETE CASCADE', self.script)
        self.assertIn('started_at DATETIME2(6) NOT NULL', self.script)
        self.assertIn('folder NVARCHAR(1000) NOT NULL', self.script)
        self.assertIn('error NVARCHAR(max) NULL', self.script)
        self.assertIn('host NVARCHAR(128) NOT NULL', self.script)
        # Surrogate ids count up; the business keys (host, inbox + file name) never do.
        self.assertIn('id INTEGER NOT NULL IDENTITY', self.script)
        self.assertNotRegex(self.script, r'(host|inbox_id|file_name) [^,]*IDENTITY')


if __name__ == '__main__':
    unittest.main()
