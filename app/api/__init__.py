"""The read-only JSON API under /api/v1: responses (same filters and cursors as the pages),
flows, one flow, daily statistics, and its own OpenAPI description. Identity is the same as for
the pages (REMOTE_USER; anonymous requests get a 401 JSON error from app.errors)."""
from flask import Blueprint

bp = Blueprint('api', __name__)

from . import incidents, saved_views, views  # noqa: E402,F401  (registers the routes)
