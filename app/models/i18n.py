"""Pick the zh or en text of a bilingual record for the current locale."""
from flask_babel import get_locale


def current_lang() -> str:
    """'zh' or 'en' for the request's locale (zh outside a request)."""
    try:
        loc = get_locale()
    except Exception:  # outside a request context
        return "zh"
    return "en" if loc is not None and loc.language == "en" else "zh"


class Bilingual:
    """Mixin: `obj.t('name')` returns name_zh or name_en for the current locale."""

    def t(self, field: str = "name") -> str:
        lang = current_lang()
        value = getattr(self, f"{field}_{lang}", None)
        return value or getattr(self, f"{field}_zh" if lang == "en" else f"{field}_en", "") or ""
