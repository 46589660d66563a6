"""Floor plans: layouts, plan upload refusals, rooms by rectangle, pins as fractions, the heat map."""
import io

import pytest
from fpdf import FPDF
from PIL import Image
from sqlalchemy import select

from app.models import Defect, Layout, PlanRoom, Unit
from app.services import handover as ho
from app.services import plans
from app.services.demo_plans import LAYOUTS


def png(w=800, h=600, color="white") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def pdf(pages=1) -> bytes:
    doc = FPDF(format="A4")
    for _ in range(pages):
        doc.add_page()
        doc.rect(20, 20, 150, 100)
    return bytes(doc.output())


@pytest.fixture
def store(app):
    return app.extensions["photo_store"]


@pytest.fixture
def unit(demo, session):
    """3-1-1201: a 3-bedroom flat of layout A, which the demo has drawn."""
    return session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))


def test_demo_building_has_two_layouts_with_plans_and_rooms(demo, session, store):
    layouts = session.scalars(select(Layout).order_by(Layout.name)).all()
    assert [lay.name for lay in layouts] == list(LAYOUTS)
    assert all(lay.has_plan and store.exists(lay.plan_key) for lay in layouts)
    assert {r.room_key for r in layouts[0].rooms} >= {"bathroom-2", "bedroom-3", "kitchen"}
    units = session.scalars(select(Unit)).all()
    assert all(u.layout_id for u in units)  # all 48 units of building 3
    assert {u.layout.name for u in units if u.bedrooms == 3} == {"A 3室2厅2卫"}


def test_room_lookup_by_rectangle_takes_the_smallest_containing_one():
    rooms = [PlanRoom(id=1, room_key="living_room", x0=0, y0=0, x1=0.6, y1=1),
             PlanRoom(id=2, room_key="balcony", x0=0.4, y0=0.8, x1=0.6, y1=1),
             PlanRoom(id=3, room_key="bathroom-2", x0=0.6, y0=0, x1=1, y1=0.5)]
    assert plans.room_at(rooms, 0.1, 0.1) == "living_room"
    assert plans.room_at(rooms, 0.5, 0.9) == "balcony"      # inside both: the smaller wins
    assert plans.room_at(rooms, 0.6, 0.25) == "bathroom-2"  # on the shared edge: the smaller
    assert plans.room_at(rooms, 0.8, 0.75) is None


def test_demo_plan_knows_where_bathroom_2_is(demo, unit):
    (x0, y0, x1, y1), _door = LAYOUTS["A 3室2厅2卫"][1]["bathroom-2"]
    assert plans.room_at(unit.layout.rooms, (x0 + x1) / 2, (y0 + y1) / 2) == "bathroom-2"


@pytest.mark.parametrize("data, message", [
    (b"", "not a floor plan"),
    (b"hello, this is text", "not a floor plan"),
    (b"GIF89a" + b"\0" * 100, "not a floor plan"),
    (png()[:200], "damaged"),
    (b"%PDF-1.4\n%%EOF\n", "no pages"),
    (pdf()[:-40], "cannot be read"),
])
def test_plan_upload_refusals(app, data, message):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(plans.PlanRefused) as e:
            plans.normalise_plan(data)
        assert message in str(e.value).lower()


def test_a_pdf_with_no_pages_is_refused(app):
    import pypdf

    writer = pypdf.PdfWriter()
    buf = io.BytesIO()
    writer.write(buf)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(plans.PlanRefused) as e:
            plans.normalise_plan(buf.getvalue())
        assert "no pages" in str(e.value)


def test_too_large_plans_are_refused(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(plans.PlanRefused, match="larger than 1 MB"):
            plans.normalise_plan(png() + b"\0" * (1024 * 1024), max_bytes=1024 * 1024)
        with pytest.raises(plans.PlanRefused, match="too large"):
            plans.normalise_plan(png(3000, 2000), max_pixels=1_000_000)


def test_plans_are_normalised_png_within_the_edge(app):
    data, w, h = plans.normalise_plan(png(4000, 3000))
    img = Image.open(io.BytesIO(data))
    assert (img.format, img.size, (w, h)) == ("PNG", (2000, 1500), (2000, 1500))
    data, w, h = plans.normalise_plan(pdf(pages=3))  # the first page of an A4 PDF, upright
    assert max(w, h) == plans.PLAN_EDGE and h > w


def test_upload_plan_and_draw_rooms(demo, session, store):
    layout = plans.layout_named(session, demo.site.id, "C 1室1厅1卫")
    with pytest.raises(plans.PlanRefused):
        plans.add_room(session, layout, "kitchen", 0, 0, 0.5, 0.5)  # no plan yet
    plans.upload_plan(session, store, layout, demo.users["engineer"], png())
    assert store.exists(layout.plan_key) and (layout.plan_width, layout.plan_height) == (800, 600)
    room = plans.add_room(session, layout, "kitchen", 0.5, 0.6, 0.1, 0.2)  # corners in any order
    assert (room.x0, room.y0, room.x1, room.y1) == (0.1, 0.2, 0.5, 0.6)
    for bad in [("kitchen", 0, 0, 0.005, 0.5), ("kitchen", 0, 0, 1.5, 0.5), ("sauna", 0, 0, 0.5, 0.5),
                ("kitchen", "nan", 0, 0.5, 0.5)]:
        with pytest.raises(plans.PlanRefused):
            plans.add_room(session, layout, *bad)
    plans.remove_room(session, layout, room.id)
    assert layout.rooms == []


def _defect(session, demo, unit, room_key="bathroom-2"):
    insp = ho.start_inspection(session, unit, demo.users["engineer"], "王先生")
    return insp, ho.add_concern(session, insp, room_key, "门关不严", [])


def test_pin_is_stored_as_fractions_and_takes_the_room(demo, session, unit):
    insp, d = _defect(session, demo, unit, room_key="living_room")
    session.flush()
    room = plans.pin_defect(session, d, 0.875, 0.55)  # bathroom 2 of layout A
    assert (room, d.room_key, d.pin_x, d.pin_y, d.pin_layout_id) == ("bathroom-2", "bathroom-2", 0.875, 0.55,
                                                                       unit.layout_id)
    plans.pin_defect(session, d, 0.7, 0.55, room_key="bathroom-1")  # moved; the room chosen by hand wins
    assert (d.pin_x, d.room_key) == (0.7, "bathroom-1")
    for x, y in [(-0.1, 0.5), (0.5, 1.01), ("x", 0.5)]:
        with pytest.raises(plans.PlanRefused):
            plans.pin_defect(session, d, x, y)
    pins = plans.unit_pins(session, unit)
    assert [(p.n, p.x, p.y, p.status) for p in pins] == [(1, 0.7, 0.55, "open")]


def test_pins_cannot_move_after_signing(demo, session, unit):
    insp, d = _defect(session, demo, unit)
    session.flush()
    plans.pin_defect(session, d, 0.5, 0.5)
    insp.status = "signed"
    with pytest.raises(plans.PlanRefused) as e:
        plans.pin_defect(session, d, 0.6, 0.6)
    assert e.value.status == 409 and d.pin_x == 0.5


def test_a_checklist_defect_keeps_the_room_it_was_answered_in(demo, session, unit):
    insp = ho.start_inspection(session, unit, demo.users["engineer"], "王先生")
    item = next(i for i in insp.version.items if i.room == "kitchen" and not i.photo_required_on_fail)
    d = plans.pinned_defect(session, insp, demo.users["engineer"], 0.1, 0.1, room_key="kitchen", item=item,
                            description="台面裂缝", severity="minor")
    assert (d.room_key, d.pin_x, d.severity) == ("kitchen", 0.1, "minor")
    with pytest.raises(plans.PlanRefused):  # a kitchen item in a bedroom
        plans.pinned_defect(session, insp, demo.users["engineer"], 0.7, 0.2, room_key="bedroom-1", item=item,
                            description="", severity=None)


def test_pin_status_colours(demo, session):
    from datetime import datetime, timedelta, timezone

    from app.models import WorkOrder

    now = datetime(2026, 12, 5, tzinfo=timezone.utc)
    d = Defect()
    assert plans.pin_status(d, None, now) == "open"
    d.work_order = WorkOrder(status="in_progress", due_at=now - timedelta(hours=1))
    assert plans.pin_status(d, None, now) == "overdue"
    d.work_order.status = "resolved"
    assert plans.pin_status(d, None, now) == "resolved"
    d.work_order.status = "closed"
    assert plans.pin_status(d, "accepted", now) == "accepted"


def test_heatmap_counts_signed_pins_per_cell_and_filters(demo, session, unit):
    others = session.scalars(select(Unit).where(Unit.layout_id == unit.layout_id, Unit.id != unit.id)
                             .limit(3)).all()
    for u in [unit] + others:
        insp, d = _defect(session, demo, u)
        session.flush()
        plans.pin_defect(session, d, 0.9, 0.5)
        insp.status = "signed"
    insp, d = _defect(session, demo, others[0])  # not signed: not counted
    session.flush()
    plans.pin_defect(session, d, 0.1, 0.1)
    session.flush()
    heat = plans.heatmap(session, unit.layout, {})
    assert heat["total"] == 4 and heat["cells"][0]["n"] == 4 and heat["cells"][0]["room"]
    assert plans.heatmap(session, unit.layout, {"category": "owner_concern"})["total"] == 4
    assert plans.heatmap(session, unit.layout, {"category": "walls"})["total"] == 0
    cell = heat["cells"][0]["key"]
    rows = session.scalars(ho.filter_defects(plans.layout_defects(demo.site.id, unit.layout_id),
                                             {"bounds": plans.cell_bounds(unit.layout, cell)}, None)).all()
    assert len(rows) == 4


def test_csv_layout_column_sets_units_layouts(demo, session):
    csv = ("building,unit,floor,room,owner_name,owner_phone,bedrooms,bathrooms,layout\n"
           "7,1,3,301,陈先生,,3,2,A 3室2厅2卫\n7,1,3,302,林女士,,2,1,D  1室1厅\n7,1,3,303,,,2,1,\n")
    report = ho.import_units(session, demo.site, csv.encode())
    assert report.problems == [] and report.created == 3
    units = {u.room: u for u in session.scalars(select(Unit).where(Unit.room.in_(["301", "302", "303"])))}
    assert units["301"].layout.name == "A 3室2厅2卫" and units["302"].layout.name == "D 1室1厅"
    assert units["303"].layout is None
