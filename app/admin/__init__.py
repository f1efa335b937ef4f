"""Admin pages, for admins only. Each view module is named after the pages it serves: data loads
and their history (``loads``), users and roles (``users``), the audit log (``audit_log``). Their
forms are in ``forms``; paged lists use ``db.paginate`` and the macros of ``_lists.html``.
A new group of pages is a new module imported at the end of this file."""
from flask import Blueprint

from ..identity import admin_required

bp = Blueprint('admin', __name__, url_prefix='/admin')


@bp.before_request
@admin_required
def require_admin():
    """Viewers get 403 on every admin page, whatever the view."""
    return None


from . import audit_log, loads, users  # noqa: E402,F401  (registers the routes)
