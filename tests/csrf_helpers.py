"""Posting Flask-WTF forms from the Flask test client with CSRF protection on."""
from __future__ import annotations

from flask import g

from tests.fastcgi_client import csrf_token


def form_page(client, url: str):
    """GET a page with a form for this client's session. The test base keeps one app context
    pushed for the whole class, so Flask-WTF's per-request token cache in ``g`` outlives the
    request and would hand another client's token to this one: drop it first."""
    g.pop('csrf_token', None)
    return client.get(url)


def token_from(client, url: str) -> str:
    """The CSRF token of the form on ``url`` for this client's session."""
    return csrf_token(form_page(client, url).get_data(as_text=True))
