"""Initial tables of both databases: users and audit log (app); flows, responses and load
batches, daily summary (ops)

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:03:17.829754

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from app.migration_support import app_schema, ops_schema, table

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    schema = app_schema()
    op.create_table(table('audit_events'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql'), nullable=False),
    sa.Column('actor', sa.Unicode(length=256), nullable=False),
    sa.Column('action', sa.Unicode(length=64), nullable=False),
    sa.Column('target', sa.Unicode(length=256), nullable=True),
    sa.Column('detail', sa.UnicodeText().with_variant(mssql.NVARCHAR(), 'mssql'), nullable=True),
    sa.Column('remote_addr', sa.Unicode(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    schema=schema,
    )
    op.create_index('ix_audit_events_action_at', table('audit_events'), ['action', 'at'], unique=False, schema=schema)
    op.create_index('ix_audit_events_actor_at', table('audit_events'), ['actor', 'at'], unique=False, schema=schema)
    op.create_index('ix_audit_events_at', table('audit_events'), ['at'], unique=False, schema=schema)

    op.create_table(table('users'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.Unicode(length=256), nullable=False),
    sa.Column('display_name', sa.Unicode(length=256), nullable=False),
    sa.Column('role', sa.Unicode(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('first_seen', sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql'), nullable=False),
    sa.Column('last_seen', sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('login', name=op.f('uq_users_login')),
    schema=schema,
    )


def downgrade_():
    schema = app_schema()
    op.drop_table(table('users'), schema=schema)
    op.drop_index('ix_audit_events_at', table_name=table('audit_events'), schema=schema)
    op.drop_index('ix_audit_events_actor_at', table_name=table('audit_events'), schema=schema)
    op.drop_index('ix_audit_events_action_at', table_name=table('audit_events'), schema=schema)

    op.drop_table(table('audit_events'), schema=schema)


def upgrade_ops():
    schema = ops_schema()
    flows = op.create_table(table('flows'),
    sa.Column('flow_code', sa.Unicode(length=32), autoincrement=False, nullable=False),
    sa.Column('name', sa.Unicode(length=200), nullable=False),
    sa.Column('flow_type', sa.Unicode(length=8), nullable=False),
    sa.Column('source_system', sa.Unicode(length=100), nullable=False),
    sa.Column('target_system', sa.Unicode(length=100), nullable=False),
    sa.Column('owner_team', sa.Unicode(length=100), nullable=True),
    sa.Column('owner_email', sa.Unicode(length=254), nullable=True),
    sa.Column('schedule', sa.Unicode(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Unicode(length=4000), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('flow_code', name=op.f('pk_flows')),
    schema=schema,
    )
    op.create_index('ix_flows_owner_team', table('flows'), ['owner_team'], unique=False, schema=schema)
    op.create_index('ix_flows_source_system', table('flows'), ['source_system'], unique=False, schema=schema)

    load_batches = op.create_table(table('load_batches'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset', sa.Unicode(length=32), nullable=False),
    sa.Column('mode', sa.Unicode(length=16), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('file_name', sa.Unicode(length=260), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.Unicode(length=64), nullable=True),
    sa.Column('loaded_by', sa.Unicode(length=256), nullable=False),
    sa.Column('started_at', sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql'), nullable=False),
    sa.Column('finished_at', sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql'), nullable=True),
    sa.Column('status', sa.Unicode(length=16), nullable=False),
    sa.Column('rows_read', sa.BigInteger(), nullable=False),
    sa.Column('inserted', sa.BigInteger(), nullable=False),
    sa.Column('updated', sa.BigInteger(), nullable=False),
    sa.Column('unchanged', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.BigInteger(), nullable=False),
    sa.Column('error_count', sa.BigInteger(), nullable=False),
    sa.Column('message', sa.Unicode(length=4000), nullable=True),
    sa.Column('undo_of', sa.Integer(), nullable=True),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_load_batches')),
    schema=schema,
    )
    op.create_index('ix_load_batches_dataset_started', table('load_batches'), ['dataset', 'started_at'], unique=False, schema=schema)

    op.create_table(table('load_errors'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.BigInteger(), nullable=True),
    sa.Column('column', sa.Unicode(length=128), nullable=True),
    sa.Column('value', sa.Unicode(length=200), nullable=True),
    sa.Column('message', sa.Unicode(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], [load_batches.c.id], name=op.f('fk_load_errors_batch_id_load_batches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_load_errors')),
    schema=schema,
    )
    op.create_index('ix_load_errors_batch_id', table('load_errors'), ['batch_id', 'id'], unique=False, schema=schema)

    op.create_table(table('responses'),
    sa.Column('response_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('flow_code', sa.Unicode(length=32), nullable=False),
    sa.Column('responded_at', sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql'), nullable=False),
    sa.Column('status', sa.Unicode(length=8), nullable=False),
    sa.Column('result_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('error_reason', sa.Unicode(length=4000), nullable=True),
    sa.Column('payload_bytes', sa.BigInteger(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['flow_code'], [flows.c.flow_code], name=op.f('fk_responses_flow_code_flows')),
    sa.PrimaryKeyConstraint('response_id', name=op.f('pk_responses')),
    schema=schema,
    )
    op.create_index('ix_responses_batch_id', table('responses'), ['batch_id'], unique=False, schema=schema)
    op.create_index('ix_responses_flow_time', table('responses'), ['flow_code', 'responded_at', 'response_id'], unique=False, schema=schema)
    op.create_index('ix_responses_responded_at', table('responses'), ['responded_at', 'response_id'], unique=False, schema=schema)
    op.create_index('ix_responses_status_time', table('responses'), ['status', 'responded_at', 'response_id'], unique=False, schema=schema)


    op.create_table(table('response_daily'),
    sa.Column('day', sa.Date().with_variant(mssql.DATE(), 'mssql'), nullable=False),
    sa.Column('flow_code', sa.Unicode(length=32), nullable=False),
    sa.Column('status', sa.Unicode(length=8), nullable=False),
    sa.Column('responses', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms_sum', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('day', 'flow_code', 'status', name=op.f('pk_response_daily')),
    schema=schema,
    )
    op.create_index('ix_response_daily_flow_day', table('response_daily'), ['flow_code', 'day'], unique=False, schema=schema)


def downgrade_ops():
    schema = ops_schema()
    op.drop_index('ix_response_daily_flow_day', table_name=table('response_daily'), schema=schema)
    op.drop_table(table('response_daily'), schema=schema)
    op.drop_index('ix_responses_status_time', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_responded_at', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_flow_time', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_batch_id', table_name=table('responses'), schema=schema)

    op.drop_table(table('responses'), schema=schema)
    op.drop_index('ix_load_errors_batch_id', table_name=table('load_errors'), schema=schema)

    op.drop_table(table('load_errors'), schema=schema)
    op.drop_index('ix_load_batches_dataset_started', table_name=table('load_batches'), schema=schema)

    op.drop_table(table('load_batches'), schema=schema)
    op.drop_index('ix_flows_source_system', table_name=table('flows'), schema=schema)
    op.drop_index('ix_flows_owner_team', table_name=table('flows'), schema=schema)

    op.drop_table(table('flows'), schema=schema)

