"""The duty log of a site's day, compiled from the data, and the morning briefing."""
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import DutyLog, Site, User, WorkOrder, WorkOrderEvent
from app.models.types import utcnow
from app.models.workorder import ACTIVE_STATUSES
from app.services import compliance, schedule
from app.services.policy import holders
from app.services.errors import Refused


class LogRefused(Refused):
    """A duty log that can no longer be changed."""


def day_bounds(site: Site, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=site.tz)
    return start, start + timedelta(days=1)


def entry_for(session, site: Site, day: date) -> DutyLog:
    """The day's log row, or a blank unsaved one: reading a log writes nothing."""
    log = session.scalar(select(DutyLog).where(DutyLog.site_id == site.id, DutyLog.date == day))
    return log if log is not None else DutyLog(site_id=site.id, site=site, date=day, remarks="", comment="")


def get_or_create(session, site: Site, day: date) -> DutyLog:
    """The day's log row for a write: inserted by the first remarks or comments. Two first writes at
    once make one row (the unique key refuses the second in a savepoint, which takes the first's row)."""
    log = entry_for(session, site, day)
    if log.id is None:
        try:
            with session.begin_nested():
                session.add(log)
        except IntegrityError:
            log = session.scalar(select(DutyLog).where(DutyLog.site_id == site.id, DutyLog.date == day))
    return log


def compile_day(session, site: Site, day: date, now: datetime | None = None) -> dict:
    """What happened on the site that day: rounds and timing, failures, closures, carry-over,
    escalations, callbacks due, residents' reports (how many, time to triage, satisfaction)."""
    now = now or utcnow()
    start, end = day_bounds(site, day)
    rows = compliance.round_rows(session, site, day, day, now=now) if day <= schedule.site_today(site, now) else []
    raised = session.scalars(select(WorkOrder).where(
        WorkOrder.site_id == site.id, WorkOrder.created_at >= start, WorkOrder.created_at < end)
        .order_by(WorkOrder.created_at)).all()
    closed = session.scalars(select(WorkOrder).where(
        WorkOrder.site_id == site.id, WorkOrder.closed_at >= start, WorkOrder.closed_at < end)
        .order_by(WorkOrder.closed_at)).all()
    # Carried over: still open at the end of the day (raised before it ended, not closed by then).
    carried = session.scalars(select(WorkOrder).where(
        WorkOrder.site_id == site.id, WorkOrder.created_at < end,
        WorkOrder.status.in_(ACTIVE_STATUSES + ("resolved",))).order_by(WorkOrder.due_at)).all()
    escalations = session.scalars(select(WorkOrderEvent).join(WorkOrder).where(
        WorkOrder.site_id == site.id, WorkOrderEvent.kind == "escalated",
        WorkOrderEvent.at >= start, WorkOrderEvent.at < end).order_by(WorkOrderEvent.at)).all()
    callbacks = session.scalars(select(WorkOrder).where(
        WorkOrder.site_id == site.id, WorkOrder.callback == "due")).all()
    from app.services import residents

    return dict(rounds=rows, raised=raised, closed=closed, carried=carried, escalations=escalations,
                callbacks=callbacks, reports=residents.figures(session, [site.id], start, end))


def save_remarks(session, log: DutyLog, user: User, text: str, now: datetime | None = None) -> None:
    """The duty supervisor's remarks: only on the log's own day, and not once the manager has read it."""
    now = now or utcnow()
    if log.read_at is not None or log.date != schedule.site_today(log.site, now):
        raise LogRefused(_l("This duty log is closed: remarks can be written on its own day only."))
    log.remarks, log.remarks_by_id, log.remarks_at = text.strip()[:4000], user.id, now


def comment_and_read(session, log: DutyLog, manager: User, text: str, now: datetime | None = None) -> None:
    """The manager's comments (批阅); the log becomes read-only."""
    if log.read_at is not None:
        raise LogRefused(_l("This duty log has been read already and can no longer be changed."))
    log.comment, log.comment_by_id, log.read_at = text.strip()[:4000], manager.id, now or utcnow()


def search(session, site: Site, q_from: date | None, q_to: date | None, limit: int = 60) -> list[DutyLog]:
    query = select(DutyLog).where(DutyLog.site_id == site.id)
    if q_from:
        query = query.where(DutyLog.date >= q_from)
    if q_to:
        query = query.where(DutyLog.date <= q_to)
    return list(session.scalars(query.order_by(DutyLog.date.desc()).limit(limit)))




APPEARANCE_TEMPLATE = "staff_appearance"
POINTS_PER_LAPSE = -1  # domain brief, section 8: any appearance breach costs one point


def appearance_items(session, site_id: int | None = None):
    """The items of the current staff_appearance checklist the site uses (its own copy, else the library's)."""
    from app.services.checklists import for_site

    tpl = for_site(session, APPEARANCE_TEMPLATE, site_id)
    return tpl.current_version.items if tpl else []


def staff_of(session, site: Site) -> list[User]:
    """People checked at the briefing: the site's crews, stewards (customer service) first."""
    people = [u for u in session.scalars(select(User).where(holders("briefed"), User.active.is_(True))
                                         .order_by(User.display_name)) if site in u.sites]
    return sorted(people, key=lambda u: (not any(t.code == "customer_service" for t in u.teams), u.display_name))


def record_appearance(session, site: Site, person: User, checker: User, lapses: list[str], note: str,
                      now: datetime | None = None):
    """Record today's check of one person (a second record the same day replaces the first)."""
    from app.models import AppearanceCheck

    now = now or utcnow()
    if site not in person.sites:
        raise LookupError("person not on this site")
    valid = {i.code for i in appearance_items(session, site.id)}
    lapses = [c for c in dict.fromkeys(lapses) if c in valid]
    day = schedule.site_today(site, now)
    check = session.scalar(select(AppearanceCheck).where(
        AppearanceCheck.site_id == site.id, AppearanceCheck.date == day, AppearanceCheck.person_id == person.id))
    if check is None:
        check = AppearanceCheck(site_id=site.id, date=day, person_id=person.id)
        session.add(check)
    check.checked_by_id, check.at = checker.id, now
    check.lapses, check.note = ",".join(lapses), note.strip()[:1000]
    check.points = POINTS_PER_LAPSE * len(lapses)
    return check


def appearance_history(session, person: User, limit: int = 90):
    from app.models import AppearanceCheck

    return list(session.scalars(select(AppearanceCheck).where(AppearanceCheck.person_id == person.id)
                                .order_by(AppearanceCheck.date.desc()).limit(limit)))
