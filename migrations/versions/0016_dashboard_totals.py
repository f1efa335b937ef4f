"""The dashboard at any table size: two small summaries beside the daily one, on the ops
database. ``response_day_totals`` holds responses per UTC day and status over all flows (the
daily summary summed over flows: the total, the daily chart and the API's daily figures read a
few rows a day instead of one per flow); ``response_hourly`` holds responses per UTC hour and
status (the last 24 hours against the 24 before read whole hours there). Both are filled from
the data already there. The daily summary gains ix_response_daily_status_day (status, day,
flow_code, responses): the week of ERROR rows behind the top failing flows, read from the index
alone. The app database is unchanged.

Revision ID: 0016_dashboard_totals
Revises: 0014_load_speed
Create Date: 2026-11-30 11:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mssql

from app.migration_support import ops_schema, table
from app.summary import day_of, hour_of

# revision identifiers, used by Alembic.
revision = '0016_dashboard_totals'
down_revision = '0015_reason_filters'
branch_labels = None
depends_on = None

DAY = sa.Date().with_variant(mssql.DATE(), 'mssql')


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
    op.create_table(
        table('response_day_totals'),
        sa.Column('day', DAY, nullable=False),
        sa.Column('status', sa.Unicode(length=8), nullable=False),
        sa.Column('responses', sa.BigInteger(), nullable=False),
        sa.Column('duration_ms_sum', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('day', 'status', name=op.f('pk_response_day_totals')),
        schema=schema,
    )
    op.create_table(
        table('response_hourly'),
        sa.Column('day', DAY, nullable=False),
        sa.Column('hour', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('status', sa.Unicode(length=8), nullable=False),
        sa.Column('responses', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'hour', 'status', name=op.f('pk_response_hourly')),
        schema=schema,
    )
    op.create_index('ix_response_daily_status_day', table('response_daily'),
                    ['status', 'day', 'flow_code', 'responses'], unique=False, schema=schema)
    _fill(schema)


def _fill(schema):
    """Both summaries from what is there: day totals from the daily summary (which keeps the
    days a purge removed), hours from the responses."""
    daily = sa.table(table('response_daily'), sa.column('day'), sa.column('status'),
                     sa.column('responses'), sa.column('duration_ms_sum'), schema=schema)
    responses = sa.table(table('responses'), sa.column('responded_at', sa.DateTime()),
                         sa.column('status'), schema=schema)
    totals = sa.table(table('response_day_totals'), sa.column('day'), sa.column('status'),
                      sa.column('responses'), sa.column('duration_ms_sum'), schema=schema)
    hourly = sa.table(table('response_hourly'), sa.column('day'), sa.column('hour'),
                      sa.column('status'), sa.column('responses'), schema=schema)
    op.execute(totals.insert().from_select(
        ['day', 'status', 'responses', 'duration_ms_sum'],
        sa.select(daily.c.day, daily.c.status, sa.func.sum(daily.c.responses),
                  sa.func.sum(daily.c.duration_ms_sum)).group_by(daily.c.day, daily.c.status)))
    day, hour = day_of(responses.c.responded_at), hour_of(responses.c.responded_at)
    op.execute(hourly.insert().from_select(
        ['day', 'hour', 'status', 'responses'],
        sa.select(day, hour, responses.c.status, sa.func.count())
        .group_by(day, hour, responses.c.status)))


def downgrade_ops():
    schema = ops_schema()
    op.drop_index('ix_response_daily_status_day', table_name=table('response_daily'),
                  schema=schema)
    op.drop_table(table('response_hourly'), schema=schema)
    op.drop_table(table('response_day_totals'), schema=schema)
