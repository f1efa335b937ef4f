"""``/healthz``: for load balancers and the people deploying Flowdesk. Public (no identity),
JSON, 503 when a database bind does not answer."""
from flask import Blueprint, current_app, jsonify

from . import __version__
from .clock import utc_now
from .database import BINDS, ping
from .jobs.status import health_block

bp = Blueprint('health', __name__)


@bp.route('/healthz')
def healthz():
    binds = {}
    for bind_key, (name, _schema, _setting) in BINDS.items():
        ok, error = ping(bind_key)
        binds[name] = {'ok': ok} if ok else {'ok': False, 'error': error}
    healthy = all(bind['ok'] for bind in binds.values())
    body = {
        'status': 'ok' if healthy else 'unavailable',
        'version': __version__,
        'environment': current_app.config['NAME'],
        'databases': binds,
        # The scheduler: seconds since the last tick, failing jobs, stopped or not.
        'jobs': health_block(utc_now()) if healthy else {'error': 'the databases do not answer'},
    }
    response = jsonify(body)
    response.headers['Cache-Control'] = 'no-store'
    return response, 200 if healthy else 503
