"""Who hears about incidents: each rule's recipients and the people following a flow, its team or
a saved view that shows it, with their addresses.

An ``Audience`` reads all of it once (the subscriptions, the profiles, the followed views and
the flows each covers, each flow's team) and then answers for any number of incidents from
memory, so an evaluation opening hundreds of incidents makes a handful of queries, not a few per
incident.
"""
from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy import select

from ..database import engine_for
from ..extensions import db
from ..models import Flow
from ..models.alert_models import KIND_STALE, AlertRule, Incident
from ..models.notice_models import Profile, Subscription
from ..models.view_models import SavedView
from .recipients import parse_recipients
from .view_follows import view_flows, visible_to


def address_of(login: str, profiles: dict[str, str | None]) -> str | None:
    """A person's address: the one on their profile, else FLOWDESK_EMAIL_PATTERN."""
    if profiles.get(login):
        return profiles[login]
    pattern = current_app.config.get('FLOWDESK_EMAIL_PATTERN')
    if not pattern:
        return None
    return pattern.replace('{user}', login.split('\\')[-1].lower())


class Audience:
    """The recipients of incident notices, read on first use and kept for the evaluation.

    ``teams`` (flow code -> owner team) saves reading the flows again when the caller has them;
    a flow missing from it is looked up once."""

    def __init__(self, teams: dict[str, str | None] | None = None):
        self._teams = dict(teams or {})
        self._rules: dict[int, list[str]] = {}
        self._loaded = False

    def _load(self) -> None:
        subscriptions = db.session.scalars(select(Subscription).order_by(Subscription.id)).all()
        self._by_flow, self._by_team = defaultdict(list), defaultdict(list)
        views_wanted = []
        for subscription in subscriptions:
            if subscription.kind == 'flow':
                self._by_flow[subscription.value].append(subscription)
            elif subscription.kind == 'team':
                self._by_team[subscription.value].append(subscription)
            elif subscription.kind == 'view' and subscription.value.isascii() \
                    and subscription.value.isdigit():
                views_wanted.append(subscription)
        views = {str(view.id): view for view in db.session.scalars(select(SavedView).where(
            SavedView.id.in_({int(s.value) for s in views_wanted})))} if views_wanted else {}
        covered = {key: view_flows(view) for key, view in views.items()}
        self._by_view = [(subscription, covered[subscription.value]) for subscription in views_wanted
                         if subscription.value in views
                         and visible_to(views[subscription.value], subscription.login)]
        self._profiles = dict(db.session.execute(
            select(Profile.login, Profile.email).where(Profile.email.is_not(None))).all())
        self._loaded = True

    def team_of(self, flow_code: str) -> str | None:
        if flow_code not in self._teams:
            with engine_for('ops').connect() as connection:
                self._teams[flow_code] = connection.scalar(
                    select(Flow.owner_team).where(Flow.flow_code == flow_code))
        return self._teams[flow_code]

    def followers(self, flow_code: str | None) -> list[tuple[str, int]]:
        """(address, subscription id) of the people following the flow, its team or a view
        that shows it."""
        if flow_code is None:
            return []
        if not self._loaded:
            self._load()
        team = self.team_of(flow_code)
        subscriptions = sorted(self._by_flow.get(flow_code, []) + (
            self._by_team.get(team, []) if team else []), key=lambda s: s.id)
        subscriptions += [subscription for subscription, flows in self._by_view
                          if flows is None or flow_code in flows]
        found = []
        for subscription in subscriptions:
            address = address_of(subscription.login, self._profiles)
            if address:
                found.append((address, subscription.id))
        return found

    def rule_recipients(self, kind: str, rule_id: int | None) -> list[str]:
        """The rule's own recipients; for the stale-data incident, every active silence
        rule's."""
        key = -1 if kind == KIND_STALE else rule_id
        if key is None:
            return []
        if key not in self._rules:
            if key == -1:
                rules = db.session.scalars(select(AlertRule).where(
                    AlertRule.active.is_(True), AlertRule.condition == 'silence')).all()
            else:
                rules = [rule for rule in [db.session.get(AlertRule, key)] if rule]
            self._rules[key] = [address for rule in rules
                                for address in parse_recipients(rule.recipients)[0]]
        return self._rules[key]

    def recipients_of(self, incident: Incident) -> list[tuple[str, int | None]]:
        """Everyone a notice about this incident goes to, each address once."""
        return self.recipients_for(incident.kind, incident.rule_id, incident.flow_code)

    def recipients_for(self, kind: str, rule_id: int | None,
                       flow_code: str | None) -> list[tuple[str, int | None]]:
        seen, found = set(), []
        for address, subscription_id in ([(r, None) for r in self.rule_recipients(kind, rule_id)]
                                         + self.followers(flow_code)):
            if address.casefold() not in seen:
                seen.add(address.casefold())
                found.append((address, subscription_id))
        return found
