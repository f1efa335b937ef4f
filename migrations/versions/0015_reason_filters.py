"""Text search counts without reading rows: on PostgreSQL and SQL Server the reason index
ix_responses_reason_time (reason_hash, responded_at, response_id) also carries the flow code
and the status (INCLUDE), so a text search with a flow or status filter counts its matches from
the index alone instead of reading each matching row. SQLite (no INCLUDE; its searches are fast
without) and the app database are unchanged: there the revision only records its number.

Revision ID: 0015_reason_filters
Revises: 0014_load_speed
Create Date: 2026-11-30 11:00:00

"""
import sqlalchemy as sa
from alembic import context, op

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0015_reason_filters'
down_revision = '0014_load_speed'
branch_labels = None
depends_on = None

HAS_REASON = 'reason_hash IS NOT NULL'
INDEX = 'ix_responses_reason_time'
KEY = ['reason_hash', 'responded_at', 'response_id']
CARRIED = ['flow_code', 'status']


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    pass


def downgrade_():
    pass


def upgrade_ops():
    if context.get_context().dialect.name in ('postgresql', 'mssql'):
        _rebuild(CARRIED)


def downgrade_ops():
    if context.get_context().dialect.name in ('postgresql', 'mssql'):
        _rebuild([])


def _rebuild(carried: list[str]) -> None:
    """The reason index again, carrying ``carried`` (same name, key and filter)."""
    op.drop_index(INDEX, table_name=table('responses'), schema=ops_schema())
    op.create_index(INDEX, table('responses'), KEY, unique=False, schema=ops_schema(),
                    postgresql_where=sa.text(HAS_REASON), mssql_where=sa.text(HAS_REASON),
                    postgresql_include=carried, mssql_include=carried)
