"""What migrations need to know about Flowdesk's binds: the real schema names from config (the
scripts name them explicitly, since offline SQL is not schema-translated), the URLs, and a copy
of each bind's metadata in its real schema for autogenerate."""
from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.schema import BLANK_SCHEMA
from sqlalchemy.sql.elements import quoted_name

from .database import quoted_schema
from .extensions import db

#: Alembic engine names: '' is the default (app) bind.
BIND_NAMES = ['', 'ops']


def _bind_key(name: str):
    return None if name in ('', None) else name


def schema_of(name: str) -> str | None:
    """The configured schema of a bind, always quoted in SQL (None: the default schema)."""
    return quoted_schema(_bind_key(name))


def table(name: str) -> quoted_name:
    """A table name that is always quoted in SQL, as the models quote it."""
    return quoted_name(name, quote=True)


def app_schema() -> str | None:
    """The configured schema of the app database (None: the default schema)."""
    return schema_of('')


def ops_schema() -> str | None:
    """The configured schema of the ops database (None: the default schema)."""
    return schema_of('ops')


def engine_of(name: str):
    return db.engines[_bind_key(name)]


def url_of(name: str) -> str:
    return engine_of(name).url.render_as_string(hide_password=False)


def metadata_for(name: str) -> MetaData:
    """The bind's tables, copied into its real schema (autogenerate compares against these)."""
    real = schema_of(name)
    source = db.metadatas[_bind_key(name)]
    target = MetaData(naming_convention=source.naming_convention)
    for table in source.sorted_tables:
        table.to_metadata(target, schema=real,
                          referred_schema_fn=lambda *_args: real or BLANK_SCHEMA)
    return target


def create_schema_sql(dialect, schema: str | None) -> str | None:
    """A statement creating the schema when it is missing (None when nothing is needed)."""
    if not schema or dialect.name == 'sqlite':
        return None
    quoted = dialect.identifier_preparer.quote_schema(schema)
    if dialect.name == 'mssql':
        literal = schema.replace("'", "''")
        return f"IF SCHEMA_ID(N'{literal}') IS NULL EXEC(N'CREATE SCHEMA {quoted}')"
    if dialect.name == 'postgresql':
        return f'CREATE SCHEMA IF NOT EXISTS {quoted}'
    return None


def qualified(schema: str | None, column_path: str) -> str:
    """``table.column`` prefixed with the schema when there is one (for foreign keys)."""
    return f'{schema}.{column_path}' if schema else column_path
