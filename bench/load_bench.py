"""Supervisors walking rounds against gunicorn + PostgreSQL on loopback (locust, headless), with faults.

Run from the project root (after `pip install -r requirements-bench.txt` into .venv):

    .venv/bin/python bench/load_bench.py [--users 20,50,100] [--run-time 5m] [--photo 2mb|phone]
        [--s3] [--faults] [--two-servers] [--gunicorn-args "--workers 4 ..."] [--config gunicorn.conf.py]
        [--spawn-rate 10] [--tap 2] [--fail-every 10] [--out bench/out/load-...]

For each number of users: a fresh database on one throwaway PostgreSQL cluster (tests/pg.py), the
real migrations, the demo seed and, per simulated user, a supervisor (`load000`, …, password
rounds-demo) with a route of its own (the morning and afternoon checkpoints, 227 items) whose round
is started today; then gunicorn (`-c gunicorn.conf.py`, plus --gunicorn-args) on a free loopback
port, and locust headless with bench/locustfile.py: every user logs in, opens its checkpoint and
taps one item every --tap seconds, a fail with a photo every --fail-every-th tap (--photo 2mb: a
12 MP camera JPEG of ~2 MB, what the issue asks; phone: 1600 px, ~300 KB, what static/queue.js
actually sends after downscaling). Photos go to a local directory, or with --s3 (implied by
--faults) to a SeaweedFS on loopback (tests/seaweed.py).

--two-servers: the same walk against the production shape of tests/servers.py: two gunicorn
instances (each with half the workers of gunicorn.conf.py's line, so the machine runs as many as
with one) behind Debian's nginx (deploy/nginx.conf.template), the task queue in PostgreSQL
(ROUNDS_TASKS=procrastinate) with one `flask worker`; --faults then kills a worker of the first.

--faults, during the run (at 20 %, 40 % and 60 % of --run-time): kill -9 of one gunicorn worker;
a restart of PostgreSQL (pg_ctl restart -m fast); SeaweedFS stopped for 20 s (SIGTERM, then
started again on the same directory and ports). The simulated phones retry as the page does (see
the locustfile): the same op when no reply came, a new tap when told to try again.

Prints, per run: requests/s, p50/p95/p99 per request type (client side, and inside gunicorn from
its access log's %(D)s), errors by kind, the reconciliation of what the server acknowledged with
what the database holds, and each worker's RSS at the start and the end. Asserts nothing.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import glob  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import shlex  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from datetime import datetime  # noqa: E402
from datetime import time as dtime  # noqa: E402

SECRET = secrets.token_hex(32)
os.environ["ROUNDS_SECRET_KEY"] = SECRET

import psutil  # noqa: E402

from bench.common import pct  # noqa: E402

PASSWORD = "rounds-demo"
VENV_BIN = Path(sys.executable).parent
ACCESS_FORMAT = '%(p)s %(s)s %(D)s %(m)s %({x-bench-op}i)s "%(U)s" "%({x-bench-kind}i)s"'


def parse_duration(text: str) -> int:
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- photos

def make_photos(tmp: str, kind: str, n: int = 6) -> list[str]:
    """n distinct JPEGs (distinct content hashes, so each is normalised and stored as its own photo):
    2mb — 4000x3000 (12 MP, a phone camera's), ~2 MB; phone — 1600x1200 at 0.75, what queue.js sends."""
    from PIL import Image, ImageDraw

    w, h, q = (4000, 3000, 78) if kind == "2mb" else (1600, 1200, 75)
    paths = []
    for i in range(n):
        rng = random.Random(i)
        base = Image.effect_noise((w // 16, h // 16), 60).convert("RGB").resize((w, h), Image.BICUBIC)
        img = Image.blend(base, Image.effect_noise((w, h), 24).convert("RGB"), 0.25)
        d = ImageDraw.Draw(img)
        for _ in range(40):
            x, y = rng.randrange(w), rng.randrange(h)
            d.rectangle([x, y, x + rng.randrange(50, 600), y + rng.randrange(50, 600)],
                        outline=(rng.randrange(256), rng.randrange(256), rng.randrange(256)), width=6)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=q)
        path = os.path.join(tmp, f"photo-{kind}-{i}.jpg")
        with open(path, "wb") as f:
            f.write(buf.getvalue())
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- seeding

def seed(url: str, photo_dir: str, users: int) -> list[dict]:
    """Demo estate plus one supervisor and one started round per simulated user; returns the plan."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Schedule, Site, User
    from app.models.user import hash_password
    from app.services import schedule
    from app.services.rounds import start_round, stops_by_checkpoint
    from app.services.seed import AFTERNOON_ROUTE, MORNING_ROUTE, create_route, load_templates, seed_demo
    from bench.common import make_app

    app = make_app(url, photo_dir)
    plan = []
    with app.app_context():
        upgrade()
        seed_demo(db.session)
        db.session.commit()
        site = db.session.scalar(select(Site).where(Site.code == "demo"))
        templates = load_templates(db.session)
        pw = hash_password(PASSWORD)
        today = schedule.site_today(site)
        for i in range(users):
            route = create_route(db.session, site, f"load{i:03d}", (f"压测路线{i}", f"Load route {i}"),
                                 MORNING_ROUTE + AFTERNOON_ROUTE, templates, "morning", dtime(0, 0), dtime(23, 59))
            user = User(username=f"load{i:03d}", display_name=f"压测 {i}", role="supervisor", password_hash=pw)
            user.sites.append(site)
            db.session.add(user)
            db.session.flush()
            sch = db.session.scalar(select(Schedule).where(Schedule.route_id == route.id))
            rnd = start_round(db.session, schedule.round_of(db.session, sch, today), user)
            items = []
            for number, group in enumerate(stops_by_checkpoint(rnd), start=1):
                for stop in group:
                    items.extend([stop.id, item.id, number] for item in stop.version.items)
            plan.append(dict(username=user.username, password=PASSWORD, round_id=rnd.id, items=items))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return plan


# --------------------------------------------------------------------------- processes

class Gunicorn:
    def __init__(self, env: dict, config: str, extra: list[str], out: str, name: str = ""):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access = os.path.join(out, f"access{name}.log")
        self.errlog = os.path.join(out, f"gunicorn{name}.log")
        cmd = [str(VENV_BIN / "gunicorn"), "-c", config, "--bind", f"127.0.0.1:{self.port}",
               "--access-logfile", self.access, "--access-logformat", ACCESS_FORMAT,
               "--error-logfile", self.errlog, *extra, "wsgi:app"]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self._wait()

    def _wait(self, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: see {self.errlog}")
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=5) as r:
                    if r.status == 200 and len(self.workers()) >= 1:
                        return
            except Exception:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not answer")

    def workers(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> dict[int, float]:
        out = {}
        for w in self.workers():
            try:
                out[w.pid] = w.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                pass
        return out

    def warm(self, n: int):
        """One GET per worker-ish, so each has imported its templates before the load starts."""
        for _ in range(n):
            try:
                urllib.request.urlopen(self.url + "/login", timeout=5).read()
            except Exception:
                pass

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def pg_restart(cluster) -> float:
    t0 = time.time()
    cluster._run(cluster_bin("pg_ctl"), "-D", os.path.join(cluster.dir, "data"), "-m", "fast", "-w", "restart")
    return time.time() - t0


def cluster_bin(name):
    try:
        from app.pg import pg_tool
    except ImportError:  # before app/pg.py
        from tests.pg import _bin as pg_tool
    return pg_tool(name)


def weed_stop_start(weed, seconds: float) -> str:
    """Stop SeaweedFS (SIGTERM to its process group), wait, start it again on the same dir and ports."""
    os.killpg(weed.proc.pid, signal.SIGTERM)
    try:
        weed.proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(weed.proc.pid, signal.SIGKILL)
        weed.proc.wait(5)
    time.sleep(seconds)
    t0 = time.time()
    weed.log.close()
    weed.start()
    return f"up again {time.time() - t0:.1f}s after start"


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def tree(pid: int) -> list[psutil.Process]:
    try:
        p = psutil.Process(pid)
        return [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def postgres_procs(cluster) -> list[psutil.Process]:
    """The cluster's postmaster (its pid file's first line) and its backends."""
    try:
        with open(os.path.join(cluster.dir, "data", "postmaster.pid")) as f:
            return tree(int(f.readline()))
    except (OSError, ValueError):
        return []


# --------------------------------------------------------------------------- one run

def run_once(args, cluster, weed, users: int, photos: list[str], out_root: str) -> dict:
    name = f"load_{users}_{int(time.time())}"
    out = os.path.join(out_root, f"u{users}")
    os.makedirs(out, exist_ok=True)
    for old in glob.glob(os.path.join(out, "events.*")) + glob.glob(os.path.join(out, "access*.log")):
        os.remove(old)
    photo_dir = os.path.join(out, "photos")
    os.makedirs(photo_dir, exist_ok=True)
    url = cluster.create_db(name)
    t0 = time.time()
    plan_users = seed(url, photo_dir, users)
    print(f"  seeded {users} supervisors and rounds in {time.time() - t0:.1f}s", flush=True)

    env = dict(os.environ, DATABASE_URL=url, ROUNDS_SECRET_KEY=SECRET, ROUNDS_PHOTO_DIR=photo_dir,
               ROUNDS_PHOTO_STORE="local", FLASK_APP="wsgi.py")
    if weed is not None:
        cfg = weed.config
        env.update(ROUNDS_PHOTO_STORE="s3", ROUNDS_S3_ENDPOINT=cfg["S3_ENDPOINT"], ROUNDS_S3_BUCKET=cfg["S3_BUCKET"],
                   ROUNDS_S3_ACCESS_KEY=cfg["S3_ACCESS_KEY"], ROUNDS_S3_SECRET_KEY=cfg["S3_SECRET_KEY"],
                   ROUNDS_S3_REGION=cfg["S3_REGION"], ROUNDS_S3_PREFIX=f"{name}/")
    extra = shlex.split(args.gunicorn_args or "")
    helpers = []  # nginx and the queue's worker in --two-servers
    if args.two_servers:
        from tests.servers import Nginx, Worker

        env.update(ROUNDS_TASKS="procrastinate", ROUNDS_TRUSTED_PROXIES="1")
        half = ["--workers", str(os.cpu_count() or 1)]  # gunicorn.conf.py runs 2 x cores on one server
        guns = [Gunicorn(env, args.config, half + extra, out, name=n) for n in ("-a", "-b")]
        nginx = Nginx(guns, Path(out))
        helpers = [nginx, Worker(env, Path(out), "queue-worker")]
        host = nginx.url
    else:
        guns = [Gunicorn(env, args.config, extra, out)]
        host = guns[0].url
    gun = guns[0]
    for g in guns:
        g.warm(20)
    time.sleep(1)

    def rss() -> dict[int, float]:
        return {pid: mb for g in guns for pid, mb in g.rss().items()}

    def gunicorn_cpu() -> float:
        return sum(cpu_seconds(tree(g.proc.pid)) for g in guns)

    rss_start = rss()
    run_s = parse_duration(args.run_time)
    ramp_s = users / args.spawn_rate
    start = time.time()
    tap_until = start + ramp_s + 5 + run_s  # every user walks run_s after the last has logged in
    log_prefix = os.path.join(out, "events")
    plan = dict(users=plan_users, photos=photos, log=log_prefix, tap=args.tap, fail_every=args.fail_every,
                tap_until=tap_until, queue_every=20.0)
    plan_path = os.path.join(out, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    total_s = int(tap_until - start + args.drain)
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--host", host, "--users", str(users), "--spawn-rate", str(args.spawn_rate),
           "--run-time", f"{total_s}s", "--stop-timeout", "10", "--only-summary",
           "--loglevel", "WARNING"]
    for g in guns:
        print(f"  gunicorn: {' '.join(shlex.quote(c) for c in g.cmd[1:])}", flush=True)
    if args.two_servers:
        print(f"  behind nginx at {host}, with one `flask worker` for the queue", flush=True)
    print(f"  locust: {users} users, spawn {args.spawn_rate}/s, taps until +{tap_until - start:.0f}s, "
          f"run {total_s}s; load avg before {loadavg()}", flush=True)
    pg = postgres_procs(cluster)
    cpu0 = dict(gunicorn=gunicorn_cpu(), postgres=cpu_seconds(pg))
    locust_log = open(os.path.join(out, "locust.log"), "w")
    loc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, ROUNDS_LOAD_PLAN=plan_path),
                           stdout=locust_log, stderr=subprocess.STDOUT, start_new_session=True)
    loc_ps = psutil.Process(loc.pid)

    faults = []
    steady_rss = {}
    samples = []  # (t, loadavg1, rss of workers)

    def sampler():
        while loc.poll() is None:
            samples.append((time.time(), os.getloadavg()[0], sum(rss().values())))
            time.sleep(5)

    def fault_plan():
        def at(frac):
            return start + ramp_s + 5 + run_s * frac

        steps = [(at(0.2), "kill -9 one gunicorn worker"), (at(0.4), "restart PostgreSQL"),
                 (at(0.6), "SeaweedFS stopped for 20 s")]
        for when, what in steps:
            while time.time() < when:
                if loc.poll() is not None:
                    return
                time.sleep(0.2)
            t = time.time()
            if what.startswith("kill"):
                ws = gun.workers()
                victim = ws[0]
                os.kill(victim.pid, signal.SIGKILL)
                note = f"worker {victim.pid} killed"
            elif what.startswith("restart"):
                note = f"pg_ctl restart -m fast took {pg_restart(cluster):.1f}s"
            else:
                note = weed_stop_start(weed, 20)
            faults.append(dict(t=t, end=time.time(), what=what, note=note))
            print(f"  fault at +{t - start:.0f}s: {what} ({note})", flush=True)

    threading.Thread(target=sampler, daemon=True).start()
    ft = None
    if args.faults:
        ft = threading.Thread(target=fault_plan, daemon=True)
        ft.start()
    # RSS "at start": once every user is walking (logged in, pages loaded)
    time.sleep(min(ramp_s + 10, total_s))
    steady_rss = rss()
    try:
        loc_cpu0 = cpu_seconds([loc_ps])
    except psutil.NoSuchProcess:
        loc_cpu0 = 0.0
    loc_cpu_last = loc_cpu0
    while loc.poll() is None:
        try:
            loc_cpu_last = cpu_seconds([loc_ps])
        except psutil.NoSuchProcess:
            pass
        time.sleep(1)
    if ft:
        ft.join(5)
    rss_end = rss()
    cpu1 = dict(gunicorn=gunicorn_cpu(), postgres=cpu_seconds(postgres_procs(cluster)))
    locust_log.close()
    load_end = loadavg()
    for h in helpers:
        h.stop()
    for g in guns:
        g.stop()
    res = dict(users=users, out=out, start=start, ramp_s=ramp_s, tap_until=tap_until, run_s=run_s, faults=faults,
               rss_boot=rss_start, rss_start=steady_rss, rss_end=rss_end, load_end=load_end, samples=samples,
               cpu=dict(gunicorn=cpu1["gunicorn"] - cpu0["gunicorn"], postgres=cpu1["postgres"] - cpu0["postgres"],
                        locust=loc_cpu_last), gunicorn_cmd=[g.cmd for g in guns])
    res["events"] = read_events(log_prefix)
    res["access"] = [row for g in guns for row in read_access(g.access)]
    res["db"] = reconcile_db(url, [u["round_id"] for u in plan_users])
    res["summary"] = summarise(res)
    with open(os.path.join(out, "result.json"), "w") as f:
        keep = {k: v for k, v in res.items() if k not in ("events", "access", "db")}
        keep["db"] = {k: v for k, v in res["db"].items() if k not in ("ops", "results")}
        json.dump(keep, f, indent=1, default=str)
    return res


# --------------------------------------------------------------------------- reading the logs

def read_events(prefix: str) -> list[dict]:
    events = []
    for path in glob.glob(prefix + ".*.jsonl"):
        with open(path) as f:
            for line in f:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass
    events.sort(key=lambda e: e["t"])
    return events


def read_access(path: str) -> list[tuple]:
    """(pid, status, ms inside gunicorn, method, path, kind, op) per request."""
    rows = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split(" ", 5)
                if len(parts) < 6:
                    continue
                rest = parts[5]
                kind = rest.rsplit('"', 2)[-2] if rest.count('"') >= 4 else ""
                try:
                    rows.append((parts[0], int(parts[1]), int(parts[2]) / 1000, parts[3], rest, kind, parts[4]))
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return rows


def reconcile_db(url: str, round_ids: list[int]) -> dict:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        ops = conn.execute(
            "SELECT c.op, count(*), min(a.result), bool_or(c.kept) FROM answer_change c JOIN answer a ON a.id = c.answer_id "
            "WHERE a.round_id = ANY(%s) GROUP BY c.op", (round_ids,)).fetchall()
        answers = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE result = 'fail'), count(*) FILTER (WHERE result IS NOT NULL), "
            "count(DISTINCT (stop_id, item_id)) FROM answer WHERE round_id = ANY(%s)", (round_ids,)).fetchone()
        orders = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE o.status <> 'cancelled'), count(DISTINCT o.answer_id), "
            "count(*) FILTER (WHERE o.status <> 'cancelled' AND a.result <> 'fail'), "
            "count(*) FILTER (WHERE o.status = 'cancelled' AND a.result = 'fail') "
            "FROM work_order o JOIN answer a ON a.id = o.answer_id WHERE a.round_id = ANY(%s)", (round_ids,)).fetchone()
        fails_without_order = conn.execute(
            "SELECT count(*) FROM answer a LEFT JOIN work_order o ON o.answer_id = a.id "
            "WHERE a.round_id = ANY(%s) AND a.result = 'fail' AND o.id IS NULL", (round_ids,)).fetchone()[0]
        photos = conn.execute(
            "SELECT count(*) FROM answer_photo p JOIN answer a ON a.id = p.answer_id WHERE a.round_id = ANY(%s)",
            (round_ids,)).fetchone()[0]
        latest = conn.execute(
            "SELECT a.stop_id, a.item_id, a.result FROM answer a WHERE a.round_id = ANY(%s)", (round_ids,)).fetchall()
    return dict(ops={op: n for op, n, _r, _k in ops}, answers=answers[0], fails=answers[1], with_result=answers[2],
                distinct_items=answers[3], orders=orders[0], orders_live=orders[1], orders_distinct_answers=orders[2],
                orders_live_not_fail=orders[3], orders_cancelled_but_fail=orders[4],
                fails_without_order=fails_without_order, answer_photos=photos,
                results={(s, i): r for s, i, r in latest})


# --------------------------------------------------------------------------- figures

def summarise(res: dict) -> dict:
    ev = res["events"]
    sends = [e for e in ev if e["kind"] == "send"]
    taps = [e for e in ev if e["kind"] == "tap"]
    logins = [e for e in ev if e["kind"] == "login"]
    # Latencies once every user has logged in (100 scrypt logins in the ramp are not the walk's load).
    ok_logins = [e["t"] for e in logins if e["ok"]]
    steady0 = max([res["start"] + res["ramp_s"] + 5] + ok_logins[:res["users"]])
    steady1 = res["tap_until"]
    in_window = [e for e in sends if steady0 <= e["t"] <= steady1]
    by_type = defaultdict(list)
    for e in sends:
        if e["t"] < steady0:
            continue
        by_type[e["type"] + (" (resend)" if e["via"] == "queue" else "")].append(e)
    lat = {}
    for k, es in sorted(by_type.items()):
        ok = [e["ms"] for e in es if e["status"] == 200]
        lat[k] = dict(n=len(es), ok=len(ok), p50=pct(ok, 50) if ok else None, p95=pct(ok, 95) if ok else None,
                      p99=pct(ok, 99) if ok else None, max=max(ok) if ok else None)
    # inside the server (access log %(D)s), answers only, by the client's kind header
    srv = defaultdict(list)
    srv_status = Counter()
    server_ms = {}
    for pid, status, ms, method, path, kind, op in res["access"]:
        if method == "POST" and "/items/" in path:
            srv[kind or "?"].append(ms)
            srv_status[status] += 1
            server_ms[op] = ms
    # the time a tap spent outside the app: the network, gunicorn's queues (a kept-alive connection
    # stays with its worker), a CPU-starved client
    outside = defaultdict(list)
    for e in sends:
        if e["t"] >= steady0 and e["status"] == 200 and e["op"] in server_ms and e["via"] == "tap":
            outside[e["type"]].append(e["ms"] - server_ms[e["op"]])
    outside = {k: dict(n=len(v), p50=pct(v, 50), p95=pct(v, 95)) for k, v in outside.items()}
    server_lat = {k: dict(n=len(v), p50=pct(v, 50), p95=pct(v, 95), p99=pct(v, 99)) for k, v in sorted(srv.items())}
    errors = Counter()
    says = Counter()
    for e in sends:
        if e["status"] != 200:
            key = f"{e['via']}: {e['status'] or (e.get('error') or 'network')[:70]}"
            errors[key] += 1
            if e.get("says"):
                says[f"{e['status']}: {e['says'][:110]}"] += 1
    # reconciliation: what the client was told against what the database holds
    acked = {e["op"]: e for e in sends if e["status"] == 200}
    told_retry = {e["op"] for e in sends if e["outcome"] in ("server", "expired") and e["via"] == "tap"}
    refused = {e["op"] for e in sends if e["outcome"] == "refused"}
    tapped = {e["op"] for e in taps}
    db = res["db"]
    stored = db["ops"]
    lost = [op for op in acked if op not in stored]
    dup_ops = [op for op, n in stored.items() if n > 1]
    stored_unacked = [op for op in stored if op not in acked]
    told_but_stored = [op for op in stored_unacked if op in told_retry]
    pending = tapped - set(acked) - told_retry - refused
    # the item's result as the phones last had it acknowledged (by tap time) against the stored one
    last = {}
    for e in sorted(acked.values(), key=lambda e: e["at"]):
        last[(e["stop"], e["item"])] = e["result"]
    mismatched = sum(1 for k, r in last.items() if db["results"].get(k) != r)
    fails_acked_items = sum(1 for r in last.values() if r == "fail")
    # what the harness measured per phase (faults)
    phases = []
    if res["faults"]:
        marks = [(res["start"], "before faults")] + [(f["t"], f["what"]) for f in res["faults"]]
        recover = res["faults"][-1]["end"] + 30
        marks.append((recover, "after recovery (+30 s)"))
        for i, (t, what) in enumerate(marks):
            t_end = marks[i + 1][0] if i + 1 < len(marks) else float("inf")
            es = [e for e in sends if t <= e["t"] < t_end]
            phases.append(dict(phase=what, sends=len(es), ok=sum(e["status"] == 200 for e in es),
                               network=sum(e["status"] == 0 for e in es),
                               s5xx=sum(e["status"] >= 500 for e in es),
                               other=sum(e["status"] not in (0, 200) and e["status"] < 500 for e in es)))
    window_s = steady1 - steady0
    return dict(
        taps=len(taps), sends=len(sends), acked=len(acked), rps_window=len(in_window) / window_s if window_s > 0 else 0,
        window_s=window_s, steady0=steady0, lat=lat, outside=outside, server_lat=server_lat, server_status=dict(srv_status), errors=dict(errors),
        says=dict(says.most_common(6)), logins=len(logins), login_fail=sum(1 for e in logins if not e["ok"]),
        login_ms=[e["ms"] for e in logins if e["ok"]],
        stored_ops=len(stored), lost=len(lost), dup_ops=len(dup_ops), stored_unacked=len(stored_unacked),
        told_but_stored=len(told_but_stored), pending=len(pending), refused=len(refused),
        told_retry=len(told_retry), mismatched=mismatched, items_acked=len(last), fails_acked_items=fails_acked_items,
        phases=phases)


def fmt(x, nd=0):
    return "—" if x is None else f"{x:.{nd}f}"


def report(res: dict, args) -> None:
    s, db = res["summary"], res["db"]
    print(f"\n=== {res['users']} supervisors, tap every {args.tap:g}s, fail+photo ({args.photo}) every "
          f"{args.fail_every}th, {res['run_s']}s walk{' with faults' if args.faults else ''} "
          f"{'(SeaweedFS)' if args.s3 or args.faults else '(local photos)'}"
          f"{', two servers behind nginx' if args.two_servers else ''} ===")
    print(f"load average at end {res['load_end']}; CPU seconds used: gunicorn {res['cpu']['gunicorn']:.0f}, "
          f"PostgreSQL {res['cpu']['postgres']:.0f}, locust {res['cpu']['locust']:.0f} "
          f"(in {res['tap_until'] - res['start'] + args.drain:.0f}s wall)")
    print(f"taps {s['taps']}, requests sent {s['sends']} ({s['rps_window']:.1f} answers/s while all walk), "
          f"logins {s['logins']} ({s['login_fail']} failed; p50 {fmt(pct(s['login_ms'], 50) if s['login_ms'] else None)} ms)")
    print(f"latencies from +{s['steady0'] - res['start']:.0f}s (every user logged in) to the end")
    print(f"{'request (client side)':32} {'n':>6} {'200':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  ms")
    for k, v in s["lat"].items():
        print(f"{'answer ' + k:32} {v['n']:>6} {v['ok']:>6} {fmt(v['p50']):>7} {fmt(v['p95']):>7} "
              f"{fmt(v['p99']):>7} {fmt(v['max']):>7}")
    print(f"{'inside gunicorn (whole run)':32} {'n':>6} {'':>6} {'p50':>7} {'p95':>7} {'p99':>7}")
    for k, v in s["server_lat"].items():
        print(f"{'answer ' + k:32} {v['n']:>6} {'':>6} {fmt(v['p50']):>7} {fmt(v['p95']):>7} {fmt(v['p99']):>7}")
    for k, v in s["outside"].items():
        print(f"{'  outside the app: ' + k:32} {v['n']:>6} {'':>6} {fmt(v['p50']):>7} {fmt(v['p95']):>7}")
    print(f"statuses seen by gunicorn: {s['server_status']}")
    print(f"errors: {sum(s['errors'].values())}  {s['errors'] or ''}")
    for k, n in s["says"].items():
        print(f"   told the user ({n}x): {k}")
    print("reconciliation (database read directly after the run):")
    print(f"  acknowledged (200) {s['acked']}; stored changes of those rounds {s['stored_ops']}; "
          f"acknowledged but not stored (lost) {s['lost']}; stored twice {s['dup_ops']}")
    print(f"  stored without a 200 {s['stored_unacked']} (of which the user was told to try again: "
          f"{s['told_but_stored']}); taps still on a phone at the end {s['pending']}; refused {s['refused']}")
    print(f"  answers stored {db['answers']} = items acknowledged {s['items_acked']}; results differing from "
          f"the last acknowledged tap {s['mismatched']}")
    print(f"  failed answers {db['fails']} (items last acknowledged as fail {s['fails_acked_items']}); orders "
          f"raised {db['orders']}, live {db['orders_live']}, per answer distinct {db['orders_distinct_answers']}; "
          f"fails without order {db['fails_without_order']}; live orders on a non-fail {db['orders_live_not_fail']}")
    if s["phases"]:
        print(f"{'phase':34} {'sent':>6} {'200':>6} {'no reply':>8} {'5xx':>5} {'4xx':>5}")
        for p in s["phases"]:
            print(f"{p['phase']:34} {p['sends']:>6} {p['ok']:>6} {p['network']:>8} {p['s5xx']:>5} {p['other']:>5}")
    print("RSS per worker (MiB): after boot -> all users walking -> end")
    pids = sorted(set(res["rss_boot"]) | set(res["rss_start"]) | set(res["rss_end"]))
    for pid in pids:
        print(f"  pid {pid}: {fmt(res['rss_boot'].get(pid), 1)} -> {fmt(res['rss_start'].get(pid), 1)} -> "
              f"{fmt(res['rss_end'].get(pid), 1)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", default="20,50,100")
    ap.add_argument("--run-time", default="5m", help="how long every user walks (e.g. 60s, 5m)")
    ap.add_argument("--spawn-rate", type=float, default=10)
    ap.add_argument("--tap", type=float, default=2.0)
    ap.add_argument("--fail-every", type=int, default=10)
    ap.add_argument("--photo", choices=("2mb", "phone"), default="2mb")
    ap.add_argument("--s3", action="store_true", help="photos in SeaweedFS on loopback (implied by --faults)")
    ap.add_argument("--faults", action="store_true")
    ap.add_argument("--two-servers", action="store_true", help="two gunicorn instances behind nginx, with the queue")
    ap.add_argument("--config", default=str(ROOT / "gunicorn.conf.py"))
    ap.add_argument("--gunicorn-args", default="", help="appended after -c CONFIG, e.g. '--workers 5 --threads 1'")
    ap.add_argument("--drain", type=int, default=45, help="seconds after the walk for phones to send what they kept")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out_root = args.out or str(ROOT / "bench" / "out" / f"load-{datetime.now():%Y%m%d-%H%M%S}")
    os.makedirs(out_root, exist_ok=True)
    photos = make_photos(out_root, args.photo)
    print(f"photos: {len(photos)} x {sum(os.path.getsize(p) for p in photos) / len(photos) / 1e6:.2f} MB ({args.photo}); "
          f"{os.cpu_count()} CPUs, load average {loadavg()}; output in {out_root}", flush=True)
    from tests.pg import Cluster

    cleanup = []
    cluster = Cluster().start()
    cleanup.append(cluster.stop)
    weed = None
    try:
        if args.s3 or args.faults:
            from tests.seaweed import SeaweedS3

            weed = SeaweedS3().start()
            cleanup.append(weed.stop)
        for n in [int(x) for x in args.users.split(",") if x.strip()]:
            print(f"\n--- {n} supervisors", flush=True)
            res = run_once(args, cluster, weed, n, photos, out_root)
            report(res, args)
    finally:
        for fn in reversed(cleanup):
            try:
                fn()
            except Exception as e:  # keep cleaning up
                print(f"cleanup: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
