"""Ops-bind tables that make loads undoable: the prior version of every row a load updated or
deleted, kept per batch (``superseded_by``) so that undoing that batch restores it exactly.

A version table has the dataset table's columns (including the row's own earlier
``batch_id``) plus ``superseded_by`` (the batch that changed the row) and ``change``
('updated' or 'deleted'). Rows a load inserted need no version: they carry the batch's id.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, Table, Unicode

from config import OPS_SCHEMA_KEY

from ..extensions import db
from .ops_models import Flow, Response

CHANGE_UPDATED = 'updated'
CHANGE_DELETED = 'deleted'


def version_table(model, name: str, types: dict | None = None) -> Table:
    """The version table of a dataset table: same columns, keyed by (superseded_by, key);
    ``types`` overrides a column's type (a rowid key is a plain BIGINT here)."""
    columns = [
        Column('superseded_by', Integer, primary_key=True, autoincrement=False),
        Column('change', Unicode(8), nullable=False),
    ]
    types = types or {}
    for column in model.__table__.columns:
        columns.append(Column(column.name, types.get(column.name, column.type),
                              primary_key=column.primary_key,
                              autoincrement=False,
                              nullable=column.nullable and not column.primary_key))
    return db.Table(name, *columns, bind_key='ops', schema=OPS_SCHEMA_KEY, quote=True,
                    quote_schema=True)


class FlowVersion(db.Model):
    __table__ = version_table(Flow, 'flow_versions')

    def __repr__(self) -> str:
        return f'<FlowVersion {self.flow_code} superseded by {self.superseded_by}>'


class ResponseVersion(db.Model):
    __table__ = version_table(Response, 'response_versions', {'response_id': BigInteger()})

    def __repr__(self) -> str:
        return f'<ResponseVersion {self.response_id} superseded by {self.superseded_by}>'
