"""Admin pages for inbox folders: list, define, change, delete (each audited with the change
itself), and *Check folder*. The inbox job (app/inboxes) does the loading."""
from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from .. import audit
from ..extensions import db
from ..inboxes.check import check_folder
from ..loading import MODE_HELP, MODES
from ..clock import utc_now
from ..models.inbox_models import Inbox
from . import bp
from .loads import DATASET_CHOICES

FIELDS = ('name', 'folder', 'dataset', 'mode', 'pattern', 'active')


class InboxForm(FlaskForm):
    name = StringField('Name', validators=[
        DataRequired('Give the inbox a name.'), Length(max=64),
        Regexp(r'^[\w][\w .-]*$', message='Use letters, digits, spaces, dots, dashes and '
                                          'underscores (it names the batches in the history).')])
    folder = StringField('Folder', validators=[DataRequired('Give the folder.'), Length(max=1000)],
                         description=r'A local path (D:\Flowdesk\inbox) or a share '
                                     r'(\\files01\exports\orders).')
    dataset = SelectField('Dataset', choices=DATASET_CHOICES)
    mode = SelectField('Mode', choices=[(mode, f'{mode} — {MODE_HELP[mode]}') for mode in MODES])
    pattern = StringField('Files', default='*.csv', validators=[
        DataRequired('Give a file pattern, e.g. *.csv.'), Length(max=200)],
        description='A pattern such as *.csv or orders_*.xlsx; files in subfolders are not read.')
    active = BooleanField('Active: load files on every tick', default=True)

    def __init__(self, *args, inbox_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.inbox_id = inbox_id

    def validate_name(self, field):
        taken = db.session.scalar(select(Inbox.id).where(Inbox.name == field.data.strip()))
        if taken is not None and taken != self.inbox_id:
            raise ValidationError('Another inbox has this name.')

    def validate_folder(self, field):
        value = field.data.strip()
        if not (PureWindowsPath(value).is_absolute() or PurePosixPath(value).is_absolute()):
            raise ValidationError(r'Give a full path: D:\folder or \\server\share\folder.')

    def validate_pattern(self, field):
        if any(mark in field.data for mark in ('/', '\\', '..')):
            raise ValidationError('A pattern names files of the folder only: no / or \\.')


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


def describe(inbox: Inbox) -> str:
    return (f'folder {inbox.folder}, {inbox.dataset} ({inbox.mode}), files {inbox.pattern}, '
            f'{"active" if inbox.active else "paused"}')


def get_inbox(inbox_id: int) -> Inbox:
    inbox = db.session.get(Inbox, inbox_id)
    if inbox is None:
        abort(404, description='There is no such inbox: the list may be out of date, reload it.')
    return inbox


@bp.route('/inboxes')
def inboxes():
    rows = db.session.scalars(select(Inbox).order_by(Inbox.name)).all()
    return render_template('admin/inboxes.html', inboxes=rows, action_form=ActionForm())


@bp.route('/inboxes/new', methods=['GET', 'POST'])
def new_inbox():
    form = InboxForm()
    if form.validate_on_submit():
        inbox = Inbox(created_at=utc_now(), updated_at=utc_now())
        for name in FIELDS:
            setattr(inbox, name, form[name].data.strip() if name != 'active' else form.active.data)
        db.session.add(inbox)
        audit.record('inbox.created', target=f'inbox {inbox.name}', detail=describe(inbox))
        db.session.commit()
        flash(f'Inbox {inbox.name} defined. Use Check folder to see that the service account '
              'can work in it.', 'success')
        return redirect(url_for('admin.inboxes'), code=303)
    return render_template('admin/inbox_form.html', form=form, inbox=None)


@bp.route('/inboxes/<int:inbox_id>/edit', methods=['GET', 'POST'])
def edit_inbox(inbox_id: int):
    inbox = get_inbox(inbox_id)
    form = InboxForm(obj=inbox, inbox_id=inbox.id)
    if form.validate_on_submit():
        changes = []
        for name in FIELDS:
            value = form[name].data.strip() if name != 'active' else form.active.data
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


@bp.route('/inboxes/<int:inbox_id>/delete', methods=['POST'])
def delete_inbox(inbox_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    inbox = get_inbox(inbox_id)
    audit.record('inbox.deleted', target=f'inbox {inbox.name}', detail=describe(inbox))
    db.session.delete(inbox)
    db.session.commit()
    flash(f'Inbox {inbox.name} deleted. Its folder and files were left as they are.', 'success')
    return redirect(url_for('admin.inboxes'), code=303)


@bp.route('/inboxes/<int:inbox_id>/check', methods=['POST'])
def check_inbox(inbox_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    inbox = get_inbox(inbox_id)
    for check in check_folder(Path(inbox.folder), inbox.pattern):
        flash(f'{inbox.name}: {check.message}', 'success' if check.ok else 'danger')
    return redirect(url_for('admin.inboxes'), code=303)
