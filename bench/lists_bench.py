"""The long lists a phone opens: /orders?status=all and the handover index at 200, 2,000 and 20,000 rows.

Run from the project root:

    .venv/bin/python bench/lists_bench.py [--rows 200,2000,20000] [--backends sqlite,postgresql] [--repeat 10]

Per backend and row count: a fresh database (real migrations, the demo seed), then that many work orders
(open, raised by hand on the demo site) and that many handover units (buildings of 100) bulk-inserted.
A supervisor GETs /orders?status=all and an engineer GETs /handover/ through the test client, --repeat
times after a warm-up: median and p95 ms, statements per request, rows shown and bytes. Prints figures;
asserts nothing.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import secrets  # noqa: E402

os.environ["ROUNDS_SECRET_KEY"] = secrets.token_hex(32)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402

from sqlalchemy import insert, select  # noqa: E402

from app.extensions import db  # noqa: E402
from bench.common import Databases, QueryCounter, login, make_app, parse_backends, pct, run_each  # noqa: E402

QC = QueryCounter()


def load(app, rows: int) -> None:
    """`rows` open orders and `rows` units (buildings of 100) on the demo site, bulk-inserted."""
    from app.models import Area, Building, Site, Team, Unit, User, WorkOrder
    from app.models.types import utcnow
    from flask_migrate import upgrade

    from app.services.seed import seed_demo

    with app.app_context():
        upgrade()
        seed_demo(db.session)
        site = db.session.scalar(select(Site).where(Site.code == "demo"))
        team = db.session.scalar(select(Team).where(Team.site_id == site.id, Team.code == "cleaning"))
        area = db.session.scalar(select(Area).where(Area.site_id == site.id))
        sup = db.session.scalar(select(User).where(User.username == "supervisor"))
        now = utcnow()
        db.session.execute(insert(WorkOrder), [dict(
            site_id=site.id, team_id=team.id, area_id=area.id, source="manual", title_zh=f"工单 {i}",
            title_en=f"Order {i}", description="", severity="minor", status="open", due_at=now + timedelta(hours=24),
            created_at=now - timedelta(minutes=i), created_by_id=sup.id, reopen_count=0) for i in range(rows)])
        for b in range(-(-rows // 100)):
            building = Building(site_id=site.id, code=f"B{b:03d}")
            db.session.add(building)
            db.session.flush()
            n = min(100, rows - 100 * b)
            db.session.execute(insert(Unit), [dict(
                site_id=site.id, building_id=building.id, unit_no="1", floor=1 + i // 4, room=f"{1 + i // 4}{i % 4:02d}",
                owner_name="", owner_phone="", bedrooms=2, bathrooms=1) for i in range(n)])
        db.session.commit()


def time_get(client, url: str, repeat: int, marker: str) -> dict:
    client.get(url)  # warm-up
    ms, q = [], []
    for _ in range(repeat):
        QC.reset()
        t0 = time.perf_counter()
        r = client.get(url)
        ms.append((time.perf_counter() - t0) * 1000)
        q.append(QC.n)
    body = r.get_data(as_text=True)
    return dict(ms=ms, q=q, status=r.status_code, bytes=len(body), shown=body.count(marker))


def run_backend(backend: str, args, cleanup: list) -> list[dict]:
    dbs = Databases(backend, cleanup, "lists-bench")
    out = []
    for rows in args.rows:
        name = f"lists_{rows}"
        app = make_app(dbs.url(name), dbs.photo_dir(name))
        load(app, rows)
        with app.app_context():
            QC.attach(db.engine)
        for user, url, marker in (("supervisor", "/orders?status=all", ' order-row'),
                                  ("engineer", "/handover/", 'class="unit-tile')):
            client = app.test_client()
            login(client, user)
            r = time_get(client, url, args.repeat, marker)
            r.update(backend=backend, rows=rows, url=url)
            out.append(r)
            print(f"[{backend}] {rows:>6,} rows  GET {url:<20} median {statistics.median(r['ms']):7.1f} ms, "
                  f"p95 {pct(r['ms'], 95):7.1f} ms, statements {min(r['q'])}-{max(r['q'])}, status {r['status']}, "
                  f"{r['shown']} rows shown, {r['bytes']:,} B", flush=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="200,2000,20000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    args.rows = [int(x) for x in args.rows.split(",")]
    print(f"lists_bench: rows {args.rows}, repeat {args.repeat}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    run_each(parse_backends(args.backends), lambda b, cleanup: run_backend(b, args, cleanup))


if __name__ == "__main__":
    main()
