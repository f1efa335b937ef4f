"""Database helpers shared by every part of Flowdesk: per-connection SQLite settings, the real
(translated) schema of a bind, and a liveness probe for each bind."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from config import APP_SCHEMA_KEY, OPS_SCHEMA_KEY
from .extensions import db

#: bind key (None = default app bind) -> (display name, symbolic schema, config setting)
BINDS = {
    None: ('app', APP_SCHEMA_KEY, 'APP_SCHEMA'),
    'ops': ('ops', OPS_SCHEMA_KEY, 'OPS_SCHEMA'),
}


def init_app(app) -> None:
    with app.app_context():
        for bind_key in BINDS:
            engine = db.engines[bind_key]
            if engine.dialect.name == 'sqlite':
                event.listen(engine, 'connect', _sqlite_on_connect)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """WAL lets employees read while a load writes; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    cursor.execute('PRAGMA journal_mode=WAL')
    cursor.execute('PRAGMA synchronous=NORMAL')
    cursor.execute('PRAGMA foreign_keys=ON')
    cursor.close()


def engine_for(bind_key: str | None) -> Engine:
    return db.engines[bind_key]


def schema_for(bind_key: str | None) -> str | None:
    """The real schema name configured for a bind (None: no schema)."""
    return current_app.config[BINDS[bind_key][2]]


def qualified_name(table, bind_key: str | None) -> str:
    """A table's quoted, schema-qualified name for statements that bypass SQLAlchemy
    (PostgreSQL COPY, sqlite3 executemany)."""
    engine = engine_for(bind_key)
    preparer = engine.dialect.identifier_preparer
    schema = schema_for(bind_key)
    name = preparer.quote(table.name)
    return f'{preparer.quote_schema(schema)}.{name}' if schema else name


def ping(bind_key: str | None) -> tuple[bool, str | None]:
    """Does the bind answer a trivial query? Returns (ok, error message)."""
    try:
        with engine_for(bind_key).connect() as connection:
            connection.execute(text('SELECT 1'))
        return True, None
    except Exception as exc:  # any driver error means "not answering"
        return False, f'{type(exc).__name__}: {str(exc).splitlines()[0][:200]}'
