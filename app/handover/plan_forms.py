"""Forms of the floor-plan pages: layouts, plan upload, rooms, pins."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DecimalField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Form
from app.services.plans import LAYOUT_NAME_MAX


class PercentField(DecimalField):
    """A percentage of the plan: a finite number (NaN, sNaN and infinities are no spot on a plan;
    a signalling NaN would even raise in the range check): one is no value, so DataRequired says
    "Tap or draw on the plan"."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None


def _percent(label):
    return PercentField(label, places=1, validators=[DataRequired(message=_l("Tap or draw on the plan.")),
                                                     NumberRange(min=0, max=100)],
                        render_kw={"inputmode": "decimal", "step": "0.1", "min": "0", "max": "100"})


class LayoutForm(Form):
    name = StringField(_l("Layout (户型)"), validators=[DataRequired(), Length(max=LAYOUT_NAME_MAX)],
                       render_kw={"placeholder": "A 3室2厅2卫", "autocomplete": "off"})


class UnitLayoutForm(Form):
    layout = StringField(_l("Layout (户型)"), validators=[Optional(), Length(max=LAYOUT_NAME_MAX)],
                         render_kw={"list": "layout-names", "autocomplete": "off"})


class PlanUploadForm(Form):
    file = FileField(_l("Floor plan (PNG, JPEG or PDF)"), validators=[DataRequired()],
                     render_kw={"accept": "image/png,image/jpeg,application/pdf"})


class RoomForm(Form):
    room_key = SelectField(_l("Room"), validators=[DataRequired()])
    x0 = _percent(_l("Left edge (%)"))
    y0 = _percent(_l("Top edge (%)"))
    x1 = _percent(_l("Right edge (%)"))
    y1 = _percent(_l("Bottom edge (%)"))


class PinForm(Form):
    x = _percent(_l("Across (%)"))
    y = _percent(_l("Down (%)"))


class PinnedDefectForm(Form):
    x = _percent(_l("Across (%)"))
    y = _percent(_l("Down (%)"))
    room_key = SelectField(_l("Room"), validators=[DataRequired()])
    item = SelectField(_l("What is wrong"), validators=[Optional()])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=1000)])
    severity = SelectField(_l("Severity"), validators=[Optional()])
    photos = MultipleFileField(_l("Photos"), render_kw={"accept": "image/*", "capture": "environment"})
