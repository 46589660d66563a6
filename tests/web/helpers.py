"""Helpers for test-client tests: a started round, item lookups, photo bytes."""
import io

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Site, User
from app.services import rounds, schedule
from app.services.seed import AREAS, MORNING_ROUTE, create_route, create_site, load_templates
from app.models import Area
from datetime import time


def started_morning(demo, user="supervisor"):
    """The demo's morning round for today, started."""
    day = schedule.site_today(demo.site)
    rnd = next(r for r in schedule.rounds_for_day(db.session, demo.site, day) if r.slot == "morning")
    return rounds.start_round(db.session, rnd, demo.users[user])


def item_url(rnd, template_code, item_code, nth=0):
    """The answer URL and ids of an item along the round."""
    hits = [(s, i) for s in rnd.stops for i in s.version.items
            if s.version.template.code == template_code and i.code == item_code]
    stop, item = hits[nth]
    return f"/rounds/{rnd.id}/stops/{stop.id}/items/{item.id}", stop, item


def jpeg_bytes(size=(800, 600), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def other_site():
    """A second estate with its own supervisor and crew; nobody from the demo site sees it."""
    site = create_site(db.session, "other", "第二小区", "Second Estate")
    for code, (zh, en) in AREAS.items():
        db.session.add(Area(site=site, code=code, name_zh=zh, name_en=en))
    db.session.flush()
    db.session.refresh(site)
    create_route(db.session, site, "morning", ("上午", "Morning"), MORNING_ROUTE, load_templates(db.session),
                 "morning", time(9, 30), time(11, 0))
    for username, role in (("sup.other", "supervisor"), ("crew.other", "crew")):
        u = User(username=username, display_name=username, role=role)
        u.set_password("rounds-demo")
        u.sites.append(site)
        if role == "crew":
            u.teams.append(next(t for t in site.teams if t.code == "cleaning"))
        db.session.add(u)
    db.session.commit()
    return db.session.scalar(select(Site).where(Site.code == "other"))


def row_counts() -> dict[str, int]:
    """The committed rows of every table, read on a connection of its own (a read must leave them alone)."""
    from sqlalchemy import func

    with db.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def uploaded_files(app) -> int:
    """Files in the local photo store, the demo's seeded floor plans left out (a refused upload must
    leave this at 0)."""
    import os

    from app.models import Layout

    plans = {key for key in db.session.scalars(select(Layout.plan_key)) if key}
    return sum(1 for _, _, files in os.walk(app.config["PHOTO_DIR"]) for name in files
               if name.split(".", 1)[0] not in plans)
