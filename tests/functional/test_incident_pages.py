"""Alert rules admin (audited, checked input) and the incident pages: the open incidents, the
dashboard banner, a flow's section, acknowledge / note / resolve with a timeline, and
/api/v1/incidents."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AlertRule, AuditEvent, Incident
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.alerts_support import NOW, AlertFixtures

RULE_FORM = {'name': 'Sales errors', 'scope': 'team', 'scope_value': 'Sales',
             'condition': 'error_rate', 'threshold_percent': '50', 'window_minutes': '60',
             'min_responses': '4', 'severity': 'critical',
             'recipients': 'ops@corp.example\nhttps://teams.example/workflows/1', 'active': 'y'}


@on_every_backend
class AlertRuleAdminTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()

    def test_an_admin_defines_a_rule_and_the_audit_log_records_it(self):
        response = self.admin_client().post('/admin/alert-rules/new', data=RULE_FORM)
        self.assertEqual(response.status_code, 303, response.get_data(as_text=True)[:2000])
        rule = db.session.scalars(select(AlertRule)).one()
        self.assertEqual((rule.scope_value, rule.threshold_percent, rule.consecutive_errors),
                         ('Sales', 50, None))
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == 'alert_rule.created')).one()
        self.assertIn('error rate ≥ 50 % over 60 min', event.detail)
        self.assertIn('ops@corp.example', event.detail)
        self.assertPageContains(self.admin_client().get('/admin/alert-rules'), 'Sales errors')

    def test_bad_input_is_explained_and_saves_nothing(self):
        form = {**RULE_FORM, 'threshold_percent': '', 'recipients': 'not an address'}
        body = self.assertPageContains(self.admin_client().post('/admin/alert-rules/new', data=form),
                                       'This condition needs Error rate X (%).',
                                       'not an address is neither an e-mail address')
        self.assertIn('is-invalid', body)
        self.assertEqual(db.session.scalars(select(AlertRule)).all(), [])

    def test_viewers_cannot_manage_rules(self):
        self.assertEqual(self.client.get('/admin/alert-rules').status_code, 403)
        self.assertEqual(self.client.post('/admin/alert-rules/new', data=RULE_FORM).status_code, 403)
        self.assertEqual(db.session.scalars(select(AlertRule)).all(), [])

    def test_deleting_a_rule_resolves_its_incidents_and_keeps_them(self):
        self.loaded_at(NOW)
        self.add_flow('ORD-SAP')
        rule = self.add_rule()
        self.add_responses('ORD-SAP', 'EEEE')
        self.tick()
        response = self.admin_client().post(f'/admin/alert-rules/{rule.id}/delete')
        self.assertEqual(response.status_code, 303)
        db.session.expire_all()
        incident = db.session.scalars(select(Incident)).one()
        self.assertEqual((incident.status, incident.rule_id, incident.rule_name),
                         ('resolved', None, 'Errors'))
        self.assertTrue(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == 'alert_rule.deleted')).one())


@on_every_backend
class IncidentPageTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()
        self.loaded_at(NOW)
        self.add_flow('ORD-SAP')
        self.add_flow('INV-DWH')
        self.add_rule('Failing')
        self.add_responses('ORD-SAP', 'EEEE')
        self.add_responses('INV-DWH', 'EEEE')
        self.tick()
        self.incident = db.session.scalars(select(Incident).where(
            Incident.flow_code == 'ORD-SAP')).one()

    def test_open_incidents_page_banner_and_flow_section(self):
        self.assertPageContains(self.client.get('/incidents'), 'Failing: ORD-SAP',
                                'Failing: INV-DWH', '2 open')
        self.assertPageContains(self.client.get('/'), 'id="incident-banner"', '2 open incidents')
        body = self.assertPageContains(self.client.get('/flows/ORD-SAP'), 'id="flow-incidents"',
                                       'Failing: ORD-SAP')
        self.assertNotIn('Failing: INV-DWH', body)

    def test_acknowledge_note_and_resolve_build_the_timeline(self):
        url = f'/incidents/{self.incident.id}'
        self.at(NOW + timedelta(minutes=3))
        self.assertEqual(self.client.post(url + '/acknowledge').status_code, 303)
        self.assertEqual(self.client.post(url + '/notes', data={'text': 'Restarting the adapter'}
                                          ).status_code, 303)
        self.assertEqual(self.client.post(url + '/resolve').status_code, 303)
        body = self.assertPageContains(self.client.get(url), 'Restarting the adapter',
                                       'acknowledged</strong> by CORP\\viewer')
        self.assertIn('id="incident-status">resolved', body)
        db.session.expire_all()
        incident = db.session.get(Incident, self.incident.id)
        self.assertEqual((incident.acknowledged_by, incident.acknowledged_at, incident.resolved_by),
                         ('CORP\\viewer', NOW + timedelta(minutes=3), 'CORP\\viewer'))
        self.assertEqual(self.events(incident), [
            ('opened', 'flowdesk'), ('acknowledged', 'CORP\\viewer'), ('note', 'CORP\\viewer'),
            ('resolved', 'CORP\\viewer')])
        self.assertPageContains(self.client.get('/'), '1 open incident.')

    def test_an_empty_note_is_refused_and_adds_nothing(self):
        response = self.client.post(f'/incidents/{self.incident.id}/notes', data={'text': ' '},
                                    follow_redirects=True)
        self.assertPageContains(response, 'Write the note first.')
        self.assertEqual(self.events(self.incident), [('opened', 'flowdesk')])

    def test_api_lists_open_incidents_and_one_with_its_timeline(self):
        body = self.client.get('/api/v1/incidents?size=1').get_json()
        self.assertEqual(len(body['items']), 1)
        self.assertIsNotNone(body['next_before'])
        rest = self.client.get(f'/api/v1/incidents?before={body["next_before"]}').get_json()
        self.assertEqual({item['flow_code'] for item in body['items'] + rest['items']},
                         {'ORD-SAP', 'INV-DWH'})
        one = self.client.get(f'/api/v1/incidents/{self.incident.id}').get_json()
        self.assertEqual((one['status'], one['opened_at'], one['timeline'][0]['kind']),
                         ('open', '2026-03-02T12:00:00Z', 'opened'))
        self.assertEqual(self.client.get('/api/v1/incidents?flow=inv-dwh&status=all')
                         .get_json()['items'][0]['flow_code'], 'INV-DWH')
        bad = self.client.get('/api/v1/incidents?status=closed&size=0')
        self.assertEqual(bad.status_code, 400)
        self.assertEqual(set(bad.get_json()['error']['fields']), {'status', 'size'})
        self.assertEqual(self.client.get('/api/v1/incidents?flow=%00').status_code, 400)
