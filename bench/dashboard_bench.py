"""The manager's dashboard over a year of history for many sites, on SQLite and PostgreSQL.

Run from the project root:

    .venv/bin/python bench/dashboard_bench.py [--sites 50] [--days 365 | --answers 10M] [--backends sqlite,postgresql]
                                              [--repeat 20] [--sqlite-analyze] [--no-export]
    .venv/bin/python bench/dashboard_bench.py --scales 100k,10M [--sites 50] [--backends ...]

Per backend: the schema by the real migrations, the demo seed, then --sites more sites (five teams,
the eleven areas, the morning and afternoon routes, a supervisor each) and --days of history per
added site, bulk-loaded (executemany on SQLite, COPY on PostgreSQL) in big batches. --answers N
(100k, 2.5M, 10M...) sets --days instead: as many days as the --sites need for about N answers (a
site walks ~220 answers a day), so a larger N is a longer history of the same sites.

--scales A,B,...: per backend, a fresh database for each size (--answers A, then B...), the same
measurements on each (no CSV export), then the figures side by side with the largest size's ratio
to the smallest's, against the bound that it be no worse than 3x.

* two rounds a day per site: ~85% on time, ~12% late, ~3% missed (materialised, never started);
* every walked round has its stops (the template versions frozen) and an answer for every item,
  ~3% fail (some items and sites fail more than others), the rest pass;
* a work order for every failed answer, with its event history replayed up to now: most closed
  (resolved and verified; most within due, some late), ~10% reopened once, a tail still open, in
  progress, blocked or overdue in the last weeks; escalations (overdue, unverified) already marked
  on the orders with their events and the managers' notifications, as the sweep would have left them.

The same random seed gives the same history on both backends. A manager assigned to every site
(the demo's and the added ones) logs in through the real /login form. Measured: `dashboard.build`
for one loaded site and for all sites, and GET /manage/dashboard?site=<id> and ?site=all through
the Flask test client (in process), each --repeat times after one warm-up (which writes nothing:
today's rounds are planned, not saved). Then EXPLAIN (ANALYZE on PostgreSQL, QUERY PLAN on
SQLite) of the slowest dashboard query, and every dashboard query's plan is checked for full
scans of answer/work_order. The p95 of --repeat 5 is nearly the slowest run (one garbage-collector
pass of the whole process, ~70 ms on a slow machine, can make it); the default is 20, and the
collector's full passes during the timed requests are counted and printed.

PostgreSQL gets VACUUM ANALYZE after the load (what autovacuum would have done by then); SQLite
gets no ANALYZE unless --sqlite-analyze (the app never runs it). Prints figures; asserts nothing.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import secrets  # noqa: E402

# The app reads its secret key when app.config is imported: set it first (TestConfig overrides it).
os.environ["ROUNDS_SECRET_KEY"] = secrets.token_hex(32)

import argparse  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import time as dtime  # noqa: E402
from datetime import timedelta  # noqa: E402

from sqlalchemy import select, text  # noqa: E402

from app.extensions import db  # noqa: E402
from bench.common import (  # noqa: E402
    PASSWORD, Databases, QueryCounter, login, make_app, parse_backends, pct, run_each,
)

MANAGER = "bench.manager"

# Round outcomes and answer results (fractions).
MISSED, LATE = 0.03, 0.12
FAIL_RATE = 0.03
REOPEN_RATE = 0.10
BATCH = 200_000  # answers per flush (the other tables flush with them)

H = timedelta(hours=1)
MIN = timedelta(minutes=1)
ACTIVE = ("open", "in_progress", "blocked")


QC = QueryCounter()


# --------------------------------------------------------------------------- app and sites

def prepare(app, n_sites: int) -> dict:
    """Migrations, the demo seed, n_sites more sites with routes and a supervisor each, the manager."""
    from flask_migrate import upgrade

    from app.models import Area, Site, User
    from app.models.user import hash_password
    from app.services.seed import (
        AFTERNOON_ROUTE, AREAS, MORNING_ROUTE, create_route, create_site, load_templates, seed_demo,
    )

    with app.app_context():
        upgrade()
        seed_demo(db.session)
        templates = load_templates(db.session)
        pw = hash_password(PASSWORD)  # one hash for every bench user
        bench_ids, sup_ids = [], {}
        for i in range(1, n_sites + 1):
            site = create_site(db.session, f"bench{i:03d}", f"基准小区{i}", f"Bench Estate {i}")
            for code, (zh, en) in AREAS.items():
                db.session.add(Area(site=site, code=code, name_zh=zh, name_en=en))
            db.session.flush()
            db.session.refresh(site)
            create_route(db.session, site, "morning", ("上午巡查路线", "Morning patrol route"),
                         MORNING_ROUTE, templates, "morning", dtime(9, 30), dtime(11, 0))
            create_route(db.session, site, "afternoon", ("下午巡查路线", "Afternoon patrol route"),
                         AFTERNOON_ROUTE, templates, "afternoon", dtime(15, 0), dtime(17, 0))
            sup = User(username=f"sup.bench{i:03d}", display_name=f"Supervisor {i}", role="supervisor",
                       password_hash=pw)
            sup.sites.append(site)
            db.session.add(sup)
            db.session.flush()
            bench_ids.append(site.id)
            sup_ids[site.id] = sup.id
        all_sites = db.session.scalars(select(Site).order_by(Site.id)).all()
        manager = User(username=MANAGER, display_name="Bench manager", role="manager", password_hash=pw)
        manager.sites.extend(all_sites)
        db.session.add(manager)
        db.session.commit()
        info = dict(bench_ids=bench_ids, sup_ids=sup_ids, all_ids=[s.id for s in all_sites],
                    manager_id=manager.id)
        db.session.remove()
    return info


# --------------------------------------------------------------------------- history generation

class SitePlan:
    """What a site's rounds walk: per schedule, its stops and items; teams; SLA hours."""

    def __init__(self, site, schedules, teams, sla, sup_id, fail_factor):
        self.site, self.schedules, self.teams, self.sla = site, schedules, teams, sla
        self.sup_id, self.fail_factor = sup_id, fail_factor


def plan_sites(session, info: dict, rng: random.Random):
    from app.models import ChecklistItem, Route, Schedule, Site, SlaRule

    items = {i.id: i for i in session.scalars(select(ChecklistItem))}
    item_info = {i.id: (i.team_code, i.severity, i.text_zh, i.text_en) for i in items.values()}
    # Some items fail far more often than others (mean weight 1): the heat map and top list have shape.
    weight = {iid: rng.lognormvariate(0, 0.9) for iid in sorted(items)}
    mean_w = statistics.fmean(weight.values())
    p_fail = {iid: min(0.35, FAIL_RATE * w / mean_w) for iid, w in weight.items()}
    sla = {(r.team_id, r.severity): r.hours for r in session.scalars(select(SlaRule))}
    plans = []
    for site_id in info["bench_ids"]:
        site = session.get(Site, site_id)
        scheds = session.scalars(select(Schedule).join(Route).where(Route.site_id == site_id)
                                 .order_by(Schedule.start_time)).all()
        sched_plans = []
        for sch in scheds:
            stops = []
            for cp in sch.route.checkpoints:
                for tpl in cp.templates:
                    v = tpl.current_version
                    stops.append((cp.id, cp.area_id, v.id, [i.id for i in v.items], tpl.on_fail == "work_order"))
            n_items = sum(len(s[3]) for s in stops)
            win = (sch.end_time.hour * 60 + sch.end_time.minute) - (sch.start_time.hour * 60 + sch.start_time.minute)
            sched_plans.append(dict(id=sch.id, route_id=sch.route_id, slot=sch.slot, start=sch.start_time,
                                    end=sch.end_time, tol=sch.tolerance_minutes, stops=stops,
                                    n_items=n_items, window_min=win))
        teams = {t.code: t.id for t in site.teams}
        # Sites differ too: some are run tighter than others.
        plans.append(SitePlan(site, sched_plans, teams, sla, info["sup_ids"][site_id],
                              rng.lognormvariate(0, 0.3)))
    return plans, item_info, p_fail


def order_life(r, created, sla_h: int, now):
    """An order's events from raising to now, and its fields as they stand now.

    Returns (events [(at, kind, from, to, detail)], fields dict, notifications [(kind, at)])."""
    sla = sla_h * H
    due = created + sla
    ev = [(created, "created", "open", "open")]
    u = r()
    if u < 0.80:
        fix = created + sla * (0.1 + 0.85 * r())          # within due
    elif u < 0.97:
        fix = due + H * (0.5 + 47.5 * r())                # late by up to two days
    else:
        fix = due + timedelta(days=2 + 23 * r())          # the long tail: weeks
    started = created + (fix - created) * (0.05 + 0.4 * r())
    ev.append((started, "started", "open", "in_progress"))
    if u >= 0.97 and r() < 0.5:
        blocked = started + (fix - started) * 0.2
        back = started + (fix - started) * 0.6
        ev += [(blocked, "blocked", "in_progress", "blocked"), (back, "sent_back", "blocked", "open"),
               (back + (fix - back) * 0.3, "started", "open", "in_progress")]
    ev.append((fix, "resolved", "in_progress", "resolved"))
    verify = fix + (MIN * (10 + 1190 * r()) if r() < 0.97 else H * (24 + 48 * r()))
    if r() < REOPEN_RATE:
        fix2 = verify + H * (1 + r() * (sla_h + 24))
        verify2 = fix2 + MIN * (10 + 1190 * r())
        ev += [(verify, "reopened", "resolved", "open"),
               (verify + (fix2 - verify) * 0.3, "started", "open", "in_progress"),
               (fix2, "resolved", "in_progress", "resolved"), (verify2, "verified", "resolved", "closed")]
    else:
        ev.append((verify, "verified", "resolved", "closed"))

    # Escalations, as the sweep makes them: overdue once, the first time the order is active past
    # due; unverified when a fix waits over a day for its check (a reopen allows another).
    esc = []
    overdue_done = False
    for i, (at, _kind, _f, to) in enumerate(ev):
        end = ev[i + 1][0] if i + 1 < len(ev) else None
        if not overdue_done and to in ACTIVE and (end is None or end > due):
            t = max(at, due) + MIN * (10 * r())
            if end is None or t < end:
                esc.append((t, "escalated", to, to, "overdue"))
                overdue_done = True
        if to == "resolved" and (end is None or end - at > 24 * H):
            t = at + 24 * H + MIN * (10 * r())
            if end is None or t < end:
                esc.append((t, "escalated", to, to, "unverified"))
    events = sorted([(a, k, f, t, "") for a, k, f, t in ev] + esc, key=lambda e: e[0])

    # Replay up to now.
    f = dict(status="open", resolved_at=None, closed_at=None, reopen_count=0, overdue_esc=None,
             unverified_esc=None, version=1)
    kept, notes = [], []
    for e in events:
        at, kind, _fr, to, detail = e
        if at > now:
            break
        kept.append(e)
        if kind == "created":
            continue
        f["version"] += 1
        f["status"] = to
        if kind == "resolved":
            f["resolved_at"] = at
        elif kind == "verified":
            f["closed_at"] = at
        elif kind == "reopened":
            f["reopen_count"] += 1
            f["resolved_at"] = f["closed_at"] = f["unverified_esc"] = None
        elif kind == "escalated":
            if detail == "overdue":
                f["overdue_esc"] = at
            else:
                f["unverified_esc"] = at
            if all(k != detail for k, _ in notes):  # one notification per order and reason
                notes.append((detail, at))
    return kept, f, due, notes


class Writer:
    """Rows per table, flushed together (in foreign-key order) by executemany or COPY."""

    COLUMNS = {
        "round": ("id", "site_id", "route_id", "schedule_id", "date", "slot", "window_start", "window_end",
                  "tolerance_minutes", "started_at", "finished_at", "supervisor_id"),
        "round_stop": ("id", "round_id", "checkpoint_id", "version_id", "position", "area_id"),
        "answer": ("id", "round_id", "stop_id", "item_id", "result", "note", "answered_by_id", "answered_at"),
        "work_order": ("id", "site_id", "team_id", "area_id", "source", "answer_id", "item_id", "title_zh",
                       "title_en", "description", "severity", "status", "due_at", "created_at",
                       "created_by_id", "resolved_at", "closed_at", "reopen_count",
                       "overdue_escalated_at", "unverified_escalated_at", "version"),
        "work_order_event": ("id", "order_id", "kind", "actor_id", "at", "from_status", "to_status", "note",
                             "detail"),
        "notification": ("id", "user_id", "order_id", "kind", "created_at", "read_at"),
    }

    def __init__(self, backend: str, dbapi):
        self.backend, self.dbapi = backend, dbapi
        self.rows = {t: [] for t in self.COLUMNS}
        self.counts = Counter()
        self.write_s = 0.0
        if backend == "postgresql":
            self.cur = dbapi.cursor()
            # Bench-only: the rows are consistent by construction, so skip the FK triggers.
            self.cur.execute("SET session_replication_role = replica")
            self.ts = lambda dt: None if dt is None else dt.isoformat(" ")
        else:
            self.cur = dbapi.cursor()
            # During the load only (restored in close(): the pooled connection serves the app after).
            self.old_sync = self.cur.execute("PRAGMA synchronous").fetchone()[0]
            self.old_cache = self.cur.execute("PRAGMA cache_size").fetchone()[0]
            self.cur.execute("PRAGMA synchronous=OFF")
            self.cur.execute("PRAGMA cache_size=-262144")  # 256 MB
            self.ts = lambda dt: None if dt is None else dt.replace(tzinfo=None).isoformat(" ", "microseconds")

    @staticmethod
    def _pg_value(v) -> str:
        if v is None:
            return "\\N"
        if isinstance(v, str):
            return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return str(v)

    def flush(self):
        t0 = time.perf_counter()
        for table, cols in self.COLUMNS.items():
            rows = self.rows[table]
            if not rows:
                continue
            self.counts[table] += len(rows)
            if self.backend == "postgresql":
                if table == "answer":  # numbers and fixed strings only: the fast path
                    data = "".join(f"{a}\t{b}\t{c}\t{d}\t{e}\t\t{g}\t{h}\n" for a, b, c, d, e, _f, g, h in rows)
                else:
                    pv = self._pg_value
                    data = "".join("\t".join(map(pv, row)) + "\n" for row in rows)
                with self.cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                    cp.write(data.encode())
            else:
                self.cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                                     f"({', '.join('?' * len(cols))})", rows)
            rows.clear()
        self.write_s += time.perf_counter() - t0

    def close(self):
        self.flush()
        if self.backend == "postgresql":
            self.cur.execute("SET session_replication_role = DEFAULT")
            self.dbapi.commit()
            self.cur.close()
        else:
            self.dbapi.commit()
            self.cur.execute(f"PRAGMA synchronous={int(self.old_sync)}")
            self.cur.execute(f"PRAGMA cache_size={int(self.old_cache)}")
            self.cur.close()


def load_history(app, info: dict, days: int, sqlite_analyze: bool) -> dict:
    """--days of rounds, stops, answers, orders, events and notifications for every added site."""
    from app.models.types import utcnow
    from app.services import schedule as sched

    t_start = time.perf_counter()
    rng = random.Random(20240501)
    r = rng.random
    now = utcnow()
    with app.app_context():
        backend = db.engine.dialect.name
        session = db.session
        plans, item_info, p_fail = plan_sites(session, info, random.Random(7))
        ids = {}
        for table in Writer.COLUMNS:
            ids[table] = session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
        manager_id = info["manager_id"]
        # Per site: the local date today; windows per (site tz, date, slot) are cached.
        todays = {p.site.id: sched.site_today(p.site, now) for p in plans}
        windows = {}
        session.close()

        raw = db.engine.raw_connection()
        try:
            w = Writer(backend, raw.driver_connection)
            ts = w.ts
            rid, sid, aid, oid, eid, nid = (ids["round"], ids["round_stop"], ids["answer"], ids["work_order"],
                                            ids["work_order_event"], ids["notification"])
            R, S, A, O, E, N = (w.rows[t] for t in ("round", "round_stop", "answer", "work_order",
                                                    "work_order_event", "notification"))
            outcomes = Counter()
            # Day-major, like real life: the ids of all sites' rounds and answers interleave in time.
            for k in range(days, 0, -1):
                for p in plans:
                    day = todays[p.site.id] - timedelta(days=k)
                    sup = p.sup_id
                    for sp in p.schedules:
                        key = (p.site.timezone, day, sp["slot"])
                        if key not in windows:
                            windows[key] = (sched.local_to_utc(p.site, day, sp["start"]),
                                            sched.local_to_utc(p.site, day, sp["end"]))
                        ws, we = windows[key]
                        rid += 1
                        u = r()
                        if u < MISSED:
                            outcomes["missed"] += 1
                            R.append((rid, p.site.id, sp["route_id"], sp["id"], day.isoformat(), sp["slot"],
                                      ts(ws), ts(we), sp["tol"], None, None, None))
                            continue
                        # A walk takes 55-90% of the window; on time starts within the tolerance.
                        dur = MIN * (sp["window_min"] * (0.55 + 0.35 * r()))
                        if u < MISSED + LATE:
                            outcomes["late"] += 1
                            start = we + MIN * (sp["tol"] + 1 + 90 * r())
                        else:
                            outcomes["on time"] += 1
                            start = ws + MIN * (-10 + 20 * r())
                        finish = start + dur
                        R.append((rid, p.site.id, sp["route_id"], sp["id"], day.isoformat(), sp["slot"],
                                  ts(ws), ts(we), sp["tol"], ts(start), ts(finish), sup))
                        step = dur / sp["n_items"]
                        j = 0
                        ff = p.fail_factor
                        for pos, (cp_id, area_id, version_id, items, raises) in enumerate(sp["stops"]):
                            sid += 1
                            S.append((sid, rid, cp_id, version_id, pos, area_id))
                            for item_id in items:
                                aid += 1
                                at = start + step * (j + 0.5)
                                j += 1
                                if r() >= p_fail[item_id] * ff:
                                    A.append((aid, rid, sid, item_id, "pass", "", sup, ts(at)))
                                    continue
                                A.append((aid, rid, sid, item_id, "fail", "", sup, ts(at)))
                                if not raises:
                                    continue
                                team_code, severity, zh, en = item_info[item_id]
                                team_id = p.teams[team_code]
                                events, f, due, notes = order_life(r, at, p.sla[(team_id, severity)], now)
                                oid += 1
                                O.append((oid, p.site.id, team_id, area_id, "round", aid, item_id, zh, en, "",
                                          severity, f["status"], ts(due), ts(at), sup, ts(f["resolved_at"]),
                                          ts(f["closed_at"]), f["reopen_count"], ts(f["overdue_esc"]),
                                          ts(f["unverified_esc"]), f["version"]))
                                for e_at, kind, fr, to, detail in events:
                                    eid += 1
                                    note = "整改不到位 / fix did not hold" if kind == "reopened" else ""
                                    E.append((eid, oid, kind, None if kind == "escalated" else sup, ts(e_at),
                                              fr, to, note, detail))
                                for kind, n_at in notes:
                                    nid += 1
                                    read = n_at + H * (1 + 47 * r())
                                    N.append((nid, manager_id, oid, kind, ts(n_at),
                                              ts(read) if read < now - 6 * H else None))
                if len(A) >= BATCH:
                    w.flush()
            w.close()
        finally:
            raw.close()
        t_rows = time.perf_counter()

        if backend == "postgresql":
            with db.engine.begin() as conn:
                for table in Writer.COLUMNS:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT coalesce(max(id), 1) FROM {table}))"))
            # What autovacuum would have done by the time a site has this much history.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        elif sqlite_analyze:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        t_end = time.perf_counter()

        with db.engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in Writer.COLUMNS}
            statuses = dict(conn.execute(text("SELECT status, count(*) FROM work_order GROUP BY status")).all())
            late_fix = conn.execute(text(
                "SELECT count(*) FROM work_order WHERE status = 'closed' AND resolved_at > due_at")).scalar()
            reopened = conn.execute(text(
                "SELECT count(*) FROM work_order WHERE reopen_count > 0")).scalar()
            overdue_now = conn.execute(text(
                "SELECT count(*) FROM work_order WHERE status IN ('open', 'in_progress', 'blocked') "
                "AND due_at < :now"), {"now": now if backend == "postgresql"
                                       else now.replace(tzinfo=None).isoformat(" ", "microseconds")}).scalar()
            fails = conn.execute(text("SELECT count(*) FROM answer WHERE result = 'fail'")).scalar()
        db.session.remove()
    return dict(counts=counts, statuses=statuses, late_fix=late_fix, reopened=reopened, overdue_now=overdue_now,
                fails=fails, outcomes=outcomes, write_s=w.write_s, rows_s=t_rows - t_start,
                post_s=t_end - t_rows, total_s=t_end - t_start, added=w.counts)


# --------------------------------------------------------------------------- measuring

def _sites(ids):
    from app.models import Site

    by_id = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(ids)))}
    return [by_id[i] for i in ids]


def time_build(app, ids: list[int], repeat: int) -> dict:
    """build() on a fresh session each time (as a request has), after one warm-up call."""
    from app.services import dashboard

    out = dict(ms=[], q=[], captures=[])
    with app.app_context():
        dashboard.build(db.session, _sites(ids))  # warm-up: the session's first loads
        db.session.remove()
        for _ in range(repeat):
            sites = _sites(ids)
            QC.reset(capture=True)
            t0 = time.perf_counter()
            d = dashboard.build(db.session, sites)
            out["ms"].append((time.perf_counter() - t0) * 1000)
            out["q"].append(QC.n)
            out["captures"].append(QC.capture)
            QC.reset()
            db.session.remove()
        # Several sites: a line per site (no team lines, rounds list or heat table); one site: its detail.
        lines = d["sites"] or d["teams"]
        out["summary"] = dict(rounds=sum(x.rounds for x in d["sites"]) if d["sites"] else len(d["rounds"]),
                              lines=len(lines), closed30=d["closed30"],
                              reopened30=d["reopened30"], heat_cells=len(d["heat"]), top=len(d["top"]),
                              raised30=sum(x[1] for x in d["trend"]), closed_trend=sum(x[2] for x in d["trend"]),
                              open=sum(x.open for x in lines), overdue=sum(x.overdue for x in lines))
    return out


def time_page(client, url: str, repeat: int) -> dict:
    """GET the page; also how long dashboard.build took inside the request (the rest is the user,
    the site list, the template and the response)."""
    from app.services import dashboard

    out = dict(ms=[], q=[], build_ms=[], status=Counter(), bytes=0, gc2=[])
    inner = []
    real_build = dashboard.build
    gc_start = []

    def on_gc(phase, gc_info):  # full passes of the collector while a timed request runs
        if gc_info["generation"] != 2:
            return
        if phase == "start":
            gc_start.append(time.perf_counter())
        elif gc_start:
            out["gc2"].append((time.perf_counter() - gc_start.pop()) * 1000)

    def timed_build(*a, **kw):
        t = time.perf_counter()
        try:
            return real_build(*a, **kw)
        finally:
            inner.append((time.perf_counter() - t) * 1000)

    dashboard.build = timed_build  # the view looks it up on the module at request time
    try:
        r = client.get(url)  # warm-up
        out["status"][r.status_code] += 0
        for _ in range(repeat):
            inner.clear()
            QC.reset()
            gc.callbacks.append(on_gc)
            t0 = time.perf_counter()
            r = client.get(url)
            out["ms"].append((time.perf_counter() - t0) * 1000)
            gc.callbacks.remove(on_gc)
            out["q"].append(QC.n)
            out["build_ms"].append(sum(inner))
            out["status"][r.status_code] += 1
            out["bytes"] = len(r.get_data())
    finally:
        dashboard.build = real_build
        QC.reset()
    return out


def per_statement(captures: list[list]) -> list[dict]:
    """The same statements run in the same order every repeat: median ms per position."""
    n = min(len(c) for c in captures)
    rows = []
    for i in range(n):
        stmt, params, _ = captures[-1][i]
        rows.append(dict(i=i, sql=stmt, params=params, ms=statistics.median(c[i][2] for c in captures)))
    return rows


def explain(backend: str, sql: str, params, analyze: bool, setup: tuple = ()) -> list[str]:
    """The plan of a statement, after the session settings (`setup`: SET statements) it ran under."""
    with db.engine.connect() as conn:
        for stmt in setup:
            conn.exec_driver_sql(stmt)
        if backend == "postgresql":
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
            return [row[0] for row in conn.exec_driver_sql(prefix + sql, params)]
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params)).all()
    depth = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
    return lines


SEQ_PG = re.compile(r"(?:Parallel )?Seq Scan on (answer|work_order)\b")
SEQ_SQLITE = re.compile(r"^\s*SCAN (answer|work_order)\b(.*)$")


def full_scans(backend: str, plan: list[str]) -> list[str]:
    found = []
    for line in plan:
        if backend == "postgresql":
            m = SEQ_PG.search(line)
            if m:
                found.append(line.strip())
        else:
            m = SEQ_SQLITE.match(line)
            if m:
                found.append(line.strip() + ("" if "INDEX" in m.group(2) else "  <- full table scan"))
    return found


def one_line(sql: str, width: int = 150) -> str:
    s = " ".join(sql.split())
    return s if len(s) <= width else s[:width - 3] + "..."


def analyse_queries(backend: str, label: str, stmts: list[dict]) -> dict:
    """Per distinct SELECT: count, median ms, full scans; EXPLAIN of the slowest one (under the SET
    statements the dashboard ran, e.g. PostgreSQL's parallel workers turned off)."""
    distinct = {}
    setup = tuple(dict.fromkeys(s["sql"] for s in stmts if s["sql"].lstrip().upper().startswith("SET ")))
    for s in stmts:
        if not s["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        d = distinct.setdefault(s["sql"], dict(n=0, total=0.0, worst=None))
        d["n"] += 1
        d["total"] += s["ms"]
        if d["worst"] is None or s["ms"] > d["worst"]["ms"]:
            d["worst"] = s
    print(f"\n  [{backend}] dashboard statements, {label} (median ms over the repeats; distinct SELECTs"
          + (f"; run after {'; '.join(setup)}" if setup else "") + "):")
    scans = {}
    for sql, d in sorted(distinct.items(), key=lambda kv: -kv[1]["total"]):
        plan = explain(backend, sql, d["worst"]["params"], analyze=False, setup=setup)
        fs = full_scans(backend, plan)
        scans[sql] = fs
        print(f"    {d['n']:>3} x  total {d['total']:8.2f} ms  max {d['worst']['ms']:8.2f} ms  {one_line(sql, 110)}")
        for f in fs:
            print(f"           full scan: {f}")
    slowest = max((d["worst"] for d in distinct.values()), key=lambda s: s["ms"])
    print(f"\n  [{backend}] slowest dashboard statement, {label}: {slowest['ms']:.2f} ms (median of the repeats)")
    print("    " + " ".join(slowest["sql"].split()))
    params = slowest["params"]
    shown = dict(list(params.items())[:12]) if isinstance(params, dict) else list(params)[:12]
    print(f"    params (first 12): {shown}")
    kind = "EXPLAIN (ANALYZE, BUFFERS)" if backend == "postgresql" else "EXPLAIN QUERY PLAN"
    print(f"  {kind}:")
    plan = explain(backend, slowest["sql"], params, analyze=True, setup=setup)
    for line in plan:
        print("    " + line)
    fs = full_scans(backend, plan)
    print("  full scans of answer/work_order in it: " + ("; ".join(fs) if fs else "none"))
    return dict(slowest=slowest, scans={one_line(k, 80): v for k, v in scans.items() if v})


# --------------------------------------------------------------------------- main

def fmt_ms(values: list[float]) -> str:
    return f"min {min(values):8.1f}  median {statistics.median(values):8.1f} ms"


def fmt_q(values: list[int]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}-{hi} (median {statistics.median(values):g})"


def answers_per_site_day(app, info: dict) -> float:
    """How many answers an added site's day brings on average (its walked rounds' items)."""
    with app.app_context():
        plans, _, _ = plan_sites(db.session, info, random.Random(7))
        db.session.remove()
    return statistics.fmean(sum(sp["n_items"] for sp in p.schedules) for p in plans) * (1 - MISSED)


def run_backend(backend: str, args, dbs: Databases, answers: int | None = None, export: bool = True) -> dict:
    """Load a fresh database of this backend (--days, or the days `answers` need) and measure it."""
    name = "dashboard_bench" if answers is None else f"dashboard_bench_{answers}"
    t0 = time.perf_counter()
    app = make_app(dbs.url(name), dbs.photo_dir(name), SWEEP_INTERVAL_SECONDS=60)
    info = prepare(app, args.sites)
    days = args.days
    if answers is not None:
        days = max(1, round(answers / (args.sites * answers_per_site_day(app, info))))
    print(f"[{backend}] schema, demo seed and {args.sites} sites in {time.perf_counter() - t0:.1f} s "
          f"({len(info['all_ids'])} sites in all)"
          + (f"; {days} days of history for ~{answers:,} answers" if answers is not None else ""), flush=True)

    load = load_history(app, info, days, args.sqlite_analyze)
    c = load["counts"]
    post = ("VACUUM ANALYZE" if backend == "postgresql" else
            ("ANALYZE" if args.sqlite_analyze else "no ANALYZE"))
    print(f"[{backend}] VOLUME: {args.sites} sites x {days} days of history. Loaded in "
          f"{load['total_s']:.1f} s (generate+write {load['rows_s']:.1f} s, of which DB writes "
          f"{load['write_s']:.1f} s; {post} {load['post_s']:.1f} s)", flush=True)
    print(f"[{backend}] rows now: " + ", ".join(f"{t} {n:,}" for t, n in c.items()))
    print(f"[{backend}] rounds {dict(load['outcomes'])}; failed answers {load['fails']:,} "
          f"({100 * load['fails'] / max(1, c['answer']):.2f}%); orders by status {load['statuses']}; "
          f"closed late {load['late_fix']:,}; reopened {load['reopened']:,}; active and overdue now "
          f"{load['overdue_now']:,}", flush=True)
    if backend == "sqlite":
        size = os.path.getsize(f"{dbs.tmp}/{name}.db")
        print(f"[{backend}] database file {size / 2**20:,.0f} MB")

    with app.app_context():
        QC.attach(db.engine)
    one = [info["bench_ids"][0]]
    res = dict(backend=backend, load=load, days=days, answers=answers)
    load_before = os.getloadavg()[0]
    res["build_one"] = time_build(app, one, args.repeat)
    res["build_all"] = time_build(app, info["all_ids"], args.repeat)
    for key, label in (("build_one", f"one site (id {one[0]})"), ("build_all", f"all {len(info['all_ids'])} sites")):
        b = res[key]
        print(f"[{backend}] build(), {label:<18}: {fmt_ms(b['ms'])}, statements {fmt_q(b['q'])}; "
              f"figures {b['summary']}", flush=True)

    client = app.test_client()
    login(client, MANAGER)
    res["page_one"] = time_page(client, f"/manage/dashboard?site={one[0]}", args.repeat)
    res["page_all"] = time_page(client, "/manage/dashboard?site=all", args.repeat)
    for key, label in (("page_one", f"?site={one[0]}"), ("page_all", "?site=all")):
        p = res[key]
        gc2 = (f"; full GC passes during them: {len(p['gc2'])} ({', '.join(f'{x:.0f}' for x in p['gc2'])} ms)"
               if p["gc2"] else "")
        print(f"[{backend}] GET /manage/dashboard{label:<9}: median {statistics.median(p['ms']):8.1f} ms, "
              f"p95 {pct(p['ms'], 95):.1f} ms "
              f"(min {min(p['ms']):.1f}; of which build() median {statistics.median(p['build_ms']):.1f}), "
              f"statements {fmt_q(p['q'])}, status {dict(p['status'])}, {p['bytes']:,} B{gc2}", flush=True)
    if export:
        res["export"] = time_export(client, one[0], days)
        e = res["export"]
        print(f"[{backend}] GET /manage/export/answers.csv, one site, {days} days: {e['rows']:,} rows, "
              f"{e['bytes'] / 2**20:,.1f} MB in {e['s']:.1f} s (under tracemalloc); Python heap peak "
              f"{e['peak_mb']:.1f} MB while streaming; RSS {e['rss_before_mb']:.0f} -> "
              f"{e['rss_after_mb']:.0f} MB", flush=True)
    res["load_avg"] = (load_before, os.getloadavg()[0])
    print(f"[{backend}] 1-minute load average {load_before:.2f} -> {res['load_avg'][1]:.2f} during the "
          f"measurements, on {os.cpu_count()} CPUs (above the CPU count, timings are inflated)", flush=True)

    with app.app_context():
        res["q_one"] = analyse_queries(backend, "one site", per_statement(res["build_one"]["captures"]))
        res["q_all"] = analyse_queries(backend, f"all {len(info['all_ids'])} sites",
                                       per_statement(res["build_all"]["captures"]))
        db.session.remove()
        db.engine.dispose()
    res["n_sites"] = len(info["all_ids"])
    for key in ("build_one", "build_all"):
        res[key].pop("captures")  # the statements' parameters: not needed any more
    return res


def time_export(client, site_id: int, days: int) -> dict:
    """Stream the answers CSV of one site over the whole range; measure the heap it needs."""
    import resource
    import tracemalloc
    from datetime import date, timedelta

    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    end = date.today()
    start = end - timedelta(days=days)
    rss_before = rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    resp = client.get(f"/manage/export/answers.csv?site={site_id}&from={start}&to={end}", buffered=False)
    rows = size = 0
    for chunk in resp.response:
        size += len(chunk)
        rows += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    resp.close()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dict(rows=rows - 1, bytes=size, s=elapsed, peak_mb=peak / 2**20, rss_before_mb=rss_before,
                rss_after_mb=rss_mb())


def summary(results: list[dict], args) -> None:
    print()
    volume = (f"{args.days} days" if args.answers is None and not args.scales else "days as the answers need")
    print(f"Summary: {args.sites} added sites x {volume} (+ the demo site), repeat {args.repeat}")
    print(f"{'backend':<11} {'days':>5} {'load s':>7} {'answers':>11} {'orders':>8} {'build 1 site':>22} "
          f"{'build all':>22} {'GET 1 site p50/p95':>26} {'GET all p50/p95':>26} {'bytes 1/all':>15} {'load avg':>12}")
    for r in results:
        c = r["load"]["counts"]
        b1, ba, p1, pa = r["build_one"], r["build_all"], r["page_one"], r["page_all"]
        print(f"{r['backend']:<11} {r['days']:>5} {r['load']['total_s']:7.1f} {c['answer']:>11,} {c['work_order']:>8,} "
              f"{statistics.median(b1['ms']):8.1f} ms {fmt_q(b1['q']):>10} q "
              f"{statistics.median(ba['ms']):8.1f} ms {fmt_q(ba['q']):>10} q "
              f"{statistics.median(p1['ms']):7.1f} /{pct(p1['ms'], 95):6.1f} ms {fmt_q(p1['q']):>5} q "
              f"{statistics.median(pa['ms']):7.1f} /{pct(pa['ms'], 95):6.1f} ms {fmt_q(pa['q']):>5} q "
              f"{p1['bytes']:>7,}/{pa['bytes']:<7,} "
              f"{r['load_avg'][0]:5.2f}->{r['load_avg'][1]:5.2f}")
    print("(build: median wall ms of dashboard.build on a fresh session; GET: median and p95 wall ms through"
          " the test client, logged in as a manager of every site; q = SQL statements)")
    for r in results:
        for key in ("q_one", "q_all"):
            scans = r[key]["scans"]
            label = "one site" if key == "q_one" else "all sites"
            if scans:
                for sql, fs in scans.items():
                    print(f"  {r['backend']:<11} {label:<9} full scan in: {sql}  ->  {'; '.join(fs)}")
            else:
                print(f"  {r['backend']:<11} {label:<9} no full scan of answer or work_order")


BOUND = 3.0  # the largest size's figure may be at most this many times the smallest's


def compare_scales(results: list[dict]) -> None:
    """Per backend, the sizes side by side and the largest's ratio to the smallest's (p50 and p95)."""
    print()
    print(f"Scales: the dashboard at each size, and the largest size's figure over the smallest's "
          f"(bound: no worse than {BOUND:g}x)")
    for backend in dict.fromkeys(r["backend"] for r in results):
        rows = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["load"]["counts"]["answer"])
        print(f"  {backend}")
        print(f"    {'answers':>11} {'days':>5} {'load s':>7}  {'GET all p50':>11} {'p95':>7}  {'GET 1 site p50':>14} "
              f"{'p95':>7}  {'build all':>9}  {'q all/1':>7}  {'bytes all/1':>15}")
        for r in rows:
            pa, p1 = r["page_all"], r["page_one"]
            print(f"    {r['load']['counts']['answer']:>11,} {r['days']:>5} {r['load']['total_s']:7.1f}  "
                  f"{statistics.median(pa['ms']):8.1f} ms {pct(pa['ms'], 95):7.1f}  "
                  f"{statistics.median(p1['ms']):11.1f} ms {pct(p1['ms'], 95):7.1f}  "
                  f"{statistics.median(r['build_all']['ms']):6.1f} ms  "
                  f"{fmt_q(pa['q']):>3}/{fmt_q(p1['q']):<3}  {pa['bytes']:>7,}/{p1['bytes']:<7,}")
        if len(rows) < 2:
            continue
        small, big = rows[0], rows[-1]
        for key, label in (("page_all", "all sites"), ("page_one", "one site")):
            for stat, fn in (("p50", statistics.median), ("p95", lambda v: pct(v, 95))):
                a, b = fn(small[key]["ms"]), fn(big[key]["ms"])
                ratio = b / a
                print(f"    GET {label:<9} {stat}: {a:7.1f} ms at {small['load']['counts']['answer']:,} answers -> "
                      f"{b:7.1f} ms at {big['load']['counts']['answer']:,}: x{ratio:.2f} "
                      f"({'within' if ratio <= BOUND else 'OVER'} the {BOUND:g}x bound)")


def parse_count(text: str) -> int:
    """100k, 2.5M, 10M, 1e6 or 100000 -> an int."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    mult = {"k": 10**3, "m": 10**6}.get(t[-1:], 1)
    try:
        return int(float(t[:-1] if mult > 1 else t) * mult)
    except ValueError:
        raise SystemExit(f"not a number of answers: {text!r}") from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=50, help="sites added to the demo's, each with history (50)")
    ap.add_argument("--days", type=int, default=365, help="days of history per added site (365)")
    ap.add_argument("--answers", help="about this many answers (100k, 10M...): sets the days of history instead")
    ap.add_argument("--scales", help="several sizes in answers, e.g. 100k,10M: a database each, compared")
    ap.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=20, help="timed runs of each measurement (20)")
    ap.add_argument("--sqlite-analyze", action="store_true",
                    help="run ANALYZE on SQLite after the load (the app never does)")
    ap.add_argument("--no-export", action="store_true", help="skip the CSV export measurement")
    args = ap.parse_args()
    backends = parse_backends(args.backends)
    if args.sites < 1 or args.days < 1 or args.repeat < 1:
        raise SystemExit("--sites, --days and --repeat must be at least 1")
    if args.answers and args.scales:
        raise SystemExit("--answers or --scales, not both")
    answers = parse_count(args.answers) if args.answers else None
    scales = [parse_count(x) for x in args.scales.split(",") if x.strip()] if args.scales else []
    if (answers is not None and answers < 1) or any(n < 1 for n in scales):
        raise SystemExit("answers must be at least 1")

    volume = (f"scales {', '.join(f'{n:,}' for n in scales)} answers" if scales else
              f"~{answers:,} answers" if answers is not None else f"{args.days} days")
    print(f"dashboard_bench: {args.sites} sites x {volume}, backends={backends}, repeat {args.repeat}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)

    def run(backend, cleanup):
        dbs = Databases(backend, cleanup, "dashboard-bench")
        if not scales:
            return [run_backend(backend, args, dbs, answers, export=not args.no_export)]
        out = []
        for n in scales:
            out.append(run_backend(backend, args, dbs, n, export=False))
            dbs.drop(f"dashboard_bench_{n}")  # the disk back before the next size
        return out

    results = [r for per_backend in run_each(backends, run) for r in per_backend]
    summary(results, args)
    if scales:
        compare_scales(results)


if __name__ == "__main__":
    main()
