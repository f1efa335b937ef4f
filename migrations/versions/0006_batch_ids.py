"""Load batch ids are never reused; undo history of batches that no longer exist is removed

Undo finds a batch's earlier row versions by the batch id, so an id handed out twice would let
undoing a new batch restore rows from before ``seed-demo --force``. PostgreSQL sequences and
SQL Server IDENTITY never reuse a number; SQLite does unless the table is AUTOINCREMENT, which
needs a table rebuild. Version rows whose batch was deleted are removed on every database.

Revision ID: 0006_batch_ids
Revises: 0005_load_read_as
Create Date: 2026-11-30 04:20:00

"""
from alembic import op
import sqlalchemy as sa

from app.migration_support import ops_schema, table

# revision identifiers, used by Alembic.
revision = '0006_batch_ids'
down_revision = '0005_load_read_as'
branch_labels = None
depends_on = None

VERSION_TABLES = ('flow_versions', 'response_versions')


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
    batches = sa.table(table('load_batches'), sa.column('id', sa.Integer()), schema=schema)
    for name in VERSION_TABLES:
        versions = sa.table(table(name), sa.column('superseded_by', sa.Integer()), schema=schema)
        op.execute(versions.delete().where(versions.c.superseded_by.not_in(
            sa.select(batches.c.id))))
    if op.get_context().dialect.name == 'sqlite':
        _rebuild_load_batches(schema, autoincrement=True)


def downgrade_ops():
    if op.get_context().dialect.name == 'sqlite':
        _rebuild_load_batches(ops_schema(), autoincrement=False)


def _rebuild_load_batches(schema, autoincrement: bool):
    """Rebuild load_batches (SQLite sets AUTOINCREMENT only when creating a table). Dropping the
    old table would cascade to its problems (foreign keys are on), so they are kept aside
    and put back; ids are copied, so the sequence starts after the highest one."""
    errors, kept = table('load_errors'), table('_keep_load_errors')
    prefix = f'"{schema}".' if schema else ''
    op.execute(f'CREATE TABLE {prefix}"{kept}" AS SELECT * FROM {prefix}"{errors}"')
    with op.batch_alter_table(table('load_batches'), schema=schema, recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass
    op.execute(f'INSERT INTO {prefix}"{errors}" SELECT * FROM {prefix}"{kept}"')
    op.execute(f'DROP TABLE {prefix}"{kept}"')
