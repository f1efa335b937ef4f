"""Employee pages: indexes for the result-code and flow + status filters, and the error-reason dictionary behind text search

The dictionary (``error_reasons``) holds each distinct reason once under a 64-bit hash;
``responses.reason_hash`` (and the same column in ``response_versions``, for undo) names it,
read through one partial (SQL Server: filtered) index. See app/browse/search_index.py.

Revision ID: 0003_browse
Revises: 0002_loads
Create Date: 2026-11-22 04:00:00

"""
from alembic import context, op
import sqlalchemy as sa

from app.error_reasons import LOOKUP_CHUNK, reason_hash
from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0003_browse'
down_revision = '0002_loads'
branch_labels = None
depends_on = None

HAS_REASON = 'reason_hash IS NOT NULL'


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
    op.create_index('ix_responses_result_code_time', table('responses'),
                    ['result_code', 'responded_at', 'response_id'], unique=False, schema=schema)
    op.create_index('ix_responses_flow_status_time', table('responses'),
                    ['flow_code', 'status', 'responded_at', 'response_id'], unique=False,
                    schema=schema)
    op.create_table(table('error_reasons'),
    sa.Column('reason_hash', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('error_reason', sa.Unicode(length=4000), nullable=False),
    sa.PrimaryKeyConstraint('reason_hash', name=op.f('pk_error_reasons')),
    schema=schema,
    )
    op.add_column(table('responses'), sa.Column('reason_hash', sa.BigInteger(), nullable=True),
                  schema=schema)
    op.add_column(table('response_versions'),
                  sa.Column('reason_hash', sa.BigInteger(), autoincrement=False, nullable=True),
                  schema=schema)
    if not context.is_offline_mode():
        _fill_reason_hashes(schema)
    op.create_index('ix_responses_reason_time', table('responses'),
                    ['reason_hash', 'responded_at', 'response_id'], unique=False, schema=schema,
                    sqlite_where=sa.text(HAS_REASON), postgresql_where=sa.text(HAS_REASON),
                    mssql_where=sa.text(HAS_REASON))


def _fill_reason_hashes(schema):
    """Rows loaded before this revision get their hashes and dictionary entries (a database
    migrated offline with --sql is new, so it has none)."""
    connection = op.get_bind()
    reasons = sa.table(table('error_reasons'), sa.column('reason_hash', sa.BigInteger()),
                       sa.column('error_reason'), schema=schema)
    for name in ('responses', 'response_versions'):
        rows = sa.table(table(name), sa.column('reason_hash', sa.BigInteger()),
                        sa.column('error_reason'), schema=schema)
        texts = list(connection.execute(
            sa.select(rows.c.error_reason).where(rows.c.error_reason.is_not(None)).distinct())
            .scalars())
        for start in range(0, len(texts), LOOKUP_CHUNK):
            part = {reason_hash(text): text for text in texts[start:start + LOOKUP_CHUNK]}
            stored = set(connection.execute(sa.select(reasons.c.reason_hash).where(
                reasons.c.reason_hash.in_(list(part)))).scalars())
            new = [{'reason_hash': h, 'error_reason': t} for h, t in part.items()
                   if h not in stored]
            if new:
                connection.execute(reasons.insert(), new)
            connection.execute(
                rows.update().where(rows.c.error_reason == sa.bindparam('reason'))
                .values(reason_hash=sa.bindparam('hashed')),
                [{'reason': t, 'hashed': h} for h, t in part.items()])


def downgrade_ops():
    schema = ops_schema()
    op.drop_index('ix_responses_reason_time', table_name=table('responses'), schema=schema)
    op.drop_column(table('response_versions'), 'reason_hash', schema=schema)
    op.drop_column(table('responses'), 'reason_hash', schema=schema)
    op.drop_table(table('error_reasons'), schema=schema)
    op.drop_index('ix_responses_flow_status_time', table_name=table('responses'), schema=schema)
    op.drop_index('ix_responses_result_code_time', table_name=table('responses'), schema=schema)
