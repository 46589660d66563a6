"""The user form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Regexp
from wtforms.widgets import CheckboxInput, ListWidget


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, . _ - only."))])
    display_name = StringField(_l("Name shown to others"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"))
    sites = CheckboxesField(_l("Sites"), coerce=int)
    teams = CheckboxesField(_l("Teams (crew)"), coerce=int)
    active = BooleanField(_l("Active (can log in)"), default=True)
