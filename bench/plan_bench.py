"""The project heat map of a layout (户型): 500 units × 10 pinned defects on one plan, on SQLite and PostgreSQL.

Run from the project root:

    .venv/bin/python bench/plan_bench.py [--units 500] [--defects 10] [--backends sqlite,postgresql] [--repeat 10]

Per backend: a fresh database (real migrations, the demo seed with its two drawn layouts), then that many
units of layout A, each with a signed inspection and that many pinned defects (checklist items of several
categories, two teams, positions clustered around a few spots) bulk-inserted. A manager GETs the heat map
page unfiltered, by category and by contractor, and the PNG export, --repeat times after a warm-up:
median and p95 ms, statements per request, clusters shown, bytes. The target is under 300 ms for the page.
Prints figures; asserts nothing.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import secrets  # noqa: E402

os.environ["ROUNDS_SECRET_KEY"] = secrets.token_hex(32)

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from sqlalchemy import insert, select  # noqa: E402

from app.extensions import db  # noqa: E402
from bench.common import Databases, QueryCounter, login, make_app, parse_backends, pct, run_each  # noqa: E402

QC = QueryCounter()
SPOTS = [(0.875, 0.55), (0.17, 0.2), (0.37, 0.2), (0.3, 0.6), (0.75, 0.2)]  # bathroom 2, kitchen, …


def load(app, units: int, per_unit: int) -> dict:
    """`units` units of layout A with a signed inspection and `per_unit` pinned defects each."""
    from flask_migrate import upgrade

    from app.models import Building, Defect, Inspection, Layout, Site, Team, Unit, User
    from app.models.types import utcnow
    from app.services.handover import template_version
    from app.services.seed import seed_demo

    rng = random.Random(13)
    with app.app_context():
        upgrade()
        seed_demo(db.session)
        site = db.session.scalar(select(Site).where(Site.code == "demo"))
        layout = db.session.scalar(select(Layout).where(Layout.site_id == site.id, Layout.name.like("A%")))
        teams = db.session.scalars(select(Team.id).where(Team.site_id == site.id,
                                                         Team.code.in_(["engineering", "contractor_huajian"]))).all()
        engineer = db.session.scalar(select(User.id).where(User.username == "engineer"))
        version = template_version(db.session, site.id)
        items = [i for i in version.items if i.room in ("kitchen", "bathroom", "living_room", "bedroom")]
        now = utcnow()
        building = Building(site_id=site.id, code="B")
        db.session.add(building)
        db.session.flush()
        db.session.execute(insert(Unit), [dict(
            site_id=site.id, building_id=building.id, unit_no=str(1 + i // 100), floor=1 + (i % 100) // 4,
            room=f"{1 + (i % 100) // 4}{i % 4:02d}", owner_name="", owner_phone="", bedrooms=3, bathrooms=2,
            layout_id=layout.id) for i in range(units)])
        unit_ids = db.session.scalars(select(Unit.id).where(Unit.building_id == building.id)).all()
        db.session.execute(insert(Inspection), [dict(
            site_id=site.id, unit_id=u, kind="initial", version_id=version.id, engineer_id=engineer,
            owner_present="业主", started_at=now, status="signed", signed_at=now) for u in unit_ids])
        insp = dict(db.session.execute(select(Inspection.unit_id, Inspection.id)
                                       .where(Inspection.unit_id.in_(unit_ids))).all())
        rows = []
        for u in unit_ids:
            for _ in range(per_unit):
                item = rng.choice(items)
                sx, sy = rng.choice(SPOTS)
                rows.append(dict(inspection_id=insp[u], unit_id=u, item_id=item.id, room_key=item.room + (
                    "-1" if item.room in ("bedroom", "bathroom") else ""), severity="minor", description="",
                    location="", owner_concern=False, team_id=rng.choice(teams), created_at=now,
                    pin_layout_id=layout.id, pin_x=min(1, max(0, rng.gauss(sx, 0.04))),
                    pin_y=min(1, max(0, rng.gauss(sy, 0.04)))))
        db.session.execute(insert(Defect), rows)
        db.session.commit()
        return dict(layout=layout.id, category=items[0].category, team=teams[-1], defects=len(rows))


def time_get(client, url: str, repeat: int, marker: str) -> dict:
    client.get(url)  # warm-up
    ms, q = [], []
    for _ in range(repeat):
        QC.reset()
        t0 = time.perf_counter()
        r = client.get(url)
        ms.append((time.perf_counter() - t0) * 1000)
        q.append(QC.n)
    body = r.data
    return dict(ms=ms, q=q, status=r.status_code, bytes=len(body), shown=body.count(marker.encode()))


def run_backend(backend: str, args, cleanup: list) -> list[dict]:
    dbs = Databases(backend, cleanup, "plan-bench")
    name = f"plans_{args.units}"
    app = make_app(dbs.url(name), dbs.photo_dir(name))
    t0 = time.perf_counter()
    made = load(app, args.units, args.defects)
    print(f"[{backend}] loaded {args.units} units, {made['defects']:,} pinned defects in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    with app.app_context():
        QC.attach(db.engine)
    client = app.test_client()
    login(client, "manager")
    base = f"/handover/layouts/{made['layout']}/heatmap"
    out = []
    for url, marker in ((base, 'class="heat-cell"'), (f"{base}?category={made['category']}", 'class="heat-cell"'),
                        (f"{base}?team={made['team']}", 'class="heat-cell"'), (f"{base}.png", "IDAT")):
        r = time_get(client, url, args.repeat, marker)
        r.update(backend=backend, url=url)
        out.append(r)
        print(f"[{backend}] GET {url:<48} median {statistics.median(r['ms']):7.1f} ms, p95 {pct(r['ms'], 95):7.1f} ms, "
              f"statements {min(r['q'])}-{max(r['q'])}, status {r['status']}, {r['shown']} clusters/chunks, "
              f"{r['bytes']:,} B", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--defects", type=int, default=10)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    print(f"plan_bench: {args.units} units × {args.defects} defects, repeat {args.repeat}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    run_each(parse_backends(args.backends), lambda b, cleanup: run_backend(b, args, cleanup))


if __name__ == "__main__":
    main()
