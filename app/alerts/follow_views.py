"""Following: any employee follows a flow, a team or a saved view and gets the same incident notices by
e-mail, at the address on their profile (or FLOWDESK_EMAIL_PATTERN). Each e-mail carries a
one-click unfollow link: a signed token naming the subscription, opened in the browser and
confirmed with a button (a mail scanner that prefetches the link changes nothing)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, HiddenField
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional

from ..clock import utc_now
from ..extensions import db
from ..models.notice_models import Profile, Subscription
from ..models.view_models import SavedView
from ..saved_views.store import ViewRefused, get_visible, visible_views
from . import bp
from .audience import address_of
from .notices import subscription_of_token


class ProfileForm(FlaskForm):
    email = EmailField('E-mail address for incident notices', validators=[
        Optional(), Length(max=254), Email('Give an e-mail address such as anna@corp.example.',
                                           check_deliverability=False)])


class FollowForm(FlaskForm):
    kind = HiddenField(validators=[AnyOf(('flow', 'team', 'view'))])
    value = HiddenField(validators=[DataRequired(), Length(max=200)])


def followable_view(value: str) -> SavedView:
    """A saved view the signed-in person may see, or a 404 that says so."""
    view_id = int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else 0
    try:
        return get_visible(view_id, g.user.login)
    except ViewRefused as refused:
        abort(404, description=str(refused))


def my_profile() -> Profile | None:
    return db.session.get(Profile, g.user.login)


def back(default: str):
    target = request.form.get('next', '')
    return redirect(target if target.startswith('/') and not target.startswith('//')
                    else default, code=303)


@bp.route('/profile', methods=['GET', 'POST'])
def profile():
    current = my_profile()
    form = ProfileForm(obj=current)
    if form.validate_on_submit():
        if current is None:
            current = Profile(login=g.user.login)
            db.session.add(current)
        current.email = (form.email.data or '').strip() or None
        current.updated_at = utc_now()
        db.session.commit()
        flash('Saved.', 'success')
        return redirect(url_for('alerts.profile'), code=303)
    follows = db.session.scalars(select(Subscription).where(
        Subscription.login == g.user.login).order_by(Subscription.kind, Subscription.value)).all()
    address = address_of(g.user.login, {g.user.login: current.email if current else None})
    views = {str(view.id): view for view in visible_views(g.user.login)}
    return render_template('alerts/profile.html', form=form, follows=follows, address=address,
                           action_form=FlaskForm(), views=views)


@bp.route('/follows', methods=['POST'])
def follow():
    form = FollowForm()
    if not form.validate_on_submit():
        abort(400, description='Follow a flow or a team from its page, a saved view from your '
                               'profile.')
    value, label = form.value.data.strip(), f'{form.kind.data} {form.value.data.strip()}'
    if form.kind.data == 'view':
        view = followable_view(value)
        value, label = str(view.id), f'the view "{view.name}"'
    db.session.add(Subscription(login=g.user.login, kind=form.kind.data, value=value,
                                created_at=utc_now()))
    try:
        db.session.commit()
        flash(f'You follow {label}: its incident notices come to you by e-mail.', 'success')
    except IntegrityError:
        db.session.rollback()
        flash(f'You already follow {label}.', 'info')
    return back(url_for('alerts.profile'))


@bp.route('/follows/<int32:subscription_id>/delete', methods=['POST'])
def unfollow_mine(subscription_id: int):
    if not FlaskForm().validate_on_submit():
        abort(400)
    found = db.session.get(Subscription, subscription_id)
    if found is None or found.login != g.user.login:
        abort(404, description='You do not follow that (any more).')
    db.session.delete(found)
    db.session.commit()
    flash(f'You no longer follow {found.kind} {found.value}.', 'success')
    return back(url_for('alerts.profile'))


@bp.route('/unfollow/<token>', methods=['GET', 'POST'])
def unfollow(token: str):
    subscription_id = subscription_of_token(token[:200])
    found = db.session.get(Subscription, subscription_id) if subscription_id else None
    if found is None:
        return render_template('alerts/unfollow.html', found=None, form=FlaskForm(), token=token)
    form = FlaskForm()
    if form.validate_on_submit():
        db.session.delete(found)
        db.session.commit()
        flash(f'Unfollowed: no more notices about {found.kind} {found.value}.', 'success')
        return redirect(url_for('alerts.profile'), code=303)
    return render_template('alerts/unfollow.html', found=found, form=form, token=token)


@bp.app_context_processor
def follow_helpers():
    def following(kind: str, value: str | None) -> Subscription | None:
        if value is None or g.get('user') is None:
            return None
        return db.session.scalar(select(Subscription).where(
            Subscription.login == g.user.login, Subscription.kind == kind,
            Subscription.value == value))
    return {'following': following}
