"""On SQLite, response_id becomes the responses table's rowid (INTEGER PRIMARY KEY), so the table
needs no separate key index: one B-tree fewer for every load, purge and id lookup

SQLite makes a column the rowid only when the table is created with it as ``INTEGER PRIMARY
KEY``, so the table is rebuilt: the same definition with the key declared INTEGER (64-bit in
SQLite, like BIGINT), the rows copied in key order, then the table's own indexes created again
from their stored definitions, and so are its triggers (so every index and trigger, whichever
revision added it, comes back as it was). PostgreSQL and SQL Server keep their BIGINT key and
its index unchanged: there the revision only records its number.

Revision ID: 0014_load_speed
Revises: 0009_alerts
Create Date: 2026-11-30 08:00:00

"""
import re

from alembic import context, op

# revision identifiers, used by Alembic.
revision = '0014_load_speed'
down_revision = '0013_reason_search'
branch_labels = None
depends_on = None

REBUILT = '_rebuild_responses'


def upgrade(engine_name):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    pass


def downgrade_():
    pass


def upgrade_ops():
    if _sqlite_online():
        _rebuild_responses(key_type='INTEGER')


def downgrade_ops():
    if _sqlite_online():
        _rebuild_responses(key_type='BIGINT')


def _sqlite_online() -> bool:
    """The rebuild reads the table's stored definition, so it needs the database itself."""
    return op.get_context().dialect.name == 'sqlite' and not context.is_offline_mode()


def _rebuild_responses(key_type: str) -> None:
    """Rebuild responses with its key declared ``key_type`` (the ops database is a file of its
    own on SQLite, without a schema)."""
    bind = op.get_bind()
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'responses'").scalar()
    # Indexes and triggers go with the dropped table: their own definitions put them back.
    index_sql = [row[0] for row in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        "AND tbl_name = 'responses' AND sql IS NOT NULL ORDER BY type, name")]
    create = re.sub(r'^CREATE TABLE (IF NOT EXISTS )?("responses"|responses)',
                    f'CREATE TABLE "{REBUILT}"', table_sql, count=1)
    create = re.sub(r'\bresponse_id\s+(BIGINT|INTEGER)\b', f'response_id {key_type}', create,
                    count=1)
    op.execute(f'DROP TABLE IF EXISTS "{REBUILT}"')
    op.execute(create)
    op.execute(f'INSERT INTO "{REBUILT}" SELECT * FROM responses ORDER BY response_id')
    op.execute('DROP TABLE responses')
    op.execute(f'ALTER TABLE "{REBUILT}" RENAME TO responses')
    for sql in index_sql:
        op.execute(sql)
