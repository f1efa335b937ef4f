"""The audit log page: who did what to whom, when and from which address, newest first, with
filters for the person (actor or target), the action and a date range in the display time zone."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import render_template, request

from .. import audit
from ..extensions import db
from ..models import AuditEvent
from ..params import page_number
from ..templating import display_zone
from . import bp
from .forms import AuditFilterForm, read_filter, text_in_any

EVENTS_PER_PAGE = 50


def utc_start_of(day: date) -> datetime:
    """Midnight of a display-time-zone day as the naive UTC the log stores."""
    local = datetime.combine(day, time.min, tzinfo=display_zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def filtered_events(form: AuditFilterForm):
    query = db.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if form.who.data:
        query = query.where(text_in_any(form.who.data, AuditEvent.actor, AuditEvent.target))
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.date_from.data:
        query = query.where(AuditEvent.at >= utc_start_of(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.at < utc_start_of(form.date_to.data + timedelta(days=1)))
    return query


@bp.route('/audit')
def audit_log():
    choices = [('', 'Any action')] + [(action, audit.action_label(action))
                                      for action in audit.actions_in_use()]

    def offer_actions(form):
        form.action.choices = choices

    form = read_filter(AuditFilterForm, request.args, offer_actions)
    pagination = db.paginate(filtered_events(form), page=page_number(request.args),
                             per_page=EVENTS_PER_PAGE, error_out=False)
    return render_template('admin/audit_log.html', form=form, pagination=pagination,
                           action_label=audit.action_label)
