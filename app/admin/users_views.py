"""Admin pages for people and roles: who has used Flowdesk, their role, whether they are active,
when they were first and last seen; buttons to grant or revoke admin and to deactivate or
reactivate (the rules live in app/roles.py)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import false, true

from .. import roles
from ..extensions import db
from ..forms import ButtonForm
from ..identity import bootstrap_admins
from ..models import User
from ..params import page_number
from . import bp
from .forms import UserSearchForm, read_filter, text_in_any

USERS_PER_PAGE = 50
#: The changes a button on the page can ask for (the last part of its URL).
USER_CHANGES = '<any("grant-admin", "revoke-admin", deactivate, reactivate):change>'


def filtered_users(form: UserSearchForm):
    query = db.select(User).order_by(User.login)
    if form.q.data:
        query = query.where(text_in_any(form.q.data, User.login, User.display_name))
    if form.role.data:
        query = query.where(User.role == form.role.data)
    if form.status.data == 'active':
        query = query.where(User.active == true())
    elif form.status.data == 'deactivated':
        query = query.where(User.active == false())
    return query


@bp.route('/users')
def users():
    form = read_filter(UserSearchForm, request.args)
    pagination = db.paginate(filtered_users(form), page=page_number(request.args),
                             per_page=USERS_PER_PAGE, error_out=False)
    return render_template('admin/users.html', form=form, pagination=pagination,
                           change_form=ButtonForm(), listed_admins=bootstrap_admins(),
                           active_admins=roles.active_admin_count())


@bp.route(f'/users/<int32:user_id>/{USER_CHANGES}', methods=['POST'])
def change_user(user_id: int, change: str):
    form = ButtonForm()
    if not form.validate_on_submit():  # CSRFProtect answers 400 first when the token is bad
        abort(400)
    target = db.get_or_404(User, user_id, description='There is no such user: the list may be '
                                                      'out of date, reload it.')
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
