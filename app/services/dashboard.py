"""The manager's dashboard: a few aggregate statements over indexed columns, whatever the number of sites
or the length of the history; several sites are summarised a line each, one site shows its detail.

What a request reads: the work-order figures grouped by site (several sites) or team (one site), which
also give the 30-day reopen rate; the orders closed per local day, bucketed in SQL; every failure of the
last 30 days counted by site, day and item (and area × category for one site) in one pass over the
answers; the texts of the top items; and today's rounds (for several sites as plain rows, not objects)."""
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta

from sqlalchemy import (Date, Integer, String, and_, bindparam, case, cast, func, literal_column, null, select,
                        union_all)

from app.models import Answer, Area, ChecklistItem, Round, Route, RoundStop, Schedule, Site, Team, WorkOrder
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


# The three statements that do the counting are built once per shape (with bound parameters) and reused:
# building and keying a statement of this size costs about as much Python as running it.
SITE_IDS = bindparam("site_ids", expanding=True)


def _count(cond):
    return func.sum(case((cond, 1), else_=0))


@lru_cache(maxsize=None)
def _order_figures_statement(key: str, week: bool):
    col = getattr(WorkOrder, key)
    when = WorkOrder.closed_at.type
    now, since30, since7 = (bindparam(name, type_=when) for name in ("now", "since30", "since7"))
    zero = literal_column("0", Integer)
    in_time = WorkOrder.resolved_at <= WorkOrder.due_at
    closed7 = WorkOrder.closed_at >= since7
    return union_all(
        select(col, zero.label("kind"), func.count(), _count(WorkOrder.due_at < now), zero, zero, zero)
        .where(WorkOrder.site_id.in_(SITE_IDS), WorkOrder.status.in_(ACTIVE_STATUSES)).group_by(col),
        select(col, literal_column("1", Integer), func.count(), _count(in_time), _count(WorkOrder.reopen_count > 0),
               _count(closed7) if week else zero, _count(and_(closed7, in_time)) if week else zero)
        .where(WorkOrder.site_id.in_(SITE_IDS), WorkOrder.status == "closed", WorkOrder.closed_at >= since30)
        .group_by(col))


def order_figures(session, key: str, site_ids: list[int], now: datetime, week: bool = False) -> dict:
    """Per `key` ("site_id" or "team_id" of the orders): (open, overdue, closed 30 days, of them within
    due, of them reopened, closed 7 days, of them within due) — one statement: the active orders and
    those closed in 30 days are two index ranges, counted apart (an OR of the two would read them
    unordered). The 7-day figures only with `week` (else 0)."""
    rows = session.execute(_order_figures_statement(key, week), dict(
        site_ids=site_ids, now=now, since30=now - timedelta(days=30), since7=now - timedelta(days=7)))
    out: dict = {}
    for k, kind, n, a, b, c, d in rows:
        o, od, c30, h30, re30, c7, h7 = out.get(k, (0,) * 7)
        if kind == 0:
            o, od = int(n), int(a or 0)
        else:
            c30, h30, re30, c7, h7 = int(n), int(a or 0), int(b or 0), int(c or 0), int(d or 0)
        out[k] = (o, od, c30, h30, re30, c7, h7)
    return out


def reopen_totals(figures: dict) -> tuple[int, int]:
    """Orders closed in the last 30 days, and how many of them had been reopened (from order_figures)."""
    return sum(f[2] for f in figures.values()), sum(f[4] for f in figures.values())


def team_lines(session, site_ids: list[int], now: datetime, figures: dict | None = None) -> list[TeamLine]:
    """Open and overdue orders per team, and the SLA hit rate over 7 and 30 days."""
    if figures is None:
        figures = order_figures(session, "team_id", site_ids, now, week=True)
    teams = session.scalars(select(Team).where(Team.site_id.in_(site_ids)).order_by(Team.site_id, Team.id)).all()
    out = []
    for t in teams:
        o, od, c30, h30, _re, c7, h7 = figures.get(t.id, (0,) * 7)
        out.append(TeamLine(t, o, od, _pct(h7, c7), _pct(h30, c30), c30))
    return out


@dataclass
class Failures:
    """Failures raised by rounds since a date, counted by site, by round date, by item code and (for one
    site's page) by area × category."""

    by_site: dict[int, int]
    by_day: dict[date, int]
    by_code: dict[str, int]
    by_cell: dict[tuple[int, str], int]


@lru_cache(maxsize=None)
def _failures_statement(cells: bool):
    # 'fail' is written into the SQL, not bound: the partial index ix_answer_fail (result = 'fail') is
    # then usable whatever the planner knows of the parameters.
    f = (select(Round.site_id, Round.date, Answer.item_id, Answer.stop_id)
         .join(Answer, Answer.round_id == Round.id)
         .where(Round.site_id.in_(SITE_IDS), Round.date >= bindparam("since", type_=Round.date.type),
                Answer.result == literal_column("'fail'"))).cte("f")
    none_int, none_date, none_str = cast(null(), Integer), cast(null(), Date), cast(null(), String)
    n = func.count()
    by_item = select(f.c.item_id, n.label("n")).group_by(f.c.item_id).subquery()
    parts = [
        select(literal_column("0", Integer), f.c.site_id, none_date, none_str, n).group_by(f.c.site_id),
        select(literal_column("1", Integer), none_int, f.c.date, none_str, n).group_by(f.c.date),
        # By item first (a hundred rows), then by code: an item's code is shared by its versions and copies.
        select(literal_column("2", Integer), none_int, none_date, ChecklistItem.code,
               cast(func.sum(by_item.c.n), Integer))
        .join_from(by_item, ChecklistItem, ChecklistItem.id == by_item.c.item_id).group_by(ChecklistItem.code),
    ]
    if cells:
        parts.append(
            select(literal_column("3", Integer), RoundStop.area_id, none_date, ChecklistItem.category, n)
            .join_from(f, RoundStop, RoundStop.id == f.c.stop_id)
            .join(ChecklistItem, ChecklistItem.id == f.c.item_id)
            .group_by(RoundStop.area_id, ChecklistItem.category))
    return union_all(*parts)


def failures(session, site_ids: list[int], since: date, cells: bool = False) -> Failures:
    """One statement: the failed answers of the sites' rounds since `since` are read once (a CTE, from
    the small index of failed answers) and counted four ways (three without `cells`) — a few dozen rows
    back, however many failures."""
    out = Failures({}, {}, {}, {})
    for kind, num, day, text, count in session.execute(_failures_statement(cells),
                                                        dict(site_ids=site_ids, since=since)):
        count = int(count)
        if kind == 0:
            out.by_site[num] = count
        elif kind == 1:
            out.by_day[day] = count
        elif kind == 2:
            out.by_code[text] = count
        else:
            out.by_cell[(num, text)] = count
    return out


def heat(session, fails: Failures):
    """Failures by area × category: (areas, categories, {(area id, category): n})."""
    cells = fails.by_cell
    area_ids = sorted({a for a, _ in cells})
    areas = session.scalars(select(Area).where(Area.id.in_(area_ids)).order_by(Area.id)).all() if area_ids else []
    categories = sorted({c for _, c in cells})
    return areas, categories, cells


def top_of(session, fails: Failures, limit: int = 10):
    """The items that failed most: (item code, zh, en, count), most first."""
    top = sorted(fails.by_code.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    if not top:
        return []
    texts = {code: (zh, en) for code, zh, en in session.execute(
        select(ChecklistItem.code, func.min(ChecklistItem.text_zh), func.min(ChecklistItem.text_en))
        .where(ChecklistItem.code.in_([code for code, _ in top])).group_by(ChecklistItem.code))}
    return [(code, *texts.get(code, (code, code)), n) for code, n in top]


def _bucket(col, bounds: list, lo: int, hi: int):
    """The i in [lo, hi) with bounds[i] <= col < bounds[i + 1] (col within those bounds), as a CASE tree
    bisecting the bounds: a handful of comparisons per row instead of one per bucket."""
    if hi - lo == 1:
        return literal_column(str(lo), Integer)
    mid = (lo + hi) // 2
    return case((col < bounds[mid], _bucket(col, bounds, lo, mid)), else_=_bucket(col, bounds, mid, hi))


@lru_cache(maxsize=None)
def _closed_per_day_statement(days: int):
    bounds = [bindparam(f"b{i}", type_=WorkOrder.closed_at.type) for i in range(days + 1)]
    day = (select(_bucket(WorkOrder.closed_at, bounds, 0, days).label("day"))
           .where(WorkOrder.site_id.in_(SITE_IDS), WorkOrder.status == "closed",
                  WorkOrder.closed_at >= bounds[0], WorkOrder.closed_at < bounds[days])).subquery()
    return select(day.c.day, func.count()).group_by(day.c.day)


def closed_per_day(session, site_ids: list[int], since: date, tz, days: int = 30) -> list[int]:
    """Orders closed per local day (site time, between local midnights: DST-safe) from `since`: one
    statement returning a row per day with closings."""
    params = {f"b{i}": datetime.combine(since + timedelta(days=i), time(0), tzinfo=tz) for i in range(days + 1)}
    closed = [0] * days
    for i, n in session.execute(_closed_per_day_statement(days), dict(params, site_ids=site_ids)):
        closed[i] = int(n)
    return closed


def trend(session, site_ids: list[int], today: date, tz, days: int = 30,
          fails: Failures | None = None) -> list[tuple[date, int, int]]:
    """Per day for the last `days`: failures raised (by round date) and orders closed (site time)."""
    since = today - timedelta(days=days - 1)
    if fails is None:
        fails = failures(session, site_ids, since)
    closed = closed_per_day(session, site_ids, since, tz, days)
    return [(since + timedelta(days=i), fails.by_day.get(since + timedelta(days=i), 0), closed[i])
            for i in range(days)]


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


@dataclass
class _Walk:
    """What schedule.round_status reads of a round, saved or planned, without an ORM object."""

    site: Site
    date: date
    window_start: datetime
    window_end: datetime
    tolerance_minutes: int
    started_at: datetime | None = None
    finished_at: datetime | None = None


def rounds_today(session, sites: list[Site], now: datetime) -> dict[int, list[_Walk]]:
    """Each site's rounds on its own today (sites in other zones may be on another date), as
    schedule.rounds_on_days plans them — the saved ones and, for each active schedule that runs that
    weekday without one, the planned one — but read as plain rows: two statements for all the sites."""
    day_of = {s.id: schedule.site_today(s, now) for s in sites}
    by_id = {s.id: s for s in sites}
    out: dict[int, list[_Walk]] = {s.id: [] for s in sites}
    saved = set()
    for site_id, sch_id, day, ws, we, tol, started, finished in session.execute(
            select(Round.site_id, Round.schedule_id, Round.date, Round.window_start, Round.window_end,
                   Round.tolerance_minutes, Round.started_at, Round.finished_at)
            .where(Round.site_id.in_(list(by_id)), Round.date.in_(set(day_of.values())))):
        if day == day_of[site_id]:
            saved.add(sch_id)
            out[site_id].append(_Walk(by_id[site_id], day, ws, we, tol, started, finished))
    for site_id, sch_id, start, end, tol, weekdays in session.execute(
            select(Route.site_id, Schedule.id, Schedule.start_time, Schedule.end_time,
                   Schedule.tolerance_minutes, Schedule.weekdays).join(Route)
            .where(Route.site_id.in_(list(by_id)), Schedule.active.is_(True))):
        site, day = by_id[site_id], day_of[site_id]
        if sch_id not in saved and str(day.isoweekday()) in weekdays:
            out[site_id].append(_Walk(site, day, schedule.local_to_utc(site, day, start),
                                      schedule.local_to_utc(site, day, end), tol))
    return out


def site_lines(session, sites: list[Site], now: datetime, failed: dict[int, int],
               figures: dict | None = None) -> list[SiteLine]:
    """Per site: today's rounds (walked, late or missed), open and overdue orders, the 30-day SLA hit
    rate and its failures (`failed`, by site id)."""
    if figures is None:
        figures = order_figures(session, "site_id", [s.id for s in sites], now)
    rounds = rounds_today(session, sites, now)
    out = []
    for s in sites:
        walks = rounds[s.id]
        behind = sum(1 for w in walks if schedule.round_status(w, now) in BEHIND)
        o, od, c30, h30 = figures.get(s.id, (0,) * 7)[:4]
        out.append(SiteLine(s, len(walks), sum(1 for w in walks if w.finished_at is not None), behind,
                            o, od, _pct(h30, c30), failed.get(s.id, 0)))
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
    several = len(sites) > 1
    figures = order_figures(session, "site_id" if several else "team_id", site_ids, now, week=not several)
    closed, reopened = reopen_totals(figures)
    fails = failures(session, site_ids, since, cells=not several)
    d = dict(today=today, since=since, closed30=closed, reopened30=reopened, reopen_pct=_pct(reopened, closed),
             top=top_of(session, fails), trend=trend(session, site_ids, today, tz, fails=fails),
             sites=None, rounds=[], teams=[], heat_areas=[], heat_categories=[], heat={}, heat_max=0)
    if several:
        d["sites"] = site_lines(session, sites, now, fails.by_site, figures)
        return d
    site = sites[0]
    areas, categories, cells = heat(session, fails)
    d.update(rounds=[(site, r, schedule.round_status(r, now)) for r in schedule.rounds_for_day(session, site, today)],
             teams=team_lines(session, site_ids, now, figures), heat_areas=areas, heat_categories=categories,
             heat=cells, heat_max=max(cells.values(), default=0))
    return d
