"""Sending a digest: e-mail over SMTP, or a JSON POST to a webhook.

E-mail uses the standard library's ``smtplib`` and ``email.message`` rather than Flask-Mail:
the jobs tick sends outside any request, needs one message with a plain-text and an HTML part,
STARTTLS and optional login, and nothing else; Flask-Mail adds a dependency (and its own
configuration names) for the same few calls. Webhooks use ``urllib.request`` with a timeout;
retries are the outbox's (a failed notice is tried again on later ticks, a bounded number of
times), so a hanging endpoint holds up one tick for at most ALERT_TIMEOUT_SECONDS.
"""
from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app

from .messages import Digest

TEAMS_PREFIX = 'teams:'
#: Hosts of Teams Workflows (Power Automate) webhook URLs: sent the adaptive-card payload.
TEAMS_HOSTS = ('.logic.azure.com', '.powerplatform.com', '.powerautomate.com')


class DeliveryError(Exception):
    """A notice could not be delivered; the message says why, for the delivery log."""


def is_webhook(recipient: str) -> bool:
    return recipient.lower().startswith(('http://', 'https://', TEAMS_PREFIX))


def send_mail(digest: Digest) -> None:
    config = current_app.config
    if not config.get('MAIL_SERVER'):
        raise DeliveryError('MAIL_SERVER is not set, so no e-mail can be sent.')
    message = EmailMessage()
    message['Subject'] = digest.subject()
    message['From'] = config['MAIL_FROM']
    message['To'] = digest.recipient
    message['Date'] = formatdate(localtime=False)
    message['Message-ID'] = make_msgid(domain='flowdesk')
    message.set_content(digest.text())
    message.add_alternative(digest.html(), subtype='html')
    try:
        with smtplib.SMTP(config['MAIL_SERVER'], config['MAIL_PORT'],
                          timeout=config['ALERT_TIMEOUT_SECONDS']) as smtp:
            if config['MAIL_USE_TLS']:
                smtp.starttls(context=ssl.create_default_context())
            if config.get('MAIL_USERNAME'):
                smtp.login(config['MAIL_USERNAME'], config.get('MAIL_PASSWORD', ''))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f'SMTP {config["MAIL_SERVER"]}:{config["MAIL_PORT"]}: '
                            f'{type(error).__name__}: {error}') from error


def post_webhook(digest: Digest) -> None:
    url = digest.recipient
    teams = url.lower().startswith(TEAMS_PREFIX)
    if teams:
        url = url[len(TEAMS_PREFIX):]
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https'):
        raise DeliveryError(f'{url[:80]} is not an http(s) URL.')
    host = (parts.hostname or '').lower()
    teams = teams or host.endswith(TEAMS_HOSTS)
    body = json.dumps(digest.teams_json() if teams else digest.generic_json()).encode('utf-8')
    request = urllib.request.Request(url, data=body, method='POST', headers={
        'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'Flowdesk'})
    try:
        # The scheme is checked above (http or https only), and only admins set the URLs.
        with urllib.request.urlopen(  # nosec B310
                request, timeout=current_app.config['ALERT_TIMEOUT_SECONDS']) as answer:
            answer.read(65536)
    except OSError as error:  # URLError, HTTPError (4xx/5xx) and timeouts are all OSErrors
        raise DeliveryError(f'POST {host}: {type(error).__name__}: {error}') from error


def deliver(digest: Digest) -> None:
    (post_webhook if is_webhook(digest.recipient) else send_mail)(digest)
