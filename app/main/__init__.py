"""Employee pages: the dashboard, responses (list, detail, exports) and flows."""
from flask import Blueprint

bp = Blueprint('main', __name__)

from . import flows_views, responses_views, views  # noqa: E402,F401  (registers the routes)
from .helpers import url_with_args  # noqa: E402


@bp.app_template_global('filter_url')
def filter_url(endpoint: str, flt, **changes) -> str:
    """A link to ``endpoint`` carrying the filter ``flt`` (with ``changes`` applied); pass
    ``cursor=...`` to add a page cursor."""
    cursor = changes.pop('cursor', None)
    args = flt.query_args(**changes) if hasattr(flt, 'query_args') else []
    if cursor:
        args.append(('cursor', cursor))
    return url_with_args(endpoint, args)
