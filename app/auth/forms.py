"""The "sign in as" page's form (signing out is an ``app.forms.ButtonForm``)."""
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import DataRequired


class SignInForm(FlaskForm):
    login = RadioField('Test user', validators=[DataRequired('Choose a test user.')])
