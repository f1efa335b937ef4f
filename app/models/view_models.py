"""App-bind model of saved views: a named, normalised query string of the responses or flows
page (app/saved_views)."""
from datetime import datetime

from sqlalchemy import Boolean, Integer, Unicode, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from config import APP_SCHEMA_KEY

from ..clock import utc_now
from ..extensions import db
from .types import UtcDateTime, table_args

#: The pages a view can be saved from.
VIEW_PAGES = ('responses', 'flows')
VIEW_NAME_MAX = 100
VIEW_QUERY_MAX = 2000


class SavedView(db.Model):
    """One person's saved filters. Private to its owner unless ``shared``; an admin can make a
    shared view the default of a team (``team``, a flow owner team), which lists it under that
    team in everybody's Views menu. ``owner_default`` marks the owner's personal default for
    ``page``. ``query`` is normalised and written in query format ``query_version``."""
    __tablename__ = 'saved_views'
    __table_args__ = table_args(
        APP_SCHEMA_KEY,
        UniqueConstraint('owner_login', 'page', 'name', name='uq_saved_views_owner_page_name'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_login: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    name: Mapped[str] = mapped_column(Unicode(VIEW_NAME_MAX), nullable=False)
    page: Mapped[str] = mapped_column(Unicode(16), nullable=False)
    query: Mapped[str] = mapped_column(Unicode(VIEW_QUERY_MAX), nullable=False, default='')
    query_version: Mapped[int] = mapped_column(Integer, nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    team: Mapped[str | None] = mapped_column(Unicode(100), index=True)
    owner_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now,
                                                 onupdate=utc_now)

    def __repr__(self) -> str:
        return f'<SavedView {self.id} {self.owner_login} {self.page} {self.name!r}>'
