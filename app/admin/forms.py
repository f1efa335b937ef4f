"""The admin pages' forms: the filters above the user list and the audit log (GET, so without
a CSRF token: they change nothing), the upload form, the load of a file kept on the server, and
an inbox definition. Buttons that only carry the CSRF token use ``app.forms.ButtonForm``."""
from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from flask import flash
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import or_, select
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from ..datasets import DATASETS
from ..extensions import db
from ..loading import MODE_HELP, MODES
from ..loading.readers import DELIMITER_NAMES
from ..models import ROLE_ADMIN, ROLE_VIEWER
from ..models.inbox_models import Inbox
from ..params import BadValue, check_day, no_control_characters
from ..profiles.store import find_profile, profile_names

ENCODING_CHOICES = [('auto', 'Detect (UTF-8 or Windows-1252)'), ('utf-8', 'UTF-8'),
                    ('cp1252', 'Windows-1252 (older Excel "CSV")')]
DATASET_CHOICES = [(spec.name, spec.label) for spec in DATASETS.values()]
MODE_CHOICES = [(mode, f'{mode} — {MODE_HELP[mode]}') for mode in MODES]
LOGIN_PLACEHOLDER = {'placeholder': 'e.g. jdoe'}


def read_filter(form_class, args, configure=None):
    """The filter form ``form_class`` filled from the query string ``args``. A filter that does
    not validate is ignored with a warning naming each problem, so the list shows unfiltered.
    ``configure(form)`` sets what the form learns at request time (choices)."""
    form = form_class(args)
    if configure:
        configure(form)
    if form.validate():
        return form
    flash('The filter was not understood and is ignored: '
          + '; '.join(f'{form[name].label.text}: {" ".join(errors)}'
                      for name, errors in form.errors.items()), 'warning')
    form = form_class(formdata=None)
    if configure:
        configure(form)
    return form


def text_in_any(text: str, *columns):
    """What a filter's search text means: a case-insensitive part of any of ``columns``, with
    ``%`` and ``_`` taken literally."""
    needle = text.strip()
    return or_(*(column.icontains(needle, autoescape=True) for column in columns))


class UserSearchForm(FlaskForm):
    """The filter above the user list."""
    class Meta:
        csrf = False

    q = StringField('Login or name contains', render_kw=LOGIN_PLACEHOLDER,
                    validators=[Optional(), Length(max=256), no_control_characters])
    role = SelectField('Role', choices=[('', 'Any role'), (ROLE_VIEWER, 'Viewer'),
                                        (ROLE_ADMIN, 'Admin')], validators=[Optional()])
    status = SelectField('Status', choices=[('', 'Active and deactivated'), ('active', 'Active'),
                                            ('deactivated', 'Deactivated')],
                         validators=[Optional()])


class AuditFilterForm(FlaskForm):
    """The filter above the audit log; the action choices are the actions in the log."""
    class Meta:
        csrf = False

    who = StringField('Person (who did it or to whom)', render_kw=LOGIN_PLACEHOLDER,
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


#: The upload form's profile choices besides the profiles themselves (names cannot start with *).
DETECT_PROFILE, NO_PROFILE = '*detect', '*none'


class UploadForm(FlaskForm):
    dataset = SelectField('Dataset', choices=DATASET_CHOICES)
    mode = SelectField('Mode', choices=MODE_CHOICES, default='append')
    encoding = SelectField('Encoding of a CSV file', choices=ENCODING_CHOICES, default='auto')
    profile = SelectField('Source profile', default=DETECT_PROFILE,
                          description='A platform\'s own export (SAP CPI, Logic Apps, …) is '
                                      'recognised by its header and mapped as it loads.')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile.choices = [(DETECT_PROFILE, 'Recognise it from the header'),
                                (NO_PROFILE, 'None: Flowdesk\'s own columns')] + [
            (name, name) for name in profile_names()]
    file = FileField('File (CSV or xlsx)', validators=[
        FileRequired('Choose a CSV or xlsx file.'),
        FileAllowed(['csv', 'txt', 'xlsx'], 'Only CSV (.csv, .txt) or Excel (.xlsx) files.')])
    dry_run = BooleanField('Validate only (dry run): change nothing')


class StoredLoadForm(FlaskForm):
    """Loads a file already kept on the server (after a dry run, or after confirming)."""
    sha256 = HiddenField(validators=[DataRequired(), Regexp(r'^[0-9a-f]{64}$')])
    dataset = HiddenField(validators=[AnyOf(list(DATASETS))])
    mode = HiddenField(validators=[AnyOf(list(MODES))])
    encoding = HiddenField(validators=[AnyOf([c for c, _ in ENCODING_CHOICES])])
    #: '' = sniff it; otherwise as the dry run read it
    delimiter = HiddenField(validators=[Optional(), AnyOf(list(DELIMITER_NAMES.values()))])
    file_name = HiddenField(validators=[DataRequired()])
    allow_duplicate = HiddenField()
    #: '' = Flowdesk's own columns; otherwise a source profile's name
    profile = HiddenField(validators=[Optional(), Length(max=100)])
    #: '1' = a dry run (after a profile was recognised)
    dry_run = HiddenField()


class InboxForm(FlaskForm):
    name = StringField('Name', validators=[
        DataRequired('Give the inbox a name.'), Length(max=64),
        Regexp(r'^[\w][\w .-]*$', message='Use letters, digits, spaces, dots, dashes and '
                                          'underscores (it names the batches in the history).')])
    folder = StringField('Folder', validators=[DataRequired('Give the folder.'), Length(max=1000)],
                         description=r'A local path (D:\Flowdesk\inbox) or a share '
                                     r'(\\files01\exports\orders).')
    dataset = SelectField('Dataset', choices=DATASET_CHOICES)
    mode = SelectField('Mode', choices=MODE_CHOICES)
    pattern = StringField('Files', default='*.csv', validators=[
        DataRequired('Give a file pattern, e.g. *.csv.'), Length(max=200)],
        description='A pattern such as *.csv or orders_*.xlsx; files in subfolders are not read.')
    profile = SelectField('Source profile', default='', validate_choice=False,
                          description='The layout of the files: Flowdesk\'s own columns, or a '
                                      'platform\'s export mapped by a source profile.')
    active = BooleanField('Active: load files on every tick', default=True)

    def __init__(self, *args, inbox_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.inbox_id = inbox_id
        self.profile.choices = [('', 'None: Flowdesk\'s own columns')] + [
            (name, name) for name in profile_names()]

    def validate_profile(self, field):
        if not field.data:
            return
        profile = find_profile(field.data)
        if profile is None:
            raise ValidationError('There is no such source profile.')
        if profile.dataset != self.dataset.data:
            raise ValidationError(f'This profile maps files to {profile.dataset}, not to '
                                  f'{self.dataset.data}.')

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
