"""Source profiles admins define (app database, next to the audit log that records every change
to them): how one platform's export maps to a dataset. The definition is JSON text checked by
``app.profiles.definition`` before it is stored."""
from datetime import datetime

from sqlalchemy import Integer, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from config import APP_SCHEMA_KEY

from ..clock import utc_now
from ..extensions import db
from .types import LongText, UtcDateTime, table_args


class SourceProfile(db.Model):
    __tablename__ = 'source_profiles'
    __table_args__ = table_args(APP_SCHEMA_KEY)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(100), unique=True, nullable=False)
    dataset: Mapped[str] = mapped_column(Unicode(32), nullable=False)
    #: The definition's JSON text (format 1), NVARCHAR(max) on SQL Server.
    definition: Mapped[str] = mapped_column(LongText, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    updated_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)

    def __repr__(self) -> str:
        return f'<SourceProfile {self.name} {self.dataset}>'
