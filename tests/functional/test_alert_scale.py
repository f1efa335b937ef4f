"""Alert evaluation at scale: the statements of an evaluation do not grow with the number of
flows, incidents or followers (reads once per evaluation, multi-row writes), and when the one
transaction writing every rule's changes fails, each rule is written on its own: a clash with
another evaluation or one rule that cannot be written holds up nothing else."""
from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

from sqlalchemy import event, select

from app.alerts.evaluation import evaluate
from app.alerts.incidents import new_incident, open_all
from app.extensions import db
from app.models import Incident, IncidentEvent, Notice, Profile, Subscription
from tests.base import FlowdeskTestCase, on_every_backend
from tests.functional.alerts_support import NOW, AlertFixtures


@contextmanager
def counted_statements():
    """Count the statements both databases run inside the block."""
    found = []

    def count(_connection, _cursor, statement, *_args):
        found.append(statement)

    engines = list(db.engines.values())
    for engine in engines:
        event.listen(engine, 'before_cursor_execute', count)
    try:
        yield found
    finally:
        for engine in engines:
            event.remove(engine, 'before_cursor_execute', count)


@on_every_backend
class StatementCountTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()
        self.loaded_at(NOW)
        self.add_rule('Three in a row', 'consecutive', recipients='ops@corp.example')
        self.add_rule('Half fail', 'error_rate', recipients='ops@corp.example')
        self.add_rule('Quiet', 'silence', window_minutes=30)
        db.session.add_all([Subscription(login='CORP\\anna', kind='team', value='Sales',
                                         created_at=NOW),
                            Profile(login='CORP\\anna', email='anna@corp.example',
                                    updated_at=NOW)])
        db.session.commit()

    def failing_flows(self, first: int, count: int) -> None:
        for number in range(first, first + count):
            code = f'FLOW-{number:03d}'
            self.add_flow(code, team='Sales')
            db.session.add(Subscription(login='CORP\\bob', kind='flow', value=code,
                                        created_at=NOW))
            self.add_responses(code, 'EEEE')

    def statements_of_two_ticks(self) -> tuple[int, int]:
        counts, self.seen = [], None
        for _tick in range(2):
            with counted_statements() as found:
                evaluate(self.now)
            counts.append(len(found))
            self.seen = self.seen if _tick else found
        return counts[0], counts[1]

    def test_the_statements_do_not_grow_with_the_flows_and_incidents(self):
        self.failing_flows(0, 3)
        few = self.statements_of_two_ticks()
        self.assertEqual(len(self.open_incidents()), 6)
        db.session.query(Notice).delete()
        db.session.query(IncidentEvent).delete()
        db.session.query(Incident).delete()
        db.session.commit()
        self.failing_flows(3, 20)
        many = self.statements_of_two_ticks()
        self.assertEqual(len(self.open_incidents()), 46)
        self.assertEqual(many, few, self.seen)
        # each opened incident went to the rule's address, the team follower and the flow's
        notices = db.session.scalars(select(Notice.recipient).where(
            Notice.incident_id == self.open_incidents()[0].id)).all()
        self.assertEqual(sorted(notices), ['anna@corp.example', 'ops@corp.example'])


@on_every_backend
class ApplyFallbackTests(AlertFixtures, FlowdeskTestCase):
    def setUp(self):
        super().setUp()
        self.start_clock()
        self.loaded_at(NOW)
        self.add_flow('ORD-SAP', team='Sales')
        self.add_responses('ORD-SAP', 'EEEE')
        self.first = self.add_rule('Three in a row', 'consecutive')
        self.second = self.add_rule('Half fail', 'error_rate')

    def test_an_incident_another_evaluation_opened_meanwhile_holds_up_no_other_rule(self):
        def theirs_first():
            """Another evaluation opens the first rule's incident just after ours read."""
            found = {}
            open_all([new_incident(f'{self.first.id}:ORD-SAP', NOW, 'critical', 'theirs',
                                   'opened by the other evaluation', rule=self.first,
                                   flow_code='ORD-SAP')], NOW)
            db.session.commit()
            return found
        with mock.patch('app.alerts.evaluation.open_by_rule', side_effect=theirs_first):
            result = evaluate(self.now)
        incidents = self.open_incidents()
        self.assertEqual(sorted((i.rule_name, i.title) for i in incidents),
                         [('Half fail', 'Half fail: ORD-SAP'), ('Three in a row', 'theirs')])
        self.assertEqual(result.failures, [])
        events = db.session.scalars(select(IncidentEvent.incident_id)).all()
        self.assertEqual(sorted(events), sorted(i.id for i in incidents))

    def test_a_rule_whose_changes_cannot_be_written_holds_up_no_other_rule(self):
        real = open_all

        def refuse_first_rule(incidents, now, audience=None):
            if any(values['rule_id'] == self.first.id for values in incidents):
                raise RuntimeError('cannot write')
            real(incidents, now, audience)
        with mock.patch('app.alerts.evaluation.open_all', side_effect=refuse_first_rule):
            result = evaluate(self.now)
        self.assertEqual([i.rule_name for i in self.open_incidents()], ['Half fail'])
        self.assertEqual(result.failures, ['Three in a row: RuntimeError'])
        self.assertIn('1 incident opened', result.summary())
