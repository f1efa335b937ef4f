"""``/healthz``: for load balancers and the people deploying Flowdesk. Public (no identity),
JSON, 503 when a database bind does not answer."""
from flask import Blueprint, current_app, jsonify

from . import __version__
from .database import BINDS, ping

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
    }
    response = jsonify(body)
    response.headers['Cache-Control'] = 'no-store'
    return response, 200 if healthy else 503
