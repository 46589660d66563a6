"""Login and password-change forms."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.forms import Form


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                        render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("New password again"),
                           validators=[DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))],
                           render_kw={"autocomplete": "new-password"})

    def validate_new(self, field):
        """At least PASSWORD_MIN_LENGTH characters, and not the current one."""
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(_l("At least %(num)d characters.", num=minimum))
        if field.data == self.current.data:
            raise ValidationError(_l("Choose a password different from the current one."))
