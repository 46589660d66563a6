"""Locale choice: the user's setting, else the session's switch, else the browser's Accept-Language."""
from flask import current_app, has_request_context, request, session
from flask_login import current_user

HTML_LANG = {"zh_Hans": "zh-Hans", "en": "en"}


def normalise_locale(value: str | None) -> str | None:
    """Map 'zh', 'zh-CN', 'zh_Hans', 'en-GB'… onto a locale we ship, or None."""
    if not value:
        return None
    v = value.replace("-", "_").lower()
    if v.startswith("zh"):
        return "zh_Hans"
    if v.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return locale_of_request()


def locale_of_request() -> str:
    """The locale from the request alone (no user looked up): the session's switch, else the browser's."""
    chosen = normalise_locale(session.get("lang"))
    if chosen:
        return chosen
    if request.blueprint == "resident":  # residents' pages from a QR code speak Chinese unless switched
        return "zh_Hans"
    best = request.accept_languages.best_match(["zh", "zh-CN", "zh-Hans", "en"])
    return normalise_locale(best) or current_app.config["BABEL_DEFAULT_LOCALE"]
