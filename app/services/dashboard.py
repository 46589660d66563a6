"""The manager's dashboard: every figure is one aggregate query over indexed columns; several sites are
summarised a line each, one site shows its detail."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select

from app.models import Answer, Area, ChecklistItem, Round, RoundStop, Site, Team, WorkOrder
from app.models.types import utcnow
from app.models.workorder import ACTIVE_STATUSES
from app.services import schedule


@dataclass
class TeamLine:
    team: Team
    open: int
    overdue: int
    hit7: int | None    # % closed within due, last 7 days
    hit30: int | None   # same, last 30 days
    closed30: int


def _pct(part, whole) -> int | None:
    return round(100 * part / whole) if whole else None


def team_lines(session, site_ids: list[int], now: datetime) -> list[TeamLine]:
    """Open and overdue orders per team, and the SLA hit rate over 7 and 30 days."""
    active = WorkOrder.status.in_(ACTIVE_STATUSES)
    in_time = WorkOrder.resolved_at <= WorkOrder.due_at
    closed7 = and_(WorkOrder.status == "closed", WorkOrder.closed_at >= now - timedelta(days=7))
    closed30 = and_(WorkOrder.status == "closed", WorkOrder.closed_at >= now - timedelta(days=30))
    rows = session.execute(
        select(WorkOrder.team_id,
               func.sum(case((active, 1), else_=0)),
               func.sum(case((and_(active, WorkOrder.due_at < now), 1), else_=0)),
               func.sum(case((closed7, 1), else_=0)), func.sum(case((and_(closed7, in_time), 1), else_=0)),
               func.sum(case((closed30, 1), else_=0)), func.sum(case((and_(closed30, in_time), 1), else_=0)))
        .where(WorkOrder.site_id.in_(site_ids), active | closed30)
        .group_by(WorkOrder.team_id)).all()
    figures = {r[0]: r[1:] for r in rows}
    teams = session.scalars(select(Team).where(Team.site_id.in_(site_ids)).order_by(Team.site_id, Team.id)).all()
    out = []
    for t in teams:
        o, od, c7, h7, c30, h30 = (int(x or 0) for x in figures.get(t.id, (0,) * 6))
        out.append(TeamLine(t, o, od, _pct(h7, c7), _pct(h30, c30), c30))
    return out


def reopen_rate(session, site_ids: list[int], now: datetime) -> tuple[int, int]:
    """Orders closed in the last 30 days, and how many of them had been reopened."""
    closed, reopened = session.execute(
        select(func.count(WorkOrder.id), func.sum(case((WorkOrder.reopen_count > 0, 1), else_=0)))
        .where(WorkOrder.site_id.in_(site_ids), WorkOrder.status == "closed",
               WorkOrder.closed_at >= now - timedelta(days=30))).one()
    return int(closed or 0), int(reopened or 0)


def heat(session, site_ids: list[int], since: date):
    """Failures by area × category since a date: (areas, categories, {(area id, category): n})."""
    rows = session.execute(
        select(RoundStop.area_id, ChecklistItem.category, func.count(Answer.id))
        .select_from(Answer).join(Round, Answer.round_id == Round.id)
        .join(RoundStop, Answer.stop_id == RoundStop.id).join(ChecklistItem, Answer.item_id == ChecklistItem.id)
        .where(Round.site_id.in_(site_ids), Round.date >= since, Answer.result == "fail")
        .group_by(RoundStop.area_id, ChecklistItem.category)).all()
    cells = {(a, c): n for a, c, n in rows}
    area_ids = sorted({a for a, _ in cells})
    areas = session.scalars(select(Area).where(Area.id.in_(area_ids)).order_by(Area.id)).all() if area_ids else []
    categories = sorted({c for _, c in cells})
    return areas, categories, cells


def failures(session, site_ids: list[int], since: date) -> list[tuple[int, date, str, int]]:
    """Failures raised by rounds since a date, by site, round date and item code: one pass over the
    answers for the site lines, the trend and the top items together."""
    return session.execute(
        select(Round.site_id, Round.date, ChecklistItem.code, func.count(Answer.id))
        .select_from(Answer).join(Round, Answer.round_id == Round.id)
        .join(ChecklistItem, Answer.item_id == ChecklistItem.id)
        .where(Round.site_id.in_(site_ids), Round.date >= since, Answer.result == "fail")
        .group_by(Round.site_id, Round.date, ChecklistItem.code)).all()


def top_of(session, fails, limit: int = 10):
    """The items that failed most in `failures` rows: (item code, zh, en, count), most first."""
    by_code: dict[str, int] = {}
    for _, _, code, n in fails:
        by_code[code] = by_code.get(code, 0) + n
    top = sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    if not top:
        return []
    texts = {code: (zh, en) for code, zh, en in session.execute(
        select(ChecklistItem.code, func.min(ChecklistItem.text_zh), func.min(ChecklistItem.text_en))
        .where(ChecklistItem.code.in_([code for code, _ in top])).group_by(ChecklistItem.code))}
    return [(code, *texts.get(code, (code, code)), n) for code, n in top]


def trend(session, site_ids: list[int], today: date, tz, days: int = 30, fails=None) -> list[tuple[date, int, int]]:
    """Per day for the last `days`: failures raised (by round date, from `failures` rows if given) and
    orders closed (site time)."""
    since = today - timedelta(days=days - 1)
    raised: dict[date, int] = {}
    for _, day, _, n in (fails if fails is not None else failures(session, site_ids, since)):
        raised[day] = raised.get(day, 0) + n
    # One row of per-day sums between the site's local midnights (DST-safe, index-only on PostgreSQL).
    bounds = [datetime.combine(since + timedelta(days=i), time(0), tzinfo=tz) for i in range(days + 1)]
    sums = session.execute(select(*[
        func.sum(case((and_(WorkOrder.closed_at >= bounds[i], WorkOrder.closed_at < bounds[i + 1]), 1), else_=0))
        for i in range(days)]).where(
        WorkOrder.site_id.in_(site_ids), WorkOrder.status == "closed", WorkOrder.closed_at >= bounds[0])).one()
    closed = {since + timedelta(days=i): int(n or 0) for i, n in enumerate(sums)}
    return [(since + timedelta(days=i), raised.get(since + timedelta(days=i), 0),
             closed.get(since + timedelta(days=i), 0)) for i in range(days)]


@dataclass
class SiteLine:
    """One site's row in the all-sites summary; its name opens the site's own dashboard."""

    site: Site
    rounds: int         # today's rounds (the site's today), saved or planned
    walked: int         # of them finished
    behind: int         # of them late or missed
    open: int
    overdue: int
    hit30: int | None   # % closed within due, last 30 days
    failed30: int       # failures raised by rounds, last 30 days


BEHIND = ("late", "missed")


def site_lines(session, sites: list[Site], now: datetime, failed: dict[int, int]) -> list[SiteLine]:
    """Per site: today's rounds (walked, late or missed), open and overdue orders, the 30-day SLA hit
    rate and its failures (`failed`, by site id) — three statements for all the sites."""
    site_ids = [s.id for s in sites]
    rounds = schedule.rounds_on_days(session, [(s, schedule.site_today(s, now)) for s in sites])
    active = WorkOrder.status.in_(ACTIVE_STATUSES)
    closed30 = and_(WorkOrder.status == "closed", WorkOrder.closed_at >= now - timedelta(days=30))
    orders = {r[0]: r[1:] for r in session.execute(
        select(WorkOrder.site_id,
               func.sum(case((active, 1), else_=0)),
               func.sum(case((and_(active, WorkOrder.due_at < now), 1), else_=0)),
               func.sum(case((closed30, 1), else_=0)),
               func.sum(case((and_(closed30, WorkOrder.resolved_at <= WorkOrder.due_at), 1), else_=0)))
        .where(WorkOrder.site_id.in_(site_ids), active | closed30)
        .group_by(WorkOrder.site_id))}
    out = []
    for s in sites:
        statuses = [schedule.round_status(r, now) for r in rounds[s.id]]
        o, od, c30, h30 = (int(x or 0) for x in orders.get(s.id, (0,) * 4))
        out.append(SiteLine(s, len(statuses), sum(1 for r in rounds[s.id] if r.finished_at is not None),
                            sum(1 for st in statuses if st in BEHIND), o, od, _pct(h30, c30),
                            int(failed.get(s.id, 0))))
    return out


def build(session, sites: list[Site], now: datetime | None = None) -> dict:
    """Everything the dashboard shows: for one site its rounds today, teams and heat table; for several
    a line per site (each opening that site's dashboard) instead. The 30-day reopen rate, trend and top
    items cover whichever sites are shown. A fixed number of statements, whatever the number of sites."""
    now = now or utcnow()
    site_ids = [s.id for s in sites]
    tz = sites[0].tz
    today = schedule.site_today(sites[0], now)
    since = today - timedelta(days=29)
    closed, reopened = reopen_rate(session, site_ids, now)
    fails = failures(session, site_ids, since)
    d = dict(today=today, since=since, closed30=closed, reopened30=reopened, reopen_pct=_pct(reopened, closed),
             top=top_of(session, fails), trend=trend(session, site_ids, today, tz, fails=fails),
             sites=None, rounds=[], teams=[], heat_areas=[], heat_categories=[], heat={}, heat_max=0)
    if len(sites) > 1:
        failed: dict[int, int] = {}
        for site_id, _, _, n in fails:
            failed[site_id] = failed.get(site_id, 0) + n
        d["sites"] = site_lines(session, sites, now, failed)
        return d
    site = sites[0]
    areas, categories, cells = heat(session, site_ids, since)
    d.update(rounds=[(site, r, schedule.round_status(r, now)) for r in schedule.rounds_for_day(session, site, today)],
             teams=team_lines(session, site_ids, now), heat_areas=areas, heat_categories=categories, heat=cells,
             heat_max=max(cells.values(), default=0))
    return d
