"""A rule's recipients: e-mail addresses and webhook URLs (``teams:`` before a URL sends the
Teams Workflows card; Power Automate hosts get it anyway), one per line."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

EMAIL = re.compile(r'^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$')


def parse_recipients(text: str | None) -> tuple[list[str], list[str]]:
    """(recipients, problems): each line must be an e-mail address or an http(s) URL."""
    recipients, problems = [], []
    for line in (text or '').splitlines():
        value = line.strip()
        if not value:
            continue
        if value.lower().startswith(('http://', 'https://', 'teams:')):
            if not urlsplit(value.removeprefix('teams:')).hostname:
                problems.append(f'{value[:80]} is not a complete URL.')
                continue
        elif not EMAIL.match(value):
            problems.append(f'{value[:80]} is neither an e-mail address nor an http(s) URL.')
            continue
        if value not in recipients:
            recipients.append(value)
    return recipients, problems
