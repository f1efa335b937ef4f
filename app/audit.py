"""The audit log: who did what to whom, when and from which address."""
from __future__ import annotations

from flask import g, has_request_context, request

from .extensions import db
from .models import AuditEvent


def record(action: str, target: str | None = None, detail: str | None = None,
           actor: str | None = None) -> AuditEvent:
    """Add an audit event to the app-bind session; the caller commits with its own change."""
    if actor is None:
        user = g.get('user') if has_request_context() else None
        actor = user.login if user is not None else 'system'
    event = AuditEvent(actor=actor, action=action, target=target, detail=detail,
                       remote_addr=request.remote_addr if has_request_context() else None)
    db.session.add(event)
    return event
