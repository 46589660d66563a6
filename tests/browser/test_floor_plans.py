"""Floor plans on a phone (390×844, touch): the engineer uploads a plan for a new layout, draws two rooms
(one by dragging a finger, one by tapping two corners), pins two defects in an inspection by tapping the
plan, zooms it with two fingers, signs; the owner sees both pins on their private link (fresh context, in
Chinese), and the PDF report's first page shows the plan with its pins. Screenshots in both languages."""
import io
import re

import pypdfium2 as pdfium
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Defect, Unit
from app.services.demo_plans import draw_plan
from tests.browser.conftest import ARTEFACTS, check_page, login
from tests.browser.test_handover import draw_with_finger, draw_with_mouse, ready

LAYOUT = "C 2室2厅1卫"
UNIT_ROOM = ("2", "1302")  # 3-2-1302, a layout B flat of the demo, moved to the new layout


def touch(page: Page, points, hold: int = 0) -> None:
    """One finger along `points` (page coordinates) with real touch events (CDP): pointerType touch."""
    cdp = page.context.new_cdp_session(page)
    x, y = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    page.wait_for_timeout(hold)


def pinch(page: Page, cx: float, cy: float, start: float, end: float, steps: int = 8) -> None:
    """Two fingers moving apart (zoom in) around (cx, cy), from `start` to `end` px apart."""
    cdp = page.context.new_cdp_session(page)

    def fingers(d):
        return [{"x": cx - d / 2, "y": cy, "id": 1}, {"x": cx + d / 2, "y": cy, "id": 2}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(start)})
    for i in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": fingers(start + (end - start) * i / steps)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def plan_point(page: Page, fx: float, fy: float) -> tuple[float, float]:
    """Page coordinates of a point of the plan (fractions), as drawn now (zoom included)."""
    return tuple(page.evaluate("""([fx, fy]) => {
        const svg = document.querySelector('svg.plan-svg');
        const pt = svg.createSVGPoint(); pt.x = fx * +svg.dataset.w; pt.y = fy * +svg.dataset.h;
        const p = pt.matrixTransform(svg.getScreenCTM()); return [p.x, p.y]; }""", [fx, fy]))


def upload_png(data: bytes, name: str = "plan.png") -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": data}


def pins_are_tappable(page: Page) -> None:
    sizes = page.evaluate("""() => [...document.querySelectorAll('svg.plan-svg a.pin')].map(a => {
        const r = a.getBoundingClientRect(); return [r.width, r.height]; })""")
    assert sizes and all(w >= 43.5 and h >= 43.5 for w, h in sizes), sizes


def test_plan_rooms_pins_owner_and_pdf(demo, phone_factory, shot):
    eng = phone_factory()
    login(eng, "engineer")

    # 1. A new layout and its plan (the demo's drawing of layout B stands in for the architect's PNG).
    eng.goto("/handover/layouts")
    expect(eng.locator("ul.cplist li")).to_have_count(2)
    eng.locator("#name").fill(LAYOUT)
    eng.get_by_role("button", name="Add layout").tap()
    expect(eng.locator("h1")).to_have_text(f"Layout {LAYOUT}")
    eng.locator("#file").set_input_files(upload_png(draw_plan("B 2室2厅1卫")))
    eng.get_by_role("button", name="Upload").tap()
    expect(eng.locator("p.flash")).to_contain_text("The plan is saved. Now draw its rooms.")
    expect(eng.locator("svg.plan-svg image")).to_have_count(1)
    ready(eng)
    shot(eng, "layout-plan-uploaded")
    check_page(eng)

    # 2. Two rooms: the bathroom by dragging a finger across it, the kitchen by tapping two corners.
    eng.locator("#room_key").select_option("bathroom-1")
    eng.locator("svg.plan-svg").scroll_into_view_if_needed()
    a, b = plan_point(eng, 0.31, 0.07), plan_point(eng, 0.44, 0.33)
    touch(eng, [a] + [(a[0] + (b[0] - a[0]) * t / 8, a[1] + (b[1] - a[1]) * t / 8) for t in range(1, 9)], hold=700)
    expect(eng.locator("#x0")).to_have_value(re.compile(r"^3[01]\.\d$"))
    expect(eng.locator("#y1")).to_have_value(re.compile(r"^3[23]\.\d$"))
    ready(eng)
    shot(eng, "layout-room-dragged")
    eng.get_by_role("button", name="Save the room").tap()
    expect(eng.locator("p.flash")).to_contain_text("Bathroom 1 is on the plan.")
    eng.locator("#room_key").select_option("kitchen")
    eng.locator("svg.plan-svg").scroll_into_view_if_needed()
    eng.touchscreen.tap(*plan_point(eng, 0.06, 0.06))
    eng.wait_for_timeout(400)
    eng.touchscreen.tap(*plan_point(eng, 0.29, 0.34))
    expect(eng.locator("#x1")).to_have_value(re.compile(r"^29\.\d$"))
    eng.get_by_role("button", name="Save the room").tap()
    expect(eng.locator("ul.cplist li.room-row .cpname")).to_have_text(["Bathroom 1", "Kitchen"])
    expect(eng.locator("svg.plan-svg g.plan-room")).to_have_count(2)
    ready(eng)
    shot(eng, "layout-two-rooms")
    check_page(eng)

    # 3. The unit gets the layout on its page; an inspection pins two defects by tapping the plan.
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == UNIT_ROOM[0], Unit.room == UNIT_ROOM[1]))
    db.session.commit()
    eng.goto(f"/handover/units/{unit.id}")
    eng.locator("#layout").fill(LAYOUT)
    eng.get_by_role("button", name="Save layout").tap()
    expect(eng.locator("p.flash")).to_contain_text("Layout saved.")
    expect(eng.locator("svg.plan-svg")).to_be_visible()
    eng.locator("#owner_present").fill("王芳")
    eng.get_by_role("button", name="Start inspection").tap()
    eng.get_by_role("link", name="Floor plan: pin defects").tap()
    expect(eng.locator("[data-plan=place]")).to_be_visible()
    for (fx, fy), room, text in (((0.38, 0.2), "Bathroom 1", "淋浴房玻璃门关不严"),
                                 ((0.17, 0.25), "Kitchen", "台面与墙面交接处开裂")):
        eng.locator("svg.plan-svg").scroll_into_view_if_needed()
        eng.touchscreen.tap(*plan_point(eng, fx, fy))
        expect(eng.locator("h1")).to_have_text("A defect here")
        expect(eng.locator("main")).to_contain_text(f"The pin is in {room}.")
        expect(eng.locator("#room_key option:checked")).to_have_text(room)
        eng.locator("#description").fill(text)
        if room == "Bathroom 1":
            ready(eng)
            shot(eng, "pin-new-defect-en")
            check_page(eng)
        eng.get_by_role("button", name="Record the defect").tap()
        expect(eng.locator("p.flash")).to_contain_text("recorded and pinned")
    pins = eng.locator("svg.plan-svg a.pin")
    expect(pins).to_have_count(2)
    expect(pins.locator("text")).to_have_text(["1", "2"])
    pins_are_tappable(eng)
    ready(eng)
    shot(eng, "inspection-plan-two-pins-en")
    check_page(eng)

    # Two fingers zoom the plan in; the pins stay 44 px (they are drawn smaller on the plan as it grows).
    eng.locator("svg.plan-svg").scroll_into_view_if_needed()
    box = eng.locator("svg.plan-svg").bounding_box()
    before = eng.locator("svg.plan-svg").get_attribute("viewBox")
    pinch(eng, box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.25, 60, 200)
    after = eng.locator("svg.plan-svg").get_attribute("viewBox")
    width_after = float(after.split()[2])
    assert before == "0 0 1200 900" and width_after < 600, (before, after)
    pins_are_tappable(eng)
    shot(eng, "inspection-plan-zoomed")
    check_page(eng)
    eng.get_by_role("button", name="Whole plan").tap()

    # A pin is moved (tap it, then tap the new spot); its defect stays in the bathroom's list.
    eng.locator("svg.plan-svg a.pin").nth(0).tap()
    expect(eng.locator("#plan-help")).to_contain_text("Tap the plan where defect 1")
    eng.locator("svg.plan-svg").scroll_into_view_if_needed()
    eng.touchscreen.tap(*plan_point(eng, 0.40, 0.12))
    expect(eng.locator("p.flash")).to_contain_text("Pin placed in Bathroom 1.")
    moved = db.session.scalars(select(Defect).order_by(Defect.id)).first()
    assert abs(moved.pin_x - 0.40) < 0.01 and abs(moved.pin_y - 0.12) < 0.01 and moved.room_key == "bathroom-1"
    db.session.commit()

    # The same page in Chinese (the engineer's phone set to zh).
    eng_zh = phone_factory("zh-CN")
    login(eng_zh, "engineer")
    eng_zh.goto(eng.url.split("#")[0])
    expect(eng_zh.locator("h1")).to_contain_text("户型图")
    ready(eng_zh)
    shot(eng_zh, "inspection-plan-two-pins-zh")
    check_page(eng_zh)

    # Sign (engineer with the mouse, owner with a finger).
    insp_id = moved.inspection_id
    eng.goto(f"/handover/inspections/{insp_id}/sign")
    draw_with_mouse(eng, eng.locator("canvas.pad").nth(0))
    draw_with_finger(eng, eng.locator("canvas.pad").nth(1))
    eng.get_by_role("button", name="Both have signed: finish").tap()
    expect(eng.locator("p.flash[role=status]")).to_contain_text("Signed.")
    expect(eng.locator("svg.plan-svg a.pin")).to_have_count(2)
    shot(eng, "unit-page-pins-en")
    check_page(eng)

    # 4. The owner's link, opened in a fresh phone in Chinese: the plan with both pins; a pin opens its defect.
    eng.get_by_role("button", name="New link for the owner").tap()
    owner_url = eng.locator("textarea#owner-url").input_value()
    owner = phone_factory("zh-CN")
    owner.goto(owner_url)
    expect(owner.locator("html")).to_have_attribute("lang", "zh-Hans")
    owner_pins = owner.locator("svg.plan-svg a.pin")
    expect(owner_pins).to_have_count(2)
    expect(owner.locator("ul.plan-legend")).to_contain_text("业主已验收")
    expect(owner.locator("ol.defects .pin-no")).to_have_text(["1", "2"])
    pins_are_tappable(owner)
    ready(owner)
    shot(owner, "owner-plan-zh")
    check_page(owner)
    owner_pins.nth(1).tap()
    expect(owner).to_have_url(re.compile(r"#d-\d+$"))
    expect(owner.locator("ol.defects > li.card").nth(1)).to_contain_text("台面与墙面交接处开裂")
    owner_narrow = phone_factory("zh-CN", width=360, height=780)
    owner_narrow.goto(owner_url)
    check_page(owner_narrow)

    # 5. The PDF report: page 1 rendered to PNG shows the plan with the two orange pins.
    resp = eng.request.get(f"/handover/inspections/{insp_id}/report.pdf?lang=zh_Hans")
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    doc = pdfium.PdfDocument(resp.body())
    page1 = doc[0].render(scale=2).to_pil().convert("RGB")
    out = ARTEFACTS / "screenshots" / "test_plan_rooms_pins_owner_and_pdf"
    page1.save(out / "90-report-page-1-zh.png")
    orange = sum(1 for px in page1.get_flattened_data() if abs(px[0] - 180) < 25 and abs(px[1] - 83) < 25 and px[2] < 50)
    assert orange > 400, orange  # two pins' discs
    doc.close()

    # 6. The project view for the layout: where its defects cluster, each cluster linking to its list.
    eng.goto("/handover/project")
    eng.get_by_role("link", name="Where defects cluster, by layout").tap()
    eng.locator("ul.cplist li", has_text=LAYOUT).get_by_role("link", name="Where defects cluster").tap()
    expect(eng.locator("main")).to_contain_text("2 pinned defects across the units of this layout")
    cells = eng.locator("svg.plan-svg a.heat-cell")
    expect(cells).to_have_count(2)
    ready(eng)
    shot(eng, "heatmap-en")
    check_page(eng)
    png = eng.request.get(eng.get_by_role("link", name="Download as an image").get_attribute("href"))
    eng.locator("ol.cplist a", has_text="Bathroom 1").tap()
    expect(eng.locator("ul.orders > li.card")).to_have_count(1)
    expect(eng.locator("ul.orders")).to_contain_text("淋浴房玻璃门关不严")
    assert png.headers["content-type"] == "image/png" and png.body()[:8] == b"\x89PNG\r\n\x1a\n"
    (out / "91-heatmap-export.png").write_bytes(png.body())
    mgr_zh = phone_factory("zh-CN", width=360, height=780)
    login(mgr_zh, "manager")
    mgr_zh.goto(eng.url.split("/handover/")[0] + "/handover/layouts")
    mgr_zh.locator("ul.cplist li", has_text=LAYOUT).get_by_role("link", name="问题分布热图").tap()
    expect(mgr_zh.locator("h1")).to_contain_text("问题分布热图")
    ready(mgr_zh)
    shot(mgr_zh, "heatmap-zh-360")
    check_page(mgr_zh)
