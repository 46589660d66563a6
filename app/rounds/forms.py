"""Forms for walking a round; the CSRF token comes with FlaskForm."""
from flask_babel import lazy_gettext as _l
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from app.forms import Form, OpField, PhoneTimeField


class AnswerForm(Form):
    """One item's answer: the tapped result (or none: note/photo only), a note, photos."""

    result = StringField(validators=[Optional(), AnyOf(["pass", "fail", "na"])])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    photos = MultipleFileField(_l("Add photo"))
    # Sent by app.js: the tap's id, when it was answered and when it was sent, by the phone's clock.
    op = OpField()
    answered_at = PhoneTimeField()
    sent_at = PhoneTimeField()
