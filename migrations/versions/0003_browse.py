"""Employee pages: indexes for the result-code and flow + status filters and the duration sorts, and the search index on error reasons

SQLite: FTS5 trigram table + triggers; PostgreSQL: pg_trgm GIN index; SQL Server: nothing (see
app/browse/search_index.py).

Revision ID: 0003_browse
Revises: 0002_loads
Create Date: 2026-11-22 04:00:00

"""
from alembic import op

from app.browse import search_index
from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0003_browse'
down_revision = '0002_loads'
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


def _qualified_responses(schema) -> str:
    preparer = op.get_context().dialect.identifier_preparer
    name = preparer.quote(table('responses'))
    return f'{preparer.quote_schema(schema)}.{name}' if schema else name


def upgrade_ops():
    schema = ops_schema()
    op.create_index('ix_responses_result_code_time', table('responses'),
                    ['result_code', 'responded_at', 'response_id'], unique=False, schema=schema)
    op.create_index('ix_responses_flow_status_time', table('responses'),
                    ['flow_code', 'status', 'responded_at', 'response_id'], unique=False,
                    schema=schema)
    op.create_index('ix_responses_duration', table('responses'),
                    ['duration_ms', 'response_id'], unique=False, schema=schema)
    op.create_index('ix_responses_flow_duration', table('responses'),
                    ['flow_code', 'duration_ms', 'response_id'], unique=False, schema=schema)
    dialect = op.get_context().dialect.name
    if dialect == 'sqlite':
        for statement in search_index.SQLITE_DROP + search_index.SQLITE_CREATE:
            op.execute(statement)
        op.execute(search_index.SQLITE_FILL)
    elif dialect == 'postgresql':
        for statement in search_index.postgresql_create(_qualified_responses(schema)):
            op.execute(statement)


def downgrade_ops():
    schema = ops_schema()
    dialect = op.get_context().dialect.name
    if dialect == 'sqlite':
        for statement in search_index.SQLITE_DROP:
            op.execute(statement)
    elif dialect == 'postgresql':
        prefix = f'{op.get_context().dialect.identifier_preparer.quote_schema(schema)}.' \
            if schema else ''
        op.execute(f'DROP INDEX IF EXISTS {prefix}{search_index.TRGM_INDEX}')
    op.drop_index('ix_responses_flow_duration', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_duration', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_flow_status_time', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_result_code_time', table_name=table('responses'), schema=schema)
