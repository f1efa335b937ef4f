"""How a load or an undo opens and abandons its one transaction on the ops bind."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


def begin_write(connection: Connection) -> None:
    """Start the load's transaction. SQLite takes its write lock up front (BEGIN IMMEDIATE),
    so a load never fails half-way on a lock; readers go on reading (WAL)."""
    if connection.dialect.name == 'sqlite':
        connection.exec_driver_sql('BEGIN IMMEDIATE')
    else:
        connection.begin()


def rollback_quietly(connection: Connection) -> None:
    """Roll back after a failure. A connection the database has dropped cannot roll back,
    and need not: the server discarded its transaction with the session."""
    try:
        connection.rollback()
    except DBAPIError as error:
        current_app.logger.warning('Rollback on a lost connection: %s',
                                   str(error.orig).splitlines()[0][:200])
