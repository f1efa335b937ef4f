"""Saved views in the API: the views the caller can open, one view, and the ``view`` note that
/responses and /flows add when asked for ``?view=ID``."""
from __future__ import annotations

from flask import abort, g, jsonify, request, url_for

from ..saved_views.opening import opened
from ..saved_views.querystring import PAGE_ENDPOINTS
from ..saved_views.store import ViewRefused, get_visible, visible_views
from . import bp
from .serialise import utc_text


def view_item(view) -> dict:
    login = g.user.login
    return {
        'id': view.id, 'name': view.name, 'page': view.page, 'owner': view.owner_login,
        'mine': view.owner_login == login, 'shared': view.shared, 'team_default': view.team,
        'my_default': view.owner_default and view.owner_login == login,
        'query': view.query, 'query_version': view.query_version,
        'updated_at': utc_text(view.updated_at),
        'links': {'page': url_for(PAGE_ENDPOINTS[view.page], view=view.id),
                  'rows': url_for(f'api.{view.page}', view=view.id)},
    }


def view_note(view, dropped: list[str]) -> dict:
    """The ``view`` member of a list answer opened through ``?view=ID`` (empty otherwise)."""
    if view is None:
        return {}
    return {'view': {'id': view.id, 'name': view.name, 'not_kept': dropped}}


@bp.route('/views')
def views():
    page = (request.args.get('page') or '').strip().lower() or None
    if page is not None and page not in PAGE_ENDPOINTS:
        from .views import bad_request
        return bad_request({'page': f'page must be one of {", ".join(PAGE_ENDPOINTS)}.'})
    return jsonify({'items': [view_item(v) for v in visible_views(g.user.login, page)]})


@bp.route('/views/<int32:view_id>')
def view(view_id: int):
    try:
        found = get_visible(view_id, g.user.login)
    except ViewRefused as refusal:
        abort(refusal.status, description=str(refusal))
    result = opened(found)
    return jsonify({**view_item(found), 'opens': {'parameters': [list(p) for p in result.args],
                                                  'not_kept': result.dropped}})
