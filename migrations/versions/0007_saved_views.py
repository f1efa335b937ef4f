"""Saved views: people's named filters of the responses and flows pages (app database)

Revision ID: 0007_saved_views
Revises: 0006_batch_ids
Create Date: 2026-11-30 04:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from app.migration_support import app_schema, table

# revision identifiers, used by Alembic.
revision = '0007_saved_views'
down_revision = '0006_batch_ids'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql')


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    schema = app_schema()
    op.create_table(table('saved_views'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_login', sa.Unicode(length=256), nullable=False),
    sa.Column('name', sa.Unicode(length=100), nullable=False),
    sa.Column('page', sa.Unicode(length=16), nullable=False),
    sa.Column('query', sa.Unicode(length=2000), nullable=False),
    sa.Column('query_version', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('team', sa.Unicode(length=100), nullable=True),
    sa.Column('owner_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
    sa.UniqueConstraint('owner_login', 'page', 'name', name='uq_saved_views_owner_page_name'),
    schema=schema,
    )
    op.create_index('ix_saved_views_team', table('saved_views'), ['team'], unique=False,
                    schema=schema)


def downgrade_():
    schema = app_schema()
    op.drop_index('ix_saved_views_team', table_name=table('saved_views'), schema=schema)
    op.drop_table(table('saved_views'), schema=schema)


def upgrade_ops():
    pass


def downgrade_ops():
    pass
