"""Flowdesk: where employees look up the runs of the company's integration flows.

``create_app(name)`` is the application factory (see config.py for the names).
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from config import config as config_classes

from .extensions import bootstrap, csrf, db, migrate

__version__ = (Path(__file__).resolve().parent.parent / 'VERSION').read_text(encoding='utf-8').strip()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / 'migrations'


class ConfigurationError(RuntimeError):
    """The app was asked to start with settings it must refuse."""


def load_config(config_name: str | None, environ=None):
    name = (config_name or os.environ.get('FLASK_CONFIG') or 'default').strip().lower()
    if name not in config_classes:
        valid = ', '.join(sorted(config_classes))
        raise ConfigurationError(f'Unknown configuration {config_name!r}: use one of {valid} '
                                 '(FLASK_CONFIG or create_app(name)).')
    return config_classes[name](environ)


def create_app(config_name: str | None = None, environ=None, **overrides) -> Flask:
    """Build a Flowdesk app.

    ``environ`` replaces ``os.environ`` as the source of settings (tests use it); ``overrides``
    are set on the config last. Production refuses to start when any setting is unsafe.
    """
    settings = load_config(config_name, environ)
    for key, value in overrides.items():
        setattr(settings, key, value)
    problems = settings.problems()
    if problems:
        raise ConfigurationError(
            f'Flowdesk refuses to start with the {settings.NAME} configuration:\n  - '
            + '\n  - '.join(problems))

    app = Flask(__name__, instance_path=str(settings.INSTANCE_PATH))
    app.config.from_object(settings)
    from .params import URL_CONVERTERS
    app.url_map.converters.update(URL_CONVERTERS)
    _prepare_sqlite_folders(app)

    from .logging_setup import announce_start_when_serving, configure_logging
    configure_logging(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), compare_type=True)
    csrf.init_app(app)
    bootstrap.init_app(app)

    from . import database
    database.init_app(app)

    from . import identity
    identity.init_app(app)

    from .errors import register_error_handlers
    register_error_handlers(app)

    from . import templating
    templating.init_app(app)

    from . import security
    security.init_app(app)

    from .cli import register_commands
    register_commands(app)

    _register_blueprints(app)

    announce_start_when_serving(app, 'Flowdesk %s started with the %s configuration',
                                __version__, settings.NAME)
    return app


def _register_blueprints(app: Flask) -> None:
    """Every page group is a blueprint; a new one is registered here. The main blueprint is
    imported first: the others build on its helpers."""
    from .main import bp as main_bp
    app.register_blueprint(main_bp)
    from .health import bp as health_bp
    app.register_blueprint(health_bp)
    from .admin import bp as admin_bp
    app.register_blueprint(admin_bp)
    from .api import bp as api_bp
    app.register_blueprint(api_bp, url_prefix='/api/v1')
    from .auth import bp as auth_bp
    app.register_blueprint(auth_bp)
    from .saved_views import bp as saved_views_bp
    app.register_blueprint(saved_views_bp)
    from .alerts import bp as alerts_bp
    app.register_blueprint(alerts_bp)


def _prepare_sqlite_folders(app: Flask) -> None:
    """SQLite files live under instance/ by default; make sure their folders exist."""
    urls = [app.config['SQLALCHEMY_DATABASE_URI']]
    urls += [bind['url'] for bind in app.config['SQLALCHEMY_BINDS'].values()]
    for url in urls:
        parsed = make_url(url)
        if parsed.get_backend_name() == 'sqlite' and parsed.database and parsed.database != ':memory:':
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
