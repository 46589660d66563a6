"""Labels and formatting below both services and templates: every code's words in both languages
(statuses, severities, events, rooms, categories, …) and pure formatting (times in a site's zone,
durations, room names, QR codes). It imports no service, no request and no session, so a service
(a PDF report, an export) and a template read the same words; app.template_helpers hands them to Jinja."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from markupsafe import Markup

STATUS_LABELS = {
    "upcoming": _l("Upcoming"), "due": _l("Due now"), "in_progress": _l("In progress"),
    "done": _l("Done"), "early": _l("Outside the window (early)"), "late": _l("Late"), "missed": _l("Missed"),
}
SLOT_LABELS = {"morning": _l("Morning round"), "afternoon": _l("Afternoon round")}
RESULT_LABELS = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")}
SEVERITY_LABELS = {"critical": _l("Critical"), "major": _l("Major"), "minor": _l("Minor")}
ORDER_STATUS_LABELS = {
    "open": _l("Open"), "in_progress": _l("In progress"), "blocked": _l("Can't fix"),
    "resolved": _l("Resolved"), "closed": _l("Closed"), "cancelled": _l("Cancelled"),
}
EVENT_LABELS = {
    "created": _l("Raised"), "assigned": _l("Taken"), "started": _l("Started"),
    "resolved": _l("Resolved"), "verified": _l("Verified"), "reopened": _l("Reopened"),
    "escalated": _l("Escalated"), "cancelled": _l("Cancelled"), "commented": _l("Comment"),
    "handed_back": _l("Handed back"), "blocked": _l("Can't fix"), "sent_back": _l("Sent back"),
    "callback": _l("Callback"), "reassigned": _l("Reassigned"), "changed": _l("Changed"),
    "taken_over": _l("Taken over"), "triaged": _l("Triaged"), "merged": _l("Merged"),
    "dismissed": _l("Closed: not a problem"),
}
ORDER_SOURCE_LABELS = {"round": _l("Round"), "handover": _l("Handover"), "manual": _l("Raised by hand"),
                       "complaint": _l("Owner's complaint"), "resident": _l("Resident report")}
REPORT_CATEGORY_LABELS = {"cleaning": _l("Cleaning"), "greenery": _l("Greenery"), "parking": _l("Parking"),
                          "repairs": _l("Repairs"), "noise": _l("Noise"), "other": _l("Other")}
PLACE_KIND_LABELS = {"lobby": _l("Lobby"), "lift": _l("Lift"), "garage": _l("Garage"), "facility": _l("Facility"),
                     "grounds": _l("Grounds"), "other": _l("Other")}
CHANGE_LABELS = {"severity": _l("Severity"), "due": _l("Due"), "team": _l("Team"),
                 "assignee": _l("Assigned to")}
ESCALATION_LABELS = {"overdue": _l("overdue"), "unverified": _l("not verified for a day")}
NOTIFICATION_LABELS = {"overdue": _l("Overdue"), "unverified": _l("Resolved, not verified for a day")}
CALLBACK_LABELS = {"due": _lp("callback", "Due"), "satisfied": _l("Satisfied"), "unsatisfied": _l("Not satisfied")}


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
    if m < 48 * 60:
        return _("%(h)d h %(m)02d min", h=m // 60, m=m % 60)
    days, hours = divmod(m // 60, 24)  # past two days, minutes are noise
    return _("%(d)d days %(h)d h", d=days, h=hours) if hours else _("%(d)d days", d=days)


ROLE_LABELS = {
    "supervisor": _l("Patrol supervisor"), "crew": _l("Crew"), "manager": _l("Manager"),
    "admin": _l("Administrator"), "engineer": _l("Handover engineer"),
}
ROOM_LABELS = {
    "whole_unit": _l("Whole unit"), "entrance": _l("Entrance"), "living_room": _l("Living and dining room"),
    "bedroom": _l("Bedroom"), "kitchen": _l("Kitchen"), "bathroom": _l("Bathroom"), "balcony": _l("Balcony"),
}
UNIT_STATUS_LABELS = {
    "not_inspected": _l("Not inspected"), "inspecting": _l("Inspection under way"),
    "defects_open": _l("Defects open"), "ready_for_reinspection": _l("Ready for re-inspection"),
    "reinspecting": _l("Re-inspection under way"), "ready_for_handover": _l("Ready for handover"),
}
CATEGORY_LABELS = {
    "tests": _l("Water and power tests"), "electrical": _l("Electrical"), "plumbing": _l("Plumbing"),
    "doors_windows": _l("Doors and windows"), "walls_ceilings": _l("Walls and ceilings"), "floors": _l("Floors"),
    "fixtures": _l("Fixtures"), "gas": _l("Gas"), "labels": _l("Labels"), "records": _l("Records"),
    "safety": _l("Safety"), "cleanliness": _l("Cleanliness"), "design": _l("Design"),
    "owner_concern": _l("Owner's concerns"), "appearance": _l("Appearance"), "briefing": _l("Briefing"),
    "communication": _l("Communication"), "conduct": _l("Conduct"), "escalation": _l("Escalation"),
    "facilities": _l("Facilities"), "fire_safety": _l("Fire safety"), "follow_up": _l("Follow-up"),
    "greenery": _l("Greenery"), "grooming": _l("Grooming"), "hygiene": _l("Hygiene"),
    "inventory": _l("Inventory"), "parking": _l("Parking"), "rules": _l("Rules"),
    "security_equipment": _l("Security equipment"), "service": _l("Service"), "signage": _l("Signage"),
    "staff_conduct": _l("Staff conduct"), "supplies": _l("Supplies"), "uniform": _l("Uniform"),
}
INSPECTION_RESULT_LABELS = {"pass": _l("Pass"), "defect": _l("Defect"), "na": _l("N/A")}


def room_label(room_key: str) -> str:
    """'bedroom-2' → 'Bedroom 2'."""
    base, _, n = room_key.rpartition("-")
    if base and n.isdigit():
        return f"{ROOM_LABELS.get(base, base)} {n}"
    return str(ROOM_LABELS.get(room_key, room_key))


def qr_svg(data: str) -> Markup:
    """A QR code as inline SVG (scales to any screen, no image request)."""
    import segno

    return Markup(segno.make(data, error="m").svg_inline(scale=6, dark="#000", light="#fff",
                                                        omitsize=True, title=None))
