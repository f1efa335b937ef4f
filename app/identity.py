"""Who is asking: the Windows user IIS authenticated, checked on every request.

IIS with Windows Authentication sets ``REMOTE_USER`` (``CORP\\jdoe``) in the WSGI environ; wfastcgi
copies it from the FastCGI params. HTTP headers only ever arrive as ``HTTP_*`` keys, so a client
sending ``Remote-User:`` or ``X-Remote-User:`` cannot authenticate anyone: this module reads
nothing else.

Development and UAT have no IIS in front of ``flask run``: there a stand-in identity
(``FLOWDESK_DEV_USER``) or, when ``FLOWDESK_ALLOW_TEST_LOGIN`` is on, the tester chosen on the
"sign in as" page is used (only if the signed session names one of the test users). A real
``REMOTE_USER`` always wins over both. Production refuses to start with either setting
(config.py) and ignores them here as well; the development configuration, which is what starts
when FLASK_CONFIG is missing, gives its stand-in only to requests from the server itself.

Logins that could be taken for another account are refused with a 401 saying why: a
``user@domain`` whose DNS domain is not mapped, and characters that fold into ASCII.
"""
from __future__ import annotations

import functools
import ipaddress
import unicodedata
from datetime import timedelta

from flask import abort, current_app, g, request, session
from sqlalchemy.exc import IntegrityError

from . import audit
from .clock import utc_now
from .extensions import db
from .models import ROLE_ADMIN, ROLE_VIEWER, User

#: Endpoints anyone may reach without an identity (load balancer probes, assets).
PUBLIC_ENDPOINTS = {'static', 'bootstrap.static', 'health.healthz'}
#: Endpoints that use an identity when there is one but also serve nobody (the tester's
#: "sign in as" page must be reachable before choosing a test user, or from a deactivated one).
IDENTITY_OPTIONAL_ENDPOINTS = {'auth.sign_in', 'auth.sign_out'}
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
TEST_LOGIN_SESSION_KEY = 'test_login'
#: The users table holds logins up to this length.
MAX_LOGIN_LENGTH = 256
#: The sign-in-as page's test users: (name in the default domain, role, what a tester uses it for).
TEST_USERS = (
    ('test.viewer', ROLE_VIEWER, 'an employee who reads the pages'),
    ('test.analyst', ROLE_VIEWER, 'a second employee, to see two people in the users list'),
    ('test.admin', ROLE_ADMIN, 'an admin who loads data and manages users'),
)
REMOTE_STAND_IN_REFUSED = (
    'This server runs the development configuration (what starts when FLASK_CONFIG is not set), '
    'whose stand-in identity serves only requests from the server itself (127.0.0.1 or ::1). '
    'Set FLASK_CONFIG (production behind IIS, or uat for testers) to serve other computers.')


class IdentityError(ValueError):
    """A login that cannot name one person; the message says why, for the 401 page."""


#: Whitespace that surrounds a login by accident; any other space is part of the login.
ASCII_WHITESPACE = ' \t\r\n'


def folds_to_ascii(ch: str, case) -> bool:
    """Would a non-ASCII character pass for ASCII once cased (``case``: the str.lower or
    str.upper that normalisation applies) or compatibility-normalised (NFKC)? The Kelvin sign
    lower-cases to ``k``, a no-break space is a space under NFKC, ``ı`` upper-cases to ``I``.
    Such a login could be another person's account, spelled so that it reads the same; other
    non-ASCII letters such as ``é`` or ``ß`` stay what they are."""
    if ch.isascii():
        return False
    return any(other.isascii() for form in (case(ch), unicodedata.normalize('NFKC', ch))
               for other in form)


def check_no_ascii_lookalikes(raw: str, part: str, case) -> None:
    for ch in part:
        if folds_to_ascii(ch, case):
            raise IdentityError(
                f'The Windows login {raw!r} contains {ch!r} '
                f'(U+{ord(ch):04X} {unicodedata.name(ch, "unnamed character")}), which reads as '
                'a plain ASCII character: Flowdesk refuses it so that it can never be taken for '
                'another account. Ask the Flowdesk team to check the account name.')


def domain_for_upn(dns_domain: str, domain_map: dict[str, str] | None) -> str:
    """The NetBIOS domain of a user principal name's DNS domain: only mapped domains count."""
    domain = (domain_map or {}).get(dns_domain.strip(ASCII_WHITESPACE).lower())
    if not domain:
        raise IdentityError(
            f'The Windows login names the DNS domain {dns_domain!r}, which is not in '
            'FLOWDESK_DOMAIN_MAP: Flowdesk accepts user@domain logins only from mapped domains '
            '(for example FLOWDESK_DOMAIN_MAP=corp.example=CORP). Ask the Flowdesk team to add '
            'the domain if it is one of the company\'s.')
    return domain


def normalise_login(raw: str, default_domain: str = 'CORP',
                    domain_map: dict[str, str] | None = None) -> str:
    """One spelling per person: ``DOMAIN\\name`` with the domain upper-cased and the name
    lower-cased. ``corp\\JDoe``, ``CORP\\jdoe`` and ``jdoe@corp.example`` (with
    ``corp.example=CORP`` in the domain map) are all ``CORP\\jdoe``; a bare name takes the
    default domain. Refused (IdentityError): a user principal name whose DNS domain is not in
    the map, and a login holding a character that would fold into ASCII (two Windows accounts
    must never become one Flowdesk user)."""
    login = (raw or '').strip(ASCII_WHITESPACE)
    if not login:
        raise IdentityError('The Windows login is empty.')
    if '\\' in login:
        domain, name = login.split('\\', 1)
        check_no_ascii_lookalikes(raw, domain, str.upper)
    elif '@' in login:
        name, dns_domain = login.rsplit('@', 1)
        check_no_ascii_lookalikes(raw, dns_domain, str.lower)
        domain = domain_for_upn(dns_domain, domain_map)
    else:
        domain, name = default_domain, login
    check_no_ascii_lookalikes(raw, name, str.lower)
    domain = domain.strip(ASCII_WHITESPACE).upper()
    name = name.strip(ASCII_WHITESPACE).lower()
    if (not domain or not name or '\\' in name or any(ch.isspace() for ch in domain)
            or any(not ch.isprintable() for ch in domain + name)):
        raise IdentityError(f'{raw!r} is not a Windows login (DOMAIN\\name or user@domain).')
    normalised = f'{domain}\\{name}'
    if len(normalised) > MAX_LOGIN_LENGTH:
        raise IdentityError(f'A login longer than {MAX_LOGIN_LENGTH} characters is not a '
                            'Windows login.')
    return normalised


def login_from_config(raw: str) -> str:
    """Normalise with this app's default domain and domain map."""
    config = current_app.config
    return normalise_login(raw, config['FLOWDESK_DEFAULT_DOMAIN'], config['FLOWDESK_DOMAIN_MAP'])


def bootstrap_admins() -> set[str]:
    """The logins listed in FLOWDESK_ADMINS, normalised: they are admins whenever they are
    active."""
    return {login_from_config(login) for login in current_app.config['FLOWDESK_ADMINS']}


def test_login_enabled() -> bool:
    """Is the testers' "sign in as" page on? Never in production, whatever the settings say."""
    return (current_app.config['NAME'] != 'production'
            and bool(current_app.config.get('FLOWDESK_ALLOW_TEST_LOGIN')))


def test_users() -> list[tuple[str, str, str]]:
    """The sign-in-as page's users, normalised: (login, role, what a tester uses it for)."""
    return [(login_from_config(name), role, purpose) for name, role, purpose in TEST_USERS]


def is_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or '').split('%', 1)[0]).is_loopback
    except ValueError:
        return False


def stand_in_refused_for_this_client() -> bool:
    """The development configuration (what a missing FLASK_CONFIG starts) serves its stand-in
    identity only to this computer, never to a remote visitor."""
    return (bool(current_app.config.get('STAND_IN_LOOPBACK_ONLY'))
            and not is_loopback(request.remote_addr))


def chosen_test_login() -> str | None:
    """The test user chosen on the sign-in-as page, if the session names one of them. The
    session is only signed, so a session naming anybody else (forged with a leaked key) is
    ignored."""
    chosen = session.get(TEST_LOGIN_SESSION_KEY)
    if not chosen or not test_login_enabled():
        return None
    if chosen in {login for login, _role, _purpose in test_users()}:
        return chosen
    current_app.logger.warning('Ignored a session whose test login %r is not a test user', chosen)
    return None


def stand_in_login() -> str | None:
    """The identity used where no IIS is in front (never in production)."""
    if current_app.config['NAME'] == 'production' or stand_in_refused_for_this_client():
        return None
    return chosen_test_login() or current_app.config.get('FLOWDESK_DEV_USER') or None


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
        now = utc_now()
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
    now = utc_now()
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
        if stand_in_refused_for_this_client():
            g.identity_refused = True
            abort(401, description=REMOTE_STAND_IN_REFUSED)
        abort(401)
    try:
        login = login_from_config(raw)
    except IdentityError as error:
        current_app.logger.warning('Refused the login %r: %s', raw, error)
        if optional:
            return None
        g.identity_refused = True
        abort(401, description=str(error))
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
