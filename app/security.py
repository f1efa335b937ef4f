"""Security headers on every response. The Content-Security-Policy allows no inline script and
nothing from outside the app: pages keep their JavaScript in app/static and their data in
``data-*`` attributes or JSON endpoints.

Everything but the static assets is ``Cache-Control: no-store`` (pages, API answers, exports,
error reports, error pages): company data must never stay in a shared proxy or on a shared
computer's disk. The assets are the same for everybody and may be cached.
"""
from __future__ import annotations

from flask import request

CONTENT_SECURITY_POLICY = '; '.join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
}


#: Endpoints whose answers hold no company data and may be cached.
CACHEABLE_ENDPOINTS = {'static', 'bootstrap.static'}


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers['Cache-Control'] = 'no-store'
    return response


def init_app(app) -> None:
    app.after_request(add_security_headers)
