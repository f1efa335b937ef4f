"""Source profiles: the profiles admins define (app, beside the audit log that records every
change to them) and the profile an inbox maps its files with; on the ops database, the profile
each load batch was mapped with (so a dry run loads the same way afterwards).

Revision ID: 0011_source_profiles
Revises: 0012_duration_sort
Create Date: 2026-11-30 08:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mssql

from app.migration_support import app_schema, ops_schema, table

# revision identifiers, used by Alembic.
revision = '0011_source_profiles'
down_revision = '0010_message_ids'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql')
LONG_TEXT = sa.UnicodeText().with_variant(mssql.NVARCHAR(), 'mssql')


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    schema = app_schema()
    op.create_table(table('source_profiles'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Unicode(length=100), nullable=False),
    sa.Column('dataset', sa.Unicode(length=32), nullable=False),
    sa.Column('definition', LONG_TEXT, nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_by', sa.Unicode(length=256), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_profiles')),
    sa.UniqueConstraint('name', name=op.f('uq_source_profiles_name')),
    schema=schema,
    )
    op.add_column(table('inboxes'), sa.Column('profile', sa.Unicode(length=100), nullable=True),
                  schema=schema)


def downgrade_():
    schema = app_schema()
    op.drop_column(table('inboxes'), 'profile', schema=schema)
    op.drop_table(table('source_profiles'), schema=schema)


def upgrade_ops():
    op.add_column(table('load_batches'), sa.Column('profile', sa.Unicode(length=100),
                                                   nullable=True), schema=ops_schema())


def downgrade_ops():
    op.drop_column(table('load_batches'), 'profile', schema=ops_schema())
