"""Saved views: people's named filters of the responses and flows pages, the Views menu, and
opening a view (``?view=ID``) on the pages and in the API. Rules: app/saved_views/store.py;
query normalisation and versions: app/saved_views/querystring.py."""
from flask import Blueprint, g
from sqlalchemy.exc import SQLAlchemyError

bp = Blueprint('views', __name__, url_prefix='/views')


@bp.app_template_global('views_menu')
def views_menu():
    """The signed-in person's Views menu (mine, shared, team), or None when nobody is signed in
    or the database cannot answer (the error page must still render)."""
    from ..extensions import db
    from .store import menu_groups
    user = g.get('user')
    if user is None:
        return None
    if '_views_menu' in g:
        return g._views_menu
    try:
        g._views_menu = menu_groups(user.login)
        return g._views_menu
    except SQLAlchemyError:
        db.session.rollback()
        return None


from . import routes  # noqa: E402,F401  (registers the routes)
