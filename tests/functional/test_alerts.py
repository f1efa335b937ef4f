"""Alert evaluation: rules open one incident per (rule, flow), update it while the condition
holds and resolve it when it clears; silence uses the window or the flow's schedule; stale data
raises one incident instead of one per flow; loads evaluate as soon as they commit, and a failing
evaluation never fails the load. The clock is the app's ``CLOCK`` setting, never slept on."""
from datetime import timedelta
from unittest import mock

from sqlalchemy import func, select

from app.extensions import db
from app.models import Flow, Incident, Response
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.alerts_support import NOW, AlertFixtures


@on_every_backend
class RuleEvaluationTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()
        self.loaded_at(NOW - timedelta(minutes=1))
        self.add_flow('ORD-SAP', team='Sales')
        self.add_flow('INV-DWH', team='Finance', flow_type='BATCH')

    def test_error_rate_opens_one_incident_updates_it_and_resolves_it_when_clear(self):
        self.add_rule(scope='team', scope_value='sales')
        self.add_responses('ORD-SAP', 'OEEE')
        self.add_responses('INV-DWH', 'EEEE')           # failing, but another team's
        self.assertIn('1 incident opened', self.tick())
        [incident] = self.open_incidents()
        self.assertEqual((incident.flow_code, incident.severity, incident.status),
                         ('ORD-SAP', 'critical', 'open'))
        self.assertIn('3 of 4 responses', incident.detail)

        self.at(NOW + timedelta(minutes=5))
        self.add_responses('ORD-SAP', 'E')
        self.assertIn('0 incidents opened, 1 still open', self.tick())
        [same] = self.open_incidents()
        self.assertEqual(same.id, incident.id)
        self.assertEqual(same.seen_at, NOW + timedelta(minutes=5))
        self.assertIn('4 of 5 responses', same.detail)

        self.add_responses('ORD-SAP', 'OOOOOO')
        self.assertIn('1 resolved', self.tick())
        self.assertEqual(self.open_incidents(), [])
        resolved = db.session.get(Incident, incident.id)
        self.assertEqual((resolved.status, resolved.resolved_by), ('resolved', 'flowdesk'))
        self.assertEqual(self.events(resolved), [('opened', 'flowdesk'), ('resolved', 'flowdesk')])

    def test_too_few_responses_do_not_count(self):
        self.add_rule(min_responses=5)
        self.add_responses('ORD-SAP', 'EEEE')
        self.tick()
        self.assertEqual(self.open_incidents(), [])

    def test_consecutive_errors_are_the_latest_ones(self):
        self.add_rule('Three in a row', 'consecutive', scope='flows', scope_value='ORD-SAP, INV-DWH')
        self.add_responses('ORD-SAP', 'OEEE')
        self.add_responses('INV-DWH', 'EEEO')
        self.tick()
        self.assertEqual([i.flow_code for i in self.open_incidents()], ['ORD-SAP'])

    def test_switching_a_rule_off_resolves_its_incidents(self):
        rule = self.add_rule()
        self.add_responses('ORD-SAP', 'EEEE')
        self.tick()
        rule.active = False
        db.session.commit()
        self.tick()
        self.assertEqual(self.open_incidents(), [])


@on_every_backend
class SilenceAndStaleDataTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()
        self.add_flow('ORD-SAP')
        self.add_flow('INV-DWH')
        self.add_flow('PAY-BNK')

    def test_a_silent_flow_opens_an_incident_when_data_is_fresh(self):
        self.add_rule('Silence', 'silence', window_minutes=30)
        self.loaded_at(NOW - timedelta(minutes=5))
        self.add_responses('ORD-SAP', 'O', last=NOW - timedelta(hours=2))
        self.add_responses('INV-DWH', 'O', last=NOW - timedelta(minutes=10))
        self.add_responses('PAY-BNK', 'O', last=NOW - timedelta(minutes=20))
        self.tick()
        [incident] = self.open_incidents()
        self.assertEqual((incident.flow_code, incident.kind), ('ORD-SAP', 'rule'))
        self.assertIn('last response at 2026-03-02 10:00 UTC', incident.detail)

    def test_stale_data_raises_one_incident_not_one_per_flow(self):
        self.add_rule('Silence', 'silence', window_minutes=30, severity='warning')
        self.loaded_at(NOW - timedelta(hours=3))
        for code in ('ORD-SAP', 'INV-DWH', 'PAY-BNK'):
            self.add_responses(code, 'O', last=NOW - timedelta(hours=3))
        self.tick()
        self.tick()
        [incident] = self.open_incidents()
        self.assertEqual((incident.kind, incident.flow_code, incident.severity),
                         ('stale', None, 'warning'))
        self.assertEqual(incident.title, 'Data is stale: last load at 2026-03-02 09:00 UTC')
        self.assertIn('Silence', incident.detail)

        # Data arrives again: the stale incident resolves, and silence is judged per flow.
        self.loaded_at(NOW)
        self.add_responses('ORD-SAP', 'O', last=NOW)
        self.add_responses('INV-DWH', 'O', last=NOW)
        self.tick()
        [silent] = self.open_incidents()
        self.assertEqual((silent.kind, silent.flow_code), ('rule', 'PAY-BNK'))
        stale = db.session.scalars(select(Incident).where(Incident.kind == 'stale')).one()
        self.assertEqual(stale.status, 'resolved')

    def test_the_flow_schedule_sets_the_expected_cadence(self):
        self.add_rule('On schedule', 'silence', window_minutes=30, use_schedule=True,
                      scope='flows', scope_value='ORD-SAP,INV-DWH')
        self.loaded_at(NOW - timedelta(minutes=5))
        for code in ('ORD-SAP', 'INV-DWH'):
            db.session.get(Flow, code).schedule = '0 6 * * *'
        db.session.commit()
        # Daily at 06:00: INV-DWH ran this morning (fine after 6 hours of quiet); ORD-SAP's
        # last run was yesterday's, so today's 06:00 run is missing.
        self.add_responses('INV-DWH', 'O', last=NOW.replace(hour=6, minute=1))
        self.add_responses('ORD-SAP', 'O', last=NOW.replace(hour=6, minute=1) - timedelta(days=1))
        self.tick()
        [incident] = self.open_incidents()
        self.assertEqual(incident.flow_code, 'ORD-SAP')
        self.assertIn('expected one by 2026-03-02 06:00 UTC', incident.detail)


@on_every_backend
class EvaluationAfterLoadTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()
        self.add_flow('ORD-SAP')
        self.file = self.databases.folder / 'failing.csv'
        self.file.write_text(
            'response_id,flow_code,responded_at,status,result_code,duration_ms,error_reason,'
            'payload_bytes\r\n'
            + ''.join(f'{n},ORD-SAP,2026-03-02 11:5{n}:00,ERROR,500,10,Timeout,1\r\n'
                      for n in range(1, 4)), encoding='utf-8', newline='')

    def load(self):
        result = self.app.test_cli_runner().invoke(args=['load', 'responses', str(self.file)])
        self.assertEqual(result.exit_code, 0, result.output)
        return result

    def test_a_committed_load_opens_incidents_without_a_tick(self):
        self.add_rule('Three in a row', 'consecutive')
        self.load()
        self.assertEqual([i.flow_code for i in self.open_incidents()], ['ORD-SAP'])

    def test_a_dry_run_evaluates_nothing(self):
        self.add_rule('Three in a row', 'consecutive')
        result = self.app.test_cli_runner().invoke(
            args=['load', 'responses', str(self.file), '--dry-run'])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertEqual(self.open_incidents(), [])

    def test_a_failing_evaluation_never_fails_the_load(self):
        self.add_rule('Three in a row', 'consecutive')
        with mock.patch('app.alerts.evaluation.evaluate', side_effect=RuntimeError('boom')):
            self.load()
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Response)), 3)
        self.assertEqual(self.open_incidents(), [])
