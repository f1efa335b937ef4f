"""Forms that every blueprint uses."""
from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A button that changes something: a POST that carries only the CSRF token (what it
    changes is in the URL)."""
