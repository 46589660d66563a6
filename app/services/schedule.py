"""Round windows and statuses in the site's time zone; rounds materialised on demand."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Round, Route, Schedule, Site
from app.models.types import utcnow

SLOT_ORDER = {"morning": 0, "afternoon": 1}


def site_today(site: Site, now: datetime | None = None) -> date:
    """The site's local date at `now`."""
    return (now or utcnow()).astimezone(site.tz).date()


def local_to_utc(site: Site, day: date, at: time) -> datetime:
    """A wall-clock time on the site's date, as an aware datetime (UTC)."""
    return datetime.combine(day, at, tzinfo=site.tz).astimezone(timezone.utc)


def day_end_utc(site: Site, day: date) -> datetime:
    """The instant the site's local day ends (next local midnight)."""
    return local_to_utc(site, day + timedelta(days=1), time(0, 0))


@dataclass(frozen=True)
class Timing:
    """How a round's start and finish sit against its window (minutes, + is late)."""

    start_offset: int | None
    finish_offset: int | None
    on_time: bool


def timing(rnd: Round) -> Timing:
    """Minutes early/late of the start and finish against the window, and whether both are in tolerance."""
    tol = timedelta(minutes=rnd.tolerance_minutes)

    def offset(at: datetime | None) -> int | None:
        if at is None:
            return None
        if at < rnd.window_start:
            return -round((rnd.window_start - at).total_seconds() / 60)
        if at > rnd.window_end:
            return round((at - rnd.window_end).total_seconds() / 60)
        return 0

    ok = True
    if rnd.started_at is not None:
        ok &= rnd.window_start - tol <= rnd.started_at <= rnd.window_end + tol
    if rnd.finished_at is not None:
        ok &= rnd.window_start - tol <= rnd.finished_at <= rnd.window_end + tol
    return Timing(offset(rnd.started_at), offset(rnd.finished_at), ok)


def round_status(rnd: Round, now: datetime | None = None) -> str:
    """upcoming, due, in_progress, done, early, late or missed — see the README's status table."""
    now = now or utcnow()
    tol = timedelta(minutes=rnd.tolerance_minutes)
    if rnd.finished_at is not None:
        if timing(rnd).on_time:
            return "done"
        # Outside the window: late if it ran past the window's end, else it was walked before it opened.
        return "late" if rnd.finished_at > rnd.window_end + tol else "early"
    if rnd.started_at is not None:
        return "in_progress"
    if now < rnd.window_start - tol:
        return "upcoming"
    if now <= rnd.window_end + tol:
        return "due"
    if now < day_end_utc(rnd.site, rnd.date):
        return "late"
    return "missed"


def can_start(rnd: Round, now: datetime | None = None) -> bool:
    """A round can be started on its own date (late if outside the window), never after its day."""
    return rnd.started_at is None and round_status(rnd, now) != "missed"


def rounds_for_day(session, site: Site, day: date) -> list[Round]:
    """The site's rounds on `day`, created from the schedules that run that weekday."""
    schedules = session.scalars(
        select(Schedule).join(Route).where(Route.site_id == site.id, Schedule.active.is_(True))
    ).all()
    existing = {
        r.schedule_id: r
        for r in session.scalars(select(Round).where(Round.site_id == site.id, Round.date == day))
    }
    created = False
    for sch in schedules:
        if sch.id in existing or not sch.runs_on(day.isoweekday()):
            continue
        rnd = Round(
            site_id=site.id,
            route_id=sch.route_id,
            schedule_id=sch.id,
            date=day,
            slot=sch.slot,
            window_start=local_to_utc(site, day, sch.start_time),
            window_end=local_to_utc(site, day, sch.end_time),
            tolerance_minutes=sch.tolerance_minutes,
        )
        try:
            # Savepoint: two phones opening Today at once both try to create the round.
            with session.begin_nested():
                session.add(rnd)
            existing[sch.id] = rnd
            created = True
        except IntegrityError:
            existing[sch.id] = session.scalar(
                select(Round).where(Round.schedule_id == sch.id, Round.date == day)
            )
    if created:
        session.commit()
    return sorted(existing.values(), key=lambda r: (r.window_start, r.route_id))
