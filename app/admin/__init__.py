"""Admin pages, for admins only. One view module per group of pages, named ``<pages>_views``:
data loads and their history (``loads_views``), users and roles (``users_views``), the audit log
(``audit_views``), inbox folders (``inbox_views``) and scheduled jobs (``jobs_views``); the
source profiles' pages live with the profiles (``app.profiles.views``). Their
forms are in ``forms``; paged lists use ``db.paginate`` and the macros of ``_lists.html``. A new
group of pages is a new ``*_views`` module imported at the end of this file."""
from flask import Blueprint

from ..identity import admin_required

bp = Blueprint('admin', __name__, url_prefix='/admin')


@bp.before_request
@admin_required
def require_admin():
    """Viewers get 403 on every admin page, whatever the view."""
    return None


from ..profiles import views as profile_views  # noqa: E402,F401  (registers the routes)
from . import audit_views, inbox_views, jobs_views, loads_views, users_views  # noqa: E402,F401  (registers the routes)
