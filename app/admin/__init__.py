"""Admin pages: data loads and their history (loads), users and roles (users), the audit log
(audit_views), inbox folders (inbox_views) and scheduled jobs (jobs_views). Every view here
is for admins only."""
from flask import Blueprint

from ..identity import admin_required

bp = Blueprint('admin', __name__, url_prefix='/admin')


@bp.before_request
@admin_required
def require_admin():
    """Viewers get 403 on every admin page, whatever the view."""
    return None


from . import audit_views, inbox_views, jobs_views, loads, users  # noqa: E402,F401  (registers the routes)
