"""The delivery log for admins: every queued notice, newest first, with its failures."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import func, select

from ..extensions import db
from ..identity import admin_required
from ..models.notice_models import FAILED, Notice
from . import bp

LOG_LIMIT = 300


@bp.route('/admin/alert-deliveries')
@admin_required
def deliveries():
    failed_only = request.args.get('failed') == '1'
    query = select(Notice).order_by(Notice.id.desc()).limit(LOG_LIMIT)
    if failed_only:
        query = query.where(Notice.status == FAILED)
    counts = dict(db.session.execute(select(Notice.status, func.count())
                                     .group_by(Notice.status)).all())
    return render_template('alerts/deliveries.html', notices=db.session.scalars(query).all(),
                           counts=counts, failed_only=failed_only, limit=LOG_LIMIT)
