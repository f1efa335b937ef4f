"""The saved-view pages: the list with its actions (/views), saving the current filters, and one
POST per change (rename, update, share, default, team default, delete), each with CSRF."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import abort, flash, g, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import Optional

from ..browse.flows import filter_choices
from ..models.view_models import VIEW_NAME_MAX
from . import bp, store
from .querystring import PAGE_ENDPOINTS, normalise

ACTIONS = ('rename', 'update', 'share', 'unshare', 'default', 'undefault', 'promote', 'demote',
           'delete')


class ViewForm(FlaskForm):
    """Every saved-view form: only the fields an action needs are filled in."""
    name = StringField('View name', validators=[Optional()],
                       render_kw={'maxlength': VIEW_NAME_MAX, 'autocomplete': 'off'})
    page = HiddenField()
    query = HiddenField()
    shared = BooleanField('Share with everyone')
    team = StringField('Team', validators=[Optional()])
    next = HiddenField()
    view_id = IntegerField(validators=[Optional()])


def _back(form: ViewForm):
    """Back where the form was sent from: only a path of this site, never another host."""
    target = (form.next.data or '').strip()
    parts = urlsplit(target)
    if target.startswith('/') and not target.startswith('//') and not parts.netloc \
            and '\\' not in target:
        return redirect(target)
    return redirect(url_for('views.index'))


def _refused(refusal: store.ViewRefused, form: ViewForm):
    """A change the rules forbid: someone else's view is the error page (403/404) with the
    reason; a value to correct (a name taken, filters with errors) goes back to the form's
    page with the message."""
    if refusal.status != 400:
        abort(refusal.status, description=str(refusal))
    flash(str(refusal), 'error')
    return _back(form)


def _normalised(page: str, raw_query: str) -> str:
    query, errors = normalise(page, MultiDict(parse_qsl(raw_query or '')))
    if errors:
        raise store.ViewRefused('These filters have errors, so they were not saved: '
                                + ' '.join(errors.values()))
    return query


@bp.route('')
def index():
    login = g.user.login
    return render_template('saved_views/index.html', views=store.visible_views(login),
                           form=ViewForm(), teams=filter_choices()['teams'],
                           endpoints=PAGE_ENDPOINTS, login=login)


@bp.route('', methods=['POST'])
def save():
    form = ViewForm()
    if not form.validate_on_submit():
        flash('The form expired or was not sent from Flowdesk: nothing was saved. Try again.',
              'error')
        return _back(form)
    page = form.page.data or ''
    try:
        if page not in PAGE_ENDPOINTS:
            raise store.ViewRefused('Views are saved from the responses or flows page.')
        view = store.create_view(g.user.login, page, form.name.data or '',
                                 _normalised(page, form.query.data), form.shared.data)
    except store.ViewRefused as refusal:
        return _refused(refusal, form)
    flash(f'Saved the view "{view.name}"' + (', shared with everyone.' if view.shared else '.'),
          'success')
    return _back(form)


@bp.route('/update', methods=['POST'])
def update_chosen():
    """"Update view" on a page: the view is chosen in the form."""
    form = ViewForm()
    return change(form.view_id.data or 0, 'update', form)


@bp.route('/<int32:view_id>/<action>', methods=['POST'])
def change(view_id: int, action: str, form: ViewForm | None = None):
    form = form or ViewForm()
    if action not in ACTIONS:
        return redirect(url_for('views.index')), 404
    if not form.validate_on_submit():
        flash('The form expired or was not sent from Flowdesk: nothing was changed. Try again.',
              'error')
        return _back(form)
    try:
        message = _apply(view_id, action, form)
    except store.ViewRefused as refusal:
        return _refused(refusal, form)
    flash(message, 'success')
    return _back(form)


def _apply(view_id: int, action: str, form: ViewForm) -> str:
    user = g.user
    if action in ('promote', 'demote'):
        view = store.get_visible(view_id, user.login)
        team = (form.team.data or '').strip() if action == 'promote' else None
        store.promote(view, user, team, filter_choices()['teams'])
        return (f'"{view.name}" is now the default view of {team}.' if team else
                f'"{view.name}" is no longer a team default.')
    view = store.get_own(view_id, user.login)
    name = view.name
    if action == 'rename':
        store.rename_view(view, form.name.data or '')
        return f'Renamed "{name}" to "{view.name}".'
    if action == 'update':
        store.update_query(view, _normalised(view.page, form.query.data))
        return f'"{name}" now keeps the current filters.'
    if action in ('share', 'unshare'):
        store.set_shared(view, action == 'share')
        return f'"{name}" is ' + ('shared with everyone.' if view.shared else 'private.')
    if action in ('default', 'undefault'):
        store.set_personal_default(view, action == 'default')
        return (f'"{name}" opens when you open the {view.page} page.' if view.owner_default
                else f'"{name}" is no longer your default.')
    store.delete_view(view)
    return f'Deleted the view "{name}".'
