"""The manager's forms: a user (people), and the team settings built for a site's teams (SLA hours per
severity, the webhook)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import Form
from app.labels import SEVERITY_LABELS
from app.models.checklist import SEVERITIES
from app.services import outbound

MAX_SLA_HOURS = 24 * 90


def public_webhook(form, field) -> None:
    """Refuse a webhook URL the server must not post to (internal addresses, other schemes).

    A host that cannot be resolved now is let through: DNS may be down for a moment, and every send
    checks the address again anyway."""
    try:
        outbound.check(field.data)
    except outbound.OutboundError as exc:
        if exc.code != "unresolved":
            raise ValidationError(outbound.describe(exc.record())) from None


def team_settings_form(site, teams, sla: dict, formdata=None):
    """A form with, per team, hours for each severity, a webhook URL and its format."""

    class TeamSettingsForm(Form):
        rectification_days = IntegerField(
            _l("Days to rectify a handover defect"), validators=[InputRequired(), NumberRange(min=1, max=365)])
        owner_link_days = IntegerField(
            _l("Days an owner's link works"), validators=[InputRequired(), NumberRange(min=1, max=730)])

    for team in teams:
        for severity in SEVERITIES:
            setattr(TeamSettingsForm, f"t{team.id}_{severity}", IntegerField(
                _l("%(team)s, %(severity)s (hours)", team=team.t(), severity=SEVERITY_LABELS[severity]),
                validators=[InputRequired(), NumberRange(min=1, max=MAX_SLA_HOURS)],
                default=sla.get((team.id, severity)), render_kw={"inputmode": "numeric", "min": 1}))
        setattr(TeamSettingsForm, f"t{team.id}_webhook", URLField(
            _l("Webhook URL for %(team)s", team=team.t()),
            validators=[Optional(), public_webhook],
            default=team.webhook_url or ""))
        setattr(TeamSettingsForm, f"t{team.id}_format", SelectField(
            _l("Message format for %(team)s", team=team.t()),
            choices=[SelectChoice("generic", _l("Generic JSON")),
                     SelectChoice("wecom", _l("WeCom group robot (企业微信)"))],
            default=team.webhook_format))
    form = TeamSettingsForm(formdata=formdata) if formdata is not None else TeamSettingsForm()
    if not form.is_submitted():
        form.rectification_days.data = site.rectification_days
        form.owner_link_days.data = site.owner_link_days
    return form


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(Form):
    """A user: login name, shown name, role, sites, teams, active (choices set by the view)."""

    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, . _ - only."))])
    display_name = StringField(_l("Name shown to others"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"))
    sites = CheckboxesField(_l("Sites"), coerce=int)
    teams = CheckboxesField(_l("Teams (crew)"), coerce=int)
    active = BooleanField(_l("Active (can log in)"), default=True)


class PlaceForm(Form):
    """A place that gets a QR code for residents' reports."""

    kind = SelectField(_l("Kind of place"), validators=[DataRequired()])
    name_zh = StringField(_l("Name in Chinese"), validators=[Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=120)])
    area = SelectField(_l("Area (optional)"), coerce=int, default=0)

    def for_site(self, site) -> "PlaceForm":
        from app.labels import PLACE_KIND_LABELS
        from app.models.report import PLACE_KINDS

        self.kind.choices = [SelectChoice(k, PLACE_KIND_LABELS[k]) for k in PLACE_KINDS]
        self.area.choices = [SelectChoice(0, "—")] + [SelectChoice(a.id, a.t()) for a in site.areas]
        return self

    def validate_name_en(self, field) -> None:
        if not (self.name_zh.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Give the place a name."))
