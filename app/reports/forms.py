"""Forms of residents' reports: the public report form, and the supervisor's triage."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectChoice, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.widgets import HiddenInput
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.forms import Form
from app.labels import REPORT_CATEGORY_LABELS, SEVERITY_LABELS
from app.models.checklist import SEVERITIES
from app.models.report import REPORT_CATEGORIES
from app.services.residents import MAX_DESCRIPTION, ONCE_RE


class ReportForm(Form):
    """What a resident sends from a place's QR code: no account, so every field is checked here."""

    once = HiddenField(validators=[Regexp(ONCE_RE)])  # the page's key: sent twice, it is one report
    category = RadioField(_l("What is it about?"), choices=[SelectChoice(c, REPORT_CATEGORY_LABELS[c]) for c in REPORT_CATEGORIES],
                          validators=[InputRequired(_l("Choose what the problem is about."))])
    description = TextAreaField(_l("What is wrong?"), validators=[
        DataRequired(_l("Describe the problem in a few words.")),
        Length(max=MAX_DESCRIPTION, message=_l("Please keep it under %(max)d characters."))])
    photos = MultipleFileField(_l("Photos (up to 3, optional)"))
    unit = StringField(_l("Your home, e.g. 3-1-1201 (optional)"), validators=[
        Optional(), Length(max=20, message=_l("Please keep it under %(max)d characters."))])
    phone = StringField(_l("Your phone number, if you would like a call back (optional)"), validators=[
        Optional(), Regexp(r"^[0-9+\- ]{5,20}$", message=_l("Write the phone number with digits only."))])


class TriageForm(Form):
    """Confirm a report: its team and severity (changed or as they are)."""

    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    team = SelectField(_l("Team"), coerce=int)
    severity = SelectField(_l("Severity"), choices=[SelectChoice(s, SEVERITY_LABELS[s]) for s in SEVERITIES])


class MergeForm(Form):
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    into = IntegerField(validators=[InputRequired()])


class DismissForm(Form):
    version = IntegerField(validators=[InputRequired()], widget=HiddenInput())
    reason = TextAreaField(_l("Reason the residents will read"), validators=[
        DataRequired(_l("Write the reason the residents will read.")), Length(max=500)])
