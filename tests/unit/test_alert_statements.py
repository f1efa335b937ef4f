"""The statements alert evaluation runs in bulk compile for SQL Server: the batched latest-
responses read (a UNION ALL of TOP n seeks), opening incidents in a fixed number of statements
(a multi-row insert, one read of the new ids, the timeline lines, the notices), and the seen-at
stamp with at most a thousand ids per statement."""
from __future__ import annotations

import re
from datetime import datetime
from unittest import mock

from sqlalchemy.dialects import mssql

from app.alerts import conditions, incidents
from tests.base import FlowdeskTestCase

NOW = datetime(2026, 3, 2, 12, 0)


class AlertMssqlCompileTests(FlowdeskTestCase):
    CREATE_TABLES = False

    def compile(self, statement) -> str:
        return str(statement.compile(dialect=mssql.dialect()))

    def test_latest_responses_read_is_one_union_of_top_seeks(self):
        sql = self.compile(conditions.latest_statement(conditions.SEEKS_PER_STATEMENT, 5))
        self.assertEqual(sql.count('UNION ALL'), conditions.SEEKS_PER_STATEMENT - 1)
        self.assertEqual(len(re.findall(r'SELECT TOP', sql)), conditions.SEEKS_PER_STATEMENT)
        self.assertEqual(sql.count('ORDER BY [ops].[responses].responded_at DESC, '
                                   '[ops].[responses].response_id DESC'),
                         conditions.SEEKS_PER_STATEMENT)
        self.assertNotIn('LIMIT', sql)
        self.assertIn(':code_24', sql)
        # well under SQL Server's 2,100 parameters
        self.assertLess(conditions.SEEKS_PER_STATEMENT * 2, 2100)

    def test_the_shape_is_built_once(self):
        self.assertIs(conditions.latest_statement(25, 3), conditions.latest_statement(25, 3))

    def test_new_incidents_are_inserted_without_a_per_row_round_trip(self):
        statements = []
        with mock.patch.object(incidents.db.session, 'execute',
                               side_effect=lambda *args: statements.append(args) or
                               mock.MagicMock(all=lambda: [('7:F', 99)])):
            incidents.open_all([incidents.new_incident('7:F', NOW, 'warning', 't', 'd',
                                                       flow_code='F')], NOW,
                               mock.MagicMock(recipients_for=lambda *_a: [('a@corp.example', None)]))
        insert_incidents, read_ids, events, notices = (args for args in statements)
        self.assertEqual(self.compile(insert_incidents[0]).split('(')[0].strip(),
                         'INSERT INTO [app].[incidents]')
        self.assertIsInstance(insert_incidents[1], list)          # executemany
        sql = self.compile(read_ids[0])
        self.assertIn('SELECT [app].[incidents].open_key, [app].[incidents].id', sql)
        self.assertIn('[app].[incidents].status = :status_1 AND [app].[incidents].opened_at = '
                      ':opened_at_1', sql)
        self.assertEqual(events[1][0]['incident_id'], 99)
        self.assertEqual(notices[1][0]['incident_id'], 99)

    def test_seen_stamp_stays_under_the_parameter_limit(self):
        self.assertLessEqual(incidents.IDS_PER_STATEMENT + 1, 2100)
        statements = []
        with mock.patch.object(incidents.db.session, 'execute', side_effect=statements.append):
            incidents.mark_seen(list(range(2500)), NOW)
        self.assertEqual(len(statements), 3)
        sql = self.compile(statements[0])
        self.assertIn('UPDATE [app].[incidents] SET seen_at=', sql)
        self.assertIn('WHERE [app].[incidents].id IN (__[POSTCOMPILE_id_1])', sql)
