"""The testers' "sign in as" page for development and UAT, where no IIS puts a Windows identity
in front of Flowdesk. It answers 404 unless FLOWDESK_ALLOW_TEST_LOGIN is on, and never exists
in production (the production config refuses the setting; app.identity ignores it there too)."""
from flask import Blueprint, abort

from ..identity import test_login_enabled

bp = Blueprint('auth', __name__, url_prefix='/auth')


@bp.before_request
def only_when_enabled():
    if not test_login_enabled():
        abort(404)


from . import views  # noqa: E402,F401  (registers the routes)
