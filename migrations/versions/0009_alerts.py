"""Alerts and incidents: alert rules, the incidents they open and each incident's timeline, the
notices queued for delivery (the delivery log), subscriptions and profile e-mail addresses (app
database, next to the audit log that records rule changes and who acknowledged what). The ops
database is unchanged: evaluation only reads it.

Revision ID: 0009_alerts
Revises: 0008_jobs_inboxes
Create Date: 2026-11-30 05:30:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mssql

from app.migration_support import app_schema, table

# revision identifiers, used by Alembic.
revision = '0009_alerts'
down_revision = '0008_jobs_inboxes'
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mssql.DATETIME2(precision=6), 'mssql')
OPEN_ONLY = sa.text('open_key IS NOT NULL')


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    schema = app_schema()
    rules = op.create_table(table('alert_rules'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Unicode(length=100), nullable=False),
    sa.Column('scope', sa.Unicode(length=16), nullable=False),
    sa.Column('scope_value', sa.Unicode(length=4000), nullable=True),
    sa.Column('condition', sa.Unicode(length=16), nullable=False),
    sa.Column('threshold_percent', sa.Integer(), nullable=True),
    sa.Column('window_minutes', sa.Integer(), nullable=True),
    sa.Column('min_responses', sa.Integer(), nullable=True),
    sa.Column('consecutive_errors', sa.Integer(), nullable=True),
    sa.Column('use_schedule', sa.Boolean(), nullable=False),
    sa.Column('severity', sa.Unicode(length=16), nullable=False),
    sa.Column('recipients', sa.Unicode(length=4000), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_rules_name')),
    schema=schema,
    )
    incidents = op.create_table(table('incidents'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Unicode(length=8), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('rule_name', sa.Unicode(length=100), nullable=True),
    sa.Column('flow_code', sa.Unicode(length=32), nullable=True),
    sa.Column('open_key', sa.Unicode(length=64), nullable=True),
    sa.Column('severity', sa.Unicode(length=16), nullable=False),
    sa.Column('title', sa.Unicode(length=400), nullable=False),
    sa.Column('detail', sa.Unicode(length=4000), nullable=True),
    sa.Column('status', sa.Unicode(length=16), nullable=False),
    sa.Column('opened_at', UTC_DATETIME, nullable=False),
    sa.Column('seen_at', UTC_DATETIME, nullable=False),
    sa.Column('acknowledged_at', UTC_DATETIME, nullable=True),
    sa.Column('acknowledged_by', sa.Unicode(length=256), nullable=True),
    sa.Column('resolved_at', UTC_DATETIME, nullable=True),
    sa.Column('resolved_by', sa.Unicode(length=256), nullable=True),
    sa.Column('notified_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], [rules.c.id], name=op.f('fk_incidents_rule_id_alert_rules'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    schema=schema,
    )
    op.create_index('ix_incidents_open_key', table('incidents'), ['open_key'], unique=True,
                    schema=schema, sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY,
                    mssql_where=OPEN_ONLY)
    op.create_index('ix_incidents_status_opened', table('incidents'), ['status', 'opened_at'],
                    unique=False, schema=schema)
    op.create_index('ix_incidents_flow_opened', table('incidents'), ['flow_code', 'opened_at'],
                    unique=False, schema=schema)
    op.create_table(table('incident_events'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('actor', sa.Unicode(length=256), nullable=False),
    sa.Column('kind', sa.Unicode(length=16), nullable=False),
    sa.Column('text', sa.Unicode(length=4000), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], [incidents.c.id],
                            name=op.f('fk_incident_events_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events')),
    schema=schema,
    )
    op.create_index('ix_incident_events_incident', table('incident_events'),
                    ['incident_id', 'id'], unique=False, schema=schema)
    op.create_table(table('alert_notices'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.Unicode(length=16), nullable=False),
    sa.Column('recipient', sa.Unicode(length=1000), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('status', sa.Unicode(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTC_DATETIME, nullable=False),
    sa.Column('claim', sa.Unicode(length=64), nullable=True),
    sa.Column('claimed_at', UTC_DATETIME, nullable=True),
    sa.Column('sent_at', UTC_DATETIME, nullable=True),
    sa.Column('last_error', sa.Unicode(length=4000), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], [incidents.c.id],
                            name=op.f('fk_alert_notices_incident_id_incidents'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_notices')),
    schema=schema,
    )
    op.create_index('ix_alert_notices_status_due', table('alert_notices'),
                    ['status', 'next_attempt_at'], unique=False, schema=schema)
    op.create_index('ix_alert_notices_created', table('alert_notices'), ['created_at'],
                    unique=False, schema=schema)
    op.create_table(table('alert_subscriptions'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.Unicode(length=256), nullable=False),
    sa.Column('kind', sa.Unicode(length=8), nullable=False),
    sa.Column('value', sa.Unicode(length=200), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscriptions')),
    sa.UniqueConstraint('login', 'kind', 'value', name='uq_alert_subscriptions_login_kind_value'),
    schema=schema,
    )
    op.create_index('ix_alert_subscriptions_kind_value', table('alert_subscriptions'),
                    ['kind', 'value'], unique=False, schema=schema)
    op.create_table(table('user_profiles'),
    sa.Column('login', sa.Unicode(length=256), autoincrement=False, nullable=False),
    sa.Column('email', sa.Unicode(length=254), nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('login', name=op.f('pk_user_profiles')),
    schema=schema,
    )


def downgrade_():
    schema = app_schema()
    op.drop_table(table('user_profiles'), schema=schema)
    op.drop_index('ix_alert_subscriptions_kind_value', table_name=table('alert_subscriptions'),
                  schema=schema)
    op.drop_table(table('alert_subscriptions'), schema=schema)
    for name in ('ix_alert_notices_created', 'ix_alert_notices_status_due'):
        op.drop_index(name, table_name=table('alert_notices'), schema=schema)
    op.drop_table(table('alert_notices'), schema=schema)
    op.drop_index('ix_incident_events_incident', table_name=table('incident_events'),
                  schema=schema)
    op.drop_table(table('incident_events'), schema=schema)
    for name in ('ix_incidents_flow_opened', 'ix_incidents_status_opened', 'ix_incidents_open_key'):
        op.drop_index(name, table_name=table('incidents'), schema=schema)
    op.drop_table(table('incidents'), schema=schema)
    op.drop_table(table('alert_rules'), schema=schema)


def upgrade_ops():
    pass


def downgrade_ops():
    pass
