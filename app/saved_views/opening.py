"""Opening a saved view on a page (``?view=ID`` redirects to the view's filters) or in the API
(``?view=ID`` merges them into the request's parameters), and the personal default."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request
from werkzeug.datastructures import MultiDict

from ..main.helpers import url_with_args
from ..params import INT32_MAX, BadValue, whole_number
from .querystring import PAGE_ENDPOINTS, OpenedQuery, open_query
from .store import ViewRefused, get_visible, personal_default

#: ``?view=0`` shows the page without any view, even for someone with a personal default.
NO_VIEW = '0'


def opened(view) -> OpenedQuery:
    return open_query(view.page, view.query, view.query_version)


def _view_from_args(raw: str):
    try:
        view_id = whole_number(raw, 1, INT32_MAX, 'A saved view number')
    except BadValue:
        raise ViewRefused(f'"{raw}" is not a saved view number.', 400) from None
    return get_visible(view_id, g.user.login)


def page_redirect(page: str):
    """A redirect to the filters of the view the request names (or of the person's default
    when the page is opened bare), or None to show the page as asked."""
    raw = request.args.get('view')
    if raw is None:
        view = personal_default(g.user.login, page) if not request.args else None
        if view is None:
            return None
    elif raw.strip() == NO_VIEW:
        return None
    else:
        try:
            view = _view_from_args(raw.strip())
        except ViewRefused as refusal:
            abort(refusal.status, description=str(refusal))
    result = opened(view)
    flash(f'Showing the saved view "{view.name}".', 'info')
    for sentence in result.dropped:
        flash(f'Not kept from "{view.name}": {sentence}', 'warning')
    return redirect(url_with_args(PAGE_ENDPOINTS[view.page], result.args or [('view', NO_VIEW)]))


def api_args(page: str):
    """(parameters, view or None, what was dropped, errors by parameter) for an API request;
    the view's filters win, other parameters (cursor, size when the view has none) come from
    the request. A view that does not exist (or is someone's private one) is a 404."""
    raw = (request.args.get('view') or '').strip()
    if not raw or raw == NO_VIEW:
        return request.args, None, [], {}
    try:
        view = _view_from_args(raw)
    except ViewRefused as refusal:
        if refusal.status == 400:
            return request.args, None, [], {'view': str(refusal)}
        abort(refusal.status, description=str(refusal))
    if view.page != page:
        return request.args, None, [], {
            'view': f'View {view.id} is a view of the {view.page} page, not of {page}.'}
    result = opened(view)
    args = MultiDict(result.args)
    from_view = set(args)
    for key, value in request.args.items(multi=True):
        if key != 'view' and key not in from_view:
            args.add(key, value)
    return args, view, result.dropped, {}
