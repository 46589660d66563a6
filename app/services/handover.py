"""Pre-handover inspection (模拟验收): units, the walk, defects, signatures, rectification orders,
the owner's private link, re-inspection and sign-off."""
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.labels import room_label
from app.models import (
    Building, ChecklistItem, Defect, DefectCheck, Inspection, InspectionAnswer,
    OwnerLink, Photo, Site, Team, Unit, User, WorkOrder,
)
from app.models.checklist import SEVERITIES
from app.models.handover import INSPECTION_RESULTS, REPEATING_ROOMS, ROOM_ORDER
from app.models.types import utcnow
from app.services import links, workorders
from app.services.photos import check_room
from app.services.storage import PhotoStore
from app.services.errors import Refused

TEMPLATE_CODE = "unit_pre_handover"
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
CSV_COLUMNS = ("building", "unit", "floor", "room", "owner_name", "owner_phone", "bedrooms", "bathrooms", "layout")
MAX_CSV_BYTES = 2 * 1024 * 1024


class HandoverRefused(Refused):
    """Not possible now; `message` is for the user."""


# --------------------------------------------------------------------------- units and CSV import

@dataclass
class ImportReport:
    created: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


def import_units(session, site: Site, data: bytes) -> ImportReport:
    """Import units from CSV: every row is checked first; any problem and nothing is imported."""
    report = ImportReport()
    if len(data) > MAX_CSV_BYTES:
        report.problems.append((0, str(_l("The file is larger than 2 MB."))))
        return report
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error):
        report.problems.append((0, str(_l("This is not a CSV file (UTF-8, comma-separated)."))))
        return report
    header = [h.strip().lower() for h in (csv.DictReader(io.StringIO(text)).fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:4] if c not in header]
    if missing or not rows:
        report.problems.append((1, str(_l("The first line must name the columns: %(cols)s.",
                                          cols=", ".join(CSV_COLUMNS)))))
        return report
    buildings = {b.code: b for b in session.scalars(select(Building).where(Building.site_id == site.id))}
    existing = {(u.building.code, u.unit_no, u.room) for u in session.scalars(
        select(Unit).where(Unit.site_id == site.id))}
    seen: dict[tuple, int] = {}
    parsed = []
    for n, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        problem = _row_problem(row, existing, seen, n)
        if problem:
            report.problems.append((n, str(problem)))
            continue
        seen[(row["building"], row["unit"], row["room"])] = n
        parsed.append(row)
    if report.problems:
        return report
    from app.services.plans import layout_named

    layouts: dict[str, object] = {}
    for row in parsed:
        name = " ".join(row.get("layout", "").split())  # 户型, optional: a new name makes a new layout
        if name and name not in layouts:
            layouts[name] = layout_named(session, site.id, name)
        building = buildings.get(row["building"])
        if building is None:
            building = buildings[row["building"]] = Building(site_id=site.id, code=row["building"])
            session.add(building)
        session.add(Unit(site_id=site.id, building=building, unit_no=row["unit"], floor=int(row["floor"]),
                         room=row["room"], owner_name=row.get("owner_name", "")[:120],
                         owner_phone=row.get("owner_phone", ""),
                         bedrooms=int(row.get("bedrooms") or 2), bathrooms=int(row.get("bathrooms") or 1),
                         layout=layouts.get(name)))
        report.created += 1
    return report


def _row_problem(row: dict, existing: set, seen: dict, n: int):
    key = (row.get("building", ""), row.get("unit", ""), row.get("room", ""))
    if not key[0]:
        return _l("The building is missing.")
    if not key[1] or not key[2]:
        return _l("The unit or the room number is missing.")
    if len(key[0]) > 20 or len(key[1]) > 10 or len(key[2]) > 10:  # the columns' sizes, as the unit form's
        return _l("The building may be at most %(building)d characters long, the unit and the room at most "
                  "%(unit)d.", building=20, unit=10)
    if not re.fullmatch(r"-?\d{1,3}", row.get("floor", "")):
        return _l("The floor must be a whole number.")
    if key in existing:
        return _l("Unit %(label)s already exists.", label="-".join(key))
    if key in seen:
        return _l("Unit %(label)s appears twice (also on line %(line)d).", label="-".join(key), line=seen[key])
    phone = row.get("owner_phone", "")
    if phone and not PHONE.match(phone):
        return _l("The phone number “%(phone)s” is not valid.", phone=phone[:40])
    if len(" ".join(row.get("layout", "").split())) > 40:  # the layout name's column size
        return _l("A layout name may be at most %(num)d characters long.", num=40)
    for col, low, high in (("bedrooms", 0, 9), ("bathrooms", 0, 9)):
        value = row.get(col, "")
        if value and not (value.isdigit() and low <= int(value) <= high):
            return _l("%(col)s must be a number from 0 to 9.", col=col)
    return None


def save_unit(session, site: Site, unit: Unit | None, *, building: str, unit_no: str, floor: int,
              room: str, owner_name: str, owner_phone: str, bedrooms: int, bathrooms: int) -> Unit:
    """Add a unit or correct one; the same building-unit-room twice is refused."""
    building, unit_no, room = building.strip(), unit_no.strip(), room.strip()
    b = session.scalar(select(Building).where(Building.site_id == site.id, Building.code == building))
    clash = b and session.scalar(select(Unit).where(Unit.building_id == b.id, Unit.unit_no == unit_no,
                                                    Unit.room == room))
    if clash and clash is not unit:
        raise HandoverRefused(_l("Unit %(label)s already exists.", label=f"{building}-{unit_no}-{room}"))
    if b is None:
        b = Building(site_id=site.id, code=building)
        session.add(b)
    unit = unit or Unit(site_id=site.id)
    unit.building, unit.unit_no, unit.floor, unit.room = b, unit_no, floor, room
    unit.owner_name, unit.owner_phone = owner_name.strip(), owner_phone.strip()
    unit.bedrooms, unit.bathrooms = bedrooms, bathrooms
    session.add(unit)
    session.flush()  # its id, for the page it goes to
    return unit


# --------------------------------------------------------------------------- the walk

def template_version(session, site_id: int | None = None):
    """The current version of the unit checklist the site uses (its own copy, else the library's)."""
    from app.services.checklists import for_site

    tpl = for_site(session, TEMPLATE_CODE, site_id)
    if tpl is None:
        raise HandoverRefused(_l("The unit checklist is missing; run flask seed-demo."))
    return tpl.current_version


def rooms(unit: Unit, version) -> list[tuple[str, str, int]]:
    """(room key, room type, number) in walking order; bedrooms and bathrooms repeat."""
    types = {i.room for i in version.items}
    out = []
    for room in ROOM_ORDER:
        if room not in types:
            continue
        count = (unit.bedrooms if room == "bedroom" else unit.bathrooms) if room in REPEATING_ROOMS else 1
        for n in range(1, count + 1):
            out.append((f"{room}-{n}" if room in REPEATING_ROOMS else room, room, n))
    return out


def room_type(room_key: str) -> str:
    return room_key.rsplit("-", 1)[0] if room_key[-1].isdigit() else room_key


def items_in(version, room_key: str) -> list[ChecklistItem]:
    return [i for i in version.items if i.room == room_type(room_key)]


def start_inspection(session, unit: Unit, engineer: User, owner_present: str) -> Inspection:
    """Begin a walk of the unit with its owner (a later walk records later findings)."""
    owner_present = owner_present.strip()[:120]
    if not owner_present:
        raise HandoverRefused(_l("Write the name of the owner who is present."))
    insp = Inspection(site_id=unit.site_id, unit=unit, kind="initial", engineer_id=engineer.id,
                      owner_present=owner_present, version_id=template_version(session, unit.site_id).id)
    session.add(insp)
    session.flush()  # its id, for the page it goes to
    return insp


def _editable(insp: Inspection) -> None:
    if insp.signed:
        raise HandoverRefused(_l("This inspection is signed and can no longer be changed. "
                                 "Record later findings in a new inspection."))


def answer(session, insp: Inspection, room_key: str, item: ChecklistItem, user: User, *,
           result: str | None, severity: str | None = None, description: str | None = None,
           location: str | None = None, photos: list[Photo] = (), team: Team | None = None,
           max_photos: int = 10) -> Defect | None:
    """Record pass / defect / n.a. for an item in a room; a defect carries its details and (at most
    `max_photos`) photos."""
    _editable(insp)
    if room_key not in {k for k, _, _ in rooms(insp.unit, insp.version)} or item.room != room_type(room_key) \
            or item.version_id != insp.version_id:
        raise LookupError("item not in this room")
    if result is not None and result not in INSPECTION_RESULTS:
        raise HandoverRefused(_l("Choose pass, defect or n.a."))
    ans = session.scalar(select(InspectionAnswer).where(
        InspectionAnswer.inspection_id == insp.id, InspectionAnswer.room_key == room_key,
        InspectionAnswer.item_id == item.id))
    defect = session.scalar(select(Defect).where(Defect.answer_id == ans.id)) if ans else None
    final = result if result is not None else (ans.result if ans else None)
    if final == "defect" and item.photo_required_on_fail and not photos and not (defect and defect.photos):
        raise HandoverRefused(_l("A photo is required for this defect. Take a photo, then tap Defect again."))
    if severity is not None and severity not in SEVERITIES:
        raise HandoverRefused(_l("Choose a severity."))
    if team is not None and team.site_id != insp.site_id:
        raise LookupError("team of another site")
    if ans is None:
        ans = InspectionAnswer(inspection_id=insp.id, room_key=room_key, item_id=item.id)
        try:
            with session.begin_nested():
                session.add(ans)
        except IntegrityError:  # a resent request got there first
            ans = session.scalar(select(InspectionAnswer).where(
                InspectionAnswer.inspection_id == insp.id, InspectionAnswer.room_key == room_key,
                InspectionAnswer.item_id == item.id))
    ans.result, ans.answered_at = final, utcnow()
    # A photo taken before Defect is tapped starts a draft defect, so the tap that follows finds it.
    if final == "defect" or (final is None and (photos or defect is not None)):
        if defect is None:
            defect = Defect(inspection_id=insp.id, unit_id=insp.unit_id, answer_id=ans.id, item_id=item.id,
                            room_key=room_key, severity=item.severity)
            session.add(defect)
        if severity:
            defect.severity = severity
        if description is not None:
            defect.description = description.strip()[:1000]
        if location is not None:
            defect.location = location.strip()[:200]
        if team is not None:
            defect.team_id = team.id
        check_room(len(defect.photos), len([p for p in dict.fromkeys(photos) if p not in defect.photos]),
                   max_photos)
        for p in photos:
            if p not in defect.photos:
                defect.photos.append(p)
    elif result is not None and defect is not None:
        session.delete(defect)  # pass or n.a. tapped before signing: the finding is withdrawn
        defect = None
    return defect


def add_concern(session, insp: Inspection, room_key: str, text: str, photos: list[Photo],
                severity: str = "major") -> Defect:
    """A concern the owner raises that is not on the list: recorded as the owner's."""
    _editable(insp)
    text = text.strip()[:1000]
    if not text:
        raise HandoverRefused(_l("Write the owner's concern."))
    if room_key not in {k for k, _, _ in rooms(insp.unit, insp.version)}:
        raise LookupError("no such room")
    defect = Defect(inspection_id=insp.id, unit_id=insp.unit_id, room_key=room_key, severity=severity,
                    description=text, owner_concern=True, photos=list(photos))
    session.add(defect)
    return defect


def recorded_defects(session, insp: Inspection) -> list[Defect]:
    """The inspection's defects: owner concerns and items marked defect (not photo-only drafts)."""
    marked = {a.id for a in session.scalars(select(InspectionAnswer).where(
        InspectionAnswer.inspection_id == insp.id, InspectionAnswer.result == "defect"))}
    return [d for d in insp.defects if d.owner_concern or d.answer_id in marked]


def progress(session, insp: Inspection) -> dict[str, tuple[int, int, int]]:
    """Per room: (items, answered, defects)."""
    answers = session.scalars(select(InspectionAnswer).where(InspectionAnswer.inspection_id == insp.id)).all()
    out = {}
    for key, _, _ in rooms(insp.unit, insp.version):
        mine = [a for a in answers if a.room_key == key and a.result]
        out[key] = (len(items_in(insp.version, key)), len(mine), sum(1 for a in mine if a.result == "defect"))
    return out


# --------------------------------------------------------------------------- signatures and orders

def sign(session, store: PhotoStore, insp: Inspection, user: User, *, engineer_name: str,
         owner_name: str, engineer_sig: str, owner_sig: str, now: datetime | None = None) -> Inspection:
    """Both sign; the record becomes read-only and every defect gets its rectification order."""
    from app.services import signatures  # imported here: its refusal is a HandoverRefused

    _editable(insp)
    # First, so any later refusal re-shows pads that are known good (signatures.SignatureRefused).
    pngs = signatures.normalise_both(engineer_sig, owner_sig)
    if insp.kind == "reinspection":
        open_ids = {d.id for d in open_defects(session, insp.unit)}
        checked = {c.defect_id for c in insp.checks}
        if open_ids - checked:
            raise HandoverRefused(_l("Check every defect before signing."))
    engineer_name, owner_name = engineer_name.strip()[:120], owner_name.strip()[:120]
    if not engineer_name or not owner_name:
        raise HandoverRefused(_l("Write both names."))
    now = now or utcnow()
    insp.engineer_signature = signatures.store(store, pngs["engineer"])
    insp.owner_signature = signatures.store(store, pngs["owner"])
    insp.engineer_signed_name, insp.owner_signed_name = engineer_name, owner_name
    insp.status, insp.signed_at = "signed", now
    if insp.kind == "initial":
        recorded = recorded_defects(session, insp)
        for draft in set(insp.defects) - set(recorded):
            session.delete(draft)  # photos taken, but the item was never marked a defect
        for defect in recorded:
            _raise_order(session, insp, defect, user, now)
    return insp


def default_team(session, insp: Inspection, defect: Defect) -> Team:
    """The defect's chosen team, else the item's team, else engineering."""
    if defect.team_id:
        return session.get(Team, defect.team_id)
    code = defect.item.team_code if defect.item else "engineering"
    team = session.scalar(select(Team).where(Team.site_id == insp.site_id, Team.code == code))
    return team or session.scalar(select(Team).where(Team.site_id == insp.site_id,
                                                     Team.code == "engineering"))


def room_names(room_key: str) -> tuple[str, str]:
    """The room's name in Chinese and in English, with its number: ('卫生间 2', 'Bathroom 2')."""
    from flask_babel import force_locale

    names = []
    for locale in ("zh_Hans", "en"):
        with force_locale(locale):
            names.append(room_label(room_key))
    return names[0], names[1]


def _short(text: str, limit: int) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _raise_order(session, insp: Inspection, defect: Defect, user: User, now: datetime) -> WorkOrder:
    """The defect's rectification order: its title names the unit, the room (with its number), where
    in the room and what is wrong in the engineer's words, so a crew knows which bathroom to go to."""
    team = default_team(session, insp, defect)
    unit = insp.unit
    room_zh, room_en = room_names(defect.room_key)
    what_zh = _short(defect.description, 120) or (defect.item.text_zh if defect.item else "")
    what_en = _short(defect.description, 120) or (defect.item.text_en if defect.item else "")
    where = _short(defect.location, 40)
    title_zh = f"{unit.label} {room_zh}" + (f"（{where}）" if where else "") + f" · {what_zh}"
    title_en = f"{unit.label} {room_en}" + (f" ({where})" if where else "") + f" · {what_en}"
    order = workorders.new_order(
        session, site=unit.site, team=team, source="handover", severity=defect.severity,
        title_zh=title_zh[:500], title_en=title_en[:500], actor=user, photos=defect.photos, now=now,
        due=now + timedelta(days=unit.site.rectification_days), unit_id=unit.id, item_id=defect.item_id,
        description="\n".join(x for x in (defect.description, defect.location) if x),
    )
    defect.work_order_id = order.id
    defect.team_id = team.id
    return order


# --------------------------------------------------------------------------- status and re-inspection

def _verdicts(session, unit: Unit) -> dict[int, str]:
    """The latest verdict per defect from signed re-inspections."""
    query = select(DefectCheck).join(Inspection, DefectCheck.reinspection_id == Inspection.id).where(
        Inspection.unit_id == unit.id, Inspection.status == "signed").order_by(DefectCheck.id)
    return {c.defect_id: c.verdict for c in session.scalars(query)}


def open_defects(session, unit: Unit) -> list[Defect]:
    """Defects of signed inspections that a signed re-inspection has not accepted."""
    verdicts = _verdicts(session, unit)
    defects = session.scalars(select(Defect).join(Inspection, Defect.inspection_id == Inspection.id).where(
        Defect.unit_id == unit.id, Inspection.status == "signed", Inspection.kind == "initial")
        .order_by(Defect.id)).all()
    return [d for d in defects if verdicts.get(d.id) != "accepted"]


UNIT_STATUSES = ("not_inspected", "inspecting", "defects_open", "ready_for_reinspection",
                 "reinspecting", "ready_for_handover")


def unit_status(session, unit: Unit) -> str:
    """Where the unit stands on its way to handover."""
    return unit_statuses(session, [unit.id]).get(unit.id, "not_inspected")


def unit_statuses(session, unit_ids) -> dict[int, str]:
    """Where each unit stands, for a list of ids or a select of them, in three statements whatever
    the number of units (the handover index and the project view show hundreds)."""
    from app.models import WorkOrder

    inspections: dict[int, list[tuple[str, str]]] = {}
    for unit_id, status, kind in session.execute(
            select(Inspection.unit_id, Inspection.status, Inspection.kind).where(Inspection.unit_id.in_(unit_ids))):
        inspections.setdefault(unit_id, []).append((status, kind))
    verdicts = {defect_id: verdict for defect_id, verdict in session.execute(
        select(DefectCheck.defect_id, DefectCheck.verdict)
        .join(Inspection, DefectCheck.reinspection_id == Inspection.id)
        .where(Inspection.unit_id.in_(unit_ids), Inspection.status == "signed").order_by(DefectCheck.id))}
    pending: dict[int, list[str | None]] = {}  # unit → its open defects' order statuses
    for unit_id, defect_id, order_status in session.execute(
            select(Defect.unit_id, Defect.id, WorkOrder.status)
            .join(Inspection, Defect.inspection_id == Inspection.id)
            .outerjoin(WorkOrder, Defect.work_order_id == WorkOrder.id)
            .where(Defect.unit_id.in_(unit_ids), Inspection.status == "signed", Inspection.kind == "initial")):
        if verdicts.get(defect_id) != "accepted":
            pending.setdefault(unit_id, []).append(order_status)
    result = {}
    for unit_id, rows in inspections.items():
        if ("in_progress", "reinspection") in rows:
            result[unit_id] = "reinspecting"
        elif any(status == "in_progress" for status, _ in rows):
            result[unit_id] = "inspecting"
        elif not any(status == "signed" for status, _ in rows):
            result[unit_id] = "not_inspected"
        elif not pending.get(unit_id):
            result[unit_id] = "ready_for_handover"
        elif all(s in ("closed", "cancelled") for s in pending[unit_id]):
            result[unit_id] = "ready_for_reinspection"
        else:
            result[unit_id] = "defects_open"
    return result


def start_reinspection(session, unit: Unit, engineer: User, owner_present: str) -> Inspection:
    """Walk only the defects again with the owner, once all their orders are closed (all or nothing:
    the inspection is started and made a re-inspection in one unit of work)."""
    if unit_status(session, unit) != "ready_for_reinspection":
        raise HandoverRefused(_l("A re-inspection can start when every rectification order is closed."))
    insp = start_inspection(session, unit, engineer, owner_present)
    insp.kind = "reinspection"
    return insp


def check_defect(session, reinsp: Inspection, defect: Defect, user: User, verdict: str,
                 reason: str = "", photos: list[Photo] = ()) -> DefectCheck:
    """The owner accepts a fix, or rejects it with a reason and a photo (its order reopens)."""
    _editable(reinsp)
    if reinsp.kind != "reinspection" or defect.unit_id != reinsp.unit_id:
        raise LookupError("defect not in this re-inspection")
    if verdict not in ("accepted", "rejected"):
        raise HandoverRefused(_l("Accept or reject the fix."))
    reason = reason.strip()[:1000]
    if verdict == "rejected" and (not reason or not photos):
        raise HandoverRefused(_l("Give a reason and a photo to reject the fix."))
    check = session.scalar(select(DefectCheck).where(DefectCheck.reinspection_id == reinsp.id,
                                                     DefectCheck.defect_id == defect.id))
    if check is None:
        check = DefectCheck(reinspection_id=reinsp.id, defect_id=defect.id, verdict=verdict)
        session.add(check)
    was = check.verdict if check.id else None
    check.verdict, check.reason, check.at = verdict, reason, utcnow()
    check.photos = list(photos) or check.photos
    order = defect.work_order
    if verdict == "rejected" and was != "rejected" and order is not None and order.status in ("closed", "resolved"):
        workorders.reopen_order(session, order, user, reason)
    return check


# --------------------------------------------------------------------------- the owner's link

token_hash = links.token_hash


def create_owner_link(session, unit: Unit, user: User, now: datetime | None = None) -> tuple[str, OwnerLink]:
    """A new private link for the owner (the previous one stops working); the token is shown once."""
    now = now or utcnow()
    for old in session.scalars(select(OwnerLink).where(OwnerLink.unit_id == unit.id,
                                                       OwnerLink.revoked_at.is_(None))):
        old.revoked_at = now
    token, hashed = links.new_token()
    link = OwnerLink(unit_id=unit.id, token_hash=hashed, created_at=now, created_by_id=user.id,
                     expires_at=now + timedelta(days=unit.site.owner_link_days))
    session.add(link)
    return token, link


def revoke_owner_links(session, unit: Unit) -> int:
    now = utcnow()
    links = session.scalars(select(OwnerLink).where(OwnerLink.unit_id == unit.id,
                                                    OwnerLink.revoked_at.is_(None))).all()
    for link in links:
        link.revoked_at = now
    return len(links)


def owner_link(session, token: str, now: datetime | None = None) -> OwnerLink | None:
    """The live link for a token, or None (unknown, altered, revoked or expired)."""
    return links.find_live(session, OwnerLink, token, now)


def live_link(session, unit: Unit) -> OwnerLink | None:
    now = utcnow()
    return session.scalar(select(OwnerLink).where(
        OwnerLink.unit_id == unit.id, OwnerLink.revoked_at.is_(None), OwnerLink.expires_at > now))


def unit_photo_ids(session, unit: Unit) -> set[int]:
    """Photos the owner may see: their unit's defects and the fixes of those defects' orders."""
    ids = set()
    for defect in session.scalars(select(Defect).where(Defect.unit_id == unit.id)):
        ids.update(p.id for p in defect.photos)
        if defect.work_order is not None:
            ids.update(p.id for p in defect.work_order.after_photos)
    return ids


# --------------------------------------------------------------------------- project view (缺陷反馈)

DEFECT_FILTERS = ("category", "room", "team", "item", "order", "building", "layout", "cell")


def signed_defects(site_id: int):
    """Defects recorded in signed (initial) inspections of a site: the population the figures count."""
    return (select(Defect).join(Inspection, Defect.inspection_id == Inspection.id)
            .where(Inspection.site_id == site_id, Inspection.status == "signed", Inspection.kind == "initial"))


def filter_defects(query, filters: dict, now: datetime):
    """Narrow a defects query by the project view's filters (all optional)."""
    from app.models import WorkOrder as WO

    if filters.get("category"):
        if filters["category"] == "owner_concern":
            query = query.where(Defect.owner_concern.is_(True))
        else:
            query = query.join(ChecklistItem, Defect.item_id == ChecklistItem.id).where(
                ChecklistItem.category == filters["category"])
    if filters.get("room"):
        query = query.where((Defect.room_key == filters["room"]) | Defect.room_key.like(f"{filters['room']}-%"))
    if filters.get("team"):
        query = query.where(Defect.team_id == int(filters["team"]))
    if filters.get("item"):
        query = query.where(Defect.item_id == int(filters["item"]))
    if filters.get("building"):
        query = query.join(Unit, Defect.unit_id == Unit.id).where(Unit.building_id == int(filters["building"]))
    if filters.get("layout"):  # pinned on this layout's plan (the heat map)
        query = query.where(Defect.pin_layout_id == int(filters["layout"]))
    if filters.get("bounds"):  # a heat-map cell: [x0, x1) × [y0, y1), the plan's far edges included
        x0, y0, x1, y1 = filters["bounds"]
        query = query.where(Defect.pin_x >= x0, Defect.pin_x < x1 if x1 < 1 else Defect.pin_x <= 1,
                            Defect.pin_y >= y0, Defect.pin_y < y1 if y1 < 1 else Defect.pin_y <= 1)
    order = filters.get("order")
    if order in ("open", "overdue", "done"):
        query = query.join(WO, Defect.work_order_id == WO.id)
        if order == "done":
            query = query.where(WO.status.in_(("closed", "cancelled")))
        else:
            query = query.where(WO.status.in_(("open", "in_progress", "blocked", "resolved")))
            if order == "overdue":
                query = query.where(WO.due_at < now, WO.status != "resolved")
    return query


def project_figures(session, site: Site, now: datetime | None = None) -> dict:
    """Counts for the project view, each by one aggregate query."""
    from sqlalchemy import case, func, literal_column

    from app.models import WorkOrder as WO

    now = now or utcnow()
    base = signed_defects(site.id).subquery()
    # A literal, not a bound parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
    category = func.coalesce(ChecklistItem.category, literal_column("'owner_concern'"))
    by_category = session.execute(
        select(category, func.count(base.c.id))
        .select_from(base).outerjoin(ChecklistItem, base.c.item_id == ChecklistItem.id)
        .group_by(category).order_by(func.count(base.c.id).desc())).all()
    per_key = session.execute(select(base.c.room_key, func.count(base.c.id)).select_from(base)
                              .group_by(base.c.room_key)).all()
    rooms_count: dict[str, int] = {}
    for key, n in per_key:  # bedroom-1 and bedroom-2 count as bedroom
        rooms_count[room_type(key)] = rooms_count.get(room_type(key), 0) + n
    by_room = sorted(rooms_count.items(), key=lambda kv: -kv[1])
    active = WO.status.in_(("open", "in_progress", "blocked", "resolved"))
    by_team = session.execute(
        select(Team.id, Team.name_zh, Team.name_en, Team.is_contractor,
               func.sum(case((active, 1), else_=0)),
               func.sum(case((active & (WO.due_at < now) & (WO.status != "resolved"), 1), else_=0)),
               func.sum(case((WO.status.in_(("closed", "cancelled")), 1), else_=0)))
        .select_from(base).join(WO, base.c.work_order_id == WO.id).join(Team, WO.team_id == Team.id)
        .group_by(Team.id, Team.name_zh, Team.name_en, Team.is_contractor).order_by(Team.id)).all()
    top_items = session.execute(
        select(ChecklistItem.id, ChecklistItem.text_zh, ChecklistItem.text_en, func.count(base.c.id))
        .select_from(base).join(ChecklistItem, base.c.item_id == ChecklistItem.id)
        .group_by(ChecklistItem.id, ChecklistItem.text_zh, ChecklistItem.text_en)
        .order_by(func.count(base.c.id).desc(), ChecklistItem.id).limit(10)).all()
    site_units = select(Unit.id).where(Unit.site_id == site.id)
    known = unit_statuses(session, site_units)
    statuses = {s: 0 for s in UNIT_STATUSES}
    statuses["not_inspected"] = session.scalar(select(func.count()).select_from(site_units.subquery())) - len(known)
    for status in known.values():
        statuses[status] += 1
    return dict(units=statuses, by_category=by_category, by_room=by_room, by_team=by_team,
                top_items=top_items, total=session.scalar(select(func.count()).select_from(base)))


UNITS_AT_ONCE = 200  # tiles a phone receives at most on the handover index


def index_page(session, site_ids: list[int], *, building_id: int | None = None, wanted: str | None = None,
               page: int = 1, limit: int = UNITS_AT_ONCE) -> dict:
    """The handover index: every unit of the sites while there are at most `limit`; past that one building
    at a time (a picker lists every building with its number of units), `limit` units a page. Six
    statements, whatever the number of units or buildings."""
    from sqlalchemy import func
    from sqlalchemy.orm import joinedload

    sizes = dict(session.execute(select(Unit.building_id, func.count(Unit.id))
                                 .where(Unit.site_id.in_(site_ids)).group_by(Unit.building_id)).all())
    buildings = session.scalars(select(Building).where(Building.site_id.in_(site_ids))
                                .options(joinedload(Building.site)).order_by(Building.site_id, Building.code)).all()
    total = sum(sizes.values())
    chosen = None
    if total > limit and buildings:
        chosen = next((b for b in buildings if b.id == building_id), buildings[0])
    shown = [chosen] if chosen else buildings
    units = session.scalars(select(Unit).where(Unit.building_id.in_([b.id for b in shown]))
                            .order_by(Unit.building_id, Unit.unit_no, Unit.floor, Unit.room)).all() if shown else []
    known = unit_statuses(session, select(Unit.id).where(Unit.building_id.in_([b.id for b in shown]))) if units else {}
    status = {u.id: known.get(u.id, "not_inspected") for u in units}
    matching = [u for u in units if not wanted or status[u.id] == wanted]
    pages = max(1, -(-len(matching) // limit)) if chosen else 1
    page = min(max(page, 1), pages)
    listed = matching[(page - 1) * limit:page * limit] if chosen else matching
    by_building: dict[int, list[Unit]] = {}
    for u in listed:
        by_building.setdefault(u.building_id, []).append(u)
    return dict(buildings=[(b, sizes.get(b.id, 0)) for b in buildings], building=chosen,
                shown=[(b, by_building.get(b.id, [])) for b in shown], status=status, wanted=wanted,
                page_no=page, pages=pages, matching=len(matching), first=(page - 1) * limit + 1 if listed else 0,
                last=(page - 1) * limit + len(listed))
