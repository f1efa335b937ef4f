"""Sorting responses by duration reads an index in that order: ix_responses_duration
(duration_ms, response_id, responded_at), so a page sorted slowest or fastest first is an index
range read at any table size (the time column rides along for time-range filters). Ops database
only; the app database is unchanged.

Revision ID: 0012_duration_sort
Revises: 0009_alerts
Create Date: 2026-11-30 08:00:00

"""
from alembic import op

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0012_duration_sort'
down_revision = '0011_source_profiles'
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
    op.create_index('ix_responses_duration', table('responses'),
                    ['duration_ms', 'response_id', 'responded_at'], unique=False,
                    schema=ops_schema())


def downgrade_ops():
    op.drop_index('ix_responses_duration', table_name=table('responses'), schema=ops_schema())
