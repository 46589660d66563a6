"""Forms shared by several blueprints, and the base every form of the app derives from."""
import re
from datetime import datetime, timezone
from functools import lru_cache

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import HiddenField, i18n


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str):
    """WTForms' own messages ("This field is required.") in one language, read from disk once per
    process: Flask-WTF reads the catalogue again on every request that builds a form (0.6 ms of a
    1-tap answer)."""
    return i18n.get_translations([locale])


class Form(FlaskForm):
    """FlaskForm (CSRF from the session) with WTForms' messages in the user's language."""

    class Meta:
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale()))


class EmptyForm(Form):
    """A bare POST button with CSRF protection."""


_OP = re.compile(r"[A-Za-z0-9-]{8,64}")


class OpField(HiddenField):
    """The phone's id of one change (a tap, a resolve), the same however often it is sent; anything
    that is not such an id reads as none (the change is then applied as sent, without the check)."""

    def process_formdata(self, valuelist):
        value = valuelist[0] if valuelist else ""
        self.data = value if _OP.fullmatch(value or "") else None


class PhoneTimeField(HiddenField):
    """A time from the phone's clock (ISO 8601 with its offset), as aware UTC; otherwise none."""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0]:
            try:
                value = datetime.fromisoformat(valuelist[0][:40])
            except ValueError:
                return
            if value.tzinfo is not None:
                self.data = value.astimezone(timezone.utc)
