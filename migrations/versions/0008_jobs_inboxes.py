"""Scheduled jobs and inbox folders: job runs and scheduler ticks (ops, beside the load batches
and the locks the jobs take); inbox definitions and the files they are waiting for (app, beside
the audit log that records every change to an inbox)

Revision ID: 0008_jobs_inboxes
Revises: 0007_saved_views
Create Date: 2026-11-30 04:30:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mssql

from app.migration_support import app_schema, ops_schema, table

# revision identifiers, used by Alembic.
revision = '0008_jobs_inboxes'
down_revision = '0007_saved_views'
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
    inboxes = op.create_table(table('inboxes'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Unicode(length=64), nullable=False),
    sa.Column('folder', sa.Unicode(length=1000), nullable=False),
    sa.Column('dataset', sa.Unicode(length=32), nullable=False),
    sa.Column('mode', sa.Unicode(length=16), nullable=False),
    sa.Column('pattern', sa.Unicode(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inboxes')),
    sa.UniqueConstraint('name', name=op.f('uq_inboxes_name')),
    schema=schema,
    )
    op.create_table(table('inbox_sightings'),
    sa.Column('inbox_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('file_name', sa.Unicode(length=400), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('seen_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['inbox_id'], [inboxes.c.id],
                            name=op.f('fk_inbox_sightings_inbox_id_inboxes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inbox_id', 'file_name', name=op.f('pk_inbox_sightings')),
    schema=schema,
    )


def downgrade_():
    schema = app_schema()
    op.drop_table(table('inbox_sightings'), schema=schema)
    op.drop_table(table('inboxes'), schema=schema)


def upgrade_ops():
    schema = ops_schema()
    op.create_table(table('job_runs'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.Unicode(length=64), nullable=False),
    sa.Column('started_at', UTC_DATETIME, nullable=False),
    sa.Column('finished_at', UTC_DATETIME, nullable=True),
    sa.Column('host', sa.Unicode(length=128), nullable=False),
    sa.Column('outcome', sa.Unicode(length=16), nullable=False),
    sa.Column('summary', sa.Unicode(length=4000), nullable=True),
    sa.Column('error', LONG_TEXT, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    schema=schema,
    )
    op.create_index('ix_job_runs_job_started', table('job_runs'), ['job', 'started_at'],
                    unique=False, schema=schema)
    op.create_index('ix_job_runs_started', table('job_runs'), ['started_at'], unique=False,
                    schema=schema)
    op.create_table(table('scheduler_ticks'),
    sa.Column('host', sa.Unicode(length=128), autoincrement=False, nullable=False),
    sa.Column('ticked_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_scheduler_ticks')),
    schema=schema,
    )


def downgrade_ops():
    schema = ops_schema()
    op.drop_table(table('scheduler_ticks'), schema=schema)
    op.drop_index('ix_job_runs_started', table_name=table('job_runs'), schema=schema)
    op.drop_index('ix_job_runs_job_started', table_name=table('job_runs'), schema=schema)
    op.drop_table(table('job_runs'), schema=schema)
