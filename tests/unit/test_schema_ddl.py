"""The models compiled for SQL Server: configured schemas, and the traps SQLite hides
(docs/architecture.md §3): VARCHAR instead of NVARCHAR, IDENTITY business keys, DATETIME
rounding, NTEXT."""
import unittest

from sqlalchemy import create_mock_engine, select
from sqlalchemy.dialects import mssql, postgresql

from app import create_app
from app.browse.filters import ResponseFilter
from app.extensions import db
from app.models import Response
from tests.base import FlowdeskTestCase
from tests.unit.test_config import GOOD_UAT

SERVER_SETTINGS = {'MSSQL_SERVER': 'sql01.corp.example', 'MSSQL_DATABASE': 'Flowdesk',
                   'APP_SCHEMA': 'flowdesk', 'OPS_SCHEMA': 'opsdata'}


def ddl_for(bind_key, dialect) -> str:
    """Every CREATE statement of a bind, compiled for the dialect with the schema translation
    the app's engine for that bind carries (so the configured schema shows)."""
    statements = []
    translate = db.engines[bind_key].get_execution_options()['schema_translate_map']

    def collect(sql, *_args, **_kwargs):
        statements.append(str(sql.compile(dialect=engine.dialect, render_schema_translate=True,
                                          schema_translate_map=translate)))

    engine = create_mock_engine(f'{dialect.name}://', collect)
    db.metadatas[bind_key].create_all(engine, checkfirst=False)
    return '\n'.join(statements)


class SqlServerDdlTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = create_app('uat', environ={**SERVER_SETTINGS, **GOOD_UAT})
        cls.context = cls.app.app_context()
        cls.context.push()
        cls.ops_ddl = ddl_for('ops', mssql.dialect())
        cls.app_ddl = ddl_for(None, mssql.dialect())

    @classmethod
    def tearDownClass(cls):
        cls.context.pop()

    def test_ops_tables_live_in_the_configured_schema(self):
        for table in ('flows', 'responses', 'load_batches', 'load_errors', 'response_daily'):
            self.assertIn(f'CREATE TABLE [opsdata].[{table}]', self.ops_ddl)
        self.assertIn('ON [opsdata].[responses] (responded_at, response_id)', self.ops_ddl)
        self.assertIn('REFERENCES [opsdata].[flows] (flow_code)', self.ops_ddl)

    def test_app_tables_live_in_the_configured_schema(self):
        self.assertIn('CREATE TABLE [flowdesk].[users]', self.app_ddl)
        self.assertIn('CREATE TABLE [flowdesk].[audit_events]', self.app_ddl)
        self.assertNotIn('opsdata', self.app_ddl)

    def test_no_symbolic_schema_leaks(self):
        self.assertNotIn('[ops].', self.ops_ddl)
        self.assertNotIn('[app].', self.app_ddl)

    def test_text_is_nvarchar(self):
        self.assertNotRegex(self.ops_ddl + self.app_ddl, r'(?<![N])VARCHAR')
        self.assertNotIn(' TEXT', self.ops_ddl + self.app_ddl)
        self.assertNotIn('NTEXT', self.ops_ddl + self.app_ddl)
        self.assertIn('error_reason NVARCHAR(4000)', self.ops_ddl)
        self.assertIn('detail NVARCHAR(max)', self.app_ddl)

    def test_business_keys_are_not_identity(self):
        self.assertIn('response_id BIGINT NOT NULL,', self.ops_ddl)
        self.assertIn('flow_code NVARCHAR(32) NOT NULL,', self.ops_ddl)
        self.assertNotIn('response_id BIGINT NOT NULL IDENTITY', self.ops_ddl)

    def test_reason_dictionary_and_its_filtered_index(self):
        self.assertIn('CREATE TABLE [opsdata].[error_reasons]', self.ops_ddl)
        self.assertIn('reason_hash BIGINT NOT NULL,', self.ops_ddl)   # no IDENTITY on the hash
        self.assertNotIn('reason_hash BIGINT NOT NULL IDENTITY', self.ops_ddl)
        self.assertIn('CREATE INDEX ix_responses_reason_time ON [opsdata].[responses] '
                      '(reason_hash, responded_at, response_id) INCLUDE (flow_code, status) '
                      'WHERE reason_hash IS NOT NULL', self.ops_ddl)

    def test_source_ids_and_their_filtered_indexes(self):
        self.assertIn('message_id NVARCHAR(100) NULL', self.ops_ddl)
        self.assertIn('correlation_id NVARCHAR(200) NULL', self.ops_ddl)
        self.assertIn('CREATE INDEX ix_responses_message_time ON [opsdata].[responses] '
                      '(message_id, responded_at, response_id) WHERE message_id IS NOT NULL',
                      self.ops_ddl)
        self.assertIn('CREATE INDEX ix_responses_correlation_time ON [opsdata].[responses] '
                      '(correlation_id, responded_at, response_id) '
                      'WHERE correlation_id IS NOT NULL', self.ops_ddl)

    def test_the_id_filter_is_two_exact_matches_each_fit_for_its_filtered_index(self):
        from app.browse.responses import base_select
        from app.browse.trace import id_matches
        engine = db.engines['ops']
        compiled = base_select(ResponseFilter(exact_id='ORDER-4711')).compile(
            dialect=mssql.dialect(),
            schema_translate_map=engine.get_execution_options()['schema_translate_map'],
            render_schema_translate=True)
        sql = str(compiled)
        self.assertIn('FROM [opsdata].[responses]', sql)
        self.assertIn('WHERE [opsdata].[responses].message_id IS NOT NULL AND '
                      '[opsdata].[responses].message_id = :message_id_1 OR '
                      '[opsdata].[responses].correlation_id IS NOT NULL AND '
                      '[opsdata].[responses].correlation_id = :correlation_id_1',
                      ' '.join(sql.split()))
        self.assertEqual(list(compiled.params.values()), ['ORDER-4711', 'ORDER-4711'])
        self.assertEqual(len(id_matches('x').compile(dialect=mssql.dialect()).params), 2)
        # Next to an id, the other filters are written so that no index of theirs competes.
        narrowed = ' '.join(str(base_select(ResponseFilter(
            exact_id='x', flows=('ORD',), statuses=('ERROR',), result_code=500)).compile(
            dialect=mssql.dialect())).split())
        self.assertIn("([ops].[responses].flow_code + '') IN", narrowed)
        self.assertIn("([ops].[responses].status + '') IN", narrowed)
        self.assertIn('[ops].[responses].result_code + 0 = :param_', narrowed)
        self.assertIn('AND ([ops].[responses].message_id IS NOT NULL AND', narrowed)

    def test_timestamps_are_datetime2(self):
        self.assertIn('responded_at DATETIME2(6) NOT NULL', self.ops_ddl)
        self.assertNotRegex(self.ops_ddl + self.app_ddl, r'\bDATETIME\b')

    def test_queries_are_translated_too(self):
        engine = db.engines['ops']
        statement = select(Response.response_id).where(Response.flow_code == 'X')
        compiled = str(statement.compile(
            dialect=mssql.dialect(),
            schema_translate_map=engine.get_execution_options()['schema_translate_map'],
            render_schema_translate=True))
        self.assertIn('[opsdata].[responses]', compiled)


class NoSchemaOnSqliteTests(FlowdeskTestCase):
    """The embedded default: real tables in two SQLite files, no schema anywhere."""

    def test_tables_are_created_without_schema(self):
        with db.engines['ops'].connect() as connection:
            names = {row[0] for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            databases = [row[1] for row in connection.exec_driver_sql('PRAGMA database_list')]
        self.assertTrue({'flows', 'responses', 'load_batches', 'response_daily'} <= names)
        self.assertNotIn('ops', databases)
        with db.engines[None].connect() as connection:
            names = {row[0] for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertTrue({'users', 'audit_events'} <= names)
        self.assertNotIn('responses', names)

    def test_queries_name_no_schema(self):
        translate = db.engines['ops'].get_execution_options()['schema_translate_map']
        self.assertEqual(translate, {'ops': None})
        compiled = str(select(Response.response_id).compile(
            dialect=db.engines['ops'].dialect, schema_translate_map=translate,
            render_schema_translate=True))
        self.assertRegex(compiled.replace('"', ''), r'FROM (main\.)?responses')
        self.assertNotIn('ops', compiled)


class PostgresDdlTests(unittest.TestCase):
    def test_postgresql_ddl_uses_the_configured_schema(self):
        app = create_app('uat', environ={**GOOD_UAT, 'OPS_SCHEMA': 'flowdesk_ops',
                                         'OPS_DATABASE_URL': 'postgresql+psycopg://u@db/ops'})
        with app.app_context():
            ddl = ddl_for('ops', postgresql.dialect())
        self.assertIn('CREATE TABLE "flowdesk_ops"."responses"', ddl)
        self.assertIn('TIMESTAMP WITHOUT TIME ZONE', ddl)


if __name__ == '__main__':
    unittest.main()
