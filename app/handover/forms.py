"""Handover forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.forms import Form

PHONE_MESSAGE = _l("Enter a phone number (digits, spaces, +, -).")


class UnitForm(Form):
    building = StringField(_l("Building"), validators=[DataRequired(), Length(max=20)])
    unit_no = StringField(_l("Unit (entrance)"), validators=[DataRequired(), Length(max=10)])
    floor = IntegerField(_l("Floor"), validators=[DataRequired(), NumberRange(min=-5, max=200)])
    room = StringField(_l("Room number"), validators=[DataRequired(), Length(max=10)])
    owner_name = StringField(_l("Owner's name"), validators=[Optional(), Length(max=120)])
    owner_phone = StringField(_l("Owner's phone"), validators=[
        Optional(), Regexp(r"^\+?[0-9][0-9 \-]{4,19}$", message=PHONE_MESSAGE)])
    bedrooms = IntegerField(_l("Bedrooms"), default=2, validators=[NumberRange(min=0, max=9)])
    bathrooms = IntegerField(_l("Bathrooms"), default=1, validators=[NumberRange(min=0, max=9)])


class ImportForm(Form):
    file = FileField(_l("CSV file"), validators=[DataRequired()])


class StartForm(Form):
    owner_present = StringField(_l("Owner present (name)"), validators=[DataRequired(), Length(max=120)])


class DefectForm(Form):
    """One item in a room: the tapped result, and the defect's details."""

    result = StringField(validators=[Optional()])
    severity = StringField(validators=[Optional()])
    description = TextAreaField(_l("What is wrong"), validators=[Optional(), Length(max=1000)])
    location = StringField(_l("Where in the room"), validators=[Optional(), Length(max=200)])
    team = IntegerField(validators=[Optional()])
    photos = MultipleFileField(_l("Add photo"))


class ConcernForm(Form):
    text = TextAreaField(_l("The owner's concern"), validators=[DataRequired(), Length(max=1000)])
    photos = MultipleFileField(_l("Add photo"))


class SignForm(Form):
    engineer_name = StringField(_l("Engineer's name"), validators=[DataRequired(), Length(max=120)])
    owner_name = StringField(_l("Owner's name"), validators=[DataRequired(), Length(max=120)])
    engineer_signature = HiddenField()
    owner_signature = HiddenField()


class CheckForm(Form):
    reason = TextAreaField(_l("Why the fix is not accepted"), validators=[Optional(), Length(max=1000)])
    photos = MultipleFileField(_l("Add photo"))
