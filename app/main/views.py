"""Employee pages."""
from flask import render_template

from ..extensions import db
from ..models import Flow, Response
from . import bp


@bp.route('/')
def index():
    flow_count = db.session.scalar(db.select(db.func.count()).select_from(Flow))
    response_count = db.session.scalar(db.select(db.func.count()).select_from(Response))
    return render_template('main/index.html', flow_count=flow_count, response_count=response_count)


@bp.route('/whoami')
def whoami():
    """Who Flowdesk thinks you are: the first page to check after deploying to IIS."""
    return render_template('main/whoami.html')
