"""Photo markup on a phone (static/markup.js): a supervisor draws an arrow and writes a label on a failed
item's photo with a finger; the item shows the marked photo, the server keeps the original beside it, and
the stored images differ exactly where the finger drew. A crew member's after photo is framed by the
before photo (beside the picker, and faintly over the photo in the editor). Both languages."""
import io
import re

import pytest
from flask import current_app
from PIL import Image
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Answer, Photo, WorkOrder
from tests.browser.conftest import axe_check, check_page, login, no_horizontal_scroll, tap_targets_ok
from tests.browser.test_work_orders import AFTER_ROADS, BEFORE_ROADS, fail_with_photo, item, raise_two_orders, upload
from tests.web.helpers import item_url, started_morning

ROADS = {"en-US": "Roads and footpaths clean", "zh-CN": "道路及人行道清洁"}
WORDS = {"en-US": dict(start="Draw on photo", arrow="Arrow", label="Label", yellow="Yellow", use="Use photo",
                       undo="Undo", original="Original", before="Show the before photo", fail="Fail"),
         "zh-CN": dict(start="标注照片", arrow="箭头", label="文字", yellow="黄色", use="使用照片",
                       undo="撤销", original="原图", before="叠加处理前照片", fail="不合格")}
LABEL = {"en-US": "Leak", "zh-CN": "漏水"}


def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    """A finger on the screen (touch events, so the page sees pointerType "touch"), moved and lifted."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    # The finger rests before it lifts, as a hand drawing does: a lift at speed is a fling, and the
    # browser then spends the next tap on stopping it.
    page.wait_for_timeout(150)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": end[0], "y": end[1]}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    page.wait_for_timeout(400)  # past the double-tap window: the next tap is a tap of its own


def screen(page: Page, shot, name: str) -> None:
    """A screenshot of what the phone shows now (the editor is fixed over the page: a full-page shot
    would draw it wherever the page was scrolled)."""
    path = shot(page, name)
    page.screenshot(path=str(path), caret="initial")


def at(box: dict, fx: float, fy: float) -> tuple[float, float]:
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def stored(photo: Photo) -> Image.Image:
    return Image.open(io.BytesIO(current_app.extensions["photo_store"].get(photo.sha256))).convert("RGB")


def far(a, b, by=90) -> bool:
    return sum(abs(x - y) for x, y in zip(a, b)) > by


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_supervisor_marks_up_a_fail_photo_with_an_arrow_and_a_label(phone_factory, live_server, demo, shot,
                                                                    locale):
    """Draw on photo → take it → arrow and label by finger → Use photo: sent at once, shown marked, the
    original kept (staff open it), the stored pixels differ where drawn and nowhere else."""
    w = WORDS[locale]
    rnd = started_morning(demo)
    db.session.commit()
    page = phone_factory(locale)
    login(page)
    page.goto(f"/rounds/{rnd.id}/checkpoints/1")
    page.wait_for_load_state()
    roads = item(page, ROADS[locale])
    start = roads.locator("button.markup-start")
    expect(start).to_have_text(w["start"])
    with page.expect_file_chooser() as chooser:
        start.tap()
    chooser.value.set_files(upload("IMG_0001.jpg", BEFORE_ROADS))
    editor = page.locator("#markup")
    expect(editor).to_be_visible()
    expect(editor.get_by_role("button", name=w["undo"])).to_be_disabled()
    canvas = editor.locator("canvas")
    expect(canvas).to_have_js_property("width", 1200)
    axe_check(page)
    no_horizontal_scroll(page)
    found = page.evaluate("""() => Array.from(document.querySelectorAll('#markup button:not([hidden]), #markup input'))
        .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 44).map(el => el.outerHTML)""")
    assert not found, found

    # An arrow by finger, then the label in yellow where the finger taps.
    editor.get_by_role("button", name=w["arrow"], exact=True).tap()
    expect(editor.get_by_role("button", name=w["arrow"], exact=True)).to_have_attribute("aria-pressed", "true")
    box = canvas.bounding_box()
    touch_drag(page, at(box, 0.15, 0.2), at(box, 0.55, 0.6))
    expect(editor.get_by_role("button", name=w["undo"])).to_be_enabled()
    editor.get_by_role("button", name=w["yellow"]).tap()
    expect(editor.get_by_role("button", name=w["yellow"])).to_have_attribute("aria-pressed", "true")
    editor.get_by_role("button", name=w["label"], exact=True).tap()
    editor.locator("#markup-text").fill(LABEL[locale])
    box = canvas.bounding_box()  # the label's field opened above the photo: it moved down
    page.touchscreen.tap(*at(box, 0.62, 0.3))
    page.wait_for_function("() => window.RoundsMarkup.strokes() === 2")
    expect(editor.locator("#markup-text")).to_have_value("")
    screen(page, shot, f"editor-{locale}")
    # Undo takes the label off; put it back.
    page.wait_for_timeout(400)
    editor.get_by_role("button", name=w["undo"]).tap()
    page.wait_for_function("() => window.RoundsMarkup.strokes() === 1")
    editor.locator("#markup-text").fill(LABEL[locale])
    page.wait_for_timeout(400)
    page.touchscreen.tap(*at(box, 0.62, 0.3))
    page.wait_for_function("() => window.RoundsMarkup.strokes() === 2")
    editor.get_by_role("button", name=w["use"]).tap()
    expect(editor).to_be_hidden()

    # Choosing sends the item's photo at once (as before): one thumbnail, with its original beside it.
    expect(roads.locator("ul.thumbs img")).to_have_count(1)
    expect(roads.locator("ul.thumbs a.orig")).to_have_text(w["original"])
    roads.locator("button.choice-fail").tap()
    expect(roads.locator("button.choice-fail")).to_have_attribute("aria-pressed", "true")
    expect(roads.locator("p.order a")).to_have_count(1)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=roads.locator("ul.thumbs img").element_handle())
    roads.scroll_into_view_if_needed()
    check_page(page)
    shot(page, f"item-marked-{locale}")

    db.session.expire_all()
    answer = db.session.scalar(db.select(Answer).where(Answer.result == "fail"))
    assert len(answer.photos) == 1
    marked = answer.photos[0]
    original = db.session.get(Photo, marked.original_id)
    assert original is not None and original.id != marked.id and (marked.width, marked.height) == (1200, 900)
    m, o = stored(marked), stored(original)
    assert o.size == m.size == (1200, 900)
    # Along the arrow (red) and on the label (yellow) the pixels changed; far from both they did not.
    for fx, fy in ((0.25, 0.3), (0.35, 0.4), (0.45, 0.5)):
        px, po = m.getpixel((int(1200 * fx), int(900 * fy))), o.getpixel((int(1200 * fx), int(900 * fy)))
        assert far(px, po) and px[0] > 170 and px[2] < 110, (fx, fy, px, po)
    label_px = [m.getpixel((x, int(900 * 0.3))) for x in range(int(1200 * 0.62), int(1200 * 0.62) + 120, 2)]
    assert any(p[0] > 200 and p[1] > 180 and p[2] < 90 for p in label_px), "no yellow on the label"
    for fx, fy in ((0.05, 0.9), (0.9, 0.9), (0.95, 0.05), (0.05, 0.5)):
        xy = (int(1200 * fx), int(900 * fy))
        assert not far(m.getpixel(xy), o.getpixel(xy), by=40), (fx, fy)

    # The supervisor opens the original: the unmarked photo.
    resp = page.request.get(f"/photos/{marked.id}/original.jpg")
    assert resp.status == 200 and resp.headers["content-type"] == "image/jpeg"
    got = Image.open(io.BytesIO(resp.body())).convert("RGB")
    assert not far(got.getpixel((int(1200 * 0.35), int(900 * 0.4))), o.getpixel((int(1200 * 0.35), int(900 * 0.4))), 40)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_crew_frames_the_after_photo_on_the_before_photo_and_marks_it(phone_factory, live_server, demo, shot,
                                                                      locale):
    """The before photo beside the after-photo picker and, on request, faintly over the photo in the editor;
    a circle drawn on the after photo resolves the order with the marked photo and its original."""
    w = WORDS[locale]
    roads_id, _ = raise_two_orders(demo)
    page = phone_factory(locale)
    login(page, "crew.cleaning")
    page.goto(f"/orders/{roads_id}")
    page.wait_for_load_state()
    panel = page.locator("#act-resolve")
    expect(panel.locator(".frame-before img")).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=panel.locator(".frame-before img").element_handle())
    panel.scroll_into_view_if_needed()
    check_page(page)
    shot(page, f"resolve-with-before-{locale}")
    with page.expect_file_chooser() as chooser:
        panel.locator("button.markup-start").tap()
    chooser.value.set_files(upload("after.jpg", AFTER_ROADS))
    editor = page.locator("#markup")
    expect(editor).to_be_visible()
    ghost_button = editor.get_by_role("button", name=w["before"])
    ghost_button.tap()
    expect(ghost_button).to_have_attribute("aria-pressed", "true")
    expect(editor.locator(".markup-ghost")).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=editor.locator(".markup-ghost").element_handle())
    editor.locator("[data-tool=circle]").tap()
    box = editor.locator("canvas").bounding_box()
    touch_drag(page, at(box, 0.35, 0.6), at(box, 0.65, 0.9))
    screen(page, shot, f"editor-before-overlay-{locale}")
    editor.get_by_role("button", name=w["use"]).tap()
    expect(editor).to_be_hidden()
    panel.locator("textarea[name=note]").fill("扫干净了" if locale == "zh-CN" else "Swept the path")
    panel.locator("button.primary").tap()
    expect(page.locator(".beforeafter a.orig")).to_have_count(1)
    order = db.session.get(WorkOrder, roads_id)
    db.session.refresh(order)
    assert order.status == "resolved"
    after = order.after_photos
    assert len(after) == 1 and after[0].original_id is not None
    m, o = stored(after[0]), stored(db.session.get(Photo, after[0].original_id))
    assert far(m.getpixel((int(1200 * 0.35), int(900 * 0.75))), o.getpixel((int(1200 * 0.35), int(900 * 0.75))))
    page.locator(".beforeafter").scroll_into_view_if_needed()
    shot(page, f"resolved-marked-{locale}")
