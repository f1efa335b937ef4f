"""What a digest says: one message per recipient bundling every notice of one tick, as plain
text, HTML (e-mail), a Teams Workflows adaptive card, or generic JSON (webhooks)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, render_template

from ..models.alert_models import Incident
from ..models.notice_models import EVENT_OPENED, EVENT_REMINDER, EVENT_RESOLVED, Notice
from .notices import unfollow_token

HEADINGS = {EVENT_OPENED: 'Opened', EVENT_REMINDER: 'Still open', EVENT_RESOLVED: 'Resolved'}


@dataclass
class Digest:
    recipient: str
    items: list[tuple[Notice, Incident]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return current_app.config['FLOWDESK_BASE_URL']

    def link(self, incident: Incident) -> str:
        return f'{self.base_url}/incidents/{incident.id}'

    def unfollow_links(self) -> list[str]:
        ids = sorted({notice.subscription_id for notice, _ in self.items
                      if notice.subscription_id is not None})
        return [f'{self.base_url}/unfollow/{unfollow_token(i)}' for i in ids]

    def sections(self) -> list[tuple[str, list[tuple[Notice, Incident]]]]:
        return [(HEADINGS[event], [(n, i) for n, i in self.items if n.event == event])
                for event in (EVENT_OPENED, EVENT_REMINDER, EVENT_RESOLVED)
                if any(n.event == event for n, _ in self.items)]

    def subject(self) -> str:
        if len(self.items) == 1:
            notice, incident = self.items[0]
            return (f'[Flowdesk {incident.severity}] {HEADINGS[notice.event]}: '
                    f'{incident.title}')[:250]
        counts = ', '.join(f'{len(rows)} {heading.lower()}' for heading, rows in self.sections())
        return f'[Flowdesk] {len(self.items)} incident notices: {counts}'

    def text(self) -> str:
        lines = [self.subject(), '']
        for heading, rows in self.sections():
            lines.append(f'{heading}:')
            for _notice, incident in rows:
                lines.append(f'- [{incident.severity}] {incident.title}')
                if incident.detail:
                    lines.append(f'  {incident.detail}')
                lines.append(f'  {self.link(incident)}')
            lines.append('')
        lines.append(f'All open incidents: {self.base_url}/incidents')
        for link in self.unfollow_links():
            lines.append(f'Stop these notices (unfollow): {link}')
        return '\n'.join(lines) + '\n'

    def html(self) -> str:
        return render_template('alerts/digest_email.html', digest=self)

    def item_json(self, notice: Notice, incident: Incident) -> dict:
        return {'event': notice.event, 'incident': incident.id, 'title': incident.title,
                'severity': incident.severity, 'flow_code': incident.flow_code,
                'status': incident.status, 'detail': incident.detail, 'url': self.link(incident)}

    def generic_json(self) -> dict:
        return {'source': 'flowdesk', 'subject': self.subject(),
                'notices': [self.item_json(n, i) for n, i in self.items]}

    def teams_json(self) -> dict:
        """A Teams Workflows ("When a Teams webhook request is received") message: one
        adaptive card."""
        body = [{'type': 'TextBlock', 'text': self.subject(), 'weight': 'Bolder',
                 'size': 'Medium', 'wrap': True}]
        for heading, rows in self.sections():
            body.append({'type': 'TextBlock', 'text': heading, 'weight': 'Bolder', 'wrap': True})
            body.extend({'type': 'TextBlock', 'wrap': True,
                         'text': f'[{i.severity}] [{i.title}]({self.link(i)})'} for _n, i in rows)
        card = {'$schema': 'http://adaptivecards.io/schemas/adaptive-card.json',
                'type': 'AdaptiveCard', 'version': '1.4', 'body': body,
                'actions': [{'type': 'Action.OpenUrl', 'title': 'Open incidents',
                             'url': f'{self.base_url}/incidents'}]}
        return {'type': 'message', 'attachments': [{
            'contentType': 'application/vnd.microsoft.card.adaptive', 'contentUrl': None,
            'content': card}]}
