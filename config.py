"""Flowdesk configuration: one class per environment, read from the process environment.

``create_app(name)`` instantiates ``config[name]`` so that every setting is read from the
environment at start-up (not at import), which lets tests and tools build apps with different
settings in one process.

Databases: the default bind is the app's own database (users, audit log); the ``ops`` bind holds
the operational data (flows, responses, load batches). Each bind has a schema name from config
that models never hard-code: models use the symbolic schemas ``app`` and ``ops`` and each engine
translates them with ``schema_translate_map``.
"""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql.elements import quoted_name

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / 'instance'

#: Secret keys that ship with the code: production refuses to start with any of them.
KNOWN_DEFAULT_SECRET_KEYS = frozenset({
    '', 'dev', 'development', 'secret', 'changeme', 'change-me',
    'flowdesk-development-secret-not-for-production',
})
DEV_SECRET_KEY = 'flowdesk-development-secret-not-for-production'
DEFAULT_ODBC_DRIVER = 'ODBC Driver 18 for SQL Server'

#: Symbolic schema names used by the models; config maps them to real ones.
APP_SCHEMA_KEY = 'app'
OPS_SCHEMA_KEY = 'ops'

#: The words that mean yes and no, in settings and in data files (compared in lower case).
TRUE_WORDS = frozenset({'1', 'true', 'yes', 'on', 'y'})
FALSE_WORDS = frozenset({'0', 'false', 'no', 'off', 'n'})


def env_flag(environ, name: str, default: bool = False) -> bool:
    """Read a yes/no setting; an unrecognised word is an error rather than a silent default."""
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or not word:
        return False
    raise ValueError(f'{name}={raw!r} is not a yes/no value (use 1/0, true/false, yes/no, on/off)')


def env_int(environ, name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == '':
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f'{name}={raw!r} is not a whole number') from None


def env_date(environ, name: str, default: date) -> date:
    raw = environ.get(name)
    if raw is None or raw.strip() == '':
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f'{name}={raw!r} is not a date like 2000-01-01') from None


def odbc_value(value: str) -> str:
    """Quote a value for an ODBC connection string when it holds characters ODBC treats
    specially."""
    if value and not any(ch in value for ch in ';{}=') and value == value.strip():
        return value
    return '{' + value.replace('}', '}}') + '}'


def mssql_url(server: str, database: str, *, driver: str = DEFAULT_ODBC_DRIVER,
              trusted: bool = True, username: str | None = None, password: str | None = None,
              encrypt: bool = True, trust_server_certificate: bool = False) -> URL:
    """Build an ``mssql+pyodbc`` URL carrying a complete ODBC connection string.

    ``trusted`` uses Windows Integrated Security: under IIS that is the app pool identity.
    Otherwise ``username``/``password`` (SQL Server authentication) are required.
    """
    if not server or not database:
        raise ValueError('a SQL Server URL needs both a server and a database name')
    parts = [
        ('DRIVER', driver or DEFAULT_ODBC_DRIVER),
        ('SERVER', server),
        ('DATABASE', database),
    ]
    if trusted:
        parts.append(('Trusted_Connection', 'yes'))
    else:
        if not username:
            raise ValueError('SQL Server authentication needs a user name '
                             '(or set MSSQL_TRUSTED_CONNECTION=yes to use Windows authentication)')
        parts += [('UID', username), ('PWD', password or '')]
    parts += [
        ('Encrypt', 'yes' if encrypt else 'no'),
        ('TrustServerCertificate', 'yes' if trust_server_certificate else 'no'),
    ]
    odbc = ';'.join(f'{key}={{{value}}}' if key == 'DRIVER' else f'{key}={odbc_value(value)}'
                    for key, value in parts)
    return URL.create('mssql+pyodbc', query={'odbc_connect': odbc})


def odbc_connect_parts(url) -> dict[str, str]:
    """Parse the ``odbc_connect`` string of a SQL Server URL back into its parts (for checks)."""
    odbc = make_url(url).query['odbc_connect']
    parts, key, value, i = {}, '', '', 0
    while i < len(odbc):
        eq = odbc.index('=', i)
        key = odbc[i:eq]
        i = eq + 1
        if i < len(odbc) and odbc[i] == '{':
            value, i = '', i + 1
            while True:
                if odbc[i] == '}':
                    if i + 1 < len(odbc) and odbc[i + 1] == '}':
                        value += '}'
                        i += 2
                        continue
                    i += 1
                    break
                value += odbc[i]
                i += 1
        else:
            end = odbc.find(';', i)
            end = len(odbc) if end < 0 else end
            value, i = odbc[i:end], end
        parts[key] = value
        if i < len(odbc) and odbc[i] == ';':
            i += 1
    return parts


def sqlite_url(path: Path) -> str:
    return 'sqlite:///' + path.as_posix()


def is_sqlite(url) -> bool:
    return make_url(str(url) if isinstance(url, URL) else url).get_backend_name() == 'sqlite'


def engine_options(url, schema_key: str, schema: str | None) -> dict:
    """Engine options for one bind: schema translation, plus bulk-load settings per dialect."""
    url_obj = make_url(url)
    options: dict = {
        # Real schema names are always quoted: [ops].[responses] on SQL Server.
        'execution_options': {'schema_translate_map': {
            schema_key: quoted_name(schema, quote=True) if schema else None}},
        'pool_pre_ping': True,
    }
    backend = url_obj.get_backend_name()
    if backend == 'mssql':
        options['fast_executemany'] = True
    if backend == 'sqlite':
        # One writer at a time; readers wait for it instead of failing at once.
        options['connect_args'] = {'timeout': 30}
        options.pop('pool_pre_ping')
    if backend == 'postgresql':
        # A sequential scan of a large table starts where another one is reading
        # (synchronize_seqscans): the first matches of a text search, and so its sample, its
        # plan and its count, would change from one request to the next. Off, they are the same.
        given = url_obj.query.get('options', '')
        options['connect_args'] = {
            'options': f'{given} -c synchronize_seqscans=off'.strip()}
    return options


class Config:
    """Settings shared by every environment. Values come from the environment variables
    named in README.md ("Configuration")."""

    NAME = 'base'
    DEBUG = False
    TESTING = False
    ENV_BADGE: str | None = None
    #: Honour FLOWDESK_DEV_USER and test sign-ins only for requests from 127.0.0.1 / ::1.
    STAND_IN_LOOPBACK_ONLY = False

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.SECRET_KEY = env.get('SECRET_KEY', DEV_SECRET_KEY)
        self.FLOWDESK_VERSION = env.get('FLOWDESK_VERSION') or _read_version()
        self.INSTANCE_PATH = Path(env.get('FLOWDESK_INSTANCE_PATH') or INSTANCE_DIR)
        self._read_databases(env)
        self._read_identity(env)
        self._read_data_and_loads(env)
        self._read_jobs(env)
        self._read_alerts(env)
        self._read_logging(env)
        self._read_web(env)

    def _read_databases(self, env) -> None:
        """The two binds: the app's own database and the operational data, with their schemas."""
        # Schemas: empty means "no schema" (SQLite, or the login's default schema).
        self.APP_SCHEMA = env.get('APP_SCHEMA') or None
        self.OPS_SCHEMA = env.get('OPS_SCHEMA') or None

        # SQL Server parts; a whole URL in DATABASE_URL / OPS_DATABASE_URL wins over parts.
        self.MSSQL_SERVER = env.get('MSSQL_SERVER', '')
        self.MSSQL_DATABASE = env.get('MSSQL_DATABASE', '')
        self.MSSQL_OPS_DATABASE = env.get('MSSQL_OPS_DATABASE', '') or self.MSSQL_DATABASE
        self.MSSQL_DRIVER = env.get('MSSQL_DRIVER') or DEFAULT_ODBC_DRIVER
        self.MSSQL_TRUSTED_CONNECTION = env_flag(env, 'MSSQL_TRUSTED_CONNECTION', True)
        self.MSSQL_USERNAME = env.get('MSSQL_USERNAME', '')
        self.MSSQL_PASSWORD = env.get('MSSQL_PASSWORD', '')
        self.MSSQL_ENCRYPT = env_flag(env, 'MSSQL_ENCRYPT', True)
        self.MSSQL_TRUST_SERVER_CERTIFICATE = env_flag(env, 'MSSQL_TRUST_SERVER_CERTIFICATE', False)

        app_url = env.get('DATABASE_URL') or self._mssql_url(self.MSSQL_DATABASE) \
            or self.default_database_url('app')
        ops_url = env.get('OPS_DATABASE_URL') or self._mssql_url(self.MSSQL_OPS_DATABASE) \
            or self.default_database_url('ops')
        self.SQLALCHEMY_DATABASE_URI = app_url
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(app_url, APP_SCHEMA_KEY, self.APP_SCHEMA)
        self.SQLALCHEMY_BINDS = {
            'ops': {'url': ops_url, **engine_options(ops_url, OPS_SCHEMA_KEY, self.OPS_SCHEMA)},
        }
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False

    def _read_identity(self, env) -> None:
        """Who is who (Windows Authentication through IIS; README "Identity")."""
        self.FLOWDESK_ADMINS = [login.strip() for login in env.get('FLOWDESK_ADMINS', '').split(',')
                                if login.strip()]
        self.FLOWDESK_DEFAULT_DOMAIN = env.get('FLOWDESK_DEFAULT_DOMAIN', 'CORP')
        self.FLOWDESK_DOMAIN_MAP = _parse_domain_map(env.get('FLOWDESK_DOMAIN_MAP', ''))
        self.FLOWDESK_DEV_USER = env.get('FLOWDESK_DEV_USER', '')
        self.FLOWDESK_ALLOW_TEST_LOGIN = env_flag(env, 'FLOWDESK_ALLOW_TEST_LOGIN', False)

    def _read_data_and_loads(self, env) -> None:
        """Times, loads, retention, exports and the dashboard's cache."""
        self.DATA_TIMEZONE = env.get('DATA_TIMEZONE', 'UTC')
        self.DISPLAY_TIMEZONE = env.get('DISPLAY_TIMEZONE', 'UTC')
        #: A loaded time later than now plus this many minutes is refused (clocks differ a little).
        self.MAX_CLOCK_SKEW_MINUTES = env_int(env, 'MAX_CLOCK_SKEW_MINUTES', 15)
        #: A loaded time before this date (UTC) is refused: a mistyped year, not a response.
        self.EARLIEST_RESPONSE_DATE = env_date(env, 'EARLIEST_RESPONSE_DATE', date(2000, 1, 1))
        self.MAX_CONTENT_LENGTH = env_int(env, 'MAX_UPLOAD_MB', 200) * 1024 * 1024
        self.UPLOAD_FOLDER = Path(env.get('UPLOAD_FOLDER') or (self.INSTANCE_PATH / 'uploads'))
        self.UPLOAD_RETENTION_HOURS = env_int(env, 'UPLOAD_RETENTION_HOURS', 24)
        #: Large loads may read and check their rows in a second process while the load
        #: writes (app/loading/parse_process.py), for files of at least this many bytes. Off by
        #: default: it costs more CPU in all and paid no time on the shared build machine
        #: (README "Load speed on realistic data"); turn it on where a core is free.
        self.LOAD_PARSE_PROCESS = env_flag(env, 'LOAD_PARSE_PROCESS', False)
        self.LOAD_PARSE_PROCESS_MIN_BYTES = env_int(env, 'LOAD_PARSE_PROCESS_MIN_BYTES',
                                                    16 * 1024 * 1024)
        #: The python.exe that second process runs, when sys.executable is not one (IIS).
        self.LOAD_PARSE_PYTHON = env.get('LOAD_PARSE_PYTHON') or None
        #: Responses older than this many days are archived and deleted (app/retention);
        #: None (empty) keeps everything.
        self.RESPONSES_RETENTION_DAYS = env_int(env, 'RESPONSES_RETENTION_DAYS', 0) or None
        if self.RESPONSES_RETENTION_DAYS is not None and self.RESPONSES_RETENTION_DAYS < 1 \
                or env.get('RESPONSES_RETENTION_DAYS', '').strip() == '0':
            raise ValueError('RESPONSES_RETENTION_DAYS must be a number of days of at least 1, '
                             'or empty to keep every response')
        self.ARCHIVE_FOLDER = Path(env.get('ARCHIVE_FOLDER') or (self.INSTANCE_PATH / 'archive'))
        #: Rows one purge transaction deletes: short transactions, readers never wait long.
        self.PURGE_BATCH_ROWS = env_int(env, 'PURGE_BATCH_ROWS', 20_000)
        self.EXPORT_XLSX_MAX_ROWS = env_int(env, 'EXPORT_XLSX_MAX_ROWS', 100_000)
        #: How long one process reuses the dashboard's figures (a load shows at once anyway).
        self.DASHBOARD_CACHE_SECONDS = env_int(env, 'DASHBOARD_CACHE_SECONDS', 60)

    def _read_jobs(self, env) -> None:
        """Scheduled jobs and inbox folders (README "Scheduled jobs and inboxes")."""
        #: How often the scheduler is expected to tick; three missed ticks raise the alarm.
        self.JOBS_TICK_INTERVAL_SECONDS = env_int(env, 'JOBS_TICK_INTERVAL_SECONDS', 60)
        self.JOB_RUNS_KEEP_DAYS = env_int(env, 'JOB_RUNS_KEEP_DAYS', 30)
        #: A file modified more recently than this is still being written.
        self.INBOX_SETTLE_SECONDS = env_int(env, 'INBOX_SETTLE_SECONDS', 60)
        #: No new inbox file is picked up once a tick has run this long.
        self.INBOX_TICK_SECONDS = env_int(env, 'INBOX_TICK_SECONDS', 50)

    def _read_alerts(self, env) -> None:
        """Delivery of incident notices by the jobs tick (README "Alerts and incidents")."""
        self.MAIL_SERVER = env.get('MAIL_SERVER', '')
        self.MAIL_PORT = env_int(env, 'MAIL_PORT', 25)
        self.MAIL_USE_TLS = env_flag(env, 'MAIL_USE_TLS', False)
        self.MAIL_USERNAME = env.get('MAIL_USERNAME', '')
        self.MAIL_PASSWORD = env.get('MAIL_PASSWORD', '')
        self.MAIL_FROM = env.get('MAIL_FROM', 'flowdesk@localhost')
        #: At most one message per incident per this many minutes (a resolve notice always goes).
        self.ALERT_REMIND_MINUTES = env_int(env, 'ALERT_REMIND_MINUTES', 60)
        #: Attempts per message (one per tick, with a growing pause) before it is marked failed.
        self.ALERT_MAX_ATTEMPTS = env_int(env, 'ALERT_MAX_ATTEMPTS', 3)
        #: Seconds an SMTP server or a webhook has to answer.
        self.ALERT_TIMEOUT_SECONDS = env_int(env, 'ALERT_TIMEOUT_SECONDS', 10)
        #: Links in messages: the site's address as people open it, e.g. https://flowdesk.corp.example
        self.FLOWDESK_BASE_URL = env.get('FLOWDESK_BASE_URL', 'http://localhost:5000').rstrip('/')
        #: Followers' e-mail address when their profile has none, e.g. {user}@corp.example
        self.FLOWDESK_EMAIL_PATTERN = env.get('FLOWDESK_EMAIL_PATTERN', '')

    def _read_logging(self, env) -> None:
        """Production writes a rotating file because wfastcgi swallows stderr."""
        self.LOG_LEVEL = env.get('LOG_LEVEL', 'INFO').upper()
        self.LOG_FILE = env.get('LOG_FILE') or ''

    def _read_web(self, _env) -> None:
        """Sessions and forms."""
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = 'Lax'
        self.SESSION_COOKIE_SECURE = False
        self.WTF_CSRF_ENABLED = True
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session cookie instead of a clock
        self.BOOTSTRAP_SERVE_LOCAL = True

    # -- helpers -------------------------------------------------------------------------
    def _mssql_url(self, database: str):
        if not self.MSSQL_SERVER:
            return None
        return mssql_url(self.MSSQL_SERVER, database, driver=self.MSSQL_DRIVER,
                         trusted=self.MSSQL_TRUSTED_CONNECTION, username=self.MSSQL_USERNAME,
                         password=self.MSSQL_PASSWORD, encrypt=self.MSSQL_ENCRYPT,
                         trust_server_certificate=self.MSSQL_TRUST_SERVER_CERTIFICATE
                         ).render_as_string(hide_password=False)

    def default_database_url(self, bind: str) -> str:
        return sqlite_url(self.INSTANCE_PATH / f'{bind}.db')

    def problems(self) -> list[str]:
        """Settings that make this configuration unsafe to start; empty when all is well."""
        return []


def _read_version() -> str:
    try:
        return (BASE_DIR / 'VERSION').read_text(encoding='utf-8').strip()
    except OSError:
        return '0.0.0'


def _parse_domain_map(raw: str) -> dict[str, str]:
    """``corp.example=CORP,emea.corp.example=EMEA`` → {'corp.example': 'CORP', ...}."""
    mapping = {}
    for item in raw.split(','):
        if not item.strip():
            continue
        if '=' not in item:
            raise ValueError(f'FLOWDESK_DOMAIN_MAP item {item!r} must look like dns.domain=NETBIOS')
        dns, netbios = item.split('=', 1)
        mapping[dns.strip().lower()] = netbios.strip().upper()
    return mapping


def secret_key_problems(secret_key: str) -> list[str]:
    """The refusal for a missing, shipped or short SECRET_KEY (UAT and production)."""
    if secret_key.strip().lower() in KNOWN_DEFAULT_SECRET_KEYS or len(secret_key) < 16:
        return [('SECRET_KEY is missing, a known default or shorter than 16 characters: '
                 'set it to a long random value in the environment (web.config appSettings '
                 'or the app pool environment)')]
    return []


class DevelopmentConfig(Config):
    """What ``flasky.py`` starts when FLASK_CONFIG is not set: a stand-in admin and the public
    key. The stand-in only ever serves requests from this computer (loopback addresses)."""
    NAME = 'development'
    DEBUG = True
    ENV_BADGE = 'DEV'
    STAND_IN_LOOPBACK_ONLY = True

    def __init__(self, environ=None):
        super().__init__(environ)
        env = os.environ if environ is None else environ
        self.LOG_LEVEL = env.get('LOG_LEVEL', 'DEBUG').upper()
        if not self.FLOWDESK_DEV_USER and 'FLOWDESK_DEV_USER' not in env:
            self.FLOWDESK_DEV_USER = 'CORP\\developer'
        if 'FLOWDESK_ADMINS' not in env:
            self.FLOWDESK_ADMINS = ['CORP\\developer']


class TestingConfig(Config):
    NAME = 'testing'
    TESTING = True
    ENV_BADGE = 'TEST'

    def __init__(self, environ=None):
        super().__init__(environ)
        env = os.environ if environ is None else environ
        self.WTF_CSRF_ENABLED = env_flag(env, 'WTF_CSRF_ENABLED', False)
        # Tests change rows directly, not through loads: figures are always computed.
        self.DASHBOARD_CACHE_SECONDS = env_int(env, 'DASHBOARD_CACHE_SECONDS', 0)
        self.LOG_LEVEL = env.get('LOG_LEVEL', 'WARNING').upper()


class UATConfig(Config):
    """Testers reach UAT from their own machines, often with the "sign in as" page on: a
    session signed with a known key would let anyone be a test admin, so UAT needs its own key."""
    NAME = 'uat'
    ENV_BADGE = 'UAT'

    def __init__(self, environ=None):
        super().__init__(environ)
        env = os.environ if environ is None else environ
        self.SECRET_KEY = env.get('SECRET_KEY', '')

    def problems(self) -> list[str]:
        return secret_key_problems(self.SECRET_KEY)


class ProductionConfig(Config):
    NAME = 'production'

    def __init__(self, environ=None):
        super().__init__(environ)
        env = os.environ if environ is None else environ
        self.SECRET_KEY = env.get('SECRET_KEY', '')
        self.SESSION_COOKIE_SECURE = env_flag(env, 'SESSION_COOKIE_SECURE', True)
        self.LOG_FILE = env.get('LOG_FILE') or str(self.INSTANCE_PATH / 'logs' / 'flowdesk.log')

    def problems(self) -> list[str]:
        found = secret_key_problems(self.SECRET_KEY)
        for setting, url in (('DATABASE_URL', self.SQLALCHEMY_DATABASE_URI),
                             ('OPS_DATABASE_URL', self.SQLALCHEMY_BINDS['ops']['url'])):
            if is_sqlite(url):
                found.append(f'{setting} points at SQLite ({make_url(url).database}): production '
                             'needs SQL Server; set {0} or MSSQL_SERVER and MSSQL_DATABASE'
                             .format(setting))
        if self.FLOWDESK_DEV_USER:
            found.append('FLOWDESK_DEV_USER is set: a stand-in identity is for development and '
                         'UAT only; production takes the user from Windows Authentication')
        if self.FLOWDESK_ALLOW_TEST_LOGIN:
            found.append('FLOWDESK_ALLOW_TEST_LOGIN is on: the "sign in as" page is for '
                         'development and UAT only')
        return found


config = {
    'development': DevelopmentConfig,
    'testing': TestingConfig,
    'uat': UATConfig,
    'production': ProductionConfig,
    'default': DevelopmentConfig,
}
