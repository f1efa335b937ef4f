"""Load batches record how their file was read (encoding and delimiter), so that loading a file
after its dry run reads it exactly as the dry run did

Revision ID: 0005_load_read_as
Revises: 0004_load_warnings
Create Date: 2026-11-30 04:40:00

"""
from alembic import op
import sqlalchemy as sa

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0005_load_read_as'
down_revision = '0004_load_warnings'
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
    schema = ops_schema()
    op.add_column(table('load_batches'), sa.Column('encoding', sa.Unicode(length=16),
                                                   nullable=True), schema=schema)
    op.add_column(table('load_batches'), sa.Column('delimiter', sa.Unicode(length=16),
                                                   nullable=True), schema=schema)


def downgrade_ops():
    schema = ops_schema()
    op.drop_column(table('load_batches'), 'delimiter', schema=schema)
    op.drop_column(table('load_batches'), 'encoding', schema=schema)
