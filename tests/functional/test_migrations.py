"""Migrations build both databases from nothing, match the models exactly, and print a T-SQL
script with the configured schemas for DBAs."""
import unittest
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from app.migration_support import metadata_for, schema_of
from app.reason_text_index import is_text_index_object
from tests.base import FlowdeskTestCase, on_every_backend
from tests.unit.test_config import GOOD_UAT

#: The revision that made load batch ids never reused (and removed orphaned undo history).
BATCH_IDS_REVISION = '0006_batch_ids'

OPS_TABLES = {'flows', 'responses', 'load_batches', 'load_errors', 'response_daily',
              'response_day_totals', 'response_hourly', 'error_reasons', 'job_runs',
              'scheduler_ticks'}
APP_TABLES = {'users', 'audit_events', 'saved_views', 'inboxes', 'inbox_sightings',
              'alert_rules', 'incidents', 'incident_events', 'alert_notices',
              'alert_subscriptions', 'user_profiles', 'source_profiles'}


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
                'include_name': lambda n, t, _p: (
                    n == (str(schema) if schema else None) if t == 'schema'
                    else n != 'alembic_version' and not is_text_index_object(n)),
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


class BatchIdMigrationTests(FlowdeskTestCase):
    """An existing SQLite ops database gets AUTOINCREMENT batch ids without losing its history,
    and loses the undo history of batches that no longer exist."""
    CREATE_TABLES = False

    def ops(self, sql, **values):
        with db.engines['ops'].begin() as connection:
            result = connection.execute(text(sql), values)
            return result.fetchall() if result.returns_rows else None

    def test_upgrade_keeps_batches_and_problems_and_drops_orphaned_versions(self):
        upgrade(revision='0003_browse')
        try:
            for batch_id in (1, 2, 3):
                self.ops("INSERT INTO load_batches (id, dataset, mode, dry_run, loaded_by, "
                         "started_at, status, rows_read, inserted, updated, unchanged, deleted, "
                         "error_count) VALUES (:id, 'flows', 'append', 0, 'CORP\\admin', "
                         "'2026-11-01 00:00:00', 'succeeded', 0, 0, 0, 0, 0, 0)", id=batch_id)
            self.ops("INSERT INTO load_errors (batch_id, line, message) VALUES (2, 7, 'bad')")
            for superseded_by in (3, 9):
                self.ops("INSERT INTO flow_versions (superseded_by, change, flow_code, name, "
                         "flow_type, source_system, target_system, active) VALUES "
                         "(:batch, 'updated', 'ORD-SAP', 'Orders', 'API', 'Shop', 'SAP', 1)",
                         batch=superseded_by)
            upgrade(revision=BATCH_IDS_REVISION)
            self.assertIn('AUTOINCREMENT', self.ops(
                "SELECT sql FROM sqlite_master WHERE name = 'load_batches'")[0][0])
            self.assertEqual(self.ops('SELECT batch_id, line, message FROM load_errors'),
                             [(2, 7, 'bad')])
            self.assertEqual(self.ops('SELECT superseded_by FROM flow_versions'), [(3,)])
            self.ops('DELETE FROM load_batches WHERE id = 3')
            self.ops("INSERT INTO load_batches (dataset, mode, dry_run, loaded_by, started_at, "
                     "status, rows_read, inserted, updated, unchanged, deleted, error_count) "
                     "VALUES ('flows', 'append', 0, 'x', '2026-11-02 00:00:00', 'running', "
                     "0, 0, 0, 0, 0, 0)")
            self.assertEqual(self.ops('SELECT max(id) FROM load_batches')[0][0], 4)
        finally:
            downgrade(revision='base')


class ResponseRowidMigrationTests(FlowdeskTestCase):
    """On SQLite, 0014_load_speed rebuilds responses with response_id as its rowid, keeping
    every row and every index, and the downgrade puts the BIGINT key back."""
    CREATE_TABLES = False
    #: The revision 0014_load_speed follows (the table as it was just before the rebuild).
    PREDECESSOR = '0013_reason_search'
    COLUMNS = ('response_id, flow_code, responded_at, status, result_code, duration_ms, '
               'error_reason, payload_bytes, batch_id, reason_hash')
    ROWS = [(7, 'ORD-SAP', '2026-11-01 10:00:00.000000', 'ERROR', 500, 12, 'Timeout', 3, 1, -5),
            (3, 'ORD-SAP', '2026-11-01 09:00:00.000000', 'OK', 200, None, None, None, 1, None)]

    def ops(self, sql, *values):
        with db.engines['ops'].begin() as connection:
            result = connection.exec_driver_sql(sql, *values)
            return result.fetchall() if result.returns_rows else None

    def table_sql(self) -> str:
        return self.ops("SELECT sql FROM sqlite_master WHERE name = 'responses'")[0][0]

    def indexes(self) -> dict:
        """The responses table's indexes and triggers (name -> definition)."""
        return dict(self.ops("SELECT name, sql FROM sqlite_master WHERE type IN ('index', "
                             "'trigger') AND tbl_name = 'responses'"))

    def test_predecessor_is_the_revision_the_rebuild_follows(self):
        scripts = ScriptDirectory(str(Path(__file__).resolve().parents[2] / 'migrations'))
        self.assertEqual(scripts.get_revision('0014_load_speed').down_revision, self.PREDECESSOR)

    def test_rebuild_keeps_rows_and_indexes_and_makes_the_key_the_rowid(self):
        upgrade(revision=self.PREDECESSOR)
        try:
            self.ops("INSERT INTO flows (flow_code, name, flow_type, source_system, "
                     "target_system, active) VALUES ('ORD-SAP', 'Orders', 'API', 'Shop', 'SAP', 1)")
            for row in self.ROWS:
                self.ops(f'INSERT INTO responses ({self.COLUMNS}) VALUES '
                         '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', row)
            # as a later revision might add one (the rebuild drops the table's triggers too)
            self.ops('CREATE TRIGGER responses_touched AFTER UPDATE ON responses '
                     'BEGIN SELECT 1; END')
            indexes = self.indexes()
            self.assertIn('sqlite_autoindex_responses_1', indexes)  # the BIGINT key's index
            self.assertIn('responses_touched', indexes)
            upgrade()
            self.assertIn('response_id INTEGER NOT NULL', self.table_sql())
            self.assertEqual(self.indexes(), {name: sql for name, sql in indexes.items()
                                              if sql is not None})
            self.assertEqual(self.ops(f'SELECT rowid, {self.COLUMNS} FROM responses ORDER BY rowid'),
                             [(row[0], *row) for row in sorted(self.ROWS)])
            self.assertEqual(self.ops('PRAGMA integrity_check'), [('ok',)])
            self.assertEqual(self.ops('PRAGMA foreign_key_check'), [])
            downgrade(revision=self.PREDECESSOR)
            self.assertIn('response_id BIGINT NOT NULL', self.table_sql())
            self.assertEqual(self.indexes(), indexes)
            self.assertEqual(self.ops(f'SELECT {self.COLUMNS} FROM responses ORDER BY response_id'),
                             sorted(self.ROWS))
        finally:
            downgrade(revision='base')


class SqlServerScriptTests(unittest.TestCase):
    """`flask db upgrade --sql` with SQL Server settings: the script a DBA runs."""

    @classmethod
    def setUpClass(cls):
        app = create_app('uat', environ={
            **GOOD_UAT, 'MSSQL_SERVER': 'sql01.corp.example', 'MSSQL_DATABASE': 'Flowdesk',
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

    def test_load_warnings_column_is_added_to_the_ops_database(self):
        self.assertIn('ALTER TABLE [opsdata].[load_batches] ADD warnings NVARCHAR(4000) NULL;',
                      self.script)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0004_load_warnings'",
                      self.script)
        self.assertNotIn('[flowdesk].[load_batches]', self.script)

    def test_load_batches_record_how_their_file_was_read(self):
        self.assertIn('ALTER TABLE [opsdata].[load_batches] ADD encoding NVARCHAR(16) NULL;',
                      self.script)
        self.assertIn('ALTER TABLE [opsdata].[load_batches] ADD delimiter NVARCHAR(16) NULL;',
                      self.script)

    def test_batch_ids_come_from_identity_and_orphaned_undo_history_is_removed(self):
        self.assertIn('CREATE TABLE [opsdata].[load_batches] (\n    id INTEGER NOT NULL IDENTITY',
                      self.script)
        for name in ('flow_versions', 'response_versions'):
            self.assertIn(f'DELETE FROM [opsdata].[{name}] WHERE ([opsdata].[{name}].superseded_by '
                          'NOT IN (SELECT [opsdata].[load_batches].id \nFROM '
                          '[opsdata].[load_batches]));', self.script)
        self.assertNotIn('_keep_load_errors', self.script)   # the rebuild is for SQLite only
        self.assertNotIn('_alembic_tmp', self.script)

    def test_saved_views_table_in_the_app_schema(self):
        start = self.script.index('CREATE TABLE [flowdesk].[saved_views]')
        ddl = self.script[start:self.script.index('GO', start)]
        self.assertIn('name NVARCHAR(100) NOT NULL', ddl)
        self.assertIn('query NVARCHAR(2000) NOT NULL', ddl)
        self.assertIn('owner_login NVARCHAR(256) NOT NULL', ddl)
        self.assertIn('created_at DATETIME2(6) NOT NULL', ddl)
        self.assertIn('shared BIT NOT NULL', ddl)
        self.assertIn('CONSTRAINT uq_saved_views_owner_page_name UNIQUE (owner_login, page, name)',
                      ddl)
        # The surrogate key is the only IDENTITY; no business column counts by itself.
        self.assertEqual(ddl.count('IDENTITY'), 1)
        self.assertIn('id INTEGER NOT NULL IDENTITY', ddl)
        self.assertNotIn('[opsdata].[saved_views]', self.script)
        self.assertIn('CREATE INDEX ix_saved_views_team ON [flowdesk].[saved_views] (team)',
                      self.script)
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

    def test_alert_tables_in_the_app_schema_with_one_open_incident_per_key(self):
        start = self.script.index('CREATE TABLE [flowdesk].[incidents]')
        ddl = self.script[start:self.script.index('GO', start)]
        self.assertIn('opened_at DATETIME2(6) NOT NULL', ddl)
        self.assertIn('title NVARCHAR(400) NOT NULL', ddl)
        self.assertIn('flow_code NVARCHAR(32) NULL', ddl)
        self.assertIn('REFERENCES [flowdesk].[alert_rules] (id) ON DELETE SET NULL', ddl)
        self.assertEqual(ddl.count('IDENTITY'), 1)
        self.assertIn('id INTEGER NOT NULL IDENTITY', ddl)
        self.assertIn('CREATE UNIQUE INDEX ix_incidents_open_key ON [flowdesk].[incidents] '
                      '(open_key) WHERE open_key IS NOT NULL', self.script)
        self.assertIn('CREATE TABLE [flowdesk].[alert_rules]', self.script)
        self.assertIn('REFERENCES [flowdesk].[incidents] (id) ON DELETE CASCADE', self.script)
        self.assertNotIn('[opsdata].[incidents]', self.script)
        self.assertNotRegex(self.script, r'(open_key|flow_code|rule_id|login) [^,]*IDENTITY')
        self.assertIn('CREATE TABLE [flowdesk].[alert_notices]', self.script)
        self.assertIn('recipient NVARCHAR(1000) NOT NULL', self.script)
        self.assertIn('next_attempt_at DATETIME2(6) NOT NULL', self.script)
        self.assertIn('CONSTRAINT uq_alert_subscriptions_login_kind_value UNIQUE (login, kind, '
                      'value)', self.script)
        self.assertIn('CREATE TABLE [flowdesk].[user_profiles]', self.script)

    def test_source_profiles_in_the_app_schema_and_the_profile_of_inboxes_and_batches(self):
        start = self.script.index('CREATE TABLE [flowdesk].[source_profiles]')
        ddl = self.script[start:self.script.index('GO', start)]
        self.assertIn('name NVARCHAR(100) NOT NULL', ddl)
        self.assertIn('definition NVARCHAR(max) NOT NULL', ddl)
        self.assertIn('updated_at DATETIME2(6) NOT NULL', ddl)
        self.assertIn('CONSTRAINT uq_source_profiles_name UNIQUE (name)', ddl)
        self.assertEqual(ddl.count('IDENTITY'), 1)
        self.assertIn('id INTEGER NOT NULL IDENTITY', ddl)
        self.assertNotIn('[opsdata].[source_profiles]', self.script)
        self.assertIn('ALTER TABLE [flowdesk].[inboxes] ADD profile NVARCHAR(100) NULL;',
                      self.script)
        self.assertIn('ALTER TABLE [opsdata].[load_batches] ADD profile NVARCHAR(100) NULL;',
                      self.script)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0011_source_profiles'",
                      self.script)
        self.assertIn("UPDATE [flowdesk].alembic_version SET version_num='0011_source_profiles'",
                      self.script)

    def test_message_and_correlation_ids_with_filtered_indexes_in_the_ops_schema(self):
        for name, length in (('message_id', 100), ('correlation_id', 200)):
            for table in ('responses', 'response_versions'):
                self.assertIn(f'ALTER TABLE [opsdata].[{table}] ADD {name} NVARCHAR({length}) '
                              'NULL;', self.script)
        self.assertIn('CREATE INDEX ix_responses_message_time ON [opsdata].[responses] '
                      '(message_id, responded_at, response_id) WHERE message_id IS NOT NULL;',
                      self.script)
        self.assertIn('CREATE INDEX ix_responses_correlation_time ON [opsdata].[responses] '
                      '(correlation_id, responded_at, response_id) '
                      'WHERE correlation_id IS NOT NULL;', self.script)
        self.assertNotIn('[flowdesk].[responses]', self.script)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0010_message_ids'",
                      self.script)
        self.assertIn("UPDATE [flowdesk].alembic_version SET version_num='0010_message_ids'",
                      self.script)

    def test_duration_sort_index_on_the_ops_responses(self):
        self.assertIn('CREATE INDEX ix_responses_duration ON [opsdata].[responses] '
                      '(duration_ms, response_id, responded_at)', self.script)
        self.assertNotIn('[flowdesk].[responses]', self.script)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0012_duration_sort'",
                      self.script)
        self.assertIn("UPDATE [flowdesk].alembic_version SET version_num='0012_duration_sort'",
                      self.script)

    def test_reason_index_carries_flow_and_status_on_the_ops_responses(self):
        rebuilt = self.script[self.script.index("version_num='0014_load_speed'"):]
        self.assertIn('DROP INDEX ix_responses_reason_time ON [opsdata].[responses]', rebuilt)
        self.assertIn('CREATE INDEX ix_responses_reason_time ON [opsdata].[responses] '
                      '(reason_hash, responded_at, response_id) INCLUDE (flow_code, status) '
                      'WHERE reason_hash IS NOT NULL;', rebuilt)
        self.assertNotIn('[flowdesk].[responses]', self.script)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0015_reason_filters'",
                      self.script)
        self.assertIn("UPDATE [flowdesk].alembic_version SET version_num='0015_reason_filters'",
                      self.script)

    def test_response_key_stays_bigint_without_identity_on_sql_server(self):
        """0014_load_speed makes response_id SQLite's rowid; SQL Server keeps its table as it
        was: a BIGINT business key, never generated, and no table rebuild."""
        start = self.script.index('CREATE TABLE [opsdata].[responses]')
        ddl = self.script[start:self.script.index('GO', start)]
        self.assertIn('response_id BIGINT NOT NULL,', ddl)
        self.assertNotIn('IDENTITY', ddl)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0014_load_speed'",
                      self.script)
        self.assertNotIn('_rebuild_responses', self.script)

    def test_dashboard_summaries_in_the_ops_schema_filled_from_the_data(self):
        """0016_dashboard_totals: the day totals and the hours, each filled in one statement
        (the daily summary summed over flows; the responses grouped by day and DATEPART), and
        the daily summary's index for the top failing flows."""
        self.assertIn('CREATE TABLE [opsdata].[response_day_totals]', self.script)
        self.assertIn('CREATE TABLE [opsdata].[response_hourly]', self.script)
        self.assertIn('hour SMALLINT NOT NULL', self.script)
        self.assertIn('CREATE INDEX ix_response_daily_status_day ON [opsdata].[response_daily] '
                      '(status, day, flow_code, responses)', self.script)
        self.assertNotIn('[flowdesk].[response_hourly]', self.script)
        self.assertRegex(self.script, r'INSERT INTO \[opsdata\]\.\[response_day_totals\] '
                         r'\(day, status, responses, duration_ms_sum\) SELECT [^;]*'
                         r'FROM \[opsdata\]\.\[response_daily\] GROUP BY')
        self.assertRegex(self.script, r'INSERT INTO \[opsdata\]\.\[response_hourly\] '
                         r'\(day, hour, status, responses\) SELECT CAST\([^;]* AS DATE\)[^;]*'
                         r'DATEPART\(hour, [^;]*FROM \[opsdata\]\.\[responses\] GROUP BY')
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0016_dashboard_totals'",
                      self.script)

    def test_sql_server_gets_no_text_index_on_the_dictionary(self):
        # A full-text index cannot answer LIKE '%word%' exactly (app/reason_text_index.py).
        self.assertNotIn('FULLTEXT', self.script.upper())
        self.assertNotIn('error_reason_words', self.script)
        self.assertNotIn('gin_trgm_ops', self.script)
        self.assertIn("UPDATE [opsdata].alembic_version SET version_num='0013_reason_search'",
                      self.script)
        self.assertIn("UPDATE [flowdesk].alembic_version SET version_num='0013_reason_search'",
                      self.script)


if __name__ == '__main__':
    unittest.main()
