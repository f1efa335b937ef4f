"""The rules for changing people's roles and access, shared by the admin pages.

- An admin cannot demote or deactivate themself (another admin has to).
- The last active admin cannot be demoted or deactivated. Two admins demoting each other at the
  same moment must not leave Flowdesk without one, even across IIS processes and servers: the
  active admins' rows are locked first (PostgreSQL ``FOR UPDATE``, SQL Server ``UPDLOCK,
  HOLDLOCK``) and the update itself only applies while another active admin exists (SQLite has a
  single writer, and its write transaction sees every committed change).
- Logins listed in FLOWDESK_ADMINS are re-granted admin on their next visit, so revoking them in
  the UI is refused with that explanation.
Every change is audited in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select, true, update
from sqlalchemy.orm import aliased

from . import audit
from .extensions import db
from .identity import bootstrap_admins
from .models import ROLE_ADMIN, ROLE_VIEWER, User

GRANT_ADMIN = 'grant-admin'
REVOKE_ADMIN = 'revoke-admin'
DEACTIVATE = 'deactivate'
REACTIVATE = 'reactivate'
CHANGES = (GRANT_ADMIN, REVOKE_ADMIN, DEACTIVATE, REACTIVATE)


class ChangeRefused(Exception):
    """A change the rules do not allow; the message says why and what to do instead."""


@dataclass(frozen=True)
class ChangeResult:
    user: User
    message: str


def change_user(actor: User, target: User, change: str) -> ChangeResult:
    """Apply one change to ``target`` on behalf of ``actor`` and commit it with its audit event.
    Raises ChangeRefused (nothing changed) when a rule forbids it."""
    if change not in CHANGES:
        raise ChangeRefused(f'Unknown change {change!r}: use one of {", ".join(CHANGES)}.')
    try:
        if change == GRANT_ADMIN:
            result = _grant_admin(target)
        elif change == REACTIVATE:
            result = _reactivate(target)
        else:
            result = _remove_access(actor, target, change)
        db.session.commit()
        return result
    except ChangeRefused:
        db.session.rollback()
        raise


def _grant_admin(target: User) -> ChangeResult:
    if not target.active:
        raise ChangeRefused(f'{target.login} is deactivated: reactivate the account first, '
                            'then grant the admin role.')
    if target.role == ROLE_ADMIN:
        raise ChangeRefused(f'{target.login} is already an admin.')
    target.role = ROLE_ADMIN
    audit.record(audit.ROLE_GRANTED, target=target.login, detail='role viewer → admin')
    return ChangeResult(target, f'{target.login} is now an admin.')


def _reactivate(target: User) -> ChangeResult:
    if target.active:
        raise ChangeRefused(f'{target.login} is already active.')
    target.active = True
    audit.record(audit.USER_REACTIVATED, target=target.login, detail=f'role {target.role}')
    return ChangeResult(target, f'{target.login} can use Flowdesk again.')


def _remove_access(actor: User, target: User, change: str) -> ChangeResult:
    """Revoke admin or deactivate: the two changes that could leave Flowdesk without an admin."""
    if change == REVOKE_ADMIN:
        if target.role != ROLE_ADMIN:
            raise ChangeRefused(f'{target.login} is not an admin.')
        if target.id == actor.id:
            raise ChangeRefused('You cannot remove your own admin role: ask another admin to '
                                'do it.')
        if target.login in bootstrap_admins():
            raise ChangeRefused(f'{target.login} is listed in the FLOWDESK_ADMINS setting and '
                                'would be made admin again on the next visit: remove the login '
                                'from that setting first.')
        values, action, detail = {'role': ROLE_VIEWER}, audit.ROLE_REVOKED, 'role admin → viewer'
        done = f'{target.login} is now a viewer.'
    else:
        if not target.active:
            raise ChangeRefused(f'{target.login} is already deactivated.')
        if target.id == actor.id:
            raise ChangeRefused('You cannot deactivate your own account: ask another admin to '
                                'do it.')
        values, action, detail = {'active': False}, audit.USER_DEACTIVATED, f'role {target.role}'
        done = f'{target.login} is deactivated and can no longer use Flowdesk.'

    if target.is_admin:
        db.session.execute(lock_active_admins()).all()
    statement = removal_statement(target.id, values, guard_last_admin=target.is_admin)
    changed = db.session.execute(
        statement, execution_options={'synchronize_session': False}).rowcount
    if changed != 1:
        raise ChangeRefused(f'{target.login} is the last active admin: grant the admin role to '
                            'someone else first.')
    db.session.expire(target)
    audit.record(action, target=target.login, detail=detail)
    return ChangeResult(target, done)


def is_active_admin(users=User):
    # ``== true()`` rather than ``IS true``: SQL Server has no ``IS 1``.
    return (users.role == ROLE_ADMIN) & (users.active == true())


def lock_active_admins():
    """SELECT that locks the active admins' rows until commit, so concurrent removals take
    turns (FOR UPDATE on PostgreSQL, UPDLOCK/HOLDLOCK on SQL Server; SQLite has one writer)."""
    return (select(User.id).where(is_active_admin())
            .with_for_update()
            .with_hint(User, 'WITH (UPDLOCK, HOLDLOCK)', 'mssql'))


def removal_statement(user_id: int, values: dict, guard_last_admin: bool):
    """UPDATE one user; guarded, it only applies while another active admin exists."""
    statement = update(User).where(User.id == user_id).values(**values)
    if guard_last_admin:
        other = aliased(User)
        statement = statement.where(exists().where(is_active_admin(other), other.id != user_id))
    return statement


def active_admin_count() -> int:
    return db.session.scalar(select(db.func.count()).select_from(User).where(is_active_admin()))
