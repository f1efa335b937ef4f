"""Inbox folders admins define (app database, next to the audit log that records every change
to them), and what the inbox job saw of each waiting file at its last tick (to tell a file
still being written from one that has settled)."""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from config import APP_SCHEMA_KEY

from ..clock import utc_now
from ..extensions import db
from .types import UtcDateTime, table_args


class Inbox(db.Model):
    __tablename__ = 'inboxes'
    __table_args__ = table_args(APP_SCHEMA_KEY)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(64), unique=True, nullable=False)
    #: A local path or a UNC path (\\server\share\folder) the service account can reach.
    folder: Mapped[str] = mapped_column(Unicode(1000), nullable=False)
    dataset: Mapped[str] = mapped_column(Unicode(32), nullable=False)
    mode: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    #: Which files of the folder are loaded (a glob such as ``*.csv``).
    pattern: Mapped[str] = mapped_column(Unicode(200), nullable=False, default='*.csv')
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: The source profile its files are mapped with (None: Flowdesk's own columns).
    profile: Mapped[str | None] = mapped_column(Unicode(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)

    @property
    def actor(self) -> str:
        """Who the history and the audit log name for this inbox's loads."""
        return f'inbox:{self.name}'

    def __repr__(self) -> str:
        return f'<Inbox {self.name} {self.folder}>'


class InboxSighting(db.Model):
    """A waiting file's size and modification time when the inbox job last looked at it."""
    __tablename__ = 'inbox_sightings'
    __table_args__ = table_args(APP_SCHEMA_KEY)

    inbox_id: Mapped[int] = mapped_column(
        Integer, ForeignKey(f'{APP_SCHEMA_KEY}.inboxes.id', ondelete='CASCADE'), primary_key=True,
        autoincrement=False)
    file_name: Mapped[str] = mapped_column(Unicode(400), primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
