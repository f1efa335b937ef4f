"""The profile editor's forms: a profile (name, definition, an optional sample to preview), and
the import of a profile's JSON export. Both carry the CSRF token (Flask-WTF)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import func, select
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..extensions import db
from ..models import SourceProfile
from .builtins import BUILTINS
from .definition import MAX_DEFINITION_CHARS

NAME_RULE = Regexp(r'^\w[\w .,()&+-]*$', message='Use letters, digits, spaces and . , ( ) & + - '
                                                 '(start with a letter or digit).')


def check_name(name: str, profile_id: int | None) -> None:
    """A profile name is unique (case-insensitively) and never a built-in profile's."""
    wanted = name.strip().lower()
    if wanted in (builtin.lower() for builtin in BUILTINS):
        raise ValidationError('This is the name of a built-in profile: choose another one.')
    taken = db.session.scalar(select(SourceProfile.id).where(
        func.lower(SourceProfile.name) == wanted))
    if taken is not None and taken != profile_id:
        raise ValidationError('Another profile has this name.')


class ProfileForm(FlaskForm):
    name = StringField('Name', validators=[DataRequired('Give the profile a name.'),
                                           Length(max=100), NAME_RULE])
    definition = TextAreaField('Definition (JSON)', validators=[
        DataRequired('Give the definition.'), Length(max=MAX_DEFINITION_CHARS)])
    sample = FileField('Sample file to preview (CSV or xlsx)', validators=[
        FileAllowed(['csv', 'txt', 'xlsx'], 'Only CSV (.csv, .txt) or Excel (.xlsx) files.')])
    preview = SubmitField('Preview')
    save = SubmitField('Save')

    def __init__(self, *args, profile_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile_id = profile_id

    def validate_name(self, field):
        check_name(field.data, self.profile_id)


class ImportForm(FlaskForm):
    file = FileField('Profile JSON file', validators=[
        FileRequired('Choose a profile\'s JSON export.'),
        FileAllowed(['json'], 'Only a profile\'s .json export.')])
    replace = BooleanField('Replace a profile of the same name')
