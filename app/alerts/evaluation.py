"""Evaluating the alert rules: every ``flask jobs run`` tick (the ``alerts`` job: every
condition, silence and stale data included) and after every committed load (error rates and
consecutive errors only: silence is a matter of time passing, seen by the tick).

The conditions are read once per evaluation (``conditions.Readings``) and the changes of all
rules written together in a few multi-row statements (``apply_rules``); when that transaction
fails, each rule is written in its own, so one broken rule does not hold up the others.
**Stale data is not silence**: when no responses have been loaded for longer than a silence
rule's window, every flow looks silent; that rule is then skipped and one "data is stale"
incident is raised instead of one per flow.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..clock import utc_now
from ..database import engine_for
from ..extensions import db
from ..models.alert_models import KIND_RULE, KIND_STALE, SEVERITIES, AlertRule, Incident
from ..signals import load_committed
from .audience import Audience
from .conditions import Readings, active_flows, hits_for, in_scope, last_data_at
from .incidents import (
    EVALUATOR,
    mark_seen,
    new_incident,
    open_all,
    open_incidents,
    resolve,
    still_true,
)

STALE_KEY = 'stale'


@dataclass
class Evaluation:
    rules: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    stale: bool = False
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f'{self.rules} rule{"" if self.rules == 1 else "s"} evaluated: {self.opened} '
                f'incident{"" if self.opened == 1 else "s"} opened, {self.updated} still open, '
                f'{self.resolved} resolved')
        if self.stale:
            text += '; data is stale'
        if self.failures:
            text += f'; failed: {"; ".join(self.failures)}'
        return text


def commit_or_skip(result: Evaluation, what: str) -> None:
    """Commit. A unique-key clash means another evaluation (a load's, or a tick on another
    server) opened the same incident a moment ago: ours is dropped, theirs stays, and the next
    evaluation updates it."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        current_app.logger.info('Incident for %s was opened by another evaluation', what)


@dataclass
class Changes:
    """What applying rules writes besides the ORM changes: incidents to open (their values) and
    the ids of open incidents whose condition still holds."""
    opened: list[dict] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)


def apply_rule(rule: AlertRule, hits: dict[str, str], now: datetime, result: Evaluation,
               existing: dict[str, Incident], changes: Changes, audience: Audience) -> None:
    """Open, update and resolve the rule's incidents (``existing``: its open ones by key)."""
    for flow_code, detail in hits.items():
        key = f'{rule.id}:{flow_code}'
        title = f'{rule.name}: {flow_code}'
        if key in existing:
            still_true(existing[key], title, detail)
            changes.seen.append(existing[key].id)
            result.updated += 1
        else:
            changes.opened.append(new_incident(key, now, rule.severity, title, detail, rule=rule,
                                               flow_code=flow_code))
            result.opened += 1
    for incident in existing.values():
        if incident.flow_code not in hits:
            resolve(incident, now, EVALUATOR, 'The condition is no longer true.', audience)
            result.resolved += 1


def write(changes: Changes, now: datetime, audience: Audience) -> None:
    open_all(changes.opened, now, audience)
    mark_seen(changes.seen, now)


def apply_rules(found: list[tuple[AlertRule, dict[str, str]]], now: datetime, result: Evaluation,
                existing: dict[int | None, dict[str, Incident]], audience: Audience) -> None:
    """Apply every rule's hits in one transaction: a few multi-row statements, whatever the
    number of rules. If that fails (another evaluation opened one of the same incidents a
    moment ago, or one rule's change cannot be written), the rules are applied again one
    transaction each, so only the rule concerned waits for the next evaluation."""
    counts = (result.opened, result.updated, result.resolved)
    try:
        changes = Changes()
        for rule, hits in found:
            apply_rule(rule, hits, now, result, existing.get(rule.id, {}), changes, audience)
        write(changes, now, audience)
        db.session.commit()
        return
    except Exception:  # noqa: BLE001 (applied again rule by rule below, where it is reported)
        db.session.rollback()
    result.opened, result.updated, result.resolved = counts
    for rule, hits in found:
        counts = (result.opened, result.updated, result.resolved)
        try:
            changes = Changes()
            apply_rule(rule, hits, now, result, existing.get(rule.id, {}), changes, audience)
            write(changes, now, audience)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            result.opened, result.updated, result.resolved = counts
            current_app.logger.info('Incidents of %s were opened by another evaluation',
                                    rule.name)
        except Exception as error:  # one broken rule does not stop the others
            db.session.rollback()
            result.opened, result.updated, result.resolved = counts
            current_app.logger.exception('Alert rule %s could not be applied', rule.name)
            result.failures.append(f'{rule.name}: {type(error).__name__}')


def most_severe(rules: list[AlertRule]) -> str:
    return min((rule.severity for rule in rules), key=SEVERITIES.index)


def stale_rules(connection: Connection, rules: list[AlertRule], now: datetime):
    """The silence rules whose window is shorter than the time since data last arrived."""
    last = last_data_at(connection)
    if last is None:
        return [], None
    return [rule for rule in rules if rule.condition == 'silence'
            and now - last > timedelta(minutes=rule.window_minutes)], last


def apply_stale(stale: list[AlertRule], last: datetime | None, now: datetime,
                result: Evaluation, audience: Audience) -> None:
    existing = open_incidents(open_key=STALE_KEY).get(STALE_KEY)
    if stale:
        result.stale = True
        minutes = int((now - last).total_seconds() // 60)
        title = f'Data is stale: last load at {last:%Y-%m-%d %H:%M} UTC'
        detail = (f'No responses have arrived for {minutes} minutes, so every flow looks silent. '
                  f'These silence rules wait until data arrives: '
                  f'{", ".join(rule.name for rule in stale)}.')
        if existing is None:
            open_all([new_incident(STALE_KEY, now, most_severe(stale), title, detail,
                                   kind=KIND_STALE)], now, audience)
            result.opened += 1
        else:
            still_true(existing, title, detail)
            mark_seen([existing.id], now)
            result.updated += 1
    elif existing is not None:
        resolve(existing, now, EVALUATOR, 'Responses are arriving again.', audience)
        result.resolved += 1
    commit_or_skip(result, 'stale data')


def resolve_orphans(open_by_rule: dict[int | None, dict[str, Incident]], rule_ids: set[int],
                    now: datetime, result: Evaluation, audience: Audience) -> None:
    """Incidents of rules since switched off or deleted resolve: nothing watches them now."""
    for rule_id, incidents in open_by_rule.items():
        if rule_id in rule_ids:
            continue
        for incident in incidents.values():
            resolve(incident, now, EVALUATOR, 'The rule was switched off or deleted.', audience)
            result.resolved += 1
    commit_or_skip(result, 'switched-off rules')


def open_by_rule() -> dict[int | None, dict[str, Incident]]:
    """Every open rule incident, read once: rule id -> open key -> incident."""
    found: dict[int | None, dict[str, Incident]] = defaultdict(dict)
    for key, incident in open_incidents(kind=KIND_RULE).items():
        found[incident.rule_id][key] = incident
    return found


def evaluate(now: datetime | None = None, include_silence: bool = True) -> Evaluation:
    """Evaluate every active rule (``include_silence=False``: all but silence, after a load).

    The session keeps its objects loaded across the per-rule commits (``expire_on_commit``
    off for the evaluation): the rules and open incidents read at the start are not read again
    after each commit. They are expired at the end, as a commit would have."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        return evaluate_rules(now or utc_now(), include_silence)
    finally:
        session.expire_on_commit = expire_on_commit
        session.expire_all()


def evaluate_rules(now: datetime, include_silence: bool) -> Evaluation:
    rules = list(db.session.scalars(select(AlertRule).where(AlertRule.active.is_(True))
                                    .order_by(AlertRule.id)))
    result = Evaluation()
    existing = open_by_rule()
    with engine_for('ops').connect() as connection:
        flows = active_flows(connection)
        audience = Audience({flow.flow_code: flow.owner_team for flow in flows})
        stale, last = stale_rules(connection, rules, now) if include_silence else ([], None)
        readings = Readings(connection, now, depth=max(
            (rule.consecutive_errors or 1 for rule in rules), default=1))
        found = []
        for rule in rules:
            if rule.condition == 'silence' and (not include_silence or rule in stale):
                continue
            result.rules += 1
            try:
                found.append((rule, hits_for(readings, rule, in_scope(rule, flows))))
            except Exception as error:  # one broken rule does not stop the others
                current_app.logger.exception('Alert rule %s could not be evaluated', rule.name)
                result.failures.append(f'{rule.name}: {type(error).__name__}')
    apply_rules(found, now, result, existing, audience)
    if include_silence:
        apply_stale(stale, last, now, result, audience)
        resolve_orphans(existing, {rule.id for rule in rules}, now, result, audience)
    return result


def evaluate_after_load(sender, outcome=None, **_extra) -> None:
    """``load_committed`` subscriber: evaluate once the load's transaction is over. Never
    raises: a failure to evaluate is logged and never fails the load."""
    if outcome is None or outcome.dry_run or outcome.status != 'succeeded':
        return
    try:
        evaluate(include_silence=False)
    except Exception:
        db.session.rollback()
        current_app.logger.exception('Alert evaluation after load batch %s failed',
                                     outcome.batch_id)


load_committed.connect(evaluate_after_load)
