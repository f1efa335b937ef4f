"""Following a saved view: its notices are those of the flows the view shows today.

A flows-page view covers the flows its filters (text, type, team, system) select, read with the
flows page's own conditions; a responses-page view covers the flows it names, or every flow when
it names none. The view is opened as its owner's page would open it today
(``saved_views.querystring.open_query``), and only while the follower may still see it.
"""
from __future__ import annotations

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..browse.filters import parse_flow_filter
from ..browse.flows import flow_conditions
from ..database import engine_for
from ..models import Flow
from ..models.view_models import SavedView
from ..saved_views.querystring import open_query


def visible_to(view: SavedView, login: str) -> bool:
    return view.owner_login == login or view.shared or bool(view.team)


def view_flows(view: SavedView) -> set[str] | None:
    """The flow codes the view shows today; None when it shows every flow."""
    args = open_query(view.page, view.query, view.query_version).args
    if view.page == 'responses':
        named = {code.strip().upper() for key, value in args if key == 'flow'
                 for code in value.split(',') if code.strip()}
        return named or None
    parsed = parse_flow_filter(MultiDict(args))
    if not parsed.ok:
        return set()
    with engine_for('ops').connect() as connection:
        return set(connection.scalars(select(Flow.flow_code).where(
            *flow_conditions(parsed.filter))))

