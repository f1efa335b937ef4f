"""The audit log page: who did what to whom, when and from which address, newest first, with
filters for the person (actor or target), the action and a date range in the display time zone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import flash, render_template, request
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .. import audit
from ..extensions import db
from ..models import AuditEvent
from ..templating import display_zone
from ..params import BadValue, check_day, no_control_characters, page_number
from . import bp

EVENTS_PER_PAGE = 50


class AuditFilterForm(FlaskForm):
    """GET filter: it changes nothing, so it carries no CSRF token."""
    class Meta:
        csrf = False

    who = StringField('Person (who did it or to whom)',
                      validators=[Optional(), Length(max=256), no_control_characters])
    action = SelectField('Action', validators=[Optional(), no_control_characters],
                         validate_choice=False)
    date_from = DateField('From', validators=[Optional()])
    date_to = DateField('To', validators=[Optional()])

    def validate_date_from(self, field):
        _check_in_range(field)

    def validate_date_to(self, field):
        _check_in_range(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError('must be on or after the "From" date')


def _check_in_range(field):
    try:
        if field.data:
            check_day(field.data)
    except BadValue as problem:
        raise ValidationError(str(problem)) from None


def utc_start_of(day: date) -> datetime:
    """Midnight of a display-time-zone day as the naive UTC the log stores."""
    local = datetime.combine(day, time.min, tzinfo=display_zone())
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def filtered_events(form: AuditFilterForm):
    query = db.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if form.who.data:
        who = form.who.data.strip()
        query = query.where(AuditEvent.actor.icontains(who, autoescape=True)
                            | AuditEvent.target.icontains(who, autoescape=True))
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.date_from.data:
        query = query.where(AuditEvent.at >= utc_start_of(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.at < utc_start_of(form.date_to.data + timedelta(days=1)))
    return query


@bp.route('/audit')
def audit_log():
    form = AuditFilterForm(request.args)
    form.action.choices = [('', 'Any action')] + [(action, audit.action_label(action))
                                                  for action in audit.actions_in_use()]
    if not form.validate():
        flash('The filter was not understood and is ignored: '
              + '; '.join(f'{form[name].label.text}: {" ".join(errors)}'
                          for name, errors in form.errors.items()), 'warning')
        choices = form.action.choices
        form = AuditFilterForm(formdata=None)
        form.action.choices = choices
    page = page_number(request.args)
    pagination = db.paginate(filtered_events(form), page=page, per_page=EVENTS_PER_PAGE,
                             error_out=False)
    return render_template('admin/audit_log.html', form=form, pagination=pagination,
                           action_label=audit.action_label)
