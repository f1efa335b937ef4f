"""Who is asking: the Windows user IIS authenticated, checked on every request.

IIS with Windows Authentication sets ``REMOTE_USER`` (``CORP\\jdoe``) in the WSGI environ; wfastcgi
copies it from the FastCGI params. HTTP headers only ever arrive as ``HTTP_*`` keys, so a client
sending ``Remote-User:`` or ``X-Remote-User:`` cannot authenticate anyone: this module reads
nothing else.

Development and UAT have no IIS in front of ``flask run``: there a stand-in identity
(``FLOWDESK_DEV_USER``) or, when ``FLOWDESK_ALLOW_TEST_LOGIN`` is on, the tester chosen on the
"sign in as" page is used. A real ``REMOTE_USER`` always wins over both. Production refuses to
start with either setting (config.py) and ignores them here as well.
"""
from __future__ import annotations

import functools
from datetime import timedelta

from flask import abort, current_app, g, request, session
from sqlalchemy.exc import IntegrityError

from . import audit
from .extensions import db
from .models import ROLE_ADMIN, ROLE_VIEWER, User
from .models.app_models import utcnow

#: Endpoints anyone may reach without an identity (load balancer probes, assets).
PUBLIC_ENDPOINTS = {'static', 'bootstrap.static', 'health.healthz'}
#: Endpoints that use an identity when there is one but also serve nobody (the tester's
#: "sign in as" page must be reachable before choosing a test user, or from a deactivated one).
IDENTITY_OPTIONAL_ENDPOINTS = {'auth.sign_in', 'auth.sign_out'}
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
TEST_LOGIN_SESSION_KEY = 'test_login'
#: The users table holds logins up to this length.
MAX_LOGIN_LENGTH = 256


class IdentityError(ValueError):
    """A login that cannot name a person (empty, or malformed)."""


def normalise_login(raw: str, default_domain: str = 'CORP',
                    domain_map: dict[str, str] | None = None) -> str:
    """One spelling per person: ``DOMAIN\\name`` with the domain upper-cased and the name
    lower-cased. ``corp\\JDoe``, ``CORP\\jdoe`` and ``jdoe@corp.example`` (with
    ``corp.example=CORP`` in the domain map) are all ``CORP\\jdoe``. A user principal name whose
    DNS domain is not in the map takes the domain's first label (``jdoe@emea.example`` →
    ``EMEA\\jdoe``); a bare name takes the default domain."""
    login = (raw or '').strip()
    if not login:
        raise IdentityError('empty login')
    if '\\' in login:
        domain, name = login.split('\\', 1)
    elif '@' in login:
        name, dns_domain = login.rsplit('@', 1)
        dns_domain = dns_domain.strip().lower()
        domain = (domain_map or {}).get(dns_domain) or dns_domain.split('.')[0]
    else:
        domain, name = default_domain, login
    domain, name = domain.strip().upper(), name.strip().lower()
    if (not domain or not name or '\\' in name or any(ch.isspace() for ch in domain)
            or any(not ch.isprintable() for ch in domain + name)):
        raise IdentityError(f'{raw!r} is not a Windows login')
    normalised = f'{domain}\\{name}'
    if len(normalised) > MAX_LOGIN_LENGTH:
        raise IdentityError(f'a login longer than {MAX_LOGIN_LENGTH} characters is not a Windows login')
    return normalised


def login_from_config(raw: str) -> str:
    """Normalise with this app's default domain and domain map."""
    config = current_app.config
    return normalise_login(raw, config['FLOWDESK_DEFAULT_DOMAIN'], config['FLOWDESK_DOMAIN_MAP'])


def bootstrap_admins() -> set[str]:
    """The logins listed in FLOWDESK_ADMINS, normalised: they are admins whenever they are active."""
    return {login_from_config(login) for login in current_app.config['FLOWDESK_ADMINS']}


def test_login_enabled() -> bool:
    """Is the testers' "sign in as" page on? Never in production, whatever the settings say."""
    return (current_app.config['NAME'] != 'production'
            and bool(current_app.config.get('FLOWDESK_ALLOW_TEST_LOGIN')))


def stand_in_login() -> str | None:
    """The identity used where no IIS is in front (never in production)."""
    if current_app.config['NAME'] == 'production':
        return None
    if test_login_enabled() and session.get(TEST_LOGIN_SESSION_KEY):
        return session[TEST_LOGIN_SESSION_KEY]
    return current_app.config.get('FLOWDESK_DEV_USER') or None


def remote_login() -> str | None:
    """The raw login for this request: the WSGI environ's REMOTE_USER, else the stand-in."""
    return request.environ.get('REMOTE_USER') or stand_in_login()


def display_name_for(login: str) -> str:
    return login.split('\\', 1)[1]


def find_or_create_user(login: str) -> User:
    """The user for a normalised login; a first visit creates a viewer (or an admin when
    listed in FLOWDESK_ADMINS). A listed login that is an active viewer is promoted, so adding a
    login to FLOWDESK_ADMINS is also the way back in when no admin is left."""
    user = db.session.execute(db.select(User).filter_by(login=login)).scalar_one_or_none()
    admins = bootstrap_admins()
    if user is None:
        role = ROLE_ADMIN if login in admins else ROLE_VIEWER
        now = utcnow()
        user = User(login=login, display_name=display_name_for(login), role=role, active=True,
                    first_seen=now, last_seen=now)
        db.session.add(user)
        audit.record(audit.USER_CREATED, target=login, detail=f'first visit, role {role}',
                     actor=login)
        try:
            db.session.commit()
        except IntegrityError:  # another process created the same user a moment ago
            db.session.rollback()
            user = db.session.execute(db.select(User).filter_by(login=login)).scalar_one()
    elif login in admins and user.role != ROLE_ADMIN and user.active:
        user.role = ROLE_ADMIN
        audit.record(audit.ROLE_GRANTED, target=login,
                     detail='admin (listed in FLOWDESK_ADMINS)', actor=audit.SYSTEM_ACTOR)
        db.session.commit()
    return user


def touch_last_seen(user: User) -> None:
    """Record the visit, at most once a minute, so reading pages does not write on every hit."""
    now = utcnow()
    if user.last_seen is None or now - user.last_seen >= LAST_SEEN_RESOLUTION:
        user.last_seen = now
        db.session.commit()


def load_current_user():
    """before_request: set ``g.user`` or refuse the request (401 anonymous, 403 deactivated)."""
    g.user = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    optional = request.endpoint in IDENTITY_OPTIONAL_ENDPOINTS
    raw = remote_login()
    if not raw:
        if optional:
            return None
        abort(401)
    try:
        login = login_from_config(raw)
    except IdentityError:
        current_app.logger.warning('Refused a request with an unusable REMOTE_USER %r', raw)
        if optional:
            return None
        abort(401)
    user = find_or_create_user(login)
    if not user.active:
        g.refused_login = login
        if optional:
            return None
        abort(403, description=f'The account {login} is deactivated in Flowdesk. '
                               'Ask a Flowdesk admin to reactivate it.')
    touch_last_seen(user)
    g.user = user
    return None


def admin_required(view):
    """Guard for admin pages and API writes: anonymous gets 401, viewers get 403 (JSON under
    /api/, the error page elsewhere)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = g.get('user')
        if user is None:
            abort(401)
        if not user.is_admin:
            abort(403, description='This page is for Flowdesk admins.')
        return view(*args, **kwargs)
    return wrapped


def init_app(app) -> None:
    app.before_request(load_current_user)
