"""Message and correlation ids: the source's own id of each response and the id that ties the
runs of one business message together across flows, each with a partial (SQL Server: filtered)
index for exact search in time order (the responses page's "id" box and the trace on a
response's page). The version table keeps both so that undo restores them exactly.

Revision ID: 0010_message_ids
Revises: 0009_alerts
Create Date: 2026-11-30 07:30:00

"""
import sqlalchemy as sa
from alembic import op

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0010_message_ids'
down_revision = '0009_alerts'
branch_labels = None
depends_on = None

#: column -> (length, index name); the lengths are MESSAGE_ID_LENGTH and CORRELATION_ID_LENGTH
#: of app/models/ops_models.py as they were when this revision was written.
ID_COLUMNS = {
    'message_id': (100, 'ix_responses_message_time'),
    'correlation_id': (200, 'ix_responses_correlation_time'),
}


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
    for name, (length, index) in ID_COLUMNS.items():
        op.add_column(table('responses'), sa.Column(name, sa.Unicode(length=length),
                                                    nullable=True), schema=schema)
        op.add_column(table('response_versions'),
                      sa.Column(name, sa.Unicode(length=length), autoincrement=False,
                                nullable=True), schema=schema)
        present = sa.text(f'{name} IS NOT NULL')
        op.create_index(index, table('responses'), [name, 'responded_at', 'response_id'],
                        unique=False, schema=schema, sqlite_where=present,
                        postgresql_where=present, mssql_where=present)


def downgrade_ops():
    schema = ops_schema()
    for name, (_length, index) in reversed(ID_COLUMNS.items()):
        op.drop_index(index, table_name=table('responses'), schema=schema)
        op.drop_column(table('response_versions'), name, schema=schema)
        op.drop_column(table('responses'), name, schema=schema)
