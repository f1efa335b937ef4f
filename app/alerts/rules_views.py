"""Admin pages for alert rules: list, define, change, delete; each change is audited with the
change itself. Deleting or switching off a rule resolves its open incidents."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .. import audit
from ..clock import utc_now
from ..extensions import db
from ..identity import admin_required
from ..models.alert_models import CONDITIONS, SCOPES, SEVERITIES, AlertRule, Incident
from . import bp
from .incidents import open_incidents, resolve
from .recipients import parse_recipients

FIELDS = ('name', 'scope', 'scope_value', 'condition', 'threshold_percent', 'window_minutes',
          'min_responses', 'consecutive_errors', 'use_schedule', 'severity', 'recipients',
          'active')
SCOPE_LABELS = {'all': 'All flows', 'team': 'A team', 'flow_type': 'A flow type',
                'system': 'A system (source or target)', 'flows': 'A list of flows'}
CONDITION_LABELS = {'error_rate': 'Error rate of at least X % over W minutes',
                    'consecutive': 'N consecutive errors',
                    'silence': 'Silence: no response for W minutes (or the flow schedule)'}
#: Which numbers each condition needs.
NEEDS = {'error_rate': ('threshold_percent', 'window_minutes', 'min_responses'),
         'consecutive': ('consecutive_errors',), 'silence': ('window_minutes',)}


def number(label, top):
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=top)])


class RuleForm(FlaskForm):
    name = StringField('Name', validators=[DataRequired('Give the rule a name.'), Length(max=100)])
    scope = SelectField('Scope', choices=[(key, SCOPE_LABELS[key]) for key in SCOPES])
    scope_value = StringField('Team, flow type, system or flow codes (comma-separated)',
                              validators=[Length(max=4000)])
    condition = SelectField('Condition', choices=[(key, CONDITION_LABELS[key]) for key in CONDITIONS])
    threshold_percent = number('Error rate X (%)', 100)
    window_minutes = number('Window W (minutes)', 100_000)
    min_responses = number('At least N responses', 1_000_000)
    consecutive_errors = number('N consecutive errors', 1000)
    use_schedule = BooleanField("Silence: expect responses on the flow's schedule (cron) where it "
                                'has one; W is then the grace period')
    severity = SelectField('Severity', choices=[(key, key) for key in SEVERITIES])
    recipients = TextAreaField('Recipients: e-mail addresses and webhook URLs, one per line',
                               validators=[Length(max=4000)])
    active = BooleanField('Active', default=True)

    def __init__(self, *args, rule_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule_id = rule_id

    def validate_name(self, field):
        taken = db.session.scalar(select(AlertRule.id).where(AlertRule.name == field.data.strip()))
        if taken is not None and taken != self.rule_id:
            raise ValidationError('Another rule has this name.')

    def validate_scope_value(self, field):
        if self.scope.data != 'all' and not (field.data or '').strip():
            raise ValidationError(f'Say which: {SCOPE_LABELS[self.scope.data].lower()}.')

    def validate_recipients(self, field):
        _, problems = parse_recipients(field.data)
        if problems:
            raise ValidationError(' '.join(problems))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in NEEDS.get(self.condition.data, ()):
            if self[name].data is None and not self[name].errors:
                self[name].errors.append(f'This condition needs {self[name].label.text}.')
                valid = False
        return valid


def values_from(form: RuleForm) -> dict:
    needed = NEEDS[form.condition.data]
    values = {}
    for name in FIELDS:
        value = form[name].data
        if isinstance(value, str):
            value = value.strip() or None
        if name in ('threshold_percent', 'window_minutes', 'min_responses', 'consecutive_errors'):
            value = value if name in needed else None
        values[name] = value
    values['use_schedule'] = bool(values['use_schedule']) and form.condition.data == 'silence'
    values['scope_value'] = None if form.scope.data == 'all' else values['scope_value']
    return values


def describe(rule: AlertRule) -> str:
    scope = 'all flows' if rule.scope == 'all' else f'{rule.scope} {rule.scope_value}'
    if rule.condition == 'error_rate':
        condition = (f'error rate ≥ {rule.threshold_percent} % over {rule.window_minutes} min '
                     f'with ≥ {rule.min_responses} responses')
    elif rule.condition == 'consecutive':
        condition = f'{rule.consecutive_errors} consecutive errors'
    else:
        condition = (f'silence {rule.window_minutes} min'
                     + (' (schedule)' if rule.use_schedule else ''))
    recipients = ', '.join(parse_recipients(rule.recipients)[0]) or 'no recipients'
    return (f'{scope}; {condition}; {rule.severity}; {recipients}; '
            f'{"active" if rule.active else "off"}')


def get_rule(rule_id: int) -> AlertRule:
    return db.get_or_404(AlertRule, rule_id,
                         description='There is no such alert rule: the list may be out of date.')


def resolve_rule_incidents(rule: AlertRule, why: str) -> None:
    for incident in open_incidents(rule_id=rule.id).values():
        resolve(incident, utc_now(), g.user.login, why)


@bp.route('/admin/alert-rules')
@admin_required
def alert_rules():
    rules = db.session.scalars(select(AlertRule).order_by(AlertRule.name)).all()
    return render_template('alerts/rules.html', rules=rules, describe=describe,
                           action_form=FlaskForm())


@bp.route('/admin/alert-rules/new', methods=['GET', 'POST'])
@admin_required
def new_alert_rule():
    form = RuleForm()
    if form.validate_on_submit():
        rule = AlertRule(created_at=utc_now(), updated_at=utc_now(), **values_from(form))
        db.session.add(rule)
        audit.record('alert_rule.created', target=f'alert rule {rule.name}', detail=describe(rule))
        db.session.commit()
        flash(f'Alert rule {rule.name} defined; the next tick of the scheduled jobs evaluates it.',
              'success')
        return redirect(url_for('alerts.alert_rules'), code=303)
    return render_template('alerts/rule_form.html', form=form, rule=None)


@bp.route('/admin/alert-rules/<int32:rule_id>/edit', methods=['GET', 'POST'])
@admin_required
def edit_alert_rule(rule_id: int):
    rule = get_rule(rule_id)
    form = RuleForm(obj=rule, rule_id=rule.id)
    if form.validate_on_submit():
        before = describe(rule)
        for name, value in values_from(form).items():
            setattr(rule, name, value)
        if not db.session.is_modified(rule):
            flash('Nothing was changed.', 'info')
            return redirect(url_for('alerts.alert_rules'), code=303)
        rule.updated_at = utc_now()
        if not rule.active:
            resolve_rule_incidents(rule, 'The rule was switched off.')
        audit.record('alert_rule.changed', target=f'alert rule {rule.name}',
                     detail=f'{before} → {describe(rule)}')
        db.session.commit()
        flash(f'Alert rule {rule.name} changed.', 'success')
        return redirect(url_for('alerts.alert_rules'), code=303)
    return render_template('alerts/rule_form.html', form=form, rule=rule)


@bp.route('/admin/alert-rules/<int32:rule_id>/delete', methods=['POST'])
@admin_required
def delete_alert_rule(rule_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    rule = get_rule(rule_id)
    resolve_rule_incidents(rule, 'The rule was deleted.')
    db.session.execute(update(Incident).where(Incident.rule_id == rule.id).values(rule_id=None))
    audit.record('alert_rule.deleted', target=f'alert rule {rule.name}', detail=describe(rule))
    db.session.delete(rule)
    db.session.commit()
    flash(f'Alert rule {rule.name} deleted; its incidents stay in the history.', 'success')
    return redirect(url_for('alerts.alert_rules'), code=303)
