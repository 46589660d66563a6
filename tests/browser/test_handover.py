"""Pre-handover mock inspection (模拟验收) on phones: the engineer walks unit 3-1-1201 with its owner,
records defects with photos (one refused without a photo) and the owner's own concern, both sign
on the screen, the owner follows the repairs through a private link (QR code) in Chinese, crews
rectify, and a re-inspection signs the unit off as ready for handover.

Each person has their own browser context (phone_factory); the owner's has no login. Orders are
resolved through the UI once and through the services elsewhere (faster). After writing to the
database here, the test commits, so SQLite is not left locked by this thread while the server writes.
"""
import io
import re

from flask import current_app
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import Defect, Unit, WorkOrder
from app.services import handover as ho
from app.services import workorders as wo
from app.services.uploads import normalise_all, store_photos
from tests.browser.conftest import check_page, login
from tests.unit.test_handover import signature

UNIT = "3-1-1201"
REGISTERED_OWNER = "周杰"  # the demo's owner of 3-1-1201 (张伟 owns 3-1-201)
OWNER = "张伟"             # who attends the inspection: typed over the registered owner's name
KITCHEN_ITEM = "Sink and tap run hot and cold"             # major, photo needed, engineering
BEDROOM_ITEM = "Windows open, close and lock"               # critical, photo needed, engineering
CONTRACTOR = "Huajian Construction"                         # 华建施工, user `contractor`
UNIT_URL = re.compile(r"/handover/units/(\d+)$")
INSPECTION_URL = re.compile(r"/handover/inspections/(\d+)$")
OWNER_URL = re.compile(r"^http://127\.0\.0\.1:\d+/o/([\w-]{20,})$")


# --- photos ----------------------------------------------------------------------------------

def jpeg(wall=(225, 220, 205), mark=(120, 90, 60), width=1200, height=900) -> bytes:
    """A camera-sized JPEG: a wall, a floor and a coloured mark. Colours make photos distinct
    (the store keeps one Photo per content hash, so a 'before' and an 'after' must differ)."""
    img = Image.new("RGB", (width, height), wall)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, height * 3 // 4, width, height], fill=(160, 130, 100))
    draw.ellipse([width // 2 - 140, height // 2 - 90, width // 2 + 140, height // 2 + 90], fill=mark)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def upload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


KITCHEN_LEAK = jpeg(mark=(60, 90, 160))
BEDROOM_WINDOW = jpeg(mark=(40, 40, 40))
BALCONY_CRACK = jpeg(wall=(200, 200, 200), mark=(90, 60, 30))
KITCHEN_FIXED = jpeg(mark=(225, 220, 205))          # the mark is gone
BEDROOM_FIXED = jpeg(wall=(230, 230, 230), mark=(230, 230, 230))
BALCONY_FIXED = jpeg(wall=(205, 205, 205), mark=(205, 205, 205))


def stored(user, *blobs):
    """Photos in the store, as an upload would leave them."""
    cfg = current_app.config
    images = normalise_all(list(blobs), long_edge=cfg["PHOTO_LONG_EDGE"], thumb_edge=cfg["THUMB_LONG_EDGE"])
    return store_photos(db.session, current_app.extensions["photo_store"], user.sites[0], user, images)


# --- page helpers ----------------------------------------------------------------------------

def ready(page: Page) -> None:
    """After a navigation: htmx (deferred) set up, the page's assets in."""
    page.wait_for_load_state()


def images_loaded(page: Page, locator) -> None:
    """Every image the locator matches has actually loaded (lazy images are scrolled to first)."""
    for i in range(locator.count()):
        img = locator.nth(i)
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    page.evaluate("window.scrollTo(0, 0)")


def item(page: Page, text: str):
    return page.locator("form.item", has=page.locator("p.text", has_text=text))


def item_post(item_locator):
    """Predicate for the htmx POST of one item (its form's action)."""
    action = item_locator.get_attribute("action")
    return lambda r: r.request.method == "POST" and r.url.endswith(action)


def round_trip(page: Page, it, action) -> int:
    """Do `action` on an item, wait for its htmx POST and for the swap that replaces the item
    (outerHTML: a field filled before the swap would be thrown away). Returns the HTTP status."""
    it.evaluate("el => { el.dataset.stale = 'yes'; }")
    with page.expect_response(item_post(it)) as resp:
        action()
    expect(it).not_to_have_attribute("data-stale", "yes")
    return resp.value.status


def choose_photo(page: Page, it, photo: bytes) -> None:
    """'Add photo' on an item: the photo goes up at once and shows as a thumbnail."""
    status = round_trip(page, it, lambda: it.locator("input[type=file][name=photos]").set_input_files(
        upload("defect.jpg", photo)))
    assert status == 200, status
    expect(it.locator("ul.thumbs img")).to_have_count(1)


def tap_defect(page: Page, it, expect_status: int = 200) -> None:
    status = round_trip(page, it, it.locator("button.choice-fail").tap)
    assert status == expect_status, status


def autosave(page: Page, it, action) -> None:
    """A defect field changed (blur, select): the item saves itself and answers 204, so the form
    is not swapped under the engineer's fingers while they type in the next field."""
    it.evaluate("el => { el.dataset.kept = 'yes'; }")
    with page.expect_response(item_post(it)) as resp:
        action()
    assert resp.value.status == 204
    expect(it).to_have_attribute("data-kept", "yes")  # the same element: nothing was replaced
    expect(it.locator("p.error")).to_have_count(0)


def record_defect(page: Page, shot, room: str, text: str, photo: bytes, where: str, what: str,
                  team: str | None = None):
    """On a room page: photo, Defect, then where, what and (optionally) who rectifies it."""
    it = item(page, text)
    choose_photo(page, it, photo)
    it.scroll_into_view_if_needed()
    shot(page, f"{room}-photo-taken")
    tap_defect(page, it)
    expect(it.locator("button.choice-fail")).to_have_attribute("aria-pressed", "true")
    expect(it).to_have_class(re.compile(r"\bresult-fail\b"))
    expect(it.locator("ul.thumbs img")).to_have_count(1)
    fields = it.locator(".defect-fields")
    expect(fields).to_be_visible()
    location = it.get_by_label("Where in the room")
    location.fill(where)
    autosave(page, it, location.blur)
    description = it.get_by_label("What is wrong")
    description.fill(what)
    autosave(page, it, description.blur)
    if team:
        autosave(page, it, lambda: it.get_by_label("Who rectifies it").select_option(label=team))
    expect(location).to_have_value(where)
    expect(description).to_have_value(what)
    if team:
        expect(it.get_by_label("Who rectifies it").locator("option:checked")).to_have_text(team)
    images_loaded(page, it.locator("ul.thumbs img"))
    return it


def draw_with_mouse(page: Page, canvas) -> None:
    """A signature stroke with page.mouse: down, a zigzag across the pad, up."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + w * 0.1, y0 + h * 0.7)
    page.mouse.down()
    for fx, fy in [(0.2, 0.3), (0.3, 0.75), (0.45, 0.25), (0.6, 0.7), (0.75, 0.35), (0.9, 0.6)]:
        page.mouse.move(x0 + w * fx, y0 + h * fy, steps=6)
    page.mouse.up()


def draw_with_finger(page: Page, canvas) -> None:
    """A signature stroke with a real touch (CDP touch events → pointerType 'touch'): the pad must
    not scroll the page away under the finger (touch-action: none)."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    scrolled = page.evaluate("window.scrollY")
    cdp = page.context.new_cdp_session(page)
    points = [(0.1, 0.5), (0.2, 0.2), (0.3, 0.8), (0.4, 0.3), (0.5, 0.7), (0.65, 0.25), (0.8, 0.65), (0.9, 0.4)]
    steps = []
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        steps += [(ax + (bx - ax) * t / 5, ay + (by - ay) * t / 5) for t in range(1, 6)]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [
        {"x": x0 + w * points[0][0], "y": y0 + h * points[0][1]}]})
    for fx, fy in steps:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x0 + w * fx, "y": y0 + h * fy}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    assert page.evaluate("window.scrollY") == scrolled, "the page scrolled under the signing finger"
    # Chromium makes no click of a tap that comes less than ~300 ms after a touch stroke ends (its
    # gesture detector); no hand is that quick from the pad to the button, so wait as a hand would.
    page.wait_for_timeout(400)


def sign_both(page: Page, shot, name: str) -> None:
    """On the sign page: the engineer signs with the mouse, the owner with a finger; the hidden
    fields hold PNG data URLs; a screenshot with both signatures drawn."""
    pads = page.locator("canvas.pad")
    expect(pads).to_have_count(2)
    expect(page.locator("#engineer_name")).to_have_value(re.compile(r"刘工"))
    expect(page.locator("#owner_name")).to_have_value(OWNER)
    draw_with_mouse(page, pads.nth(0))
    draw_with_finger(page, pads.nth(1))
    for field in ("#engineer_signature", "#owner_signature"):
        expect(page.locator(field)).to_have_value(re.compile(r"^data:image/png;base64,[A-Za-z0-9+/=]{200,}$"))
    # Something was drawn on each canvas (not just a blank PNG): enough opaque pixels.
    inked = page.evaluate("""() => [...document.querySelectorAll('canvas.pad')].map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })""")
    assert all(n > 500 for n in inked), f"inked pixels per pad: {inked}"
    page.locator("button.primary", has_text="Both have signed: finish").scroll_into_view_if_needed()
    shot(page, name)


def open_defects(page: Page):
    """The unit page's open defects (one card each)."""
    return page.locator("h2:has-text('Open defects') + ul.orders > li.card")


def owner_card(page: Page, text: str):
    return page.locator("ol.defects > li.card", has=page.locator("p.otitle", has_text=text))


# --- 1–3: the walk, the signatures, the owner's link ------------------------------------------

def test_engineer_walks_the_unit_signs_and_gives_the_owner_a_link(demo, phone_factory, shot):
    eng = phone_factory()
    login(eng, "engineer")
    expect(eng).to_have_url(re.compile(r"/handover/?$"))
    expect(eng.locator("h1")).to_have_text("Handover inspections")
    tiles = eng.locator("ul.units a.unit-tile")
    expect(tiles).to_have_count(48)
    tile = tiles.filter(has=eng.locator("strong", has_text=re.compile(rf"^{UNIT}$")))
    expect(tile.locator("span")).to_have_text("Not inspected")
    ready(eng)
    shot(eng, "handover-index")
    check_page(eng)

    # The unit: owner, rooms, nothing inspected yet; start with the owner present.
    tile.tap()
    expect(eng).to_have_url(UNIT_URL)
    unit_id = int(UNIT_URL.search(eng.url).group(1))
    expect(eng.locator("h1")).to_contain_text(UNIT)
    expect(eng.locator("p .badge")).to_have_text("Not inspected")
    expect(eng.locator("dl.facts")).to_contain_text(REGISTERED_OWNER)
    expect(eng.locator("dl.facts")).to_contain_text("3 bedrooms, 2 bathrooms")
    owner_present = eng.get_by_label("Owner present (name)")
    expect(owner_present).to_have_value(REGISTERED_OWNER)
    ready(eng)
    shot(eng, "unit-not-inspected")
    check_page(eng)
    owner_present.fill(OWNER)
    eng.get_by_role("button", name="Start inspection").tap()
    expect(eng).to_have_url(INSPECTION_URL)
    inspection_url = eng.url

    # The rooms in walking order, each with its progress.
    rooms = eng.locator("ol.cplist .cpname")
    expect(rooms).to_have_text(["Entrance", "Living and dining room", "Bedroom 1", "Bedroom 2", "Bedroom 3",
                                "Kitchen", "Bathroom 1", "Bathroom 2", "Balcony", "Whole unit"])
    expect(eng.locator("ol.cplist .cpcount").first).to_have_text(re.compile(r"^0/\d+$"))
    expect(eng.locator("p.muted")).to_contain_text(f"owner present: {OWNER}")
    ready(eng)
    shot(eng, "inspection-rooms")

    # Kitchen: Defect without a photo is refused, said in the item; then with a photo it is taken.
    eng.locator("ol.cplist a", has_text="Kitchen").tap()
    expect(eng.locator("h1")).to_have_text("Kitchen")
    ready(eng)
    sink = item(eng, KITCHEN_ITEM)
    expect(sink.locator(".photo-rule")).to_have_text("Photo needed for a defect")
    tap_defect(eng, sink, expect_status=422)
    expect(sink.locator("p.error[role=alert]")).to_have_text(
        "A photo is required for this defect. Take a photo, then tap Defect again.")
    expect(sink.locator("button.choice-fail")).to_have_attribute("aria-pressed", "false")
    expect(sink).to_have_class(re.compile(r"\bhas-error\b"))
    sink.scroll_into_view_if_needed()
    shot(eng, "kitchen-defect-refused")
    record_defect(eng, shot, "kitchen", KITCHEN_ITEM, KITCHEN_LEAK, "Under the sink, left cabinet",
                  "Waste trap drips when the tap runs", team=CONTRACTOR)
    expect(sink.locator("p.error")).to_have_count(0)
    sink.scroll_into_view_if_needed()
    shot(eng, "kitchen-defect-recorded")
    check_page(eng)

    # Bedroom 2: the window, with Engineering (the default team).
    eng.goto(inspection_url)
    eng.locator("ol.cplist a", has_text="Bedroom 2").tap()
    expect(eng.locator("h1")).to_have_text("Bedroom 2")
    ready(eng)
    window = record_defect(eng, shot, "bedroom2", BEDROOM_ITEM, BEDROOM_WINDOW, "Window by the bed, left sash",
                           "Handle does not lock the sash")
    expect(window.get_by_label("Who rectifies it").locator("option:checked")).to_have_text("Engineering")
    window.scroll_into_view_if_needed()
    shot(eng, "bedroom2-defect-recorded")

    # Balcony: the owner's own concern, with a photo (a plain form post).
    eng.locator("nav.cpnav a", has_text="All rooms").tap()
    expect(eng).to_have_url(inspection_url)
    counts = eng.locator("ol.cplist li")
    expect(counts.filter(has_text="Kitchen").locator(".cpcount")).to_contain_text("1 defect")
    expect(counts.filter(has_text="Bedroom 2").locator(".cpcount")).to_contain_text("1 defect")
    shot(eng, "inspection-progress")
    eng.locator("ol.cplist a", has_text="Balcony").tap()
    expect(eng.locator("h1")).to_have_text("Balcony")
    ready(eng)
    concerns = eng.locator("#concerns")
    concern_text = "Hairline crack above the balcony door; owner worried about rain coming in"
    concerns.get_by_label("The owner's concern").fill(concern_text)
    concerns.locator("#concern-photos").set_input_files(upload("concern.jpg", BALCONY_CRACK))
    expect(concerns.locator(".files")).to_have_text("Photos chosen: 1")
    concerns.scroll_into_view_if_needed()
    shot(eng, "balcony-concern-typed")
    concerns.get_by_role("button", name="Record the owner's concern").tap()
    expect(eng.locator("p.flash[role=status]")).to_have_text("The owner's concern is recorded.")
    recorded = concerns.locator("ul.orders > li", has_text=concern_text)
    expect(recorded.locator("ul.thumbs img")).to_have_count(1)
    images_loaded(eng, recorded.locator("ul.thumbs img"))
    ready(eng)
    concerns.scroll_into_view_if_needed()
    shot(eng, "balcony-concern-recorded")

    # 2. Review with the owner and sign.
    eng.goto(inspection_url)
    eng.get_by_role("link", name="Review with the owner and sign").tap()
    expect(eng).to_have_url(re.compile(r"/handover/inspections/\d+/sign$"))
    expect(eng.locator("h1")).to_have_text(f"Defects found in {UNIT}")
    listed = eng.locator("ol.defects > li.card")
    expect(listed).to_have_count(3)
    # What the engineer wrote comes first; where, and the standard it falls short of, below.
    expect(listed.locator("p.otitle")).to_have_text([
        "Kitchen · Waste trap drips when the tap runs", "Bedroom 2 · Handle does not lock the sash",
        f"Balcony · {concern_text}"])
    expect(listed.nth(0).locator("p.where")).to_have_text("Where: Under the sink, left cabinet")
    expect(listed.nth(0).locator("p.standard")).to_have_text(re.compile(rf"^Standard: {KITCHEN_ITEM}"))
    expect(listed.nth(2)).to_contain_text("Owner's concern")
    images_loaded(eng, listed.locator("ul.thumbs img"))
    ready(eng)
    shot(eng, "sign-page")
    check_page(eng)
    sign_both(eng, shot, "sign-page-signed")
    eng.get_by_role("button", name="Both have signed: finish").tap()

    expect(eng).to_have_url(re.compile(rf"/handover/units/{unit_id}$"))
    expect(eng.locator("p.flash[role=status]")).to_have_text("Signed. The rectification orders have been raised.")
    expect(eng.locator("p .badge")).to_have_text("Defects open")
    cards = open_defects(eng)
    expect(cards).to_have_count(3)
    links = cards.locator("a[href*='/orders/']")
    expect(links).to_have_text([re.compile(r"^Work order #\d+$")] * 3)
    expect(cards.nth(0)).to_contain_text(CONTRACTOR)
    expect(cards.nth(1)).to_contain_text("Engineering")
    expect(cards.nth(2)).to_contain_text("Engineering")
    expect(cards.nth(2).locator(".badge")).to_have_text("Owner's concern")
    for card in (cards.nth(i) for i in range(3)):
        expect(card).to_contain_text("Open")
        expect(card).to_contain_text(re.compile(r"Due \d{4}-\d\d-\d\d"))
    expect(eng.locator("a.button.primary", has_text="Continue the inspection")).to_have_count(0)
    ready(eng)
    shot(eng, "unit-defects-open")

    # 3. A private link for the owner: a QR code and the text of the link.
    eng.get_by_role("button", name="New link for the owner").tap()
    qr = eng.locator("section.qr")
    expect(qr.locator(".qrcode[role=img] svg")).to_be_visible()
    owner_url = eng.locator("textarea#owner-url").input_value()
    assert OWNER_URL.match(owner_url), owner_url
    token = OWNER_URL.match(owner_url).group(1)
    box = qr.locator(".qrcode svg").bounding_box()
    assert box["width"] >= 200 and abs(box["width"] - box["height"]) < 1, box  # big enough to scan
    qr.scroll_into_view_if_needed()
    ready(eng)
    shot(eng, "unit-owner-link-qr")
    check_page(eng)

    # The owner opens it on their own phone, in Chinese, without logging in.
    owner = phone_factory("zh-CN")
    owner.goto(owner_url)
    expect(owner.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(owner.locator("h1")).to_contain_text(f"您的房屋 {UNIT}")
    expect(owner.locator("main p .badge")).to_have_text("整改中")
    defects = owner.locator("ol.defects > li.card")
    expect(defects).to_have_count(3)
    expect(defects.locator("p.meta")).to_have_text([re.compile(r"^\s*整改中")] * 3)
    expect(defects.nth(0).locator("p.otitle")).to_have_text("厨房 · Waste trap drips when the tap runs")
    expect(defects.nth(1).locator("p.otitle")).to_have_text("卧室 2 · Handle does not lock the sash")
    expect(defects.nth(2).locator("p.otitle")).to_have_text(f"阳台 · {concern_text}")
    expect(defects.nth(0).locator("p.where")).to_have_text("位置：Under the sink, left cabinet")
    expect(defects.nth(0).locator("p.standard")).to_have_text(re.compile(r"^验收标准：水槽龙头冷热水正常"))
    befores = defects.locator(".beforeafter section:first-child img")
    expect(befores).to_have_count(3)
    images_loaded(owner, befores)
    expect(defects.locator(".beforeafter section:nth-child(2)")).to_have_text([re.compile("暂无照片")] * 3)
    main_text = owner.locator("main").inner_text()
    for staff in ("刘工", "Liu", "华建", "Huajian", "工单"):  # no staff, contractor or order numbers
        assert staff not in main_text, f"{staff!r} on the owner's page"
    ready(owner)
    shot(owner, "owner-page-zh")
    check_page(owner)

    # A link with an altered token: not valid (404), in Chinese.
    altered = token[:-2] + ("xy" if token[-2:] != "xy" else "zz")
    resp = owner.goto(owner_url.replace(token, altered))
    assert resp.status == 404
    expect(owner.locator("h1")).to_have_text("此链接已失效")
    expect(owner.locator("ol.defects")).to_have_count(0)
    shot(owner, "owner-link-altered-zh")
    check_page(owner)


# --- 4–5: crews rectify, the owner follows, re-inspection and handover --------------------------

def signed_inspection(demo) -> tuple[Unit, dict[str, WorkOrder]]:
    """Through the services, what the first test does through the UI: unit 3-1-1201 signed with a
    kitchen defect for the contractor, a bedroom 2 defect and the owner's balcony concern."""
    engineer = demo.users["engineer"]
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == "1", Unit.room == "1201"))
    insp = ho.start_inspection(db.session, unit, engineer, OWNER)
    version = insp.version
    sink = next(i for i in version.items if i.room == "kitchen" and i.text_en.startswith(KITCHEN_ITEM))
    window = next(i for i in version.items if i.room == "bedroom" and i.text_en.startswith(BEDROOM_ITEM))
    ho.answer(db.session, insp, "kitchen", sink, engineer, result="defect", location="Under the sink",
              description="Waste trap drips", photos=stored(engineer, KITCHEN_LEAK),
              team=demo.teams["contractor_huajian"])
    ho.answer(db.session, insp, "bedroom-2", window, engineer, result="defect", location="Window by the bed",
              photos=stored(engineer, BEDROOM_WINDOW))
    ho.add_concern(db.session, insp, "balcony", "Crack above the balcony door", stored(engineer, BALCONY_CRACK))
    ho.sign(db.session, current_app.extensions["photo_store"], insp, engineer, engineer_name="刘工",
            owner_name=OWNER, engineer_sig=signature(), owner_sig=signature())
    orders = {d.room_key: d.work_order for d in db.session.scalars(
        select(Defect).where(Defect.inspection_id == insp.id))}
    db.session.commit()
    return unit, orders


def resolve_and_verify(demo, order: WorkOrder, after: bytes, crew: str = "crew.engineering") -> None:
    """Through the services: the crew resolves (unless done already, in the UI), the supervisor verifies."""
    db.session.refresh(order)  # the live server may have changed it
    if order.status != "resolved":
        wo.act(db.session, order, demo.users[crew], "resolve", note="Fixed", photos=stored(demo.users[crew], after))
    wo.act(db.session, order, demo.users["supervisor"], "verify")
    db.session.commit()  # services flush: the live server reads what is committed


def test_crews_rectify_owner_follows_and_reinspection_hands_over(demo, phone_factory, shot):
    unit, orders = signed_inspection(demo)
    kitchen, bedroom, balcony = orders["kitchen"], orders["bedroom-2"], orders["balcony"]
    assert kitchen.team.code == "contractor_huajian"
    assert (bedroom.team.code, balcony.team.code) == ("engineering", "engineering")
    token, _link = ho.create_owner_link(db.session, unit, demo.users["engineer"])
    db.session.commit()
    kitchen_id, bedroom_id, balcony_id = kitchen.id, bedroom.id, balcony.id

    owner = phone_factory("zh-CN")
    owner.goto(f"/o/{token}")
    kitchen_card = owner_card(owner, "厨房")
    expect(kitchen_card.locator("p.meta")).to_have_text(re.compile(r"^\s*整改中"))
    shot(owner, "owner-before-repairs")

    # 4. The contractor resolves the kitchen order on their phone, with an after photo.
    crew = phone_factory()
    login(crew, "contractor")
    expect(crew).to_have_url(re.compile(r"/orders$"))
    rows = crew.locator("#queue li.order-row")
    expect(rows).to_have_count(1)  # only their own team's order
    expect(rows.first.locator(".otitle")).to_have_text(
        f"#{kitchen_id} {UNIT} Kitchen (Under the sink) · Waste trap drips")
    ready(crew)
    shot(crew, "contractor-queue")
    rows.first.locator("a").tap()
    expect(crew).to_have_url(re.compile(rf"/orders/{kitchen_id}$"))
    ready(crew)
    expect(crew.locator(".beforeafter section").nth(0).locator("img")).to_have_count(1)
    crew.locator("#photos-resolve").set_input_files(upload("after.jpg", KITCHEN_FIXED))
    crew.locator("#note-resolve").fill("Replaced the waste trap seal, no drips")
    shot(crew, "contractor-resolve-filled")
    crew.locator("form.action-resolve button:not([type=button])").tap()
    expect(crew.locator("main > p.meta .st")).to_have_text("Resolved")
    expect(crew.locator(".beforeafter section").nth(1).locator("img")).to_have_count(1)
    ready(crew)
    shot(crew, "contractor-resolved")

    # The owner reloads: repaired, being checked, with the after photo.
    owner.reload()
    expect(kitchen_card.locator("p.meta")).to_have_text(re.compile(r"^\s*已整改，核查中"))
    after = kitchen_card.locator(".beforeafter section").nth(1).locator("img")
    expect(after).to_have_count(1)
    expect(after).to_have_attribute("alt", "处理后 1")
    images_loaded(owner, kitchen_card.locator(".beforeafter img"))
    for other in ("卧室 2", "阳台"):
        expect(owner_card(owner, other).locator("p.meta")).to_have_text(re.compile(r"^\s*整改中"))
    kitchen_card.scroll_into_view_if_needed()
    shot(owner, "owner-kitchen-resolved-zh")

    # The supervisor verifies it: repaired, waiting for the owner's check (no due date any more).
    resolve_and_verify(demo, db.session.get(WorkOrder, kitchen_id), KITCHEN_FIXED, crew="contractor")
    owner.reload()
    expect(kitchen_card.locator("p.meta")).to_have_text("已整改，待您复验")  # no due date once closed
    expect(kitchen_card.locator(".beforeafter section").nth(1).locator("img")).to_have_count(1)
    shot(owner, "owner-kitchen-verified-zh")

    # 5. The two other orders are resolved and verified: the unit is ready for re-inspection.
    resolve_and_verify(demo, db.session.get(WorkOrder, bedroom_id), BEDROOM_FIXED)
    resolve_and_verify(demo, db.session.get(WorkOrder, balcony_id), BALCONY_FIXED)
    eng = phone_factory()
    login(eng, "engineer")
    eng.goto(f"/handover/units/{unit.id}")
    expect(eng.locator("p .badge")).to_have_text("Ready for re-inspection")
    expect(open_defects(eng)).to_have_count(3)
    expect(open_defects(eng)).to_have_text([re.compile("Closed")] * 3)
    expect(eng.locator("#start-h")).to_have_text("Re-inspect the defects with the owner")
    eng.get_by_label("Owner present (name)").fill(OWNER)  # the same person comes back
    ready(eng)
    shot(eng, "unit-ready-for-reinspection")
    eng.get_by_role("button", name="Start re-inspection").tap()
    expect(eng).to_have_url(INSPECTION_URL)
    expect(eng.locator("h1")).to_have_text(f"Re-inspection {UNIT}")
    cards = eng.locator("ol.defects > li.card")
    expect(cards).to_have_count(3)
    for i in range(3):
        ba = cards.nth(i).locator(".beforeafter section")
        expect(ba.nth(0).locator("img")).to_have_count(1)
        expect(ba.nth(1).locator("img")).to_have_count(1)
    images_loaded(eng, cards.locator(".beforeafter img"))
    ready(eng)
    shot(eng, "reinspection")
    check_page(eng)

    # The owner accepts each fix.
    for i in range(3):
        card = cards.nth(i)
        card.get_by_role("button", name="Accept the fix").tap()
        expect(card.locator("strong.ok")).to_have_text("Fix accepted")
    cards.nth(2).scroll_into_view_if_needed()
    shot(eng, "reinspection-all-accepted")
    eng.get_by_role("link", name="Review with the owner and sign").tap()
    expect(eng.locator("h1")).to_have_text(f"Re-inspection of {UNIT}")
    expect(eng.locator("ol.defects > li.card strong.ok")).to_have_text(["Fix accepted"] * 3)
    ready(eng)
    sign_both(eng, shot, "reinspection-signed")
    eng.get_by_role("button", name="Both have signed: finish").tap()

    expect(eng).to_have_url(re.compile(rf"/handover/units/{unit.id}$"))
    expect(eng.locator("p .badge")).to_have_text("Ready for handover")
    expect(open_defects(eng)).to_have_count(0)
    expect(eng.locator("h2:has-text('Open defects') + ul.orders")).to_have_text("None.")
    shot(eng, "unit-ready-for-handover")

    # In Chinese, for the owner standing next to the engineer: 可交付.
    eng.locator("form.lang button").tap()
    expect(eng).to_have_url(re.compile(rf"/handover/units/{unit.id}$"))
    expect(eng.locator("p .badge")).to_have_text("可交付")
    ready(eng)
    shot(eng, "unit-ready-for-handover-zh")

    # And on the owner's own page: every repair accepted, the home ready for handover.
    owner.reload()
    expect(owner.locator("main p .badge")).to_have_text("可交付")
    expect(owner.locator("ol.defects > li.card p.meta")).to_have_text(["已整改并验收"] * 3)
    images_loaded(owner, owner.locator(".beforeafter img"))
    shot(owner, "owner-ready-for-handover-zh")


# --- photo, where, then Defect: the order an engineer works in ------------------------------------

def test_photo_then_where_then_defect(demo, phone_factory, shot):
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == "1", Unit.room == "1201"))
    insp = ho.start_inspection(db.session, unit, demo.users["engineer"], OWNER)
    db.session.commit()
    page = phone_factory()
    login(page, "engineer")
    page.goto(f"/handover/inspections/{insp.id}/rooms/kitchen")
    ready(page)
    sink = item(page, KITCHEN_ITEM)
    choose_photo(page, sink, KITCHEN_LEAK)
    expect(sink.locator(".defect-fields")).to_be_visible()  # the draft invites the details at once
    location = sink.get_by_label("Where in the room")
    location.fill("Under the sink")
    autosave(page, sink, location.blur)
    shot(page, "photo-and-where")
    assert sink.locator("ul.thumbs img").count() == 1, "the photo was thrown away"
    assert location.count() == 1 and location.input_value() == "Under the sink", "the place was thrown away"
    tap_defect(page, sink)
    shot(page, "defect-tapped")
    expect(sink.locator("button.choice-fail")).to_have_attribute("aria-pressed", "true")
    # The badge shows the severity the engineer chooses, not the item's default (Major).
    expect(sink.locator(".meta .sev")).to_have_text("Major")
    autosave(page, sink, lambda: sink.get_by_label("Severity").select_option(label="Minor"))
    expect(sink.locator(".meta .sev")).to_have_text("Minor")
    expect(sink.locator(".meta .sev")).to_have_class("sev sev-minor")
    page.reload()
    expect(item(page, KITCHEN_ITEM).locator(".meta .sev")).to_have_text("Minor")
    shot(page, "defect-severity-minor")


# --- issue 8: the room on the order, the defect's own words, refusals in place, the link's buttons ---

WALL_DEFECT = "墙面空鼓开裂约30厘米"
WALL_WHERE = "淋浴间北墙，离地1.2米"


def bathroom_wall_defect(demo) -> tuple[Unit, WorkOrder]:
    """Through the services: 3-1-1201 signed with one defect on the wall of bathroom 2, for the contractor."""
    engineer = demo.users["engineer"]
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == "1", Unit.room == "1201"))
    insp = ho.start_inspection(db.session, unit, engineer, OWNER)
    wall = next(i for i in insp.version.items if i.room == "bathroom" and i.category == "walls_ceilings")
    ho.answer(db.session, insp, "bathroom-2", wall, engineer, result="defect", severity="major",
              description=WALL_DEFECT, location=WALL_WHERE, photos=stored(engineer, BALCONY_CRACK),
              team=demo.teams["contractor_huajian"])
    ho.sign(db.session, current_app.extensions["photo_store"], insp, engineer, engineer_name="刘工",
            owner_name=OWNER, engineer_sig=signature(), owner_sig=signature())
    order = db.session.scalar(select(WorkOrder))
    db.session.commit()
    return unit, order


def test_the_crew_reads_the_room_and_the_owner_reads_the_defect(demo, phone_factory, shot):
    """The contractor's order names bathroom 2, where in it and the engineer's words (both languages);
    the owner, on a fresh phone in Chinese, reads the problem first and the standard after it."""
    unit, order = bathroom_wall_defect(demo)
    wall_zh = order.item.text_zh
    for locale, room, where in (("en-US", "Bathroom 2", f" ({WALL_WHERE})"), ("zh-CN", "卫生间 2", f"（{WALL_WHERE}）")):
        crew = phone_factory(locale)
        login(crew, "contractor")
        row = crew.locator("#queue li.order-row")
        expect(row).to_have_count(1)
        title = f"{UNIT} {room}{where} · {WALL_DEFECT}"
        expect(row.locator(".otitle")).to_have_text(f"#{order.id} {title}")
        ready(crew)
        shot(crew, f"contractor-queue-{locale}")
        row.locator("a").tap()
        expect(crew.locator("p.lead")).to_have_text(title)
        expect(crew.locator("dl.facts")).to_contain_text(WALL_DEFECT)
        expect(crew.locator("dl.facts")).to_contain_text(WALL_WHERE)
        body = crew.locator("main").inner_text()
        assert "bathroom-2" not in body and "contractor_huajian" not in body and "T0" not in body
        ready(crew)
        shot(crew, f"contractor-order-{locale}")

    token, _link = ho.create_owner_link(db.session, unit, demo.users["engineer"])
    db.session.commit()
    owner = phone_factory("zh-CN")
    owner.goto(f"/o/{token}")
    card = owner.locator("ol.defects > li.card")
    expect(card).to_have_count(1)
    expect(card.locator("p.otitle")).to_have_text(f"卫生间 2 · {WALL_DEFECT}")
    expect(card.locator("p.where")).to_have_text(f"位置：{WALL_WHERE}")
    expect(card.locator("p.standard")).to_have_text(f"验收标准：{wall_zh}")
    assert wall_zh not in card.locator("p.otitle").inner_text()
    images_loaded(owner, card.locator("img"))
    ready(owner)
    shot(owner, "owner-defect-described-zh")
    check_page(owner)
    owner.locator("form.lang button").tap()  # the owner's family reads English
    expect(card.locator("p.otitle")).to_have_text(f"Bathroom 2 · {WALL_DEFECT}")
    expect(card.locator("p.standard")).to_have_text(re.compile(r"^Standard: "))
    images_loaded(owner, card.locator("img"))
    shot(owner, "owner-defect-described-en")


def test_owners_concern_with_a_bad_photo_is_refused_in_place_text_kept(demo, phone_factory, shot):
    """The refusal shows where the engineer is looking (focused, announced), in their language, and
    the owner's words stay in the box; then a real photo records it."""
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == "1", Unit.room == "1201"))
    insp = ho.start_inspection(db.session, unit, demo.users["engineer"], OWNER)
    db.session.commit()
    for locale, refusal, saved in (("en-US", "photo", "The owner's concern is recorded."),
                                   ("zh-CN", "照片", "已记录业主提出的问题。")):
        page = phone_factory(locale)
        login(page, "engineer")
        page.goto(f"/handover/inspections/{insp.id}/rooms/balcony")
        ready(page)
        concerns = page.locator("#concerns")
        typed = f"阳台门上方有裂缝，业主担心漏雨 ({locale})"
        concerns.locator("textarea[name=text]").fill(typed)
        concerns.locator("#concern-photos").set_input_files(
            {"name": "concern.jpg", "mimeType": "image/jpeg", "buffer": b"this is not a photo"})
        with page.expect_response(lambda r: r.request.method == "POST" and "/concerns" in r.url) as resp:
            concerns.locator("button.secondary").tap()
        assert resp.value.status == 422
        alert = page.locator("#concerns [role=alert]")
        expect(alert).to_contain_text(refusal)
        expect(alert).to_be_focused()
        expect(alert).to_be_in_viewport()
        expect(page.locator("#concerns textarea[name=text]")).to_have_value(typed)
        shot(page, f"concern-refused-{locale}")
        check_page(page)
        page.locator("#concern-photos").set_input_files(upload("concern.jpg", BALCONY_CRACK))
        page.locator("#concerns button.secondary").tap()
        expect(page.locator("#concerns p.flash[role=status]")).to_have_text(saved)
        expect(page.locator("#concerns ul.orders > li", has_text=typed).locator("img")).to_have_count(1)
        expect(page.locator("#concerns textarea[name=text]")).to_have_value("")
        expect(page.locator("#concerns [role=alert]")).to_have_count(0)
        images_loaded(page, page.locator("#concerns img"))
        page.locator("#concerns").scroll_into_view_if_needed()
        shot(page, f"concern-recorded-{locale}")


def test_owner_link_shows_whole_and_copies_at_360_px(demo, phone_factory, shot):
    """The new link wraps in its box on a small phone; Copy puts it on the clipboard and says so."""
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == "1", Unit.room == "1201"))
    for locale, copy, done in (("zh-CN", "复制链接", "链接已复制"), ("en-US", "Copy the link", "Link copied")):
        page = phone_factory(locale, width=360, height=780)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        login(page, "engineer")
        page.goto(f"/handover/units/{unit.id}")
        ready(page)
        page.locator("form[action$='/link'] button").tap()
        box = page.locator("textarea#owner-url")
        expect(box).to_be_visible()
        url = box.input_value()
        assert OWNER_URL.match(url), url
        whole = box.evaluate("el => el.scrollHeight <= el.clientHeight + 1 && el.scrollWidth <= el.clientWidth + 1")
        assert whole, "the link is cut off in its box"
        share = page.locator("button[data-share]")
        expect(share).to_be_hidden() if not page.evaluate("!!navigator.share") else expect(share).to_be_visible()
        button = page.get_by_role("button", name=copy)
        button.tap()
        expect(page.locator("#owner-url-status")).to_contain_text(done)
        assert page.evaluate("navigator.clipboard.readText()") == url
        page.locator("section.qr").scroll_into_view_if_needed()
        shot(page, f"owner-link-copied-{locale}")
        check_page(page)
