"""Shared by the alert suites: a fixed clock, flows, responses, rules and ticks."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AlertRule, Flow, Incident, IncidentEvent, LoadBatch, Response

NOW = datetime(2026, 3, 2, 12, 0)


class AlertFixtures:
    """Mixin for FlowdeskTestCase: the app's clock is ``self.now`` (set with ``at``)."""

    def start_clock(self, moment: datetime = NOW) -> None:
        self.now = moment
        self.app.config['CLOCK'] = lambda: self.now
        self.addCleanup(self.app.config.pop, 'CLOCK', None)
        self.next_response_id = 1

    def at(self, moment: datetime) -> None:
        self.now = moment

    def add_flow(self, code: str, team: str = 'Sales', flow_type: str = 'API',
                 schedule: str | None = None, source: str = 'Shop') -> None:
        db.session.add(Flow(flow_code=code, name=f'Flow {code}', flow_type=flow_type,
                            source_system=source, target_system='SAP', owner_team=team,
                            schedule=schedule, active=True))
        db.session.commit()

    def add_responses(self, code: str, statuses: str, last: datetime | None = None,
                      step_minutes: int = 1) -> None:
        """``statuses`` such as 'OKEE' (O: OK, E: ERROR), oldest first, the last at ``last``."""
        last = last or self.now
        count = len(statuses)
        for index, letter in enumerate(statuses):
            db.session.add(Response(
                response_id=self.next_response_id, flow_code=code,
                responded_at=last - timedelta(minutes=step_minutes * (count - 1 - index)),
                status='ERROR' if letter == 'E' else 'OK', result_code=500 if letter == 'E' else 200))
            self.next_response_id += 1
        db.session.commit()

    def loaded_at(self, moment: datetime) -> None:
        """A committed load of responses that finished at ``moment``."""
        db.session.add(LoadBatch(dataset='responses', mode='append', loaded_by='CORP\\ops',
                                 started_at=moment, finished_at=moment, status='succeeded'))
        db.session.commit()

    def add_rule(self, name: str = 'Errors', condition: str = 'error_rate', **values) -> AlertRule:
        defaults = {'error_rate': {'threshold_percent': 50, 'window_minutes': 60,
                                   'min_responses': 4},
                    'consecutive': {'consecutive_errors': 3},
                    'silence': {'window_minutes': 30}}[condition]
        rule = AlertRule(name=name, condition=condition, scope=values.pop('scope', 'all'),
                         severity=values.pop('severity', 'critical'),
                         use_schedule=values.pop('use_schedule', False),
                         active=True, created_at=self.now, updated_at=self.now,
                         **{**defaults, **values})
        db.session.add(rule)
        db.session.commit()
        return rule

    def tick(self):
        result = self.app.test_cli_runner().invoke(args=['jobs', 'run', 'alerts', '--force'])
        self.assertEqual(result.exit_code, 0, result.output)
        db.session.expire_all()
        return result.output

    def open_incidents(self) -> list[Incident]:
        db.session.expire_all()
        return list(db.session.scalars(select(Incident).where(Incident.open_key.is_not(None))
                                       .order_by(Incident.flow_code)))

    def events(self, incident: Incident) -> list[tuple[str, str]]:
        return [(event.kind, event.actor) for event in db.session.scalars(
            select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id))]
