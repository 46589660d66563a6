"""Checklist import from checklists.yaml and the demo estate (idempotent)."""
import re
from datetime import time
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select

from app.models import (
    Area, Building, ChecklistItem, ChecklistTemplate, Checkpoint, Route, Schedule, Site, SlaRule, Team,
    TemplateVersion, Unit, User,
)
from app.models.user import hash_password
from app.services.policy import holders
from app.services.workorders import DEFAULT_SLA_HOURS

CHECKLISTS = Path(__file__).resolve().parent.parent / "seed" / "checklists.yaml"
DEMO_PASSWORD = "rounds-demo"

TEAMS = {
    "cleaning": ("保洁", "Cleaning"),
    "greenery": ("绿化", "Greenery"),
    "security": ("安管(秩序与停车)", "Security & parking"),
    "engineering": ("工程维修", "Engineering"),
    "customer_service": ("客服", "Customer service"),
}

AREAS = {
    "service_centre": ("物业服务中心", "Service centre"),
    "common_grounds": ("大区公共区域及道路", "Common grounds and roads"),
    "central_garden": ("中心花园", "Central garden"),
    "surface_parking": ("地面停车场", "Surface parking"),
    "underground_garage": ("地下车库", "Underground garage"),
    "sales_centre": ("销售中心", "Sales centre"),
    "sample_unit_a": ("样板房A", "Sample unit A"),
    "sales_washrooms": ("销售中心洗手间", "Sales-centre washrooms"),
    "clubhouse": ("会所", "Clubhouse"),
    "clubhouse_washrooms": ("会所洗手间", "Clubhouse washrooms"),
    "street_shops": ("外围商铺", "Street shops"),
}

# (area, template) in walking order; the route starts and ends at the service centre.
MORNING_ROUTE = [
    ("common_grounds", "patrol_residential_common"),
    ("central_garden", "patrol_greenery"),
    ("surface_parking", "patrol_parking"),
    ("underground_garage", "patrol_parking"),
    ("sales_centre", "patrol_sales_centre"),
    ("sample_unit_a", "patrol_sample_units"),
    ("sales_washrooms", "patrol_washrooms"),
    ("clubhouse", "patrol_clubhouse"),
    ("clubhouse_washrooms", "patrol_washrooms"),
    ("service_centre", "steward_post"),
]
# The afternoon round is the more detailed one: it adds the street shops.
AFTERNOON_ROUTE = MORNING_ROUTE[:8] + [("street_shops", "patrol_street_shops")] + MORNING_ROUTE[8:]

DEMO_USERS = [
    # username, display name, role, team codes
    ("supervisor", "王助理 Wang", "supervisor", []),
    ("supervisor2", "李助理 Li", "supervisor", []),
    ("manager", "陈经理 Chen", "manager", []),
    ("admin", "系统管理员 Admin", "admin", []),
    ("crew.cleaning", "赵保洁 Zhao", "crew", ["cleaning"]),
    ("crew.greenery", "孙绿化 Sun", "crew", ["greenery"]),
    ("crew.security", "周安管 Zhou", "crew", ["security"]),
    ("crew.engineering", "吴工程 Wu", "crew", ["engineering"]),
    ("crew.service", "郑客服 Zheng", "crew", ["customer_service"]),
    ("engineer", "刘工 Liu", "engineer", []),
    ("contractor", "华建施工 Huajian", "crew", ["contractor_huajian"]),
]
CONTRACTOR = ("contractor_huajian", "华建施工", "Huajian Construction")


_CJK = "\u4e00-\u9fff\u3000-\u303f\uff00-\uffef"


def zh_punctuation(text: str) -> str:
    """Full-width commas, semicolons and colons after Chinese characters, as Chinese readers expect."""
    for ascii_mark, full in ((",", "，"), (";", "；"), (":", "：")):
        text = re.sub(rf"(?<=[{_CJK}]){re.escape(ascii_mark)}\s*", full, text)
    return text


@lru_cache(maxsize=4)
def _read_yaml(path: Path) -> dict:
    # The C loader parses checklists.yaml ~10x faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


def load_templates(session, path: Path = CHECKLISTS) -> dict[str, ChecklistTemplate]:
    """Create version 1 of each library template in the YAML that the database does not have yet."""
    data = _read_yaml(path)
    known = {t.code: t for t in session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.site_id.is_(None)))}
    for spec in data["templates"]:
        if spec["id"] in known:
            continue
        # Only patrol checklists raise work orders; briefing and appearance failures are records.
        tpl = ChecklistTemplate(code=spec["id"], kind=spec.get("kind", "patrol"),
                                name_zh=spec["name_zh"], name_en=spec["name_en"],
                                on_fail="work_order" if spec.get("kind") == "patrol" else "record")
        version = TemplateVersion(template=tpl, number=1)
        for pos, item in enumerate(spec["items"]):
            version.items.append(ChecklistItem(
                code=item["id"], position=pos, text_zh=zh_punctuation(item["text_zh"]),
                text_en=item["text_en"],
                category=item["category"], team_code=item["responsible_team"],
                severity=item["severity"], photo_required_on_fail=bool(item["photo_required_on_fail"]),
                points=int(item.get("points") or 0), room=item.get("room"),
            ))
        session.add(tpl)
        known[tpl.code] = tpl
    session.flush()
    return known


def create_site(session, code: str, name_zh: str, name_en: str, tz: str = "Asia/Shanghai") -> Site:
    """A site with the five teams and their default SLA table."""
    site = Site(code=code, name_zh=name_zh, name_en=name_en, timezone=tz)
    session.add(site)
    for tcode, (zh, en) in TEAMS.items():
        team = Team(site=site, code=tcode, name_zh=zh, name_en=en)
        session.add(team)
        for severity, hours in DEFAULT_SLA_HOURS[tcode].items():
            session.add(SlaRule(team=team, severity=severity, hours=hours))
    session.flush()
    return site


def create_route(session, site: Site, code: str, names: tuple[str, str], stops, templates,
                 slot: str, start: time, end: time) -> Route:
    """A route through the site's areas with a daily schedule in one slot."""
    areas = {a.code: a for a in site.areas}
    route = Route(site=site, code=code, name_zh=names[0], name_en=names[1])
    for pos, (acode, tcode) in enumerate(stops):
        area = areas[acode]
        cp = Checkpoint(route=route, position=pos, area=area, name_zh=area.name_zh, name_en=area.name_en)
        cp.templates.append(templates[tcode])
        session.add(cp)
    session.add(Schedule(route=route, slot=slot, start_time=start, end_time=end,
                         tolerance_minutes=15, weekdays="1234567"))
    session.flush()
    return route


DEMO_OWNERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴琳", "徐涛", "孙丽"]


def create_demo_building(session, site: Site) -> None:
    """Building 3: two entrances (单元), floors 2-13, two flats a floor — 48 units with owners."""

    building = Building(site=site, code="3")
    session.add(building)
    n = 0
    for unit_no in ("1", "2"):
        for floor in range(2, 14):
            for flat in ("01", "02"):
                owner = DEMO_OWNERS[n % len(DEMO_OWNERS)]
                session.add(Unit(site=site, building=building, unit_no=unit_no, floor=floor,
                                 room=f"{floor}{flat}", owner_name=owner,
                                 owner_phone=f"139 {1000 + n:04d} {2000 + n:04d}",
                                 bedrooms=3 if flat == "01" else 2, bathrooms=2 if flat == "01" else 1))
                n += 1


def seed_demo(session, password: str = DEMO_PASSWORD) -> bool:
    """Create the demo estate unless it exists; True when something was created. Flushes; the caller
    (flask seed-demo, a test) commits."""
    from flask import current_app

    from app.services.demo_plans import seed_plans

    templates = load_templates(session)
    existing = session.scalar(select(Site).where(Site.code == "demo"))
    if existing is not None:  # an estate seeded before floor plans existed gets its layouts
        return seed_plans(session, existing, current_app.extensions["photo_store"])
    site = create_site(session, "demo", "翠湖花园", "Jade Lake Gardens")
    for acode, (zh, en) in AREAS.items():
        session.add(Area(site=site, code=acode, name_zh=zh, name_en=en))
    session.flush()
    session.refresh(site)
    create_route(session, site, "morning", ("上午巡查路线", "Morning patrol route"), MORNING_ROUTE,
                 templates, "morning", time(9, 30), time(11, 0))
    create_route(session, site, "afternoon", ("下午巡查路线", "Afternoon patrol route"), AFTERNOON_ROUTE,
                 templates, "afternoon", time(15, 0), time(17, 0))
    contractor = Team(site=site, code=CONTRACTOR[0], name_zh=CONTRACTOR[1], name_en=CONTRACTOR[2],
                      is_contractor=True)
    session.add(contractor)
    for severity, hours in DEFAULT_SLA_HOURS["engineering"].items():
        session.add(SlaRule(team=contractor, severity=severity, hours=hours))
    create_demo_building(session, site)
    session.flush()
    session.refresh(site)
    teams = {t.code: t for t in site.teams}
    password_hash = hash_password(password)  # one hash for all demo users: they share a password
    for username, name, role, team_codes in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)):
            continue
        user = User(username=username, display_name=name, role=role, password_hash=password_hash)
        user.sites.append(site)
        user.teams.extend(teams[c] for c in team_codes)
        session.add(user)
    session.flush()
    seed_plans(session, site, current_app.extensions["photo_store"])
    return True


# Places with a QR code for residents' reports: (kind, name zh, name en, area code or None).
DEMO_REPORT_PLACES = [
    ("lobby", "3号楼大堂", "Building 3 lobby", None),
    ("lift", "3号楼1单元电梯", "Building 3, entrance 1 lift", None),
    ("garage", "地下车库入口", "Underground garage entrance", "underground_garage"),
]
# Residents' reports waiting for triage on a fresh demo: (place's English name, category, description).
DEMO_RESIDENT_REPORTS = [
    ("Building 3 lobby", "cleaning", "大堂电梯口地面有一大片积水，很滑"),
    ("Building 3 lobby", "cleaning", "大堂门口有水，老人差点滑倒"),
    ("Underground garage entrance", "parking", "B区消防通道被一辆白色轿车堵住了"),
]


def seed_report_places(session, site: Site) -> int:
    """The demo's places with QR codes (building 3's lobby, a lift, the garage) and, the first time, a few
    residents' reports to triage; a place already there (by its English name) is kept. Returns places made."""
    from app.services import residents

    have = {p.name_en for p in residents.places(session, site)}
    first_time = not have
    areas = {a.code: a for a in site.areas}
    made = {}
    for kind, zh, en, area in DEMO_REPORT_PLACES:
        if en not in have:
            made[en] = residents.new_place(session, site, kind=kind, name_zh=zh, name_en=en, area=areas.get(area))
    if first_time:
        for en, category, text in DEMO_RESIDENT_REPORTS:
            residents.submit(session, made[en], category=category, description=text)  # (links unused: a demo)
    session.flush()
    return len(made)


def seed_history(session, site: Site, days: int = 30, now=None, seed: int = 7, store=None) -> int:
    """Plausible past rounds and work orders for the demo's manager screens; returns rounds created.

    Mostly on time, some late, a few missed; about one item in forty fails; orders in every state,
    some overdue and some reopened. The history obeys the app's own rules: every failure carries a
    photo and the supervisor's note, every fix an "after" photo and a note of what was done, every
    reopen a reason (written in Chinese, as the demo estate's staff write them), and each order moves
    only along the lifecycle. Deterministic (a seeded random), and skipped for days that already have
    walked rounds, so running it twice changes nothing.
    """
    import random
    from datetime import timedelta

    from flask import current_app

    from app.models import Answer, RoundStop, WorkOrder, WorkOrderEvent
    from app.models.types import utcnow
    from app.services import schedule
    from app.services.workorders import due_at, team_for_item

    now = now or utcnow()
    store = store or current_app.extensions["photo_store"]
    today = schedule.site_today(site, now)
    sups = [u for u in session.scalars(select(User).where(holders("patrol"))) if site in u.sites]
    crews = {t.id: [u for u in t_users] for t, t_users in
             ((t, session.scalars(select(User).join(User.teams).where(Team.id == t.id)).all()) for t in site.teams)}
    created = 0
    photos = None  # made on the first failure: a history without one needs none
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        for rnd in schedule.rounds_for_day(session, site, day):
            if rnd.started_at is not None:
                continue
            # One random stream per round: a second run makes the same choices (a missed round stays missed).
            rng = random.Random(f"{seed}-{day.isoformat()}-{rnd.slot}")
            roll = rng.random()
            if roll < 0.07:
                continue  # missed
            late = roll > 0.88
            sup = rng.choice(sups)
            start = (rnd.window_end + timedelta(minutes=rng.randint(20, 80)) if late
                     else rnd.window_start + timedelta(minutes=rng.randint(-5, 12)))
            rnd.started_at, rnd.supervisor_id = start, sup.id
            t = start
            position = 0
            for cp in rnd.route.checkpoints:
                t += timedelta(minutes=rng.randint(2, 5))  # walking to the next checkpoint
                for tpl in cp.templates:
                    stop = RoundStop(round=rnd, checkpoint_id=cp.id, area_id=cp.area_id,
                                     version_id=tpl.current_version.id, position=position)
                    position += 1
                    session.add(stop)
                    session.flush()
                    for item in tpl.current_version.items:
                        t += timedelta(seconds=rng.randint(15, 45))
                        r = rng.random()
                        result = "fail" if r < 0.025 else ("na" if r < 0.05 else "pass")
                        answer = Answer(round_id=rnd.id, stop_id=stop.id, item_id=item.id, result=result,
                                        note="", answered_by_id=sup.id, answered_at=t)
                        session.add(answer)
                        if result == "fail":
                            # A failure is shown, not just ticked: a photo and a word from the supervisor.
                            photos = photos or _history_photos(session, store, site, sup)
                            answer.note = rng.choice(HISTORY_FAIL_NOTES)
                            answer.photos.append(rng.choice(photos["before"]))
                        if result == "fail" and tpl.on_fail == "work_order":
                            session.flush()
                            _history_order(session, rng, site, rnd, stop, item, answer, sup, t, now, crews,
                                           team_for_item, due_at, WorkOrder, WorkOrderEvent, photos)
            rnd.finished_at = t + timedelta(minutes=rng.randint(3, 10))
            created += 1
    if created:
        _history_logs(session, site, today, now)
    session.flush()
    return created


DEMO_LOGS = [
    (1, "3栋电梯厅地面湿滑，已放警示牌并通知保洁。", "跟进保洁频次，下午复查。"),
    (2, "地下车库B2东侧照明两处不亮，已派工程。", "已阅。注意车库消防通道。"),
    (4, "会所泳池水质待检测，已联系供应商。", None),
    (6, "样板房A缺鞋套，已补充。", "样板房每日检查物品清单。"),
]


def _history_logs(session, site: Site, today, now) -> None:
    """A few duty logs with remarks and the manager's comments, as a real week would have."""
    from datetime import timedelta

    from app.models import DutyLog

    sup = session.scalar(select(User).where(User.username == "supervisor"))
    manager = session.scalar(select(User).where(User.username == "manager"))
    for back, remarks, comment in DEMO_LOGS:
        day = today - timedelta(days=back)
        if session.scalar(select(DutyLog).where(DutyLog.site_id == site.id, DutyLog.date == day)):
            continue
        session.add(DutyLog(site_id=site.id, date=day, remarks=remarks, remarks_by_id=sup.id if sup else None,
                            remarks_at=now - timedelta(days=back), comment=comment or "",
                            comment_by_id=manager.id if comment and manager else None,
                            read_at=now - timedelta(days=back - 1) if comment else None))


# What the demo's staff write (in Chinese, like the estate's own staff): a failure seen, a fix done, a reopen.
HISTORY_FAIL_NOTES = ["现场发现问题，已拍照。", "巡查时发现，请尽快处理。", "与标准不符，已通知相关班组。",
                      "已提醒现场人员，待派工处理。"]
HISTORY_FIX_NOTES = ["已清理干净，现场恢复正常。", "已更换损坏部件，测试正常。", "已整改完毕，拍照留存。",
                     "已补充物品并摆放整齐。", "已修复并复查，无异常。"]
HISTORY_REOPEN_NOTES = ["整改不到位，请重新处理。", "复查仍有问题，需返工。"]
HISTORY_REFIX_NOTES = ["已返工处理，复查合格。", "已重新整改，现场已恢复。"]


def _history_photos(session, store, site: Site, user: User) -> dict:
    """A few small "before" and "after" pictures, made with Pillow and stored like any upload."""
    import io

    from PIL import Image, ImageDraw

    from app.services.uploads import normalise_all, store_photos

    def picture(ground, mark, after: bool) -> bytes:
        img = Image.new("RGB", (640, 480), ground)
        draw = ImageDraw.Draw(img)
        for x in range(0, 640, 80):  # paving joints
            draw.line([(x, 0), (x + 120, 480)], fill=tuple(c - 25 for c in ground), width=3)
        if after:  # clean ground and a tick
            draw.line([(250, 250), (300, 300), (400, 180)], fill=(30, 130, 60), width=18)
        else:  # a stain or a broken thing
            draw.ellipse([200, 150, 440, 330], fill=mark)
            draw.line([(180, 340), (460, 140)], fill=(60, 60, 60), width=8)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=80)
        return buf.getvalue()

    grounds = [((205, 205, 200), (120, 90, 60)), ((190, 200, 175), (150, 60, 40)), ((210, 200, 185), (90, 90, 120))]
    made = {}
    for kind, after in (("before", False), ("after", True)):
        blobs = [picture(ground, mark, after) for ground, mark in grounds]
        made[kind] = store_photos(session, store, site, user, normalise_all(blobs))
    session.flush()
    return made


def _history_order(session, rng, site, rnd, stop, item, answer, sup, at, now, crews, team_for_item, due_at,
                   WorkOrder, WorkOrderEvent, photos):
    """One work order from a past failure, moved along its lifecycle as far as its age allows."""
    from datetime import timedelta

    from app.models import WorkOrderPhoto

    team = team_for_item(session, site.id, item)
    due = due_at(session, team, item.severity, at)
    order = WorkOrder(site_id=site.id, team_id=team.id, area_id=stop.area_id, source="round",
                      answer_id=answer.id, item_id=item.id, title_zh=item.text_zh, title_en=item.text_en,
                      severity=item.severity, status="open", due_at=due, created_at=at, created_by_id=sup.id)
    session.add(order)
    session.flush()
    events = [("created", sup.id, at, None, "open", "")]
    crew = rng.choice(crews.get(team.id) or [sup])
    age = now - at
    fate = rng.random()
    if age < timedelta(days=2) and fate < 0.5:
        if fate < 0.25:  # started since (never in the future, whatever the time of day)
            events.append(("started", crew.id, at + min(timedelta(hours=1), age / 2), "open", "in_progress", ""))
            order.status, order.assignee_id = "in_progress", crew.id
    elif fate < 0.06 or at >= now - timedelta(hours=3):
        order.status = "open"  # forgotten (overdue on the desk), or too recent to have been fixed
    else:
        took = (due - at) * rng.uniform(0.2, 0.9) if fate < 0.8 else (due - at) * rng.uniform(1.1, 2.5)
        resolved = min(at + took, now - timedelta(hours=2))
        # Resolving takes an "after" photo and a note of what was done (README: work-order lifecycle).
        events += [("started", crew.id, at + (resolved - at) / 3, "open", "in_progress", ""),
                   ("resolved", crew.id, resolved, "in_progress", "resolved", rng.choice(HISTORY_FIX_NOTES))]
        # Some fixes do not hold: reopened with a reason, started and resolved again (if there was time).
        if rng.random() < 0.1 and resolved + timedelta(hours=7) < now:
            events += [("reopened", sup.id, resolved + timedelta(hours=2), "resolved", "open",
                        rng.choice(HISTORY_REOPEN_NOTES)),
                       ("started", crew.id, resolved + timedelta(hours=3), "open", "in_progress", ""),
                       ("resolved", crew.id, resolved + timedelta(hours=6), "in_progress", "resolved",
                        rng.choice(HISTORY_REFIX_NOTES))]
            order.reopen_count = 1
            resolved += timedelta(hours=6)
        order.assignee_id, order.resolved_at = crew.id, resolved
        closed = resolved + timedelta(hours=rng.randint(1, 20))
        if closed < now:
            events.append(("verified", sup.id, closed, "resolved", "closed", ""))
            order.status, order.closed_at = "closed", closed
        else:
            order.status = "resolved"
    for kind, actor, when, frm, to, note in events:
        event = WorkOrderEvent(order_id=order.id, kind=kind, actor_id=actor, at=when, from_status=frm,
                               to_status=to, note=note)
        session.add(event)
        if kind == "resolved":
            session.add(WorkOrderPhoto(order=order, photo_id=rng.choice(photos["after"]).id, event=event,
                                       kind="after"))
