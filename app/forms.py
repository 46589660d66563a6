"""Forms shared by several blueprints."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A bare POST button with CSRF protection."""
