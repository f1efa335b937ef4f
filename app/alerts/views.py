"""Incident pages for every employee: the open incidents, one incident with its timeline (and
acknowledge, note, resolve), and the count the dashboard banner shows."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..clock import utc_now
from ..extensions import db
from ..models.alert_models import SEVERITIES, Incident
from . import bp
from .incidents import acknowledge, add_event, resolve, timeline

#: Incidents a page lists at most (the API pages through all of them).
PAGE_LIMIT = 500


class NoteForm(FlaskForm):
    text = TextAreaField('Note', validators=[DataRequired('Write the note first.'),
                                             Length(max=4000)])


def open_query():
    return (select(Incident).where(Incident.open_key.is_not(None))
            .order_by(Incident.opened_at.desc(), Incident.id.desc()))


def open_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Incident)
                             .where(Incident.open_key.is_not(None))) or 0


def flow_incidents(flow_code: str, limit: int = 20) -> list[Incident]:
    """A flow's open incidents first, then its latest resolved ones."""
    return list(db.session.scalars(
        select(Incident).where(Incident.flow_code == flow_code)
        .order_by(Incident.resolved_at.is_not(None), Incident.opened_at.desc(), Incident.id.desc())
        .limit(limit)))


def get_incident(incident_id: int) -> Incident:
    return db.get_or_404(Incident, incident_id, description='There is no such incident.')


@bp.route('/incidents')
def incidents():
    rows = db.session.scalars(open_query().limit(PAGE_LIMIT)).all()
    rows = sorted(rows, key=lambda incident: SEVERITIES.index(incident.severity)
                  if incident.severity in SEVERITIES else len(SEVERITIES))
    return render_template('alerts/incidents.html', incidents=rows, limit=PAGE_LIMIT)


@bp.route('/incidents/<int32:incident_id>')
def incident(incident_id: int):
    found = get_incident(incident_id)
    return render_template('alerts/incident.html', incident=found, events=timeline(found.id),
                           note_form=NoteForm(), action_form=FlaskForm())


def done(incident_id: int, message: str, category: str = 'success'):
    flash(message, category)
    return redirect(url_for('alerts.incident', incident_id=incident_id), code=303)


@bp.route('/incidents/<int32:incident_id>/acknowledge', methods=['POST'])
def acknowledge_incident(incident_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    found = get_incident(incident_id)
    if not acknowledge(found, utc_now(), g.user.login):
        return done(incident_id, 'This incident is already acknowledged or resolved.', 'info')
    db.session.commit()
    return done(incident_id, 'Acknowledged: the timeline shows you are on it.')


@bp.route('/incidents/<int32:incident_id>/notes', methods=['POST'])
def add_note(incident_id: int):
    found = get_incident(incident_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return done(incident_id, ' '.join(form.text.errors) or 'The form expired: try again.',
                    'danger')
    add_event(found, utc_now(), g.user.login, 'note', form.text.data.strip())
    db.session.commit()
    return done(incident_id, 'Note added.')


@bp.route('/incidents/<int32:incident_id>/resolve', methods=['POST'])
def resolve_incident(incident_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    found = get_incident(incident_id)
    if not found.is_open:
        return done(incident_id, 'This incident is already resolved.', 'info')
    resolve(found, utc_now(), g.user.login, 'Resolved by hand.')
    db.session.commit()
    return done(incident_id, 'Resolved. If the condition still holds, the next evaluation opens '
                             'a new incident.')


@bp.app_context_processor
def incident_helpers():
    """For the dashboard banner and the flow page's section (called only where included)."""
    return {'open_incident_count': open_count, 'incidents_of_flow': flow_incidents}
