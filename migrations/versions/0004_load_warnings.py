"""Load warnings: a batch keeps the warnings of its report (such as local times read in a
repeated daylight-saving hour), one per line, so its page lists them apart from the errors

Revision ID: 0004_load_warnings
Revises: 0003_browse
Create Date: 2026-11-30 04:30:00

"""
from alembic import op
import sqlalchemy as sa

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0004_load_warnings'
down_revision = '0003_browse'
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
    op.add_column(table('load_batches'), sa.Column('warnings', sa.Unicode(length=4000),
                                                   nullable=True), schema=ops_schema())


def downgrade_ops():
    op.drop_column(table('load_batches'), 'warnings', schema=ops_schema())
