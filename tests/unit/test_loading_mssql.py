"""SQL Server statements of the loader, compiled with the mssql dialect (no server needed):
parameter arrays for fast_executemany, IN lists under the 2,100-parameter limit, temporary
tables, set-based replace and undo statements, and the sp_getapplock call."""
from __future__ import annotations

import unittest
from types import SimpleNamespace

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects.mssql import pyodbc

from app import create_app
from app.datasets import FLOWS, RESPONSES
from app.loading.locks import MSSQL_GETAPPLOCK, MSSQL_RELEASEAPPLOCK
from app.loading.writers import IN_LIST_CHUNK, MssqlWriter
from app.models.load_models import CHANGE_UPDATED

DIALECT = pyodbc.dialect(paramstyle='qmark')  # as with the pyodbc driver loaded


def compiled(statement) -> str:
    return str(statement.compile(dialect=DIALECT))


class MssqlLoadStatementsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = create_app('testing', environ={'OPS_SCHEMA': 'ops', 'LOG_LEVEL': 'CRITICAL'})
        cls.context = cls.app.app_context()
        cls.context.push()
        connection = SimpleNamespace(dialect=DIALECT)
        cls.responses = MssqlWriter(connection, RESPONSES, 42)
        cls.flows = MssqlWriter(connection, FLOWS, 42)

    @classmethod
    def tearDownClass(cls):
        cls.context.pop()

    def test_bulk_insert_is_one_parameter_array_statement(self):
        sql = self.responses.insert_sql(RESPONSES.table, RESPONSES.stored_columns)
        self.assertEqual(sql, 'INSERT INTO [ops].[responses] (response_id, flow_code, responded_at, '
                              'status, result_code, duration_ms, error_reason, payload_bytes, '
                              'message_id, correlation_id, batch_id, reason_hash) '
                              'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        versions = self.flows.insert_sql(FLOWS.version_table, self.flows.version_names)
        self.assertTrue(versions.startswith('INSERT INTO [ops].[flow_versions] (superseded_by, '
                                            'change, flow_code'))

    def test_update_by_key(self):
        self.assertEqual(self.flows.update_sql().split(' WHERE ')[1], 'flow_code = ?')
        self.assertIn('SET name = ?', self.flows.update_sql())

    def test_in_lists_stay_under_the_parameter_limit(self):
        keys = list(range(0, 50_000, 7))  # sparse: IN lists, not BETWEEN
        filters = self.responses._key_filters(RESPONSES.table.c.response_id, keys)
        self.assertGreater(len(filters), 1)
        for where in filters:
            params = where.compile(dialect=DIALECT).params
            self.assertLessEqual(len(params), IN_LIST_CHUNK)
            self.assertLess(len(params), 2100)
        dense = self.responses._key_filters(RESPONSES.table.c.response_id, list(range(1, 5001)))
        self.assertIn('BETWEEN', str(dense[0].compile(dialect=DIALECT)))

    def test_temporary_keep_table(self):
        ddl = self.responses.keep_table_ddl('BIGINT')
        self.assertIn("IF OBJECT_ID('tempdb..#flowdesk_keep') IS NULL CREATE TABLE [#flowdesk_keep]", ddl)

    def test_reason_dictionary_lookups_stay_under_the_parameter_limit(self):
        from app.error_reasons import ReasonDictionary

        class Recorder:
            """Stands in for the load's connection: compiles what it is given for SQL Server."""
            def __init__(self):
                self.selects, self.inserted = [], []

            def execute(self, statement, parameters=None):
                if parameters is not None:
                    self.inserted += parameters
                    return None
                self.selects.append(statement.compile(dialect=DIALECT))
                return SimpleNamespace(scalars=lambda: [])

        recorder = Recorder()
        reasons = [f'Timeout calling service {n}' for n in range(2500)]
        self.assertEqual(ReasonDictionary(recorder).add(reasons + reasons), 2500)
        self.assertEqual(len(recorder.selects), 3)
        for statement in recorder.selects:
            self.assertIn('FROM [ops].[error_reasons]', str(statement))
            self.assertLessEqual(len(statement.params), 1000)
        self.assertEqual(len(recorder.inserted), 2500)

    def test_replace_and_undo_statements_compile(self):
        writer = self.responses
        statement = insert(RESPONSES.version_table).from_select(
            writer.version_names,
            select(*writer.stored).where(writer._not_in_file()))
        sql = compiled(statement)
        self.assertIn('NOT (EXISTS (SELECT', sql)
        self.assertIn('[#flowdesk_keep]', sql)
        table, versions = RESPONSES.table, RESPONSES.version_table
        undo = update(table).where(table.c.response_id == versions.c.response_id,
                                   versions.c.superseded_by == 42,
                                   versions.c.change == CHANGE_UPDATED).values(
            status=versions.c.status)
        sql = compiled(undo)
        self.assertIn('UPDATE [ops].[responses] SET status=[ops].[response_versions].status FROM', sql)
        self.assertIn('DELETE FROM [ops].[responses]', compiled(delete(table).where(table.c.batch_id == 42)))

    def test_applock_call(self):
        """The lock is owned by the session (the lock connection sits outside any transaction,
        so no idle-transaction timeout can end it), and NOCOUNT keeps row counts from coming
        before the SELECT @result the driver reads."""
        sql = str(text(MSSQL_GETAPPLOCK).compile(dialect=DIALECT))
        self.assertTrue(sql.startswith('SET NOCOUNT ON;'), sql)
        self.assertIn("EXEC @result = sp_getapplock @Resource = ?, @LockMode = 'Exclusive', "
                      "@LockOwner = 'Session', @LockTimeout = ?", sql)
        self.assertTrue(sql.endswith('SELECT @result'), sql)
        release = str(text(MSSQL_RELEASEAPPLOCK).compile(dialect=DIALECT))
        self.assertTrue(release.startswith('SET NOCOUNT ON;'), release)
        self.assertIn("EXEC sp_releaseapplock @Resource = ?, @LockOwner = 'Session'", release)
