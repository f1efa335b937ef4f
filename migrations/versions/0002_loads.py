"""Prior versions of flows and responses, kept per load batch so a load can be undone

Revision ID: 0002_loads
Revises: 0001
Create Date: 2026-11-22 03:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0002_loads'
down_revision = '0001'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql')


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
    op.create_table(table('flow_versions'),
    sa.Column('superseded_by', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('change', sa.Unicode(length=8), nullable=False),
    sa.Column('flow_code', sa.Unicode(length=32), autoincrement=False, nullable=False),
    sa.Column('name', sa.Unicode(length=200), autoincrement=False, nullable=False),
    sa.Column('flow_type', sa.Unicode(length=8), autoincrement=False, nullable=False),
    sa.Column('source_system', sa.Unicode(length=100), autoincrement=False, nullable=False),
    sa.Column('target_system', sa.Unicode(length=100), autoincrement=False, nullable=False),
    sa.Column('owner_team', sa.Unicode(length=100), autoincrement=False, nullable=True),
    sa.Column('owner_email', sa.Unicode(length=254), autoincrement=False, nullable=True),
    sa.Column('schedule', sa.Unicode(length=100), autoincrement=False, nullable=True),
    sa.Column('active', sa.Boolean(), autoincrement=False, nullable=False),
    sa.Column('description', sa.Unicode(length=4000), autoincrement=False, nullable=True),
    sa.Column('batch_id', sa.Integer(), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('superseded_by', 'flow_code', name=op.f('pk_flow_versions')),
    schema=schema,
    )
    op.create_table(table('response_versions'),
    sa.Column('superseded_by', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('change', sa.Unicode(length=8), nullable=False),
    sa.Column('response_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('flow_code', sa.Unicode(length=32), autoincrement=False, nullable=False),
    sa.Column('responded_at', UTC_DATETIME, autoincrement=False, nullable=False),
    sa.Column('status', sa.Unicode(length=8), autoincrement=False, nullable=False),
    sa.Column('result_code', sa.Integer(), autoincrement=False, nullable=True),
    sa.Column('duration_ms', sa.Integer(), autoincrement=False, nullable=True),
    sa.Column('error_reason', sa.Unicode(length=4000), autoincrement=False, nullable=True),
    sa.Column('payload_bytes', sa.BigInteger(), autoincrement=False, nullable=True),
    sa.Column('batch_id', sa.Integer(), autoincrement=False, nullable=True),
    sa.PrimaryKeyConstraint('superseded_by', 'response_id', name=op.f('pk_response_versions')),
    schema=schema,
    )


def downgrade_ops():
    schema = ops_schema()
    op.drop_table(table('response_versions'), schema=schema)
    op.drop_table(table('flow_versions'), schema=schema)
