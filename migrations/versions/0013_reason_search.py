"""Text search at any cardinality: a text index over the error-reason dictionary (SQLite FTS5
trigram table kept by a trigger; PostgreSQL pg_trgm GIN index; SQL Server none)

Only the dictionary is indexed, never the responses. See app/reason_text_index.py for each
engine's form and what happens when PostgreSQL's pg_trgm extension cannot be created (the index
is left out with a warning; a DBA runs ``CREATE EXTENSION pg_trgm`` and then
``flask search-index``). Offline (``--sql``) scripts create the extension and the index on
PostgreSQL and nothing on SQL Server.

Revision ID: 0013_reason_search
Revises: 0009_alerts
Create Date: 2026-11-30 08:00:00

"""
from alembic import context, op

from app.migration_support import ops_schema
from app.reason_text_index import (
    create_text_index,
    drop_text_index,
    postgresql_index_ddl,
    sqlite_ddl,
)

# revision identifiers, used by Alembic.
revision = '0013_reason_search'
down_revision = '0012_duration_sort'
branch_labels = None
depends_on = None


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    pass


def downgrade_():
    pass


def upgrade_ops():
    if not context.is_offline_mode():
        create_text_index(op.get_bind())
        return
    dialect = context.get_context().dialect.name
    if dialect == 'postgresql':
        schema = ops_schema()
        reasons = f'"{schema}".error_reasons' if schema else 'error_reasons'
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute(postgresql_index_ddl(reasons, None))
    elif dialect == 'sqlite':
        for statement in sqlite_ddl():
            op.execute(statement)


def downgrade_ops():
    if not context.is_offline_mode():
        drop_text_index(op.get_bind())
