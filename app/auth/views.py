"""Choose a test user (kept in the signed session cookie) or sign out again."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for

from .. import audit
from ..extensions import db
from ..forms import ButtonForm
from ..identity import TEST_LOGIN_SESSION_KEY, find_or_create_user, stand_in_login, test_users
from ..models import ROLE_ADMIN
from . import bp
from .forms import SignInForm


@bp.route('/sign-in', methods=['GET', 'POST'])
def sign_in():
    users = test_users()
    form = SignInForm()
    form.login.choices = [(login, f'{login} ({role})') for login, role, _purpose in users]
    if form.validate_on_submit():
        login = form.login.data
        role = next(role for candidate, role, _purpose in users if candidate == login)
        user = find_or_create_user(login)
        if role == ROLE_ADMIN and user.role != ROLE_ADMIN and user.active:
            user.role = ROLE_ADMIN
            audit.record(audit.ROLE_GRANTED, target=login, actor=audit.SYSTEM_ACTOR,
                         detail='admin (test user of the sign-in-as page)')
        audit.record(audit.TEST_SIGN_IN, target=login, actor=login,
                     detail='chose this test user on the sign-in-as page')
        db.session.commit()
        session[TEST_LOGIN_SESSION_KEY] = login
        if 'REMOTE_USER' in request.environ and request.environ['REMOTE_USER']:
            flash('Windows Authentication already identifies you here, and it wins over a test '
                  'user: this choice has no effect while it is on.', 'warning')
        else:
            flash(f'You are now {login}.', 'success')
        return redirect(url_for('main.whoami'), code=303)
    return render_template('auth/sign_in.html', form=form, users=users,
                           sign_out_form=ButtonForm(), chosen=session.get(TEST_LOGIN_SESSION_KEY),
                           windows_user=request.environ.get('REMOTE_USER') or None,
                           user=g.get('user'))


@bp.route('/sign-out', methods=['POST'])
def sign_out():
    form = ButtonForm()
    if form.validate_on_submit():
        session.pop(TEST_LOGIN_SESSION_KEY, None)
    fallback = stand_in_login()
    flash('Signed out of the test user.' + (f' You are {fallback} again (FLOWDESK_DEV_USER).'
                                            if fallback else ''), 'info')
    return redirect(url_for('auth.sign_in'), code=303)
