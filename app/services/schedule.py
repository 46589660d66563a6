"""Round windows and statuses in the site's time zone; a day's rounds planned from the schedules and
saved only when one is started (reading a page writes nothing)."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

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


def planned_round(site: Site, sch: Schedule, day: date) -> Round:
    """The round a schedule plans on `day`, unsaved: reading a day writes nothing; starting it inserts it."""
    return Round(site_id=site.id, site=site, route_id=sch.route_id, route=sch.route, schedule_id=sch.id,
                 schedule=sch, date=day, slot=sch.slot, window_start=local_to_utc(site, day, sch.start_time),
                 window_end=local_to_utc(site, day, sch.end_time), tolerance_minutes=sch.tolerance_minutes)


def _active_schedules(session, site: Site) -> list[Schedule]:
    return session.scalars(
        select(Schedule).join(Route).where(Route.site_id == site.id, Schedule.active.is_(True))
        .options(contains_eager(Schedule.route)).order_by(Schedule.id)
    ).all()


def _planned(site: Site, schedules: list[Schedule], start: date, end: date, saved: set) -> list[Round]:
    """Unsaved planned rounds of the schedules from `start` to `end`, but for the (schedule, date) in `saved`."""
    rounds = []
    day = start
    while day <= end:
        rounds += [planned_round(site, sch, day) for sch in schedules
                   if (sch.id, day) not in saved and sch.runs_on(day.isoweekday())]
        day += timedelta(days=1)
    return rounds


def rounds_between(session, site: Site, start: date, end: date) -> list[Round]:
    """The site's rounds from `start` to `end` (inclusive): the saved ones, plus an unsaved planned round
    (`id` None) for each active schedule's day without one — two queries, whatever the range."""
    schedules = _active_schedules(session, site)
    saved = session.scalars(
        select(Round).where(Round.site_id == site.id, Round.date >= start, Round.date <= end)
        .options(joinedload(Round.supervisor))
    ).all()
    rounds = list(saved) + _planned(site, schedules, start, end, {(r.schedule_id, r.date) for r in saved})
    return sorted(rounds, key=lambda r: (r.date, r.window_start, r.route_id))


def planned_between(session, site: Site, start: date, end: date) -> list[Round]:
    """Only the unsaved planned rounds from `start` to `end`, by date (for exports, which stream the saved)."""
    saved = set(session.execute(select(Round.schedule_id, Round.date).where(
        Round.site_id == site.id, Round.date >= start, Round.date <= end)).all())
    return _planned(site, _active_schedules(session, site), start, end, saved)


def rounds_on_days(session, site_days: list[tuple[Site, date]]) -> dict[int, list[Round]]:
    """Each site's rounds on its own day (sites in other zones may be on another date), by site id: the
    saved ones and the unsaved planned ones, in two statements for all the sites together."""
    if not site_days:
        return {}
    ids = [site.id for site, _ in site_days]
    day_of = {site.id: day for site, day in site_days}
    schedules = session.scalars(
        select(Schedule).join(Route).where(Route.site_id.in_(ids), Schedule.active.is_(True))
        .options(contains_eager(Schedule.route)).order_by(Schedule.id)
    ).all()
    saved = [r for r in session.scalars(
        select(Round).where(Round.site_id.in_(ids), Round.date.in_(set(day_of.values())))
        .options(joinedload(Round.supervisor), joinedload(Round.route))
    ) if r.date == day_of[r.site_id]]
    out = {}
    for site, day in site_days:
        own = [r for r in saved if r.site_id == site.id]
        planned = _planned(site, [s for s in schedules if s.route.site_id == site.id], day, day,
                           {(r.schedule_id, r.date) for r in own})
        out[site.id] = sorted(own + planned, key=lambda r: (r.date, r.window_start, r.route_id))
    return out


def rounds_for_day(session, site: Site, day: date) -> list[Round]:
    """The site's rounds on `day`: saved, or planned by a schedule that runs that weekday (unsaved)."""
    return rounds_between(session, site, day, day)


def round_of(session, sch: Schedule, day: date) -> Round | None:
    """A schedule's round on `day`: its row, else the unsaved planned round; None if it does not run then."""
    row = session.scalar(select(Round).where(Round.schedule_id == sch.id, Round.date == day))
    if row is not None:
        return row
    return planned_round(sch.route.site, sch, day) if sch.runs_on(day.isoweekday()) else None


def materialise(session, rnd: Round) -> Round:
    """The round's row, inserting a planned round on its first write. Two requests inserting the same
    (schedule, date) at once make one row: the unique key refuses the second in a savepoint, which then
    takes the first one's row. Flushes; the caller commits."""
    if rnd.id is not None:
        return rnd
    try:
        with session.begin_nested():
            session.add(rnd)
        return rnd
    except IntegrityError:
        return session.scalar(select(Round).where(Round.schedule_id == rnd.schedule_id, Round.date == rnd.date))
