"""The audit log: who did what to whom, when and from which address.

Every change to people and roles is recorded here, in the same transaction as the change itself
(``record`` adds the event to the session; the caller commits both together)."""
from __future__ import annotations

from flask import g, has_request_context, request

from .extensions import db
from .models import AuditEvent

#: The actor of changes nobody made by hand (FLOWDESK_ADMINS, the test sign-in page).
SYSTEM_ACTOR = 'system'

# Actions about people and roles. Other parts of Flowdesk record their own (e.g. loads).
USER_CREATED = 'user.created'
ROLE_GRANTED = 'role.granted'
ROLE_REVOKED = 'role.revoked'
USER_DEACTIVATED = 'user.deactivated'
USER_REACTIVATED = 'user.reactivated'
TEST_SIGN_IN = 'auth.test_sign_in'
#: Retention (app/retention): one event per month of responses archived and deleted.
RESPONSES_PURGED = 'responses.purged'

ACTION_LABELS = {
    USER_CREATED: 'User first seen',
    ROLE_GRANTED: 'Admin role granted',
    ROLE_REVOKED: 'Admin role revoked',
    USER_DEACTIVATED: 'User deactivated',
    USER_REACTIVATED: 'User reactivated',
    TEST_SIGN_IN: 'Test sign-in (not production)',
    RESPONSES_PURGED: 'Responses purged (retention)',
}


def remote_address() -> str | None:
    """The client address IIS saw (REMOTE_ADDR). Forwarded-for headers are not trusted: any
    client can send them."""
    return request.remote_addr if has_request_context() else None


def record(action: str, target: str | None = None, detail: str | None = None,
           actor: str | None = None) -> AuditEvent:
    """Add an audit event to the app-bind session; the caller commits with its own change."""
    if actor is None:
        user = g.get('user') if has_request_context() else None
        actor = user.login if user is not None else SYSTEM_ACTOR
    event = AuditEvent(actor=actor, action=action, target=target, detail=detail,
                       remote_addr=remote_address())
    db.session.add(event)
    return event


def actions_in_use() -> list[str]:
    """Actions to offer in the audit log's filter: the known ones, then any other the log holds
    (actions recorded by other parts of Flowdesk)."""
    recorded = set(db.session.scalars(db.select(AuditEvent.action).distinct()))
    return list(ACTION_LABELS) + sorted(recorded - set(ACTION_LABELS))


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
