"""Admin pages for people and roles: who has used Flowdesk, their role, whether they are active,
when they were first and last seen; buttons to grant or revoke admin and to deactivate or
reactivate (the rules live in app/roles.py)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import false, true
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from .. import roles
from ..extensions import db
from ..identity import bootstrap_admins
from ..models import ROLE_ADMIN, ROLE_VIEWER, User
from ..params import no_control_characters, page_number
from . import bp

USERS_PER_PAGE = 50


class UserSearchForm(FlaskForm):
    """The filter above the list (GET, so no CSRF token: it changes nothing)."""
    class Meta:
        csrf = False

    q = StringField('Login or name contains',
                    validators=[Optional(), Length(max=256), no_control_characters])
    role = SelectField('Role', choices=[('', 'Any role'), (ROLE_VIEWER, 'Viewer'),
                                        (ROLE_ADMIN, 'Admin')], validators=[Optional()])
    status = SelectField('Status', choices=[('', 'Active and deactivated'), ('active', 'Active'),
                                            ('deactivated', 'Deactivated')],
                         validators=[Optional()])


class UserChangeForm(FlaskForm):
    """Each button on the page is one of these: a POST carrying only the CSRF token; the user
    and the change are in the URL."""


def filtered_users(form: UserSearchForm):
    query = db.select(User).order_by(User.login)
    if form.q.data:
        needle = form.q.data.strip()
        query = query.where(User.login.icontains(needle, autoescape=True)
                            | User.display_name.icontains(needle, autoescape=True))
    if form.role.data:
        query = query.where(User.role == form.role.data)
    if form.status.data == 'active':
        query = query.where(User.active == true())
    elif form.status.data == 'deactivated':
        query = query.where(User.active == false())
    return query


@bp.route('/users')
def users():
    form = UserSearchForm(request.args)
    if not form.validate():
        flash('The filter was not understood and is ignored: '
              + '; '.join(f'{form[name].label.text}: {" ".join(errors)}'
                          for name, errors in form.errors.items()), 'warning')
        form = UserSearchForm(formdata=None)
    page = page_number(request.args)
    pagination = db.paginate(filtered_users(form), page=page, per_page=USERS_PER_PAGE,
                             error_out=False)
    return render_template('admin/users.html', form=form, pagination=pagination,
                           change_form=UserChangeForm(), listed_admins=bootstrap_admins(),
                           active_admins=roles.active_admin_count())


@bp.route('/users/<int32:user_id>/<any("grant-admin", "revoke-admin", deactivate, reactivate):change>',
          methods=['POST'])
def change_user(user_id: int, change: str):
    form = UserChangeForm()
    if not form.validate_on_submit():  # CSRFProtect answers 400 first when the token is bad
        abort(400)
    target = db.session.get(User, user_id)
    if target is None:
        abort(404, description='There is no such user: the list may be out of date, reload it.')
    try:
        result = roles.change_user(g.user, target, change)
    except roles.ChangeRefused as refusal:
        flash(str(refusal), 'danger')
    else:
        flash(result.message, 'success')
    return redirect(_back_to_list(), code=303)


def _back_to_list() -> str:
    """Back to the list as it was filtered (the form carries the list's query string)."""
    back = request.form.get('next', '')
    if back.startswith(url_for('admin.users')) and '//' not in back and '\\' not in back:
        return back
    return url_for('admin.users')
