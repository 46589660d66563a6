"""Resident reports: places with a QR code, the routing table, a report from a place's code (no account),
the resident's private follow-up link and their one-tap answer, and the supervisor's triage.

A report becomes a work order of source "resident" (workorders.new_order, due by the SLA of its
severity), routed by category and place to a team. The supervisor triages it: confirm (changing team
or severity), merge it into an open order of the same place and category (its reporters then follow that
order), or close it as not a problem with a reason the residents read. Whoever triages owns the follow-up.
Once the order is closed each reporter may say satisfied or not; not satisfied reopens the order.
Nothing a resident sends is shown to another resident: a link shows its own report, and the order's
progress (status, what was done, the after photos) — no staff names, no internal notes.
"""
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.models import (
    Area, Photo, ReportPlace, ReportRoute, ResidentReport, Site, Team, User, WorkOrder, WorkOrderEvent,
    WorkOrderPhoto,
)
from app.models.checklist import SEVERITIES
from app.models.report import PLACE_KINDS, REPORT_CATEGORIES
from app.models.types import utcnow
from app.models.workorder import OPEN_STATUSES
from app.services import links, workorders
from app.services.errors import Refused

# Where a category goes when the site's table says nothing: the team of this code on the site.
DEFAULT_TEAMS = {"cleaning": "cleaning", "greenery": "greenery", "parking": "security",
                 "repairs": "engineering", "noise": "security", "other": "customer_service"}
DEFAULT_SEVERITY = "major"  # until the supervisor triages it
MAX_PHOTOS = 3
MAX_DESCRIPTION = 1000


class ReportRefused(Refused):
    """A report, a routing change or a triage its rules do not allow; `message` is for the user."""


ONCE_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_once() -> str:
    """The once-key of a report form: random, carried by the page, sent back with the report."""
    return secrets.token_urlsafe(24)


def token_for_once(secret_key: str, once: str) -> str:
    """The private link of the report a form sends: derived from the form's once-key with the app's secret,
    so sending the same page twice (a double tap) finds the report the first tap made instead of a second."""
    digest = hmac.new(secret_key.encode(), f"resident-report:{once}".encode(), hashlib.sha256).digest()
    return links.urlsafe(digest)


def sent_already(session, token: str) -> ResidentReport | None:
    """The report a link token was already given to (live or not), or None."""
    return session.scalar(select(ResidentReport).where(ResidentReport.token_hash == links.token_hash(token)))


# Kept: line breaks, tabs and the joiner of emoji sequences; dropped: other control and format characters
# (NUL, escapes, bidi overrides, zero-width spaces, BOM), which PostgreSQL refuses or a page would misdraw.
_KEEP = {"\n", "\t", "\u200d"}


def clean_text(text: str | None) -> str:
    """A resident's text without control or invisible format characters, with \\n line breaks, stripped."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in _KEEP or unicodedata.category(c) not in ("Cc", "Cf", "Cs")).strip()


# --------------------------------------------------------------------------- places and routing

def new_place(session, site: Site, *, kind: str, name_zh: str, name_en: str, area: Area | None = None) -> ReportPlace:
    """A place with a new QR code (12 characters, random: codes cannot be walked one to the next)."""
    name_zh, name_en = name_zh.strip()[:120], name_en.strip()[:120]
    if kind not in PLACE_KINDS:
        raise ReportRefused(_l("Choose what kind of place it is."))
    if not name_zh and not name_en:
        raise ReportRefused(_l("Give the place a name."))
    if area is not None and area.site_id != site.id:
        raise ReportRefused(_l("Choose an area of this site."))
    place = ReportPlace(site_id=site.id, site=site, kind=kind, name_zh=name_zh or name_en,
                        name_en=name_en or name_zh, area_id=area.id if area else None,
                        code=secrets.token_urlsafe(9), created_at=utcnow())
    session.add(place)
    session.flush()
    return place


def revoke_place(session, place: ReportPlace) -> None:
    """The code stops accepting reports (reports already sent keep their links)."""
    if place.revoked_at is None:
        place.revoked_at = utcnow()


def places(session, site: Site, include_revoked: bool = True) -> list[ReportPlace]:
    query = select(ReportPlace).where(ReportPlace.site_id == site.id)
    if not include_revoked:
        query = query.where(ReportPlace.revoked_at.is_(None))
    return list(session.scalars(query.order_by(ReportPlace.revoked_at.is_not(None), ReportPlace.id)))


_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def place_by_code(session, code: str) -> ReportPlace | None:
    """The place of a code (revoked or not), or None; a code not of our characters or longer than ours is
    not looked up (PostgreSQL refuses a NUL in a query)."""
    if not code or not _CODE_RE.fullmatch(code):
        return None
    return session.scalar(select(ReportPlace).where(ReportPlace.code == code))


def routing_table(session, site: Site) -> dict[tuple[str, int | None], ReportRoute]:
    """The site's routes keyed by (category, place id or None for every place)."""
    return {(r.category, r.place_id): r for r in session.scalars(
        select(ReportRoute).where(ReportRoute.site_id == site.id))}


def default_team(site: Site, category: str) -> Team | None:
    code = DEFAULT_TEAMS.get(category, "customer_service")
    return next((t for t in site.teams if t.code == code), None) or next(iter(site.teams), None)


def set_route(session, site: Site, category: str, place: ReportPlace | None, team: Team | None) -> None:
    """Send a category (at one place, or at every place) to a team; no team: back to the default."""
    if category not in REPORT_CATEGORIES:
        raise ReportRefused(_l("Choose a category."))
    if (place is not None and place.site_id != site.id) or (team is not None and team.site_id != site.id):
        raise ReportRefused(_l("Choose a team and a place of this site."))
    route = routing_table(session, site).get((category, place.id if place else None))
    if team is None:
        if route is not None:
            session.delete(route)
    elif route is None:
        session.add(ReportRoute(site_id=site.id, category=category, place_id=place.id if place else None,
                                team_id=team.id))
    else:
        route.team_id = team.id
    session.flush()


def team_for(session, place: ReportPlace, category: str) -> Team:
    """The team a report goes to: the place's own route, else the site's for every place, else the default."""
    table = routing_table(session, place.site)
    route = table.get((category, place.id)) or table.get((category, None))
    team = route.team if route is not None else default_team(place.site, category)
    if team is None:
        raise LookupError(f"site {place.site_id} has no team")
    return team


# --------------------------------------------------------------------------- a resident's report

def submit(session, place: ReportPlace, *, category: str, description: str, unit: str = "", phone: str = "",
           photos: list[Photo] = (), now: datetime | None = None, token: str | None = None
           ) -> tuple[str, ResidentReport]:
    """A report from a place's code: its work order (routed, due by the SLA) and the resident's private
    link; the token is returned once (only its hash is stored). With `token` (token_for_once), a report
    already sent with it is returned instead of a second one, also when two taps race."""
    now = now or utcnow()
    if token is not None and (earlier := sent_already(session, token)) is not None:
        return token, earlier
    if place.revoked_at is not None:
        raise ReportRefused(_l("This code is no longer in use. Please call the property service centre."),
                            status=410)
    if category not in REPORT_CATEGORIES:
        raise ReportRefused(_l("Choose what the problem is about."))
    description = clean_text(description)
    if not description:
        raise ReportRefused(_l("Describe the problem in a few words."))
    if len(description) > MAX_DESCRIPTION:
        raise ReportRefused(_l("Please keep it under %(num)d characters.", num=MAX_DESCRIPTION))
    if len(photos) > MAX_PHOTOS:
        raise ReportRefused(_l("You can add at most %(num)d photos.", num=MAX_PHOTOS))
    unit, phone = clean_text(unit)[:60], clean_text(phone)[:40]
    team = team_for(session, place, category)
    title = description.splitlines()[0][:120]
    if token is None:
        token, hashed = links.new_token()
    else:
        hashed = links.token_hash(token)
    try:
        # Savepoint: the second of a double tap may race us to the unique token hash.
        with session.begin_nested():
            order = workorders.new_order(
                session, site=place.site, team=team, source="resident", severity=DEFAULT_SEVERITY,
                title_zh=title, title_en=title, actor=None, photos=photos, now=now, area_id=place.area_id,
                description=description, owner_unit=unit or None, owner_phone=phone or None)
            report = ResidentReport(site_id=place.site_id, place_id=place.id, place=place, order_id=order.id,
                                    order=order, category=category, description=description, unit=unit or None,
                                    phone=phone or None, created_at=now, token_hash=hashed,
                                    expires_at=now + timedelta(days=place.site.owner_link_days))
            report.photos = list(photos)
            session.add(report)
            session.flush()
    except IntegrityError:
        earlier = sent_already(session, token)
        if earlier is None:
            raise
        return token, earlier
    return token, report


def report_for_link(session, token: str, now: datetime | None = None) -> ResidentReport | None:
    """The report of a live link, or None (unknown, altered, revoked or expired)."""
    return links.find_live(session, ResidentReport, token, now)


def revoke_link(session, report: ResidentReport) -> None:
    if report.revoked_at is None:
        report.revoked_at = utcnow()


@dataclass
class Progress:
    """What a resident reads about their report: a status in words, what was done, the after photos."""

    stage: str   # received | assigned | working | checking | done | not_a_problem | closed
    team: Team | None
    done_note: str
    after_photos: list[Photo]
    reason: str
    may_answer: bool


RESIDENT_STAGES = ("received", "assigned", "working", "checking", "done", "not_a_problem", "closed")


def progress(session, report: ResidentReport) -> Progress:
    """The order's progress as the resident sees it (no staff names, no internal notes)."""
    order = report.order
    fix = session.scalar(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id,
                                                      WorkOrderEvent.kind == "resolved")
                         .order_by(WorkOrderEvent.id.desc()).limit(1))
    shown_fix = order.status in ("resolved", "closed")
    if order.status == "cancelled":
        stage = "not_a_problem" if order.public_note else "closed"
    elif order.status == "closed":
        stage = "done"
    elif order.status == "resolved":
        stage = "checking"
    elif order.status == "in_progress":
        stage = "working"
    else:
        stage = "assigned" if order.triaged_at is not None else "received"
    return Progress(stage=stage, team=order.team if stage in ("assigned", "working") else None,
                    done_note=fix.note if shown_fix and fix is not None else "",
                    after_photos=order.after_photos if shown_fix else [],
                    reason=order.public_note or "" if stage == "not_a_problem" else "",
                    may_answer=may_answer(report))


def may_answer(report: ResidentReport) -> bool:
    """Closed, and this resident has not answered since it was closed."""
    order = report.order
    return (order.status == "closed" and order.closed_at is not None
            and (report.answered_at is None or report.answered_at < order.closed_at))


def answer(session, report: ResidentReport, outcome: str, now: datetime | None = None) -> None:
    """The resident's one tap once the order is closed: the callback (回访); not satisfied reopens it."""
    if outcome not in ("satisfied", "unsatisfied"):
        raise ReportRefused(_l("Choose satisfied or not satisfied."))
    if not may_answer(report):
        order = report.order
        if report.answered_at is not None and (order.closed_at is None or report.answered_at >= order.closed_at):
            raise ReportRefused(_l("Thank you, your answer is already recorded."), status=409)
        raise ReportRefused(_l("You can answer once the work is done."), status=409)
    report.answer, report.answered_at = outcome, now or utcnow()
    workorders.callback_from_resident(session, report.order, outcome)


def photo_ids(report: ResidentReport, prog: Progress) -> set[int]:
    """The photos this link may show: the resident's own, and the fix's after photos."""
    return {p.id for p in report.photos} | {p.id for p in prog.after_photos}


# --------------------------------------------------------------------------- triage

def to_triage(session, scope, limit: int = 200) -> list[WorkOrder]:
    """Orders raised from resident reports that nobody has triaged yet, oldest first (`scope`: the
    user's orders, policy.scope)."""
    from app.services.workorders import LIST_LOADS

    return list(session.scalars(scope.where(WorkOrder.source == "resident", WorkOrder.triaged_at.is_(None),
                                            WorkOrder.status.in_(OPEN_STATUSES))
                                .options(*LIST_LOADS).order_by(WorkOrder.created_at, WorkOrder.id).limit(limit)).unique())


def reports_of(session, order_ids) -> dict[int, list[ResidentReport]]:
    """The reports of each order (one statement), oldest first."""
    out: dict[int, list[ResidentReport]] = {i: [] for i in order_ids}
    if order_ids:
        from sqlalchemy.orm import joinedload, selectinload

        for r in session.scalars(select(ResidentReport).where(ResidentReport.order_id.in_(list(order_ids)))
                                 .options(joinedload(ResidentReport.place), selectinload(ResidentReport.photos))
                                 .order_by(ResidentReport.id)):
            out[r.order_id].append(r)
    return out


def duplicates(session, order: WorkOrder, report: ResidentReport | None) -> list[tuple[WorkOrder, int]]:
    """Open orders of the same place and category as this order's report, each with how many residents
    reported it (most first): offered to merge into."""
    if report is None:
        return []
    n = func.count(ResidentReport.id)
    rows = session.execute(
        select(WorkOrder, n).join(ResidentReport, ResidentReport.order_id == WorkOrder.id)
        .where(WorkOrder.site_id == order.site_id, WorkOrder.id != order.id, WorkOrder.status.in_(OPEN_STATUSES),
               WorkOrder.id.in_(select(ResidentReport.order_id).where(ResidentReport.place_id == report.place_id,
                                                                       ResidentReport.category == report.category)))
        .group_by(WorkOrder.id).order_by(n.desc(), WorkOrder.id)).all()
    return [(o, int(c)) for o, c in rows]


def _triageable(order: WorkOrder, version: int | None) -> None:
    if version is not None and order.version != version:
        raise workorders.StaleOrder()
    if order.source != "resident" or order.triaged_at is not None or order.status not in OPEN_STATUSES:
        raise ReportRefused(_l("This report has been triaged already."), status=409)


def _own(order: WorkOrder, user: User, now: datetime) -> None:
    """First-contact ownership: whoever triages owns the follow-up."""
    order.triaged_by_id, order.triaged_at = user.id, now


def confirm(session, order: WorkOrder, user: User, *, team: Team | None = None, severity: str | None = None,
            version: int | None = None, now: datetime | None = None) -> WorkOrderEvent:
    """Confirm the report as a job, with another team or severity if chosen (due again by the SLA from
    when it was reported)."""
    now = now or utcnow()
    _triageable(order, version)
    if severity is not None and severity not in SEVERITIES:
        raise ReportRefused(_l("Choose a severity."))
    if team is not None and team.site_id != order.site_id:
        raise ReportRefused(_l("Choose a team of this site."))
    changes = {}
    if team is not None and team.id != order.team_id:
        changes["team"] = [order.team_id, team.id]
        order.team_id, order.team, order.assignee_id = team.id, team, None
    if severity and severity != order.severity:
        changes["severity"] = [order.severity, severity]
        order.severity = severity
    if changes:
        order.due_at = workorders.due_at(session, order.team, order.severity, order.created_at)
        order.overdue_escalated_at = None
    event = workorders.record_event(session, order, "triaged", user, detail=json.dumps(changes) if changes else "",
                                    at=now)
    _own(order, user, now)
    if "team" in changes:
        from app.services import webhooks

        webhooks.enqueue(session, order, "raised")
    _flush(session)
    return event


def merge(session, order: WorkOrder, into: WorkOrder, user: User, *, version: int | None = None,
          now: datetime | None = None) -> WorkOrderEvent:
    """Merge this report's order into an open order of the site: its reporters now follow `into`, its
    photos join `into`'s, and this order is closed as merged."""
    now = now or utcnow()
    _triageable(order, version)
    if into.id == order.id or into.site_id != order.site_id or into.status not in OPEN_STATUSES:
        raise ReportRefused(_l("Choose an open order of this site to merge into."))
    session.execute(update(ResidentReport).where(ResidentReport.order_id == order.id)
                    .values(order_id=into.id).execution_options(synchronize_session="fetch"))
    workorders.record_event(session, order, "merged", user, "cancelled", detail=json.dumps({"into": into.id}), at=now)
    joined = workorders.record_event(session, into, "merged", user, detail=json.dumps({"from": order.id}), at=now)
    for photo in order.before_photos:
        session.add(WorkOrderPhoto(order=into, photo_id=photo.id, event=joined, kind="before"))
    _own(order, user, now)  # (`into` keeps its own triage: still to do if nobody has done it)
    _flush(session)
    return joined


def dismiss(session, order: WorkOrder, user: User, reason: str, *, version: int | None = None,
            now: datetime | None = None) -> WorkOrderEvent:
    """Close the report as not a problem, with a reason every reporter of it reads."""
    now = now or utcnow()
    _triageable(order, version)
    reason = (reason or "").strip()[:500]
    if not reason:
        raise ReportRefused(_l("Write the reason the residents will read."))
    event = workorders.record_event(session, order, "dismissed", user, "cancelled", note=reason, at=now)
    order.public_note = reason
    _own(order, user, now)
    _flush(session)
    return event


def _flush(session) -> None:
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    try:
        session.flush()
    except (StaleDataError, IntegrityError) as exc:
        raise workorders.StaleOrder() from exc


# --------------------------------------------------------------------------- figures

@dataclass
class Figures:
    """Resident reports of some sites since a time: how many, the average minutes to triage, how many
    residents answered and how many of them were satisfied."""

    count: int
    response_minutes: int | None
    answered: int
    satisfied: int

    @property
    def satisfied_pct(self) -> int | None:
        return round(100 * self.satisfied / self.answered) if self.answered else None


def figures(session, site_ids: list[int], since: datetime, until: datetime | None = None) -> Figures:
    """One statement: the sites' reports in [since, until) with when their order was first triaged."""
    query = (select(ResidentReport.created_at, WorkOrder.triaged_at, ResidentReport.answer)
             .join(WorkOrder, WorkOrder.id == ResidentReport.order_id)
             .where(ResidentReport.site_id.in_(site_ids or [-1]), ResidentReport.created_at >= since))
    if until is not None:
        query = query.where(ResidentReport.created_at < until)
    rows = session.execute(query).all()
    waits = [(t - c).total_seconds() / 60 for c, t, _a in rows if t is not None and t >= c]
    answers = [a for _c, _t, a in rows if a]
    return Figures(len(rows), round(sum(waits) / len(waits)) if waits else None, len(answers),
                   answers.count("satisfied"))
