"""The htmx answer path against a bare insert endpoint, on SQLite and PostgreSQL, empty and loaded.

Run from the project root:

    .venv/bin/python bench/answer_bench.py [--n 300] [--rows 1000000] [--backends sqlite,postgresql]
                                           [--warmup 30] [--show-queries] [--profile]

Per backend, two copies of the real app run side by side on two databases: one with no answers
stored, one with --rows answers bulk-loaded for past rounds of the same site (0 skips it). Each
is built by the real migrations and the demo seed; `supervisor` logs in through the real /login
form; today's morning round is started through the service; the CSRF token is read from a
checkpoint page. Added to each app before its first request: `POST /bench/bare` (CSRF check, one
INSERT into bench_bare, commit; no login, no template) as the floor, and `/bench/bare-auth`, the
same behind @login_required. Every step sends bare, bare+login and one answer (htmx, multipart,
like the browser) to each database in turn, alternating which goes first, through the Flask test
client (in process, no network): background load on a shared machine falls on every figure alike.

Prints figures only; asserts nothing. Targets: answer/bare p50 <= 1.5x, answer p50 with the
history loaded not slower than with none.
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
import cProfile  # noqa: E402
import gzip  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from sqlalchemy import (  # noqa: E402
    Column, DateTime, Integer, MetaData, Table, Text, delete, insert, select, text,
)

from app.extensions import db  # noqa: E402
from bench import common  # noqa: E402
from bench.common import (  # noqa: E402
    CSRF_RE, Databases, QueryCounter, demo_round, login, one_line, parse_backends, pct, run_each,
)

TARGET_RATIO = 1.5
QC = QueryCounter()

bench_meta = MetaData()
bench_bare = Table(
    "bench_bare", bench_meta,
    Column("id", Integer, primary_key=True),
    Column("round_id", Integer),
    Column("value", Text),
    Column("at", DateTime),
)


# --------------------------------------------------------------------------- app setup

def make_app(url: str, photo_dir: str):
    """The real app, plus the floor: a bare insert, registered before the first request (same app,
    same engine, same session), and the same insert behind @login_required (one query more)."""
    app = common.make_app(url, photo_dir)

    def bare():
        from flask import request

        db.session.execute(insert(bench_bare).values(
            round_id=int(request.form.get("round_id", 0)), value=request.form.get("value", ""),
            at=datetime.now(timezone.utc).replace(tzinfo=None)))
        db.session.commit()
        return "ok", 200, {"Content-Type": "text/plain"}

    app.add_url_rule("/bench/bare", "bench_bare", bare, methods=["POST"])
    from flask_login import login_required

    app.add_url_rule("/bench/bare-auth", "bench_bare_auth", login_required(bare), methods=["POST"])
    return app


def prepare(app):
    """Schema by the real migrations, the demo seed, today's morning round started."""
    with app.app_context():
        rnd = demo_round()
        bench_meta.create_all(db.engine)
        pairs = [(s.id, i.id, i.photo_required_on_fail) for s in rnd.stops for i in s.version.items]
        info = dict(round_id=rnd.id, site_id=rnd.site_id, user_id=rnd.supervisor_id, pairs=pairs)
        QC.attach(db.engine)
        db.session.remove()
    return info


def checkpoint_token(client, round_id: int) -> str:
    page = client.get(f"/rounds/{round_id}/checkpoints/1")
    if page.status_code != 200:
        raise SystemExit(f"checkpoint page: {page.status_code}")
    return CSRF_RE.search(page.get_data(as_text=True)).group(1)


def reset_round(app, round_id: int):
    """Forget today's round's answers, their orders, and the bare rows: each phase starts equal."""
    from app.models import Answer, AnswerChange, WorkOrder, WorkOrderEvent, answer_photo

    with app.app_context():
        ans = select(Answer.id).where(Answer.round_id == round_id)
        orders = select(WorkOrder.id).where(WorkOrder.answer_id.in_(ans))
        with db.engine.begin() as conn:
            conn.execute(delete(WorkOrderEvent.__table__).where(WorkOrderEvent.order_id.in_(orders)))
            conn.execute(delete(WorkOrder.__table__).where(WorkOrder.answer_id.in_(ans)))
            conn.execute(delete(answer_photo).where(answer_photo.c.answer_id.in_(ans)))
            conn.execute(delete(AnswerChange.__table__).where(AnswerChange.answer_id.in_(ans)))
            conn.execute(delete(Answer.__table__).where(Answer.round_id == round_id))
            conn.execute(delete(bench_bare))
        db.session.remove()


def count_answers(app) -> int:
    with app.app_context():
        n = db.session.scalar(text("SELECT count(*) FROM answer"))
        db.session.remove()
    return n


# --------------------------------------------------------------------------- bulk history load

def _sqlite_ts(dt: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format, naive UTC (as UTCDateTime writes it)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00")


def load_history(app, info: dict, rows: int) -> dict:
    """Finished past rounds (both schedules, one per date) with `rows` answers; ~3% fail and
    carry a closed work order with its 'created' event, like real history would."""
    from app.models import Round, RoundStop, Schedule, Site
    from app.services import schedule as sched

    t_start = time.perf_counter()
    with app.app_context():
        backend = db.engine.dialect.name
        site = db.session.get(Site, info["site_id"])
        schedules = db.session.scalars(select(Schedule).order_by(Schedule.id)).all()
        plans = []  # per schedule: [(checkpoint_id, area_id, version_id, [item ids])]
        for sch in schedules:
            stops = []
            for cp in sch.route.checkpoints:
                for tpl in cp.templates:
                    v = tpl.current_version
                    stops.append((cp.id, cp.area_id, v.id, [i.id for i in v.items]))
            plans.append((sch, stops))
        round_id0 = (db.session.scalar(select(db.func.max(Round.id))) or 0) + 1
        stop_id0 = (db.session.scalar(select(db.func.max(RoundStop.id))) or 0) + 1
        order_id0 = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM work_order"))
        today = sched.site_today(site)

        # Plan the rounds and stops needed for `rows` answers, newest date first.
        round_rows, stop_rows, walk = [], [], []  # walk: (round id, [(stop id, ts, items)])
        planned, rid, sid, k = 0, round_id0, stop_id0, 0
        while planned < rows:
            k += 1
            day = today - timedelta(days=k)
            for sch, stops in plans:
                if planned >= rows:
                    break
                ws = sched.local_to_utc(site, day, sch.start_time)
                we = sched.local_to_utc(site, day, sch.end_time)
                round_rows.append(dict(
                    id=rid, site_id=site.id, route_id=sch.route_id, schedule_id=sch.id, date=day,
                    slot=sch.slot, window_start=ws, window_end=we,
                    tolerance_minutes=sch.tolerance_minutes, started_at=ws,
                    finished_at=ws + timedelta(minutes=len(stops) * 6),
                    supervisor_id=info["user_id"]))
                rstops = []
                for pos, (cp_id, area_id, version_id, items) in enumerate(stops):
                    stop_rows.append(dict(id=sid, round_id=rid, checkpoint_id=cp_id,
                                          version_id=version_id, position=pos, area_id=area_id))
                    at = ws + timedelta(minutes=pos * 6)
                    ts = _pg_ts(at) if backend == "postgresql" else _sqlite_ts(at)
                    take = items[:rows - planned]
                    rstops.append((sid, ts, take))
                    planned += len(take)
                    sid += 1
                walk.append((rid, rstops))
                rid += 1
        db.session.remove()

        # 90 pass, 7 n.a., 3 fail in every 100, spread over the items.
        pattern = ["pass"] * 90 + ["na"] * 7 + ["fail"] * 3
        import random

        random.Random(42).shuffle(pattern)
        user_id = info["user_id"]

        def answer_rows():
            n = 0
            for round_id, rstops in walk:
                for stop_id, ts, items in rstops:
                    for item_id in items:
                        yield round_id, stop_id, item_id, pattern[n % 97], ts
                        n += 1

        t_plan = time.perf_counter()
        with db.engine.begin() as conn:
            for i in range(0, len(round_rows), 5000):
                conn.execute(insert(Round.__table__), round_rows[i:i + 5000])
            for i in range(0, len(stop_rows), 20000):
                conn.execute(insert(RoundStop.__table__), stop_rows[i:i + 20000])
            if backend == "postgresql":
                conn.execute(text("SELECT setval(pg_get_serial_sequence('round', 'id'), :v)"),
                             {"v": rid - 1})
                conn.execute(text("SELECT setval(pg_get_serial_sequence('round_stop', 'id'), :v)"),
                             {"v": sid - 1})
        t_rounds = time.perf_counter()

        raw = db.engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            if backend == "postgresql":
                with dbapi.cursor() as cur:
                    # Bench-only: the rows are consistent by construction, so skip FK triggers.
                    cur.execute("SET session_replication_role = replica")
                    with cur.copy("COPY answer (round_id, stop_id, item_id, result, note, "
                                  "answered_by_id, answered_at) FROM STDIN") as cp:
                        buf = []
                        for r_id, s_id, i_id, res, ts in answer_rows():
                            buf.append(f"{r_id}\t{s_id}\t{i_id}\t{res}\t\t{user_id}\t{ts}\n")
                            if len(buf) >= 50000:
                                cp.write("".join(buf).encode())
                                buf.clear()
                        if buf:
                            cp.write("".join(buf).encode())
                    cur.execute("SET session_replication_role = DEFAULT")
                dbapi.commit()
            else:
                cur = dbapi.cursor()
                old_sync = cur.execute("PRAGMA synchronous").fetchone()[0]
                cur.execute("PRAGMA synchronous=OFF")  # during the load only
                cur.executemany(
                    "INSERT INTO answer (round_id, stop_id, item_id, result, note, answered_by_id,"
                    " answered_at) VALUES (?, ?, ?, ?, '', ?, ?)",
                    ((r_id, s_id, i_id, res, user_id, ts) for r_id, s_id, i_id, res, ts in answer_rows()))
                dbapi.commit()
                cur.execute(f"PRAGMA synchronous={int(old_sync)}")
                cur.close()
        finally:
            raw.close()
        t_answers = time.perf_counter()

        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO work_order (site_id, team_id, area_id, source, answer_id, item_id,"
                " title_zh, title_en, severity, status, due_at, created_at, created_by_id, version)"
                " SELECT :site, t.id, s.area_id, 'round', a.id, i.id, i.text_zh, i.text_en,"
                " i.severity, 'closed', a.answered_at, a.answered_at, a.answered_by_id, 1"
                " FROM answer a JOIN round_stop s ON s.id = a.stop_id"
                " JOIN checklist_item i ON i.id = a.item_id"
                " JOIN team t ON t.site_id = :site AND t.code = i.team_code"
                " WHERE a.result = 'fail' AND a.round_id >= :r0"), {"site": site.id, "r0": round_id0})
            conn.execute(text(
                "INSERT INTO work_order_event (order_id, kind, actor_id, at, from_status, to_status, note)"
                " SELECT id, 'created', created_by_id, created_at, 'open', 'open', ''"
                " FROM work_order WHERE id > :o0"), {"o0": order_id0})
            n_orders = conn.execute(text("SELECT count(*) FROM work_order WHERE id > :o0"),
                                    {"o0": order_id0}).scalar()
        t_orders = time.perf_counter()
        if backend == "postgresql":
            # What autovacuum would have done by the time a site has this much history.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        db.session.remove()
    t_end = time.perf_counter()
    return dict(rounds=len(round_rows), stops=len(stop_rows), answers=planned, orders=n_orders,
                days=k, plan_s=t_plan - t_start, rounds_s=t_rounds - t_plan,
                answers_s=t_answers - t_rounds, orders_s=t_orders - t_answers,
                analyze_s=t_end - t_orders, total_s=t_end - t_start)


# --------------------------------------------------------------------------- measuring

def answer_plan(pairs, n):
    """n (stop, item, result) in route order, cycling pass/fail/n.a.; fail only where no photo is
    required (failing those without a photo is refused with 422, which writes nothing)."""
    cycle = ("pass", "fail", "na")
    plan = []
    for i in range(n):
        stop_id, item_id, photo_needed = pairs[i % len(pairs)]
        result = cycle[i % 3]
        if result == "fail" and photo_needed:
            result = "pass"
        plan.append((stop_id, item_id, result))
    return plan


class Target:
    """One app + database + logged-in client being measured."""

    def __init__(self, backend, app, client, info, token):
        self.backend, self.app, self.client, self.info, self.token = backend, app, client, info, token
        self.stored = 0
        rid = info["round_id"]
        self.bare_data = {"csrf_token": token, "round_id": str(rid), "value": "x"}
        self.headers = {"HX-Request": "true", "X-CSRFToken": token,
                        "HX-Current-URL": f"http://localhost/rounds/{rid}/checkpoints/1"}

    def post_answer(self, stop_id, item_id, result):
        h = dict(self.headers, **{"HX-Target": f"item-{stop_id}-{item_id}",
                                  "HX-Trigger": f"item-{stop_id}-{item_id}"})
        # What the browser sends for the item form (multipart: its file input is empty), with the
        # tap's id and the phone's times that static/app.js adds to every tap.
        now = datetime.now(timezone.utc).isoformat()
        data = {"csrf_token": self.token, "result": result, "note": "",
                "photos": (io.BytesIO(b""), "", "application/octet-stream"),
                "op": str(uuid.uuid4()), "answered_at": now, "sent_at": now}
        return self.client.post(f"/rounds/{self.info['round_id']}/stops/{stop_id}/items/{item_id}",
                                data=data, headers=h, content_type="multipart/form-data")


def _new_out():
    return dict(bare=[], answer=[], auth=[], bare_q=[], answer_q=[], bare_db=[], answer_db=[],
                bare_cpu=[], answer_cpu=[], auth_cpu=[], kinds=defaultdict(list),
                kind_q=defaultdict(list), kind_db=defaultdict(list), kind_cpu=defaultdict(list),
                statuses=Counter(), samples={}, queries={}, load=[os.getloadavg()[0]])


def _timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    r = fn()
    t1, c1 = time.perf_counter(), time.process_time()
    return r, (t1 - t0) * 1000, (c1 - c0) * 1000


def run_phases(targets: list[Target], n: int, warmup: int, capture: bool = False,
               profile: Target | None = None) -> list[dict]:
    """Per step and target: bare, bare+login, answer. Targets alternate (their order flips every
    step) so background load on a shared machine falls on all of them alike."""
    plans = [answer_plan(t.info["pairs"], n) for t in targets]

    # Warm up (caches, prepared statements, Jinja), then start from an equal state.
    for t, plan in zip(targets, plans):
        for stop_id, item_id, result in plan[:warmup]:
            t.client.post("/bench/bare", data=t.bare_data)
            t.client.post("/bench/bare-auth", data=t.bare_data)
            t.post_answer(stop_id, item_id, result)
        reset_round(t.app, t.info["round_id"])

    outs = [_new_out() for _ in targets]
    prevs: list[dict] = [{} for _ in targets]
    prof = cProfile.Profile() if profile else None
    for step in range(n):
        order = list(range(len(targets)))
        if step % 2:
            order.reverse()
        for k in order:
            t, out, prev = targets[k], outs[k], prevs[k]
            stop_id, item_id, result = plans[k][step]

            QC.reset()
            r, ms, cpu = _timed(lambda: t.client.post("/bench/bare", data=t.bare_data))
            out["bare"].append(ms)
            out["bare_cpu"].append(cpu)
            out["bare_q"].append(QC.n)
            out["bare_db"].append(QC.seconds * 1000)
            out["statuses"][f"bare {r.status_code}"] += 1

            r, ms, cpu = _timed(lambda: t.client.post("/bench/bare-auth", data=t.bare_data))
            out["auth"].append(ms)
            out["auth_cpu"].append(cpu)
            out["statuses"][f"bare+login {r.status_code}"] += 1

            before = prev.get((stop_id, item_id))
            if before is None:
                kind = "new, fail (raises order)" if result == "fail" else "new, pass/na"
            elif before == "fail" and result != "fail":
                kind = "update fail->ok (cancels order)"
            elif result == "fail":
                kind = "update ->fail (raises order)"
            else:
                kind = "update"
            QC.reset(capture=capture and kind not in out["queries"])
            profiling = prof is not None and t is profile
            if profiling:
                prof.enable()
            r, ms, cpu = _timed(lambda: t.post_answer(stop_id, item_id, result))
            if profiling:
                prof.disable()
            out["answer"].append(ms)
            out["answer_cpu"].append(cpu)
            out["answer_q"].append(QC.n)
            out["answer_db"].append(QC.seconds * 1000)
            out["kinds"][kind].append(ms)
            out["kind_q"][kind].append(QC.n)
            out["kind_db"][kind].append(QC.seconds * 1000)
            out["kind_cpu"][kind].append(cpu)
            out["statuses"][f"answer {r.status_code}"] += 1
            if QC.capture is not None:
                out["queries"][kind] = QC.capture
            if r.status_code == 200:
                prev[(stop_id, item_id)] = result
                out["samples"].setdefault(kind, r.get_data())
    QC.reset()
    for out in outs:
        out["load"].append(os.getloadavg()[0])
    if prof:
        outs[targets.index(profile)]["profile"] = prof
    return outs


# --------------------------------------------------------------------------- reporting

def fmt_ms(v: float) -> str:
    return f"{v:7.2f}"


def print_table(rows):
    print()
    print(f"{'backend':<11} {'stored':>9} {'bare p50':>9} {'answer p50':>11} {'ratio':>6} "
          f"{'bare p95':>9} {'answer p95':>11} {'bare mean':>10} {'answer mean':>12}")
    for r in rows:
        o = r["out"]
        bp50, ap50 = statistics.median(o["bare"]), statistics.median(o["answer"])
        print(f"{r['backend']:<11} {r['stored']:>9,} {fmt_ms(bp50):>9} {fmt_ms(ap50):>11} "
              f"{ap50 / bp50:5.2f}x {fmt_ms(pct(o['bare'], 95)):>9} {fmt_ms(pct(o['answer'], 95)):>11} "
              f"{fmt_ms(statistics.fmean(o['bare'])):>10} {fmt_ms(statistics.fmean(o['answer'])):>12}")
    print("(wall-clock ms per request through the test client; ratio = answer p50 / bare p50)")
    print()
    print("Where the time goes (medians per request)")
    print(f"{'backend':<11} {'stored':>9} {'q/bare':>7} {'q/answer':>9} {'bare db':>8} "
          f"{'answer db':>10} {'bare cpu':>9} {'answer cpu':>11} {'cpu ratio':>10} "
          f"{'bare+login':>11} {'answer/b+l':>11} {'load avg':>12}")
    for r in rows:
        o = r["out"]
        bc, ac = statistics.median(o["bare_cpu"]), statistics.median(o["answer_cpu"])
        auth = statistics.median(o["auth"])
        print(f"{r['backend']:<11} {r['stored']:>9,} {statistics.fmean(o['bare_q']):7.1f} "
              f"{statistics.fmean(o['answer_q']):9.1f} {statistics.median(o['bare_db']):8.2f} "
              f"{statistics.median(o['answer_db']):10.2f} {bc:9.2f} {ac:11.2f} "
              f"{(ac / bc if bc else float('nan')):9.2f}x {auth:11.2f} "
              f"{statistics.median(o['answer']) / auth:10.2f}x "
              f"{o['load'][0]:5.2f}->{o['load'][1]:5.2f}")
    print("(q = SQL statements, pool pre-ping not included; db = ms inside cursor.execute; cpu = this"
          " process's CPU ms, i.e. Python + SQLite, not the PostgreSQL server; bare+login = wall p50 of"
          " the bare insert behind @login_required; load avg = 1-minute load before->after the phase,"
          " on " + str(os.cpu_count()) + " CPUs)")


def print_targets(rows):
    print()
    print("Targets")
    for r in rows:
        o = r["out"]
        ratio = statistics.median(o["answer"]) / statistics.median(o["bare"])
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        print(f"  {r['backend']:<11} stored {r['stored']:>9,}: ratio {ratio:.2f}x "
              f"(target <= {TARGET_RATIO}x) {verdict}")
    by_backend = defaultdict(dict)
    for r in rows:
        o = r["out"]
        by_backend[r["backend"]][r["stored"]] = (statistics.median(o["answer"]),
                                                 statistics.median(o["answer_cpu"]))
    for backend, figs in by_backend.items():
        if 0 in figs and len(figs) > 1:
            loaded = max(k for k in figs)
            (a0, c0), (a1, c1) = figs[0], figs[loaded]
            # Within 10% counts as "not slower": timing noise on a shared machine is that large.
            print(f"  {backend:<11} answer p50 with {loaded:,} stored vs 0 (target: not slower, "
                  f"<= 1.10x allowing for noise): wall {a1:.2f} vs {a0:.2f} ms = {a1 / a0:.2f}x "
                  f"{'met' if a1 <= a0 * 1.10 else 'MISSED'}; cpu {c1:.2f} vs {c0:.2f} ms = "
                  f"{c1 / c0:.2f}x {'met' if c1 <= c0 * 1.10 else 'MISSED'}")


def print_kinds(rows):
    print()
    print("Answer requests by kind (n, p50 wall ms, p50 db ms, p50 cpu ms, SQL statements per request)")
    for r in rows:
        o = r["out"]
        parts = []
        for kind in sorted(o["kinds"]):
            ms = o["kinds"][kind]
            qs = o["kind_q"][kind]
            parts.append(f"{kind:<32} n={len(ms):>3}  wall {statistics.median(ms):6.2f}  "
                         f"db {statistics.median(o['kind_db'][kind]):6.2f}  "
                         f"cpu {statistics.median(o['kind_cpu'][kind]):6.2f}  q {min(qs)}-{max(qs)}")
        print(f"  {r['backend']} with {r['stored']:,} stored")
        for part in parts:
            print(f"    {part}")
        print("    statuses: " + ", ".join(
            f"{k}={v}" for k, v in sorted(o["statuses"].items())))


def print_sizes(rows):
    print()
    print("One answer's htmx response (item fragment + out-of-band progress)")
    r = rows[0]
    for kind in ("new, pass/na", "new, fail (raises order)"):
        body = r["out"]["samples"].get(kind)
        if body is None:
            continue
        gz = gzip.compress(body, compresslevel=6)
        print(f"  {kind:<26} raw {len(body):6,} B   gzip-6 {len(gz):6,} B   (target <= 2,048 B gzipped)")


def print_queries(rows):
    for r in rows:
        print()
        print(f"SQL of one answer request per kind ({r['backend']}, {r['stored']:,} stored)")
        for kind, stmts in r["out"]["queries"].items():
            print(f"  -- {kind}: {len(stmts)} statements")
            for sql, _params, _ms in stmts:
                print(f"     {one_line(sql)}")


# --------------------------------------------------------------------------- main

def run_backend(backend: str, args, cleanup: list) -> list[dict]:
    """Two apps on two databases of the backend: one empty, one with the history loaded."""
    dbs = Databases(backend, cleanup, "answer-bench")
    states = [0] + ([args.rows] if args.rows > 0 else [])
    targets = []
    for rows in states:
        name = f"bench_{rows}"
        t0 = time.perf_counter()
        app = make_app(dbs.url(name), dbs.photo_dir(name))
        info = prepare(app)
        print(f"[{backend}] app ready in {time.perf_counter() - t0:.1f} s: round {info['round_id']}, "
              f"{len(info['pairs'])} items in the morning round", flush=True)
        if rows:
            load = load_history(app, info, rows)
            print(f"[{backend}] loaded {load['answers']:,} answers in {load['total_s']:.1f} s "
                  f"({load['rounds']:,} rounds over {load['days']:,} days, {load['stops']:,} stops, "
                  f"{load['orders']:,} work orders; plan {load['plan_s']:.1f} s, rounds+stops "
                  f"{load['rounds_s']:.1f} s, answers {load['answers_s']:.1f} s, orders "
                  f"{load['orders_s']:.1f} s, analyze {load['analyze_s']:.1f} s)", flush=True)
        client = app.test_client()
        login(client, "supervisor")
        t = Target(backend, app, client, info, checkpoint_token(client, info["round_id"]))
        t.stored = count_answers(app)
        targets.append(t)

    profile = targets[-1] if args.profile else None
    outs = run_phases(targets, args.n, args.warmup, capture=args.show_queries, profile=profile)
    results = []
    for t, out in zip(targets, outs):
        results.append(dict(backend=backend, stored=t.stored, out=out))
        print(f"[{backend}] measured with {t.stored:,} stored: answer p50 "
              f"{statistics.median(out['answer']):.2f} ms, bare p50 "
              f"{statistics.median(out['bare']):.2f} ms", flush=True)
        if "profile" in out:
            print(f"\n[{backend}] cProfile of the answer requests with {t.stored:,} stored "
                  "(top 30 by cumulative time)")
            buf = io.StringIO()
            pstats.Stats(out["profile"], stream=buf).sort_stats("cumulative").print_stats(30)
            print(buf.getvalue())

    for t in targets:
        with t.app.app_context():
            db.session.remove()
            db.engine.dispose()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300,
                    help="requests of each kind (bare, bare+login, answer) per database (300)")
    ap.add_argument("--rows", type=int, default=1_000_000,
                    help="answers stored for the loaded phase (1,000,000; 0 skips it)")
    ap.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    ap.add_argument("--warmup", type=int, default=30, help="unmeasured requests first (30)")
    ap.add_argument("--show-queries", action="store_true",
                    help="print the SQL of one answer request of each kind")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the answer requests on the loaded database")
    args = ap.parse_args()
    backends = parse_backends(args.backends)

    print(f"answer_bench: n={args.n} per database, history rows={args.rows:,}, backends={backends}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    rows = [row for per_backend in run_each(backends, lambda b, cleanup: run_backend(b, args, cleanup))
            for row in per_backend]
    print_table(rows)
    print_targets(rows)
    print_kinds(rows)
    print_sizes(rows)
    if args.show_queries:
        print_queries(rows)


if __name__ == "__main__":
    main()
