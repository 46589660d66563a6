"""Floor plans: unit layouts (户型), a plan image per layout, rooms drawn on it, defects pinned on it,
and the project heat map of where a layout's defects cluster.

Positions are fractions (0..1) of the plan's width and height, so a pin renders at any size. The plan
image is normalised like a photo (guarded decode, size caps, no metadata) and kept in the photo store;
a PDF's first page is rendered by PDFium (pypdfium2).
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.labels import room_label
from app.models import ChecklistItem, Defect, DefectCheck, Inspection, Layout, PlanRoom, Unit, User
from app.models.handover import REPEATING_ROOMS, ROOM_ORDER
from app.models.types import utcnow
from app.services.errors import Refused
from app.services.photos import MIB, PhotoRejected, PhotoTooLarge, decode_guarded
from app.services.storage import PhotoStore

PLAN_EDGE = 2000                 # long edge of a stored plan, px: room labels stay legible when zoomed
MAX_PLAN_BYTES = 20 * MIB
MAX_PLAN_PIXELS = 50_000_000
MAX_PDF_POINTS = 14_400          # 200 inches, PDF's own page-size limit: larger is no drawing we render
PDF_SECONDS = 10                 # CPU for drawing a PDF's first page; a real plan takes well under one
MAX_PLAN_ASPECT = 10            # long side over short side: a real plan is far squarer
MAX_ROOMS = 40
MIN_ROOM = 0.01                  # a rectangle narrower than 1 % of the plan is a slip of the finger
HEAT_GRID = 7                    # heat-map cells across the plan: a cell stays 44 px wide on a 360 px phone
PIN_STATUSES = ("open", "overdue", "resolved", "accepted")
LAYOUT_NAME_MAX = 40
REPEAT_WINDOW = timedelta(minutes=2)  # the same concern at the same spot within this is a double tap
# Rooms a plan can name: the inspection's rooms, bedrooms and bathrooms numbered.
PLAN_ROOM_KEYS = tuple(
    key for room in ROOM_ORDER if room != "whole_unit"
    for key in ([f"{room}-{n}" for n in range(1, 6 if room == "bedroom" else 5)] if room in REPEATING_ROOMS
                else [room]))


class PlanRefused(Refused):
    """Not possible with this plan now; `message` is for the user."""


# --------------------------------------------------------------------------- layouts

def layout_named(session, site_id: int, name: str, *, create: bool = True) -> Layout | None:
    """The site's layout of this name (created when missing and `create`); an empty name is none."""
    name = " ".join((name or "").split())
    if not name:
        return None
    if len(name) > LAYOUT_NAME_MAX:
        raise PlanRefused(_l("A layout name may be at most %(num)d characters long.", num=LAYOUT_NAME_MAX))
    layout = session.scalar(select(Layout).where(Layout.site_id == site_id, Layout.name == name))
    if layout is None and create:
        layout = Layout(site_id=site_id, name=name)
        session.add(layout)
        session.flush()
    return layout


def set_unit_layout(session, unit: Unit, name: str) -> Layout | None:
    """Give the unit a layout by name (a new name makes a new layout of its site); empty clears it."""
    unit.layout = layout_named(session, unit.site_id, name)
    session.flush()
    return unit.layout


def site_layouts(session, site_ids) -> list[Layout]:
    """The sites' layouts by site and name."""
    return list(session.scalars(select(Layout).where(Layout.site_id.in_(site_ids))
                                .order_by(Layout.site_id, Layout.name)))


def layout_unit_counts(session, site_id: int) -> dict[int, int]:
    """layout id → how many of the site's units have it (one statement)."""
    from sqlalchemy import func

    return dict(session.execute(
        select(Unit.layout_id, func.count(Unit.id)).where(Unit.site_id == site_id, Unit.layout_id.is_not(None))
        .group_by(Unit.layout_id)).all())


# --------------------------------------------------------------------------- the plan image

def _not_a_plan() -> PlanRefused:
    return PlanRefused(_l("This file is not a floor plan. Use a PNG or JPEG image, or a PDF."))


def _pdf_first_page(data: bytes) -> Image.Image:
    """The first page of a PDF rendered so its long edge is PLAN_EDGE px, by PDFium in a child process
    with PDF_SECONDS of CPU (pdf_page.py); refused if it has no page, no drawable size, cannot be read
    or takes longer than that to draw."""
    import subprocess
    import sys
    from pathlib import Path

    from app.services import pdf_page

    script = Path(pdf_page.__file__)
    try:
        done = subprocess.run([sys.executable, "-I", str(script), str(PLAN_EDGE), str(MAX_PDF_POINTS),
                               str(PDF_SECONDS)], input=data, capture_output=True, timeout=PDF_SECONDS + 5)
    except subprocess.TimeoutExpired as exc:
        raise _too_complex() from exc
    if done.returncode == pdf_page.NO_SIZE:
        raise PlanRefused(_l("This PDF's first page has no size we can draw."))
    # PDFium declines a document without pages like a damaged one; say which when it has no page object.
    if done.returncode == pdf_page.NO_PAGES or (done.returncode == pdf_page.UNREADABLE and re.search(
            rb"/Type\s*/Page(?![a-zA-Z])", data) is None):
        raise PlanRefused(_l("This PDF has no pages."))
    if done.returncode == pdf_page.UNREADABLE:
        raise PlanRefused(_l("This PDF cannot be read (damaged or password-protected)."))
    if done.returncode != 0:  # killed at its CPU or memory limit
        raise _too_complex()
    img = Image.open(io.BytesIO(done.stdout))
    img.load()
    return img


def too_large(max_bytes: int = MAX_PLAN_BYTES) -> PlanRefused:
    """A plan file over the cap, read or not (the request limit answers it before the view does)."""
    return PlanRefused(_l("This plan is larger than %(mb)d MB.", mb=max_bytes // MIB))


def _too_complex() -> PlanRefused:
    return PlanRefused(_l("This PDF takes too long to draw. Save the plan as a PNG or JPEG and upload that."))


def normalise_plan(data: bytes, *, max_bytes: int = MAX_PLAN_BYTES,
                   max_pixels: int = MAX_PLAN_PIXELS) -> tuple[bytes, int, int]:
    """A floor plan upload (PNG, JPEG or a PDF's first page) as a PNG of at most PLAN_EDGE px, no
    metadata; PlanRefused (not a plan, too large, a PDF with no pages) otherwise."""
    if not data:
        raise _not_a_plan()
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if data[:5] == b"%PDF-":
        img = _pdf_first_page(data)
    else:
        try:
            img = decode_guarded(data, formats=("PNG", "JPEG"), max_bytes=max_bytes, max_pixels=max_pixels)
        except PhotoTooLarge as exc:
            raise PlanRefused(exc.message) from exc
        except PhotoRejected as exc:
            if isinstance(exc.__cause__, UnidentifiedImageError):
                raise _not_a_plan() from exc
            raise PlanRefused(_l("This plan is damaged or incomplete.")) from exc
    if min(img.size) * MAX_PLAN_ASPECT < max(img.size):  # a 1 × 2000 px strip has no rooms to tap
        raise PlanRefused(_l("This plan is too narrow to draw rooms on: one side is more than %(num)d times "
                             "the other.", num=MAX_PLAN_ASPECT))
    if max(img.size) > PLAN_EDGE:
        img.thumbnail((PLAN_EDGE, PLAN_EDGE), Image.Resampling.LANCZOS)
    img.info = {}
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue(), img.width, img.height


def upload_plan(session, store: PhotoStore, layout: Layout, user: User, data: bytes) -> Layout:
    """Store a layout's plan (replacing the previous one; its rooms and pins stay where they were)."""
    png, width, height = normalise_plan(data)
    key = hashlib.sha256(png).hexdigest()
    store.put(key, png)
    layout.plan_key, layout.plan_width, layout.plan_height = key, width, height
    layout.plan_uploaded_at, layout.plan_uploaded_by_id = utcnow(), user.id
    session.flush()
    return layout


# --------------------------------------------------------------------------- rooms on the plan

def _fraction(value) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise PlanRefused(_l("Tap or draw on the plan.")) from None
    if not 0.0 <= f <= 1.0:  # also refuses nan and inf
        raise PlanRefused(_l("That spot is outside the plan."))
    return f


def add_room(session, layout: Layout, room_key: str, x0, y0, x1, y1) -> PlanRoom:
    """Name a rectangle of the plan as a room (two corners in either order, as fractions)."""
    if not layout.has_plan:
        raise PlanRefused(_l("Upload the plan first."))
    if room_key not in PLAN_ROOM_KEYS:
        raise PlanRefused(_l("Choose the room."))
    xs, ys = sorted((_fraction(x0), _fraction(x1))), sorted((_fraction(y0), _fraction(y1)))
    if xs[1] - xs[0] < MIN_ROOM or ys[1] - ys[0] < MIN_ROOM:
        raise PlanRefused(_l("Draw the room larger: drag across it, or tap two opposite corners."))
    if len(layout.rooms) >= MAX_ROOMS:
        raise PlanRefused(_l("A plan holds at most %(num)d rooms.", num=MAX_ROOMS))
    room = PlanRoom(room_key=room_key, x0=xs[0], y0=ys[0], x1=xs[1], y1=ys[1])
    layout.rooms.append(room)
    session.flush()
    return room


def remove_room(session, layout: Layout, room_id: int) -> None:
    room = next((r for r in layout.rooms if r.id == room_id), None)
    if room is None:
        raise LookupError("no such room on this plan")
    layout.rooms.remove(room)
    session.flush()


def room_at(rooms, x: float, y: float) -> str | None:
    """The room a point falls in: the smallest rectangle containing it (a cupboard drawn inside a
    bedroom wins), None outside every room."""
    inside = [r for r in rooms if r.contains(x, y)]
    return min(inside, key=lambda r: (r.area, r.id)).room_key if inside else None


# --------------------------------------------------------------------------- pins

def _plan_of(unit: Unit) -> Layout:
    """The unit's layout, if it has a plan to pin on."""
    if unit.layout is None or not unit.layout.has_plan:
        raise PlanRefused(_l("This unit has no floor plan yet."))
    return unit.layout


def pin_defect(session, defect: Defect, x, y, room_key: str | None = None) -> str | None:
    """Put (or move) a defect's pin; allowed until its inspection is signed. An owner's concern takes
    the room the pin falls in (or `room_key`, chosen); a checklist defect keeps the room its item was
    answered in. Returns the room the pin falls in."""
    from app.services.handover import rooms as unit_rooms

    if defect.inspection.signed:
        raise PlanRefused(_l("This inspection is signed; its pins can no longer be moved."), status=409)
    layout = _plan_of(defect.unit)
    x, y = _fraction(x), _fraction(y)
    found = room_at(layout.rooms, x, y)
    wanted = room_key or found
    valid = {k for k, _, _ in unit_rooms(defect.unit, defect.inspection.version)}
    if defect.owner_concern and wanted in valid:
        defect.room_key = wanted
    defect.pin_layout_id, defect.pin_x, defect.pin_y = layout.id, x, y
    session.flush()
    return found


def unpin_defect(session, defect: Defect) -> None:
    if defect.inspection.signed:
        raise PlanRefused(_l("This inspection is signed; its pins can no longer be moved."), status=409)
    defect.pin_layout_id = defect.pin_x = defect.pin_y = None
    session.flush()


def pinned_defect(session, insp: Inspection, user: User, x, y, *, room_key: str, item: ChecklistItem | None,
                  description: str, severity: str | None, photos=()) -> Defect:
    """A defect recorded by tapping the plan: a checklist item marked defect in the room, or the
    owner's concern when no item is chosen; pinned where tapped."""
    from app.services import handover

    _plan_of(insp.unit)
    x, y = _fraction(x), _fraction(y)
    if item is None:
        repeated = _repeated_concern(session, insp, x, y, room_key, description)
        if repeated is not None:
            return repeated
        defect = handover.add_concern(session, insp, room_key, description, list(photos),
                                      severity=severity or "major")
        session.flush()
    else:
        if item.version_id != insp.version_id:
            raise LookupError("item of another checklist")
        if item.room != handover.room_type(room_key):
            raise PlanRefused(_l("That item is not checked in %(room)s. Choose the room or another item.",
                                 room=room_label(room_key)))
        defect = handover.answer(session, insp, room_key, item, user, result="defect", severity=severity,
                                 description=description, photos=list(photos))
        session.flush()
    pin_defect(session, defect, x, y, room_key=room_key)
    return defect


def _repeated_concern(session, insp: Inspection, x: float, y: float, room_key: str,
                      description: str) -> Defect | None:
    """The owner's concern this tap already recorded: a double tap on "Record the defect" sends the same
    words for the same spot twice (a checklist item is one answer anyway)."""
    if insp.signed:  # refused by add_concern, with its message
        return None
    text = description.strip()[:1000]
    recent = session.scalars(select(Defect).where(
        Defect.inspection_id == insp.id, Defect.owner_concern.is_(True), Defect.room_key == room_key,
        Defect.description == text, Defect.created_at >= utcnow() - REPEAT_WINDOW))
    return next((d for d in recent if d.pin_x == x and d.pin_y == y), None)


@dataclass(frozen=True)
class Pin:
    n: int
    x: float
    y: float
    status: str          # one of PIN_STATUSES
    defect: Defect
    room: str            # the room's words


def pin_status(defect: Defect, verdict: str | None, now: datetime) -> str:
    """open, overdue, resolved (fixed, or withdrawn) or accepted (the owner accepted the fix)."""
    order = defect.work_order
    if verdict == "accepted":
        return "accepted"
    if order is None:
        return "open"
    if order.status in ("resolved", "closed", "cancelled"):
        return "resolved"
    return "overdue" if order.due_at < now else "open"


def unit_pins(session, unit: Unit, defects=None, now: datetime | None = None) -> list[Pin]:
    """The unit's pinned defects on its current layout, numbered in the order they were recorded."""
    now = now or utcnow()
    if unit.layout_id is None:
        return []
    if defects is None:
        defects = session.scalars(select(Defect).where(Defect.unit_id == unit.id,
                                                       Defect.pin_layout_id == unit.layout_id)
                                  .options(selectinload(Defect.work_order), selectinload(Defect.item))
                                  .order_by(Defect.id)).all()
    verdicts = dict(session.execute(
        select(DefectCheck.defect_id, DefectCheck.verdict)
        .join(Inspection, DefectCheck.reinspection_id == Inspection.id)
        .where(Inspection.unit_id == unit.id, Inspection.status == "signed").order_by(DefectCheck.id)).all())
    pinned = [d for d in defects if d.pin_layout_id == unit.layout_id and d.pin_x is not None]
    return [Pin(n, d.pin_x, d.pin_y, pin_status(d, verdicts.get(d.id), now), d, room_label(d.room_key))
            for n, d in enumerate(pinned, start=1)]


def inspection_pins(session, insp: Inspection, defects) -> list[Pin]:
    """The pins of this inspection's `defects`, numbered as on the unit (among all its pinned defects)."""
    mine = {d.id for d in defects}
    return [p for p in unit_pins(session, insp.unit) if p.defect.id in mine]


def pin_numbers(pins) -> dict[int, int]:
    """defect id → its pin's number, for lists beside the plan."""
    return {p.defect.id: p.n for p in pins}


# --------------------------------------------------------------------------- the project heat map

def heat_categories(session, layout: Layout) -> list[str]:
    """The checklist categories of the defects pinned on the layout: the heat map's category filter."""
    return sorted(session.scalars(select(ChecklistItem.category).distinct().where(
        ChecklistItem.id.in_(select(Defect.item_id).where(Defect.pin_layout_id == layout.id)))))


def heat_grid(layout: Layout) -> tuple[int, int]:
    """Columns and rows of the heat map: square cells, HEAT_GRID across."""
    rows = max(1, round(HEAT_GRID * (layout.plan_height or 1) / (layout.plan_width or 1)))
    return HEAT_GRID, rows


def layout_defects(site_id: int, layout_id: int):
    """Pinned defects of a layout's units in signed inspections: what the heat map counts."""
    from app.services.handover import signed_defects

    return signed_defects(site_id).where(Defect.pin_layout_id == layout_id)


def cell_bounds(layout: Layout, cell: str) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of a heat-map cell named "col-row", or None if there is no such cell."""
    cols, rows = heat_grid(layout)
    try:
        c, r = (int(v) for v in cell.split("-", 1))
    except ValueError:
        return None
    if not (0 <= c < cols and 0 <= r < rows):
        return None
    return c / cols, r / rows, (c + 1) / cols, (r + 1) / rows


def heatmap(session, layout: Layout, filters: dict, now: datetime | None = None) -> dict:
    """Where the layout's defects cluster: counts per grid cell (one statement, two columns a row)."""
    from app.services.handover import filter_defects

    now = now or utcnow()
    cols, rows = heat_grid(layout)
    query = filter_defects(layout_defects(layout.site_id, layout.id), filters, now)
    points = session.execute(query.with_only_columns(Defect.pin_x, Defect.pin_y)).all()
    counts: dict[tuple[int, int], int] = {}
    for x, y in points:
        cell = (min(cols - 1, int(x * cols)), min(rows - 1, int(y * rows)))
        counts[cell] = counts.get(cell, 0) + 1
    peak = max(counts.values(), default=0)
    cells = []
    for (c, r), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        cx, cy = (c + 0.5) / cols, (r + 0.5) / rows
        room = room_at(layout.rooms, cx, cy)
        cells.append(dict(col=c, row=r, n=n, key=f"{c}-{r}", heat=n / peak, cx=cx, cy=cy,
                          room=room_label(room) if room else ""))
    return dict(cells=cells, total=len(points), peak=peak, cols=cols, rows=rows)


# --------------------------------------------------------------------------- images (PDF, export)

STATUS_RGB = {"open": (180, 83, 9), "overdue": (185, 28, 28), "resolved": (29, 78, 216),
              "accepted": (21, 128, 61)}


def _plan_image(store: PhotoStore, layout: Layout, width: int) -> Image.Image:
    img = Image.open(io.BytesIO(store.get(layout.plan_key))).convert("RGB")
    if img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    return img


@lru_cache(maxsize=8)
def _font(size: int):
    """The CJK font at a size, parsed once per process (the collection is some 20 MB)."""
    from PIL import ImageFont

    try:
        from app.services.reports import cjk_font

        path, index = cjk_font()
        return ImageFont.truetype(path, size, index=index)
    except Exception:  # no CJK font: Pillow's own (digits and Latin only, which pins need)
        return ImageFont.load_default(size)


def pins_png(store: PhotoStore, layout: Layout, pins, width: int = 1400) -> bytes:
    """The plan with its numbered pins, coloured by status, as a PNG (for the PDF report)."""
    img = _plan_image(store, layout, width)
    draw = ImageDraw.Draw(img)
    r = max(16, img.width // 40)
    font = _font(round(r * 1.2))
    for p in pins:
        cx, cy = p.x * img.width, p.y * img.height
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=STATUS_RGB[p.status], outline="white", width=3)
        draw.text((cx, cy), str(p.n), fill="white", font=font, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def heatmap_png(store: PhotoStore, layout: Layout, heat: dict, title: str, width: int = 1600) -> bytes:
    """The heat map as a PNG for design and construction feedback (缺陷反馈): the plan faded, each
    cluster a red disc sized and shaded by its count, the count written on it, a title line."""
    plan = _plan_image(store, layout, width)
    plan = Image.blend(plan, Image.new("RGB", plan.size, "white"), 0.35)
    band = 64
    img = Image.new("RGB", (plan.width, plan.height + band), "white")
    img.paste(plan, (0, band))
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    cell_w = plan.width / heat["cols"]
    font = _font(max(14, round(cell_w / 3)))
    for c in heat["cells"]:
        cx, cy = c["cx"] * plan.width, band + c["cy"] * plan.height
        r = cell_w * (0.3 + 0.45 * c["heat"])
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(220, 38, 38, round(90 + 140 * c["heat"])))
    img = Image.alpha_composite(img.convert("RGBA"), overlay)
    draw = ImageDraw.Draw(img)
    for c in heat["cells"]:
        cx, cy = c["cx"] * plan.width, band + c["cy"] * plan.height
        draw.text((cx, cy), str(c["n"]), fill="white", font=font, anchor="mm", stroke_width=2,
                  stroke_fill=(120, 0, 0))
    draw.text((16, band // 2), title, fill="black", font=_font(28), anchor="lm")
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG", compress_level=6)
    return buf.getvalue()
