"""Admin pages for inbox folders: list, define, change, delete (each audited with the change
itself), and *Check folder*. The inbox job (app/inboxes) does the loading."""
from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from .. import audit
from ..clock import utc_now
from ..extensions import db
from ..forms import ButtonForm
from ..inboxes.check import check_folder
from ..models.inbox_models import Inbox
from . import bp
from .forms import InboxForm

FIELDS = ('name', 'folder', 'dataset', 'mode', 'pattern', 'profile', 'active')


def describe(inbox: Inbox) -> str:
    mapped = f', source profile {inbox.profile}' if inbox.profile else ''
    return (f'folder {inbox.folder}, {inbox.dataset} ({inbox.mode}), files {inbox.pattern}'
            f'{mapped}, {"active" if inbox.active else "paused"}')


def field_value(form: InboxForm, name: str):
    """A form field as the inbox stores it (no profile: None)."""
    if name == 'active':
        return form.active.data
    value = (form[name].data or '').strip()
    return (value or None) if name == 'profile' else value


def get_inbox(inbox_id: int) -> Inbox:
    return db.get_or_404(Inbox, inbox_id, description='There is no such inbox: the list may be '
                                                      'out of date, reload it.')


@bp.route('/inboxes')
def inboxes():
    rows = db.session.scalars(select(Inbox).order_by(Inbox.name)).all()
    return render_template('admin/inboxes.html', inboxes=rows, action_form=ButtonForm())


@bp.route('/inboxes/new', methods=['GET', 'POST'])
def new_inbox():
    form = InboxForm()
    if form.validate_on_submit():
        inbox = Inbox(created_at=utc_now(), updated_at=utc_now())
        for name in FIELDS:
            setattr(inbox, name, field_value(form, name))
        db.session.add(inbox)
        audit.record('inbox.created', target=f'inbox {inbox.name}', detail=describe(inbox))
        db.session.commit()
        flash(f'Inbox {inbox.name} defined. Use Check folder to see that the service account '
              'can work in it.', 'success')
        return redirect(url_for('admin.inboxes'), code=303)
    return render_template('admin/inbox_form.html', form=form, inbox=None)


@bp.route('/inboxes/<int32:inbox_id>/edit', methods=['GET', 'POST'])
def edit_inbox(inbox_id: int):
    inbox = get_inbox(inbox_id)
    form = InboxForm(obj=inbox, inbox_id=inbox.id)
    if form.validate_on_submit():
        changes = []
        for name in FIELDS:
            value = field_value(form, name)
            if getattr(inbox, name) != value:
                changes.append(f'{name}: {getattr(inbox, name)} → {value}')
                setattr(inbox, name, value)
        if changes:
            inbox.updated_at = utc_now()
            audit.record('inbox.changed', target=f'inbox {inbox.name}', detail='; '.join(changes))
            db.session.commit()
            flash(f'Inbox {inbox.name} changed.', 'success')
        else:
            flash('Nothing was changed.', 'info')
        return redirect(url_for('admin.inboxes'), code=303)
    return render_template('admin/inbox_form.html', form=form, inbox=inbox)


@bp.route('/inboxes/<int32:inbox_id>/delete', methods=['POST'])
def delete_inbox(inbox_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    inbox = get_inbox(inbox_id)
    audit.record('inbox.deleted', target=f'inbox {inbox.name}', detail=describe(inbox))
    db.session.delete(inbox)
    db.session.commit()
    flash(f'Inbox {inbox.name} deleted. Its folder and files were left as they are.', 'success')
    return redirect(url_for('admin.inboxes'), code=303)


@bp.route('/inboxes/<int32:inbox_id>/check', methods=['POST'])
def check_inbox(inbox_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    inbox = get_inbox(inbox_id)
    for check in check_folder(Path(inbox.folder), inbox.pattern):
        flash(f'{inbox.name}: {check.message}', 'success' if check.ok else 'danger')
    return redirect(url_for('admin.inboxes'), code=303)
