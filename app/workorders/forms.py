"""Forms for work-order actions and raising an order by hand."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField, HiddenField, IntegerField, MultipleFileField, RadioField, SelectChoice,
    SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.forms import Form, OpField

SEVERITY_CHOICES = [SelectChoice("minor", _l("Minor")), SelectChoice("major", _l("Major")),
                    SelectChoice("critical", _l("Critical"))]


class ActionForm(Form):
    """Every order action posts this: the version seen, and what the action needs."""

    version = IntegerField(validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    photos = MultipleFileField(_l("Photos"))
    outcome = RadioField(_l("Owner's answer"), choices=[SelectChoice("satisfied", _l("Satisfied")),
                                                       SelectChoice("unsatisfied", _l("Not satisfied"))],
                         validators=[Optional()])
    team = SelectField(_l("New team"), coerce=int, validators=[Optional()], validate_choice=False)
    severity = SelectField(_l("Severity"), choices=SEVERITY_CHOICES, validators=[Optional()])
    due = DateTimeLocalField(_l("Due"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    op = OpField()  # the phone's id of this action (app.js), so a resend is done once


class RaiseForm(Form):
    """A work order raised by hand: something seen between rounds, or an owner's complaint."""

    site = HiddenField()
    team = SelectField(_l("Team"), coerce=int, validators=[DataRequired()])
    area = SelectField(_l("Area"), coerce=int, validators=[Optional()])
    severity = SelectField(_l("Severity"), choices=SEVERITY_CHOICES, default="major")
    description = TextAreaField(_l("What is wrong, and where"),
                                validators=[DataRequired(), Length(max=2000)])
    photos = MultipleFileField(_l("Photos"))
    owner_name = StringField(_l("Owner's name"), validators=[Optional(), Length(max=120)])
    owner_unit = StringField(_l("Unit (building-unit-room)"), validators=[Optional(), Length(max=60)])
    owner_phone = StringField(_l("Owner's phone"), validators=[
        Optional(), Regexp(r"^\+?[0-9][0-9 \-]{4,19}$", message=_l("Enter a phone number (digits, spaces, +, -)."))])
