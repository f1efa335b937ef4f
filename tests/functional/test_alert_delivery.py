"""Delivering incident notices through real servers on 127.0.0.1: an aiosmtpd SMTP server and an
http.server for webhooks (one endpoint answers 500, one hangs). No storms (one digest per
recipient, reminders spaced, a resolve notice), retries then failure with nothing lost, and two
ticks at once in two processes never sending a message twice."""
from datetime import timedelta

from sqlalchemy import func, select

from app.alerts.delivery import claim_due
from app.extensions import db
from app.models import Notice, Profile, SavedView, Subscription
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.alerts_support import NOW, AlertFixtures
from tests.functional.delivery_servers import SmtpServer, WebhookServer
from tests.functional.jobs_support import SubprocessMixin


class DeliveryTestCase(AlertFixtures, SubprocessMixin, FlowdeskTestCase):
    @classmethod
    def setUpClass(cls):
        cls.smtp = SmtpServer()
        cls.smtp.start()
        cls.webhooks = WebhookServer()
        cls.webhooks.start()
        cls.SETTINGS = {'MAIL_SERVER': '127.0.0.1', 'MAIL_PORT': str(cls.smtp.port),
                        'MAIL_FROM': 'flowdesk@corp.example', 'ALERT_TIMEOUT_SECONDS': '1',
                        'ALERT_REMIND_MINUTES': '30', 'ALERT_MAX_ATTEMPTS': '2',
                        'FLOWDESK_BASE_URL': 'https://flowdesk.corp.example',
                        'FLOWDESK_EMAIL_PATTERN': '{user}@corp.example'}
        try:
            super().setUpClass()
        except Exception:
            cls.stop_servers()
            raise

    @classmethod
    def stop_servers(cls):
        cls.smtp.stop()
        cls.webhooks.stop()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.stop_servers()

    def setUp(self):
        super().setUp()
        self.start_clock()
        self.loaded_at(NOW)
        self.smtp.collector.take()
        self.webhooks.received.clear()

    def deliver(self):
        result = self.app.test_cli_runner().invoke(args=['jobs', 'run', 'alert-delivery', '--force'])
        self.assertEqual(result.exit_code, 0, result.output)
        db.session.expire_all()
        return result.output

    def mail(self):
        return {rcpt[0]: message for rcpt, message in self.smtp.collector.take()}

    def subjects(self):
        """The subjects received since the last look (a long one is folded: unfold it)."""
        return [' '.join(message['Subject'].split()) for _rcpt, message in self.smtp.collector.take()]

    def notices(self, **where):
        query = select(Notice).order_by(Notice.id)
        for column, value in where.items():
            query = query.where(getattr(Notice, column) == value)
        db.session.expire_all()
        return db.session.scalars(query).all()


@on_every_backend
class DigestTests(DeliveryTestCase):
    def test_forty_failing_flows_give_one_digest_per_recipient(self):
        for number in range(40):
            self.add_flow(f'FLOW-{number:02d}', team='Sales')
            self.add_responses(f'FLOW-{number:02d}', 'EEEE')
        self.add_rule('Failing', recipients=f'ops@corp.example\n{self.webhooks.url}/ok\n'
                                            f'teams:{self.webhooks.url}/ok?teams')
        db.session.add_all([Subscription(login='CORP\\anna', kind='team', value='Sales',
                                         created_at=NOW),
                            Profile(login='CORP\\anna', email='anna.k@corp.example', updated_at=NOW)])
        db.session.commit()
        result = self.app.test_cli_runner().invoke(args=['jobs', 'run'])   # one whole tick
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn('40 incidents opened', result.output)
        self.assertIn('4 messages sent (160 notices)', result.output)   # two mails, two webhooks
        mail = self.mail()
        self.assertEqual(sorted(mail), ['anna.k@corp.example', 'ops@corp.example'])
        ops = mail['ops@corp.example']
        self.assertEqual(ops['Subject'], '[Flowdesk] 40 incident notices: 40 opened')
        text = ops.get_body(('plain',)).get_content()
        html = ops.get_body(('html',)).get_content()
        self.assertEqual(text.count('- [critical] Failing: FLOW-'), 40)
        self.assertIn('https://flowdesk.corp.example/incidents/', text)
        self.assertIn('<a href="https://flowdesk.corp.example/incidents/', html)
        self.assertNotIn('unfollow', text)          # a rule's recipient follows nothing
        self.assertIn('Stop these notices (unfollow): https://flowdesk.corp.example/unfollow/',
                      mail['anna.k@corp.example'].get_body(('plain',)).get_content())
        [(_, generic), (_, teams)] = sorted(self.webhooks.received, key=lambda r: r[0])
        self.assertEqual(len(generic['notices']), 40)
        self.assertEqual(generic['notices'][0]['event'], 'opened')
        card = teams['attachments'][0]
        self.assertEqual(card['contentType'], 'application/vnd.microsoft.card.adaptive')
        self.assertEqual(card['content']['type'], 'AdaptiveCard')
        self.assertEqual(self.notices(status='sent').__len__(), 160)

    def test_open_remind_acknowledge_resolve(self):
        self.add_flow('ORD-SAP')
        self.add_rule('Failing', 'consecutive', recipients='ops@corp.example')
        self.add_responses('ORD-SAP', 'EEEE')
        self.tick()
        self.deliver()
        [opened] = self.mail().values()
        self.assertEqual(opened['Subject'], '[Flowdesk critical] Opened: Failing: ORD-SAP')

        self.at(NOW + timedelta(minutes=20))          # within ALERT_REMIND_MINUTES: quiet
        self.tick()
        self.deliver()
        self.assertEqual(self.subjects(), [])

        self.at(NOW + timedelta(minutes=31))
        self.tick()
        self.deliver()
        [reminder] = self.mail().values()
        self.assertEqual(reminder['Subject'], '[Flowdesk critical] Still open: Failing: ORD-SAP')

        incident_id = self.notices()[0].incident_id
        self.assertEqual(self.client.post(f'/incidents/{incident_id}/acknowledge').status_code, 303)
        self.at(NOW + timedelta(minutes=70))          # acknowledged: nobody is reminded
        self.tick()
        self.deliver()
        self.assertEqual(self.subjects(), [])

        self.add_responses('ORD-SAP', 'O')
        self.tick()
        self.deliver()
        [resolved] = self.mail().values()
        self.assertEqual(resolved['Subject'], '[Flowdesk critical] Resolved: Failing: ORD-SAP')
        self.assertEqual([n.event for n in self.notices()], ['opened', 'reminder', 'resolved'])

    def test_stale_data_sends_one_notice(self):
        for code in ('ORD-SAP', 'INV-DWH', 'PAY-BNK'):
            self.add_flow(code)
            self.add_responses(code, 'O', last=NOW - timedelta(hours=3))
        self.add_rule('Quiet', 'silence', window_minutes=30, recipients='ops@corp.example')
        self.at(NOW + timedelta(hours=3))
        self.tick()
        self.deliver()
        self.assertEqual(self.subjects(),
                         ['[Flowdesk critical] Opened: Data is stale: last load at 2026-03-02 12:00 UTC'])


@on_every_backend
class RetryAndRaceTests(DeliveryTestCase):
    def test_a_failing_delivery_is_retried_then_marked_failed_and_nothing_is_lost(self):
        self.add_flow('ORD-SAP')
        self.add_rule('Failing', recipients=f'{self.webhooks.url}/fail\n{self.webhooks.url}/hang\n'
                                            'ops@corp.example')
        self.add_responses('ORD-SAP', 'EEEE')
        self.tick()
        self.assertIn('1 message sent (1 notices), 2 to retry, 0 failed', self.deliver())
        retrying = self.notices(status='pending')
        self.assertEqual(sorted(n.last_error.split(':')[0] for n in retrying),
                         ['POST 127.0.0.1', 'POST 127.0.0.1'])
        self.assertTrue(any('500' in n.last_error for n in retrying))
        self.assertTrue(any('timed out' in n.last_error for n in retrying))
        self.assertIn('0 messages sent', self.deliver())          # not due yet: no retry storm
        self.at(NOW + timedelta(minutes=1))
        self.assertIn('0 messages sent (0 notices), 0 to retry, 2 failed', self.deliver())
        self.assertEqual(len(self.notices()), 3)
        self.assertEqual({(n.recipient.rsplit('/', 1)[-1], n.status, n.attempts)
                          for n in self.notices()},
                         {('fail', 'failed', 2), ('hang', 'failed', 2),
                          ('ops@corp.example', 'sent', 1)})
        body = self.assertPageContains(self.admin_client().get('/admin/alert-deliveries?failed=1'),
                                       '2 failed', 'HTTP Error 500')
        self.assertNotIn('ops@corp.example</code>', body)

    def test_a_claimed_notice_is_never_claimed_again(self):
        self.add_flow('ORD-SAP')
        self.add_rule('Failing', recipients='a@corp.example\nb@corp.example')
        self.add_responses('ORD-SAP', 'EEEE')
        self.tick()
        first = claim_due(NOW)
        self.assertEqual(len(first), 2)
        self.assertEqual(claim_due(NOW), [])

    def test_two_ticks_at_once_in_two_processes_never_send_a_message_twice(self):
        for number in range(30):
            self.add_flow(f'FLOW-{number:02d}')
            self.add_responses(f'FLOW-{number:02d}', 'EEEE')
        self.add_rule('Failing', recipients='\n'.join(f'person{n}@corp.example' for n in range(30)))
        self.tick()
        environ = {key: value for key, value in self.SETTINGS.items()}
        processes = [self.start_flask('jobs', 'run', 'alert-delivery', '--force', **environ)
                     for _ in range(2)]
        outputs = [process.communicate(timeout=120) for process in processes]
        for process, (out, err) in zip(processes, outputs, strict=True):
            self.assertEqual(process.returncode, 0, out + err)
        received = [rcpt[0] for rcpt, _message in self.smtp.collector.take()]
        self.assertEqual(len(received), 30)
        self.assertEqual(len(set(received)), 30)
        self.assertEqual(db.session.scalar(select(func.count()).select_from(Notice)
                                           .where(Notice.status == 'sent')), 900)


@on_every_backend
class FollowTests(DeliveryTestCase):
    def setUp(self):
        super().setUp()
        self.add_flow('ORD-SAP', team='Sales')
        self.add_rule('Failing', 'consecutive')          # no recipients of its own

    def fail_and_deliver(self):
        self.add_responses('ORD-SAP', 'EEE')
        self.tick()
        self.deliver()
        return self.mail()

    def test_a_follower_gets_notices_at_their_profile_address_and_unfollows_in_one_click(self):
        body = self.assertPageContains(self.client.get('/flows/ORD-SAP'), 'Follow flow ORD-SAP',
                                       'Follow team Sales')
        self.assertIn('name="csrf_token"', body)
        self.assertEqual(self.client.post('/follows', data={
            'kind': 'flow', 'value': 'ORD-SAP', 'next': '/flows/ORD-SAP'}).status_code, 303)
        self.assertEqual(self.client.post('/profile', data={'email': 'v.iewer@corp.example'})
                         .status_code, 303)
        self.assertPageContains(self.client.get('/flows/ORD-SAP'), 'Unfollow flow ORD-SAP')
        mail = self.fail_and_deliver()
        self.assertEqual(list(mail), ['v.iewer@corp.example'])
        text = mail['v.iewer@corp.example'].get_body(('plain',)).get_content()
        link = text.split('Stop these notices (unfollow): ')[1].split()[0]
        path = link.removeprefix('https://flowdesk.corp.example')

        # Opening the link (or a mail scanner prefetching it) only asks.
        self.assertPageContains(self.client.get(path), 'Stop the incident notices about flow')
        self.assertEqual(len(db.session.scalars(select(Subscription)).all()), 1)
        self.assertEqual(self.client.post(path).status_code, 303)
        self.assertEqual(db.session.scalars(select(Subscription)).all(), [])
        self.assertPageContains(self.client.get(path), 'id="unfollow-gone"')

        self.add_responses('ORD-SAP', 'O')
        self.tick()                                      # resolved: nobody follows any more
        self.assertEqual(self.fail_and_deliver(), {})

    def test_the_address_pattern_serves_people_without_one_on_their_profile(self):
        self.client.post('/follows', data={'kind': 'team', 'value': 'Sales'})
        self.assertPageContains(self.client.get('/profile'), 'Notices go to viewer@corp.example.')
        self.assertEqual(list(self.fail_and_deliver()), ['viewer@corp.example'])

    def test_bad_input_changes_nothing(self):
        self.assertPageContains(self.client.post('/profile', data={'email': 'not-an-address'}),
                                'Give an e-mail address such as anna@corp.example.')
        self.assertEqual(db.session.scalars(select(Profile)).all(), [])
        self.assertEqual(self.client.post('/follows', data={'kind': 'system', 'value': 'SAP'})
                         .status_code, 400)
        self.assertPageContains(self.client.get('/unfollow/forged-token'), 'id="unfollow-gone"')
        self.assertEqual(db.session.scalars(select(Subscription)).all(), [])


@on_every_backend
class FollowViewTests(DeliveryTestCase):
    def setUp(self):
        super().setUp()
        self.add_flow('ORD-SAP', team='Sales', flow_type='API')
        self.add_flow('INV-DWH', team='Finance', flow_type='BATCH')
        self.add_rule('Failing', 'consecutive')

    def view(self, name, page, query, owner='CORP\\viewer', shared=False) -> int:
        view = SavedView(owner_login=owner, name=name, page=page, query=query, query_version=1,
                         shared=shared, created_at=NOW, updated_at=NOW)
        db.session.add(view)
        db.session.commit()
        return view.id

    def test_a_saved_view_follower_hears_about_the_flows_the_view_shows(self):
        batch_views = self.view('Batch flows', 'flows', 'type=BATCH')
        sap_errors = self.view('SAP errors', 'responses', 'flow=ORD-SAP&status=ERROR')
        private = self.view('Not yours', 'flows', '', owner='CORP\\someone')
        self.assertPageContains(self.client.get('/profile'), 'Batch flows (flows)',
                                'SAP errors (responses)')
        for view_id in (batch_views, sap_errors):
            self.assertEqual(self.client.post('/follows', data={'kind': 'view', 'value': view_id})
                             .status_code, 303)
        self.assertEqual(self.client.post('/follows', data={'kind': 'view', 'value': private})
                         .status_code, 404)
        self.add_responses('INV-DWH', 'EEE')
        self.add_responses('ORD-SAP', 'EEE')
        self.tick()
        self.deliver()
        [message] = self.mail().values()                      # one digest for both views
        text = message.get_body(('plain',)).get_content()
        self.assertIn('Failing: INV-DWH', text)
        self.assertIn('Failing: ORD-SAP', text)
        self.assertEqual(text.count('(unfollow)'), 2)           # one link per view followed

    def test_a_view_that_shows_other_flows_sends_nothing(self):
        view_id = self.view('Batch flows', 'flows', 'type=BATCH')
        self.client.post('/follows', data={'kind': 'view', 'value': view_id})
        self.add_responses('ORD-SAP', 'EEE')
        self.tick()
        self.deliver()
        self.assertEqual(self.mail(), {})
