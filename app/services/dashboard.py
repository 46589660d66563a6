"""The manager's dashboard: a few aggregate statements over indexed columns, whatever the number of sites
or the length of the history; several sites are summarised a line each, one site shows its detail.

What a request reads: the work orders' figures grouped by site (several sites) or team (one site), which
also give the 30-day reopen rate, with the orders closed on each local day (one statement); every
failure of the last 30 days counted by site, day and item with its texts (and area × category for one
site) in one pass over the failed answers; and today's rounds (for several sites as plain rows, not
objects). One site's page also reads its teams, the heat table's areas and its rounds' objects."""
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta

from sqlalchemy import (Date, Integer, String, and_, bindparam, case, cast, func, literal_column, null, select, text,
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


# The two statements that do the counting are built once per shape (with bound parameters) and reused:
# building and keying a statement of this size costs about as much Python as running it.
SITE_IDS = bindparam("site_ids", expanding=True)
DAYS = 30  # the trend's days, today included


def _count(cond):
    return func.sum(case((cond, 1), else_=0))


def _bucket(col, bounds: list, lo: int, hi: int):
    """The i in [lo, hi) with bounds[i] <= col < bounds[i + 1] (col within those bounds), as a CASE tree
    bisecting the bounds: a handful of comparisons per row instead of one per bucket."""
    if hi - lo == 1:
        return literal_column(str(lo), Integer)
    mid = (lo + hi) // 2
    return case((col < bounds[mid], _bucket(col, bounds, lo, mid)), else_=_bucket(col, bounds, mid, hi))


@dataclass
class Orders:
    """The work-order figures: per key (site or team) a tuple (open, overdue, closed in 30 days, of them
    within due, of them reopened, closed in 7 days, of them within due), and the orders closed on each
    local day of the trend."""

    by_key: dict[int, tuple[int, ...]]
    closed_per_day: list[int]

    def reopen_totals(self) -> tuple[int, int]:
        """Orders closed in the last 30 days, and how many of them had been reopened."""
        return sum(f[2] for f in self.by_key.values()), sum(f[4] for f in self.by_key.values())


@lru_cache(maxsize=None)
def _orders_statement(key: str, week: bool, days: int):
    col = getattr(WorkOrder, key)
    when = WorkOrder.closed_at.type
    now, since30, since7 = (bindparam(name, type_=when) for name in ("now", "since30", "since7"))
    bounds = [bindparam(f"b{i}", type_=when) for i in range(days + 1)]
    zero = literal_column("0", Integer)
    mine, closed = WorkOrder.site_id.in_(SITE_IDS), WorkOrder.status == "closed"
    in_time = WorkOrder.resolved_at <= WorkOrder.due_at
    closed7 = WorkOrder.closed_at >= since7
    day = (select(_bucket(WorkOrder.closed_at, bounds, 0, days).label("day"))
           .where(mine, closed, WorkOrder.closed_at >= bounds[0], WorkOrder.closed_at < bounds[days])).subquery()
    return union_all(
        select(col, zero.label("kind"), func.count(), _count(WorkOrder.due_at < now), zero, zero, zero)
        .where(mine, WorkOrder.status.in_(ACTIVE_STATUSES)).group_by(col),
        select(col, literal_column("1", Integer), func.count(), _count(in_time), _count(WorkOrder.reopen_count > 0),
               _count(closed7) if week else zero, _count(and_(closed7, in_time)) if week else zero)
        .where(mine, closed, WorkOrder.closed_at >= since30).group_by(col),
        select(cast(null(), Integer), literal_column("2", Integer), func.count(), day.c.day, zero, zero, zero)
        .group_by(day.c.day))


def order_figures(session, key: str, site_ids: list[int], now: datetime, since: date, tz,
                  week: bool = False, days: int = DAYS) -> Orders:
    """The orders' figures per `key` ("site_id" or "team_id"; the 7-day ones only with `week`, else 0) and
    per local day from `since` (between the local midnights of `tz`: DST-safe), in one statement of
    three index ranges counted apart: the active orders, those closed in 30 days, and those closed
    since `since` bucketed by day (an OR of the first two would read them unordered)."""
    params = {f"b{i}": datetime.combine(since + timedelta(days=i), time(0), tzinfo=tz) for i in range(days + 1)}
    params.update(site_ids=site_ids, now=now, since30=now - timedelta(days=30), since7=now - timedelta(days=7))
    out = Orders({}, [0] * days)
    for k, kind, n, a, b, c, d in session.execute(_orders_statement(key, week, days), params):
        if kind == 2:
            out.closed_per_day[a] = int(n)
            continue
        o, od, c30, h30, re30, c7, h7 = out.by_key.get(k, (0,) * 7)
        if kind == 0:
            o, od = int(n), int(a or 0)
        else:
            c30, h30, re30, c7, h7 = int(n), int(a or 0), int(b or 0), int(c or 0), int(d or 0)
        out.by_key[k] = (o, od, c30, h30, re30, c7, h7)
    return out


def team_lines(session, site_ids: list[int], orders: Orders) -> list[TeamLine]:
    """Open and overdue orders per team, and the SLA hit rate over 7 and 30 days (`orders` by team)."""
    teams = session.scalars(select(Team).where(Team.site_id.in_(site_ids)).order_by(Team.site_id, Team.id)).all()
    out = []
    for t in teams:
        o, od, c30, h30, _re, c7, h7 = orders.by_key.get(t.id, (0,) * 7)
        out.append(TeamLine(t, o, od, _pct(h7, c7), _pct(h30, c30), c30))
    return out


@dataclass
class Failures:
    """Failures raised by rounds since a date, counted by site, by round date, by item code (with the
    item's texts) and (for one site's page) by area × category."""

    by_site: dict[int, int]
    by_day: dict[date, int]
    by_code: dict[str, int]
    texts: dict[str, tuple[str, str]]
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
    # An item's code is shared by its versions and the sites' copies: its texts are the least of theirs.
    texts = (select(ChecklistItem.code, func.min(ChecklistItem.text_zh).label("zh"),
                    func.min(ChecklistItem.text_en).label("en")).group_by(ChecklistItem.code).subquery())
    parts = [
        select(literal_column("0", Integer), f.c.site_id, none_date, none_str, n, none_str, none_str)
        .group_by(f.c.site_id),
        select(literal_column("1", Integer), none_int, f.c.date, none_str, n, none_str, none_str).group_by(f.c.date),
        # By item first (a hundred rows), then by code.
        select(literal_column("2", Integer), none_int, none_date, ChecklistItem.code,
               cast(func.sum(by_item.c.n), Integer), texts.c.zh, texts.c.en)
        .join_from(by_item, ChecklistItem, ChecklistItem.id == by_item.c.item_id)
        .join(texts, texts.c.code == ChecklistItem.code)
        .group_by(ChecklistItem.code, texts.c.zh, texts.c.en),
    ]
    if cells:
        parts.append(
            select(literal_column("3", Integer), RoundStop.area_id, none_date, ChecklistItem.category, n,
                   none_str, none_str)
            .join_from(f, RoundStop, RoundStop.id == f.c.stop_id)
            .join(ChecklistItem, ChecklistItem.id == f.c.item_id)
            .group_by(RoundStop.area_id, ChecklistItem.category))
    return union_all(*parts)


def failures(session, site_ids: list[int], since: date, cells: bool = False) -> Failures:
    """One statement: the failed answers of the sites' rounds since `since` are read once (a CTE, from
    the small index of failed answers) and counted four ways (three without `cells`) — a few dozen rows
    back, however many failures."""
    out = Failures({}, {}, {}, {}, {})
    for kind, num, day, name, count, zh, en in session.execute(_failures_statement(cells),
                                                               dict(site_ids=site_ids, since=since)):
        count = int(count)
        if kind == 0:
            out.by_site[num] = count
        elif kind == 1:
            out.by_day[day] = count
        elif kind == 2:
            out.by_code[name] = count
            out.texts[name] = (zh, en)
        else:
            out.by_cell[(num, name)] = count
    return out


def heat(session, fails: Failures):
    """Failures by area × category: (areas, categories, {(area id, category): n})."""
    cells = fails.by_cell
    area_ids = sorted({a for a, _ in cells})
    areas = session.scalars(select(Area).where(Area.id.in_(area_ids)).order_by(Area.id)).all() if area_ids else []
    categories = sorted({c for _, c in cells})
    return areas, categories, cells


def top_of(fails: Failures, limit: int = 10):
    """The items that failed most: (item code, zh, en, count), most first."""
    top = sorted(fails.by_code.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [(code, *fails.texts.get(code, (code, code)), n) for code, n in top]


def trend(since: date, fails: Failures, orders: Orders) -> list[tuple[date, int, int]]:
    """Per day from `since`: failures raised (by round date) and orders closed (site time)."""
    days = [since + timedelta(days=i) for i in range(len(orders.closed_per_day))]
    return [(day, fails.by_day.get(day, 0), closed) for day, closed in zip(days, orders.closed_per_day)]


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


def site_lines(session, sites: list[Site], now: datetime, failed: dict[int, int], orders: Orders) -> list[SiteLine]:
    """Per site: today's rounds (walked, late or missed), open and overdue orders, the 30-day SLA hit
    rate (`orders` by site) and its failures (`failed`, by site id)."""
    rounds = rounds_today(session, sites, now)
    out = []
    for s in sites:
        walks = rounds[s.id]
        behind = sum(1 for w in walks if schedule.round_status(w, now) in BEHIND)
        o, od, c30, h30 = orders.by_key.get(s.id, (0,) * 7)[:4]
        out.append(SiteLine(s, len(walks), sum(1 for w in walks if w.finished_at is not None), behind,
                            o, od, _pct(h30, c30), failed.get(s.id, 0)))
    return out


def _serial(session) -> None:
    """PostgreSQL: no parallel workers for the rest of the transaction (the request's). Once `round`
    outgrows 8 MB (~2 years of 50 sites) the planner may run the failure counts in parallel: workers
    started for a few milliseconds of index reads made that statement 11-30 ms instead of 5-11
    (bench/dashboard_bench.py at 10M answers, 2 CPUs)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def build(session, sites: list[Site], now: datetime | None = None) -> dict:
    """Everything the dashboard shows: for one site its rounds today, teams and heat table; for several
    a line per site (each opening that site's dashboard) instead. The 30-day reopen rate, trend and top
    items cover whichever sites are shown. A fixed number of statements, whatever the number of sites."""
    now = now or utcnow()
    site_ids = [s.id for s in sites]
    tz = sites[0].tz
    today = schedule.site_today(sites[0], now)
    since = today - timedelta(days=DAYS - 1)
    several = len(sites) > 1
    _serial(session)
    orders = order_figures(session, "site_id" if several else "team_id", site_ids, now, since, tz, week=not several)
    closed, reopened = orders.reopen_totals()
    fails = failures(session, site_ids, since, cells=not several)
    from app.services import residents

    d = dict(today=today, since=since, closed30=closed, reopened30=reopened, reopen_pct=_pct(reopened, closed),
             top=top_of(fails), trend=trend(since, fails, orders),
             reports=residents.figures(session, site_ids, now - timedelta(days=DAYS)),
             sites=None, rounds=[], teams=[], heat_areas=[], heat_categories=[], heat={}, heat_max=0)
    if several:
        d["sites"] = site_lines(session, sites, now, fails.by_site, orders)
        return d
    site = sites[0]
    areas, categories, cells = heat(session, fails)
    d.update(rounds=[(site, r, schedule.round_status(r, now)) for r in schedule.rounds_for_day(session, site, today)],
             teams=team_lines(session, site_ids, orders), heat_areas=areas, heat_categories=categories,
             heat=cells, heat_max=max(cells.values(), default=0))
    return d
