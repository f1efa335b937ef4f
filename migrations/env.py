"""Alembic environment for Flowdesk's two databases (binds).

- Every bind is migrated with its own metadata and its own ``alembic_version`` table, kept in
  the bind's configured schema (APP_SCHEMA / OPS_SCHEMA).
- Migration scripts name the configured schema themselves (``app.migration_support``), because
  offline mode (``flask db upgrade --sql``) does not apply ``schema_translate_map``.
- ``--sql`` prints one script for both databases to standard output, ready for a DBA; the
  schemas are created first when missing.
"""
import logging
import sys
from logging.config import fileConfig

from alembic import context
from flask import current_app

from app.migration_support import BIND_NAMES, create_schema_sql, engine_of, metadata_for, schema_of, url_of
from app.reason_text_index import is_text_index_object

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def run_migrations_offline():
    """Print the SQL of every pending migration, database by database."""
    out = context.config.output_buffer or sys.stdout
    for name in BIND_NAMES:
        url = url_of(name)
        schema = schema_of(name)
        out.write(f'\n-- ===== Flowdesk {name or "app"} database'
                  f' (schema {schema or "default"}) =====\n')
        context.configure(
            url=url,
            output_buffer=out,
            target_metadata=metadata_for(name),
            literal_binds=True,
            version_table_schema=schema,
            transactional_ddl=True,
        )
        statement = create_schema_sql(context.get_context().dialect, schema)
        with context.begin_transaction():
            if statement:
                context.execute(statement)
            context.run_migrations(engine_name=name)


def only_schema(schema):
    """Autogenerate looks at the bind's configured schema only, and leaves the error-reason
    dictionary's text index alone (no model describes it: app/reason_text_index.py)."""
    def include_name(name, type_, _parent_names):
        if type_ in ('table', 'index') and is_text_index_object(name):
            return False
        return type_ != 'schema' or name == (str(schema) if schema else None)
    return include_name


def run_migrations_online():
    def process_revision_directives(_context, _revision, directives):
        """Write no empty migration when autogenerate finds nothing to do."""
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            complete = len(script.upgrade_ops_list) >= len(BIND_NAMES)
            if complete and all(ops.is_empty() for ops in script.upgrade_ops_list):
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = dict(current_app.extensions['migrate'].configure_args)
    conf_args.setdefault('process_revision_directives', process_revision_directives)

    connections = {}
    try:
        for name in BIND_NAMES:
            connection = engine_of(name).connect()
            transaction = connection.begin()
            connections[name] = (connection, transaction)
        for name, (connection, _transaction) in connections.items():
            logger.info('Migrating the %s database', name or 'app')
            schema = schema_of(name)
            statement = create_schema_sql(connection.dialect, schema)
            if statement:
                connection.exec_driver_sql(statement)
            context.configure(
                connection=connection,
                upgrade_token=f'{name}_upgrades',
                downgrade_token=f'{name}_downgrades',
                target_metadata=metadata_for(name),
                version_table_schema=schema,
                include_schemas=bool(schema),
                include_name=only_schema(schema),
                **conf_args,
            )
            context.run_migrations(engine_name=name)
        for _connection, transaction in connections.values():
            transaction.commit()
    except BaseException:
        for _connection, transaction in connections.values():
            if transaction.is_active:
                transaction.rollback()
        raise
    finally:
        for connection, _transaction in connections.values():
            connection.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
