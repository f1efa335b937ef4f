"""Saved views: who sees and who changes which view, and the changes themselves.

- Everyone sees their own views, every shared view and every team default.
- Only the owner renames, updates, shares, unshares, deletes a view or makes it their default.
- Only an admin promotes a view to a team default (or removes it); a private view is promoted
  only by its owner, since promoting shares it. A team has one default view per page.
Every refused change raises ``ViewRefused`` with a sentence saying why; nothing is changed.
"""
from __future__ import annotations

from sqlalchemy import or_, select, update

from ..browse.filters import has_control_characters
from ..extensions import db
from ..models import SavedView
from ..models.view_models import VIEW_NAME_MAX, VIEW_PAGES, VIEW_QUERY_MAX
from .querystring import QUERY_VERSION

#: How many views one person can keep.
MAX_VIEWS_PER_PERSON = 100


class ViewRefused(Exception):
    """A change the rules do not allow; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def visible_clause(login: str):
    return or_(SavedView.owner_login == login, SavedView.shared.is_(True),
               SavedView.team.is_not(None))


def visible_views(login: str, page: str | None = None) -> list[SavedView]:
    query = select(SavedView).where(visible_clause(login))
    if page:
        query = query.where(SavedView.page == page)
    return list(db.session.scalars(query.order_by(SavedView.page, SavedView.name,
                                                  SavedView.id)))


def menu_groups(login: str) -> dict[str, list[SavedView]]:
    """The Views menu: mine, shared by others, and the team defaults."""
    groups: dict[str, list[SavedView]] = {'mine': [], 'shared': [], 'team': []}
    for view in visible_views(login):
        if view.team:
            groups['team'].append(view)
        if view.owner_login == login:
            groups['mine'].append(view)
        elif view.shared and not view.team:
            groups['shared'].append(view)
    groups['team'].sort(key=lambda v: (v.team.lower(), v.page))
    return groups


def get_visible(view_id: int, login: str) -> SavedView:
    """The view, or ViewRefused(404) when it does not exist or is someone else's private one
    (the two are told apart by nobody but the owner)."""
    view = db.session.get(SavedView, view_id)
    if view is None or not (view.owner_login == login or view.shared or view.team):
        raise ViewRefused(f'There is no saved view {view_id} you can open. It may have been '
                          'deleted, or its owner keeps it private.', 404)
    return view


def get_own(view_id: int, login: str) -> SavedView:
    view = get_visible(view_id, login)
    if view.owner_login != login:
        raise ViewRefused(f'"{view.name}" belongs to {view.owner_login}: only its owner can '
                          'change it. Save the filters as a view of your own instead.', 403)
    return view


def personal_default(login: str, page: str) -> SavedView | None:
    return db.session.scalars(select(SavedView).where(
        SavedView.owner_login == login, SavedView.page == page,
        SavedView.owner_default.is_(True))).first()


def _checked_name(raw: str) -> str:
    name = (raw or '').strip()
    if not name:
        raise ViewRefused('Give the view a name.')
    if len(name) > VIEW_NAME_MAX:
        raise ViewRefused(f'A view name can be at most {VIEW_NAME_MAX} characters.')
    if has_control_characters(name):
        raise ViewRefused('A view name cannot contain control characters (such as tab).')
    return name


def _checked_query(query: str) -> str:
    if len(query) > VIEW_QUERY_MAX:
        raise ViewRefused(f'These filters are too long to save (at most {VIEW_QUERY_MAX} '
                          'characters): choose fewer flows.')
    return query


def _name_is_free(login: str, page: str, name: str, except_id: int | None = None) -> None:
    clash = db.session.scalars(select(SavedView.id).where(
        SavedView.owner_login == login, SavedView.page == page, SavedView.name == name)).first()
    if clash is not None and clash != except_id:
        raise ViewRefused(f'You already have a view called "{name}" on this page: choose '
                          'another name, or update that view instead.')


def create_view(login: str, page: str, name: str, query: str, shared: bool) -> SavedView:
    if page not in VIEW_PAGES:
        raise ViewRefused(f'Views are saved from the {" or ".join(VIEW_PAGES)} page.')
    name, query = _checked_name(name), _checked_query(query)
    _name_is_free(login, page, name)
    count = db.session.scalar(select(db.func.count()).select_from(SavedView)
                              .where(SavedView.owner_login == login))
    if count >= MAX_VIEWS_PER_PERSON:
        raise ViewRefused(f'You keep {count} views, the most one person can: delete one first.')
    view = SavedView(owner_login=login, page=page, name=name, query=query,
                     query_version=QUERY_VERSION, shared=bool(shared), owner_default=False)
    db.session.add(view)
    db.session.commit()
    return view


def rename_view(view: SavedView, name: str) -> None:
    name = _checked_name(name)
    _name_is_free(view.owner_login, view.page, name, except_id=view.id)
    view.name = name
    db.session.commit()


def update_query(view: SavedView, query: str) -> None:
    view.query, view.query_version = _checked_query(query), QUERY_VERSION
    db.session.commit()


def set_shared(view: SavedView, shared: bool) -> None:
    if not shared and view.team:
        raise ViewRefused(f'"{view.name}" is the default view of {view.team}: an admin has to '
                          'remove it as team default before it can be private again.')
    view.shared = shared
    db.session.commit()


def set_personal_default(view: SavedView, on: bool) -> None:
    """At most one personal default per person and page."""
    if on:
        db.session.execute(update(SavedView).where(
            SavedView.owner_login == view.owner_login, SavedView.page == view.page,
            SavedView.id != view.id).values(owner_default=False))
    view.owner_default = on
    db.session.commit()


def promote(view: SavedView, actor, team: str | None, teams: list[str]) -> None:
    """Make ``view`` the default of ``team`` (None: no team's default any more)."""
    if not actor.is_admin:
        raise ViewRefused('Only an admin can make a view a team default.', 403)
    if team is not None and team not in teams:
        raise ViewRefused(f'There is no team "{team}": teams are the owner teams of flows.')
    if team is not None and not view.shared and view.owner_login != actor.login:
        raise ViewRefused(f'"{view.name}" is private: its owner has to share it first.', 403)
    if team is not None:
        db.session.execute(update(SavedView).where(
            SavedView.team == team, SavedView.page == view.page, SavedView.id != view.id)
            .values(team=None))
        view.shared = True
    view.team = team
    db.session.commit()


def delete_view(view: SavedView) -> None:
    db.session.delete(view)
    db.session.commit()
