"""Template globals and filters: local times, labels, the page language."""
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from app.i18n import HTML_LANG
from app.models.i18n import current_lang
from app.models.types import utcnow

STATUS_LABELS = {
    "upcoming": _l("Upcoming"), "due": _l("Due now"), "in_progress": _l("In progress"),
    "done": _l("Done"), "late": _l("Late"), "missed": _l("Missed"),
}
SLOT_LABELS = {"morning": _l("Morning round"), "afternoon": _l("Afternoon round")}
RESULT_LABELS = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")}
SEVERITY_LABELS = {"critical": _l("Critical"), "major": _l("Major"), "minor": _l("Minor")}
ORDER_STATUS_LABELS = {
    "open": _l("Open"), "in_progress": _l("In progress"), "resolved": _l("Resolved"),
    "closed": _l("Closed"), "cancelled": _l("Cancelled"),
}
EVENT_LABELS = {
    "created": _l("Raised"), "assigned": _l("Assigned"), "started": _l("Started"),
    "resolved": _l("Resolved"), "verified": _l("Verified"), "reopened": _l("Reopened"),
    "escalated": _l("Escalated"), "cancelled": _l("Cancelled"), "commented": _l("Comment"),
}


def local_time(value: datetime | None, tz, fmt: str = "%H:%M") -> str:
    """A UTC datetime shown in the site's zone."""
    return value.astimezone(tz).strftime(fmt) if value else ""


def minutes_text(minutes: int | None) -> str:
    """'1 h 05 min' style duration, translated."""
    from flask_babel import gettext as _

    if minutes is None:
        return ""
    m = abs(minutes)
    if m < 60:
        return _("%(m)d min", m=m)
    return _("%(h)d h %(m)02d min", h=m // 60, m=m % 60)


def register(app) -> None:
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS, SLOT_LABELS=SLOT_LABELS, RESULT_LABELS=RESULT_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS, ORDER_STATUS_LABELS=ORDER_STATUS_LABELS,
        EVENT_LABELS=EVENT_LABELS, lang=current_lang, csrf_token=generate_csrf, now=utcnow,
        html_lang=lambda: HTML_LANG.get(str(get_locale()), "zh-Hans"),
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["minutes"] = minutes_text
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
