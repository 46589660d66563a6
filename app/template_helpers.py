"""Template globals and filters: registers app.labels for Jinja, plus the few helpers that need the
request or the session (the page language, the unread badge, a work-order event's changes)."""
from datetime import datetime

from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from app import labels
from app.i18n import HTML_LANG
from app.labels import CHANGE_LABELS, SEVERITY_LABELS, local_time
from app.models.i18n import current_lang
from app.models.types import utcnow


def event_changes(event, order) -> list[tuple[str, str, str]]:
    """(what, from, to) of a take-over, reassignment or change, in the viewer's language."""
    teams = {t.id: t for t in order.site.teams}
    people = {u.id: u for u in (order.assignee, order.created_by, event.actor) if u is not None}
    shown = []
    for field, (old, new) in event.changes.items():
        if field == "severity":
            old, new = SEVERITY_LABELS.get(old, old), SEVERITY_LABELS.get(new, new)
        elif field == "due":
            old, new = (local_time(datetime.fromisoformat(v), order.site.tz, "%Y-%m-%d %H:%M") for v in (old, new))
        elif field == "team":
            old, new = (teams[v].t() if v in teams else "?" for v in (old, new))
        elif field == "assignee":
            old, new = (_person(people, v) for v in (old, new))
        shown.append((str(CHANGE_LABELS.get(field, field)), str(old), str(new)))
    return shown


def _person(known: dict, user_id: int) -> str:
    from app.extensions import db
    from app.models import User

    user = known.get(user_id) or db.session.get(User, user_id)
    return user.display_name if user else "?"


def _unread_notifications() -> int:
    """The header badge: unread notifications of the logged-in user."""
    from flask_login import current_user

    from app.extensions import db
    from app.services.escalation import unread_count

    return unread_count(db.session, current_user) if current_user.is_authenticated else 0


def register(app) -> None:
    """Hand the labels, the formatting helpers and the request's helpers to Jinja."""
    app.jinja_env.globals.update(
        {name: getattr(labels, name) for name in (
            "STATUS_LABELS", "SLOT_LABELS", "RESULT_LABELS", "SEVERITY_LABELS", "ORDER_STATUS_LABELS",
            "EVENT_LABELS", "ESCALATION_LABELS", "CALLBACK_LABELS", "NOTIFICATION_LABELS", "ROOM_LABELS",
            "UNIT_STATUS_LABELS", "INSPECTION_RESULT_LABELS", "CATEGORY_LABELS", "ROLE_LABELS",
            "ORDER_SOURCE_LABELS", "REPORT_CATEGORY_LABELS", "PLACE_KIND_LABELS")},
        room_label=labels.room_label, qr_svg=labels.qr_svg, event_changes=event_changes, lang=current_lang,
        unread_notifications=_unread_notifications, csrf_token=generate_csrf, now=utcnow,
        html_lang=lambda: HTML_LANG.get(str(get_locale()), "zh-Hans"),
    )
    app.jinja_env.filters["local_time"] = labels.local_time
    app.jinja_env.filters["minutes"] = labels.minutes_text
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
