"""The demo estate's two layouts (户型) with floor plans drawn by Pillow: walls, doors and room names in
Chinese and English, and the rooms named on each plan. Building 3's x01 flats are layout A (3 bedrooms,
2 bathrooms), its x02 flats layout B (2 bedrooms, 1 bathroom), as create_demo_building makes them."""
import hashlib
import io
from functools import lru_cache

from sqlalchemy import select

from app.models import Layout, PlanRoom, Site, Unit

SIZE = (1200, 900)
NAMES = {
    "entrance": ("玄关", "Entrance"), "living_room": ("客餐厅", "Living / dining"), "kitchen": ("厨房", "Kitchen"),
    "bedroom-1": ("主卧", "Bedroom 1"), "bedroom-2": ("次卧", "Bedroom 2"), "bedroom-3": ("书房", "Bedroom 3"),
    "bathroom-1": ("卫生间 1", "Bathroom 1"), "bathroom-2": ("卫生间 2", "Bathroom 2"), "balcony": ("阳台", "Balcony"),
}
# room key → (x0, y0, x1, y1) as fractions, and where its door is: (wall, fraction along it).
LAYOUTS = {
    "A 3室2厅2卫": ("01", {
        "kitchen": ((0.05, 0.05, 0.30, 0.35), ("bottom", 0.5)),
        "bathroom-1": ((0.30, 0.05, 0.45, 0.35), ("bottom", 0.5)),
        "entrance": ((0.45, 0.05, 0.55, 0.35), ("top", 0.5)),
        "bedroom-1": ((0.55, 0.05, 0.95, 0.40), ("left", 0.8)),
        "bathroom-2": ((0.80, 0.40, 0.95, 0.70), ("left", 0.82)),
        "bedroom-2": ((0.55, 0.40, 0.80, 0.70), ("left", 0.3)),
        "bedroom-3": ((0.55, 0.70, 0.95, 0.95), ("left", 0.3)),
        "living_room": ((0.05, 0.35, 0.55, 0.82), ("top", 0.9)),
        "balcony": ((0.05, 0.82, 0.55, 0.95), ("top", 0.85)),
    }),
    "B 2室2厅1卫": ("02", {
        "kitchen": ((0.05, 0.05, 0.30, 0.35), ("bottom", 0.5)),
        "bathroom-1": ((0.30, 0.05, 0.45, 0.35), ("bottom", 0.5)),
        "entrance": ((0.45, 0.05, 0.60, 0.35), ("top", 0.5)),
        "bedroom-1": ((0.60, 0.05, 0.95, 0.50), ("left", 0.8)),
        "bedroom-2": ((0.60, 0.50, 0.95, 0.95), ("left", 0.3)),
        "living_room": ((0.05, 0.35, 0.60, 0.82), ("top", 0.9)),
        "balcony": ((0.05, 0.82, 0.60, 0.95), ("top", 0.85)),
    }),
}


def _font(size):
    from PIL import ImageFont

    try:
        from app.services.reports import cjk_font

        path, index = cjk_font()
        return ImageFont.truetype(path, size, index=index)
    except Exception:  # no CJK font installed: Pillow's own (the Chinese names then show as boxes)
        return ImageFont.load_default(size)


@lru_cache(maxsize=4)
def draw_plan(name: str) -> bytes:
    """A floor plan of the layout as a PNG (deterministic; drawn once per process)."""
    from PIL import Image, ImageDraw

    w, h = SIZE
    img = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(img)
    wall, door = 10, 70
    rooms = LAYOUTS[name][1]
    for (x0, y0, x1, y1), _ in rooms.values():
        draw.rectangle((x0 * w, y0 * h, x1 * w, y1 * h), outline=(40, 40, 40), width=wall)
    for (x0, y0, x1, y1), (side, at) in rooms.values():
        X0, Y0, X1, Y1 = x0 * w, y0 * h, x1 * w, y1 * h
        if side in ("top", "bottom"):
            y = Y0 if side == "top" else Y1
            x = X0 + (X1 - X0) * at
            draw.rectangle((x - door / 2, y - wall, x + door / 2, y + wall), fill="white")
            box = (x - door / 2 - door, y - door, x - door / 2 + door, y + door)
            draw.line((x - door / 2, y, x - door / 2, y + (door if side == "top" else -door)), fill=(90, 90, 90), width=3)
            draw.arc(box, 0 if side == "top" else 270, 90 if side == "top" else 360, fill=(90, 90, 90), width=2)
        else:
            x = X0 if side == "left" else X1
            y = Y0 + (Y1 - Y0) * at
            draw.rectangle((x - wall, y - door / 2, x + wall, y + door / 2), fill="white")
            draw.line((x, y - door / 2, x + (door if side == "left" else -door), y - door / 2), fill=(90, 90, 90), width=3)
            box = (x - door, y - door / 2 - door, x + door, y - door / 2 + door)
            draw.arc(box, 0 if side == "left" else 90, 90 if side == "left" else 180, fill=(90, 90, 90), width=2)
    zh_font, en_font = _font(30), _font(22)
    for key, ((x0, y0, x1, y1), _) in rooms.items():
        cx, cy = (x0 + x1) / 2 * w, (y0 + y1) / 2 * h
        zh, en = NAMES[key]
        draw.text((cx, cy - 16), zh, fill=(20, 20, 20), font=zh_font, anchor="mm")
        draw.text((cx, cy + 18), en, fill=(70, 70, 70), font=en_font, anchor="mm")
    draw.text((20, h - 30), name, fill=(18, 53, 91), font=_font(24), anchor="lm")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def seed_plans(session, site: Site, store) -> bool:
    """Give the demo's building 3 its two layouts with plans and rooms, unless the site has layouts."""
    if session.scalar(select(Layout.id).where(Layout.site_id == site.id).limit(1)) is not None:
        return False
    for name, (flat, rooms) in LAYOUTS.items():
        png = draw_plan(name)
        key = hashlib.sha256(png).hexdigest()
        store.put(key, png)
        layout = Layout(site_id=site.id, name=name, plan_key=key, plan_width=SIZE[0], plan_height=SIZE[1],
                        rooms=[PlanRoom(room_key=k, x0=r[0], y0=r[1], x1=r[2], y1=r[3]) for k, (r, _) in rooms.items()])
        session.add(layout)
        session.flush()
        for unit in session.scalars(select(Unit).where(Unit.site_id == site.id, Unit.room.like(f"%{flat}"))):
            unit.layout_id = layout.id
    session.flush()
    return True
