"""Database helpers shared by every part of Flowdesk: per-connection SQLite settings, the real
(translated) schema of a bind and quoted names in it, the request's ops connection, and a
liveness probe for each bind."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import Integer, event, literal_column, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql.elements import quoted_name

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


def quoted_schema(bind_key: str | None) -> quoted_name | None:
    """The real schema of a bind, always quoted in SQL as the models and migrations name it
    (``[ops].[responses]``), or None for the default schema."""
    schema = schema_for(bind_key)
    return quoted_name(schema, quote=True) if schema else None


def qualified_name(table, bind_key: str | None, dialect: Dialect | None = None) -> str:
    """A table's quoted, schema-qualified name for statements that bypass SQLAlchemy
    (PostgreSQL COPY, DBAPI executemany), in ``dialect`` (default: the bind's)."""
    preparer = (dialect or engine_for(bind_key).dialect).identifier_preparer
    schema = quoted_schema(bind_key)
    name = preparer.quote(table.name)
    return f'{preparer.quote_schema(schema)}.{name}' if schema else name


# -- the request's ops connection (the read layer) ----------------------------------------
def ops_connection():
    """The request's connection to the ops database (Core execution: rows come back as
    tuples without ORM bookkeeping, which matters when thousands are read)."""
    return db.session.connection(bind_arguments={'bind': db.engines['ops']})


def ops_session_execute(statement):
    """Run a select on the ops bind and return all its rows."""
    return ops_connection().execute(statement).all()


def ops_scalar(statement):
    return ops_connection().execute(statement).scalar()


def dialect_name() -> str:
    """The ops database's dialect: sqlite, postgresql or mssql."""
    return db.engines['ops'].dialect.name


def ping(bind_key: str | None) -> tuple[bool, str | None]:
    """Does the bind answer a trivial query? Returns (ok, error message)."""
    try:
        with engine_for(bind_key).connect() as connection:
            connection.execute(text('SELECT 1'))
        return True, None
    except Exception as exc:  # any driver error means "not answering"
        return False, f'{type(exc).__name__}: {str(exc).splitlines()[0][:200]}'


def unindexed(column):
    """The column in a form no index serves (same values; NULL stays NULL): the engine then
    reads rows through another index, or sorts or groups them itself. The 0 or '' is written
    into the statement, not bound, so that the same form in a GROUP BY and its select list is
    the same expression to SQL Server (two bound parameters would not be)."""
    if isinstance(column.type, Integer):
        return column + literal_column('0')
    return column.concat(literal_column("''"))
