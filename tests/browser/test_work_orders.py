"""Work orders on phones: the crew's queue and order page (take, start, a refused and then accepted
resolve), the supervisor's verify list (verify, reopen with a reason), the manager's overdue alert,
raising an owner's complaint by hand, and the crew's pages in Chinese.

Each user has their own browser context (phone_factory). Orders are raised through the round UI in
the main flow and through the services elsewhere (faster); deadlines are moved in the database, which
the live server shares. After writing to the database here, the test commits, so SQLite is not left
locked by this thread while the server writes.
"""
import io
import re
from datetime import timedelta

from flask import current_app
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import WorkOrder
from app.models.types import utcnow
from app.services.rounds import answer_item
from app.services.uploads import normalise_all, store_photos
from tests.browser.conftest import check_page, login
from tests.web.helpers import item_url, started_morning

ROADS = "Roads and footpaths clean"           # minor: due in 24 h, Cleaning
BINS = "Litter bins and refuse points emptied"  # major: due in 4 h, Cleaning
ROADS_ZH = "道路及人行道清洁"
CHECKPOINT_URL = re.compile(r"/rounds/(\d+)/checkpoints/1$")
ORDER_URL = re.compile(r"/orders/(\d+)$")


# --- helpers --------------------------------------------------------------------------------

def jpeg(sky=(90, 150, 220), blob=(200, 40, 30), width=1200, height=900) -> bytes:
    """A camera-sized JPEG: sky, a grey path and a coloured blob. Colours make photos distinct
    (the store keeps one Photo per content hash, so a 'before' and an 'after' must differ)."""
    img = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, height * 2 // 3, width, height], fill=(150, 150, 140))
    draw.ellipse([width // 2 - 120, height * 3 // 4 - 60, width // 2 + 120, height * 3 // 4 + 60], fill=blob)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def upload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


BEFORE_ROADS = jpeg(blob=(200, 40, 30))
BEFORE_BINS = jpeg(blob=(30, 30, 30))
AFTER_ROADS = jpeg(sky=(120, 180, 240), blob=(150, 150, 140))  # the blob is gone: clean path
AFTER_BINS = jpeg(sky=(120, 180, 240), blob=(20, 120, 40))


def raise_two_orders(demo) -> tuple[int, int]:
    """Through the services: the supervisor fails Roads and Bins (with photos) on the morning round.
    Returns the two Cleaning order ids (roads, bins)."""
    rnd = started_morning(demo)
    sup = demo.users["supervisor"]
    cfg = current_app.config
    ids = []
    for code, data in (("roads_clean", BEFORE_ROADS), ("bins_not_overflowing", BEFORE_BINS)):
        _, stop, item = item_url(rnd, "patrol_residential_common", code)
        images = normalise_all([data], long_edge=cfg["PHOTO_LONG_EDGE"], thumb_edge=cfg["THUMB_LONG_EDGE"])
        photos = store_photos(db.session, current_app.extensions["photo_store"], demo.site, sup, images)
        answer = answer_item(db.session, rnd, stop, item, sup, result="fail", note=f"{code} seen",
                             photos=photos).answer
        ids.append(db.session.scalar(db.select(WorkOrder.id).where(WorkOrder.answer_id == answer.id)))
    db.session.commit()
    return ids[0], ids[1]


def make_overdue(order_id: int, minutes: int = 30) -> None:
    order = db.session.get(WorkOrder, order_id)
    db.session.refresh(order)
    order.due_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


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


def fail_with_photo(page: Page, text: str, photo: bytes) -> int:
    """On a checkpoint: choose a photo (sent at once), tap Fail; returns the raised order's id."""
    it = item(page, text)
    it.locator("input[type=file][name=photos]").set_input_files(upload("before.jpg", photo))
    expect(it.locator("ul.thumbs img")).to_have_count(1)
    it.locator("button.choice-fail").tap()
    expect(it.locator("button.choice-fail")).to_have_attribute("aria-pressed", "true")
    link = it.locator("p.order a")
    expect(link).to_have_text(re.compile(r"^Work order #\d+$"))
    expect(it.locator("p.order")).to_contain_text("Cleaning")
    return int(re.search(r"#(\d+)", link.inner_text()).group(1))


def row(page: Page, order_id: int):
    """An order's row in a list: the card whose title starts with '#<id> '."""
    return page.locator("li.order-row", has=page.locator(".otitle", has_text=re.compile(rf"^#{order_id} ")))


def status(page: Page):
    return page.locator("main > p.meta .st")


def tap_action(page: Page, segment: str) -> None:
    page.locator(f"form.action-{segment} button:not([type=button])").tap()  # the submit, not "Draw on photo"


def history(page: Page):
    """Timeline entries, newest first."""
    return page.locator("ol.timeline > li")


def side_by_side(page: Page, beforeafter) -> None:
    """The Before and After columns sit next to each other (same row, Before on the left)."""
    before, after = (beforeafter.locator(":scope > section").nth(i).bounding_box() for i in (0, 1))
    assert abs(before["y"] - after["y"]) < 1, (before, after)
    assert before["x"] + before["width"] <= after["x"], (before, after)


# --- 1–3: crew resolves, supervisor verifies one and reopens the other, crew sees it back ----

def test_crew_resolves_supervisor_verifies_and_reopens(demo, phone_factory, shot):
    # The supervisor fails two Cleaning items on checkpoint 1 of the morning round, with photos.
    sup = phone_factory()
    login(sup)
    expect(sup).to_have_url(re.compile(r"/today$"))
    sup.locator("article.round").filter(has=sup.get_by_role("heading", name="Morning round")) \
        .locator("form[action$='/start'] button").tap()
    expect(sup).to_have_url(CHECKPOINT_URL)
    ready(sup)
    roads_id = fail_with_photo(sup, ROADS, BEFORE_ROADS)
    bins_id = fail_with_photo(sup, BINS, BEFORE_BINS)
    item(sup, ROADS).scroll_into_view_if_needed()
    shot(sup, "supervisor-failed-two")

    # 1. Crew: lands on the team's queue, both orders with their photo; bins (due in 4 h) first.
    crew = phone_factory()
    login(crew, "crew.cleaning")
    expect(crew).to_have_url(re.compile(r"/orders$"))
    expect(crew.locator("h1")).to_have_text("My team's queue")
    rows = crew.locator("#queue li.order-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".otitle")).to_have_text(re.compile(rf"^#{bins_id} {BINS}"))
    expect(rows.nth(1).locator(".otitle")).to_have_text(re.compile(rf"^#{roads_id} {ROADS}"))
    expect(crew.locator("#queue")).to_have_attribute("hx-trigger", "every 30s")
    roads_row = row(crew, roads_id)
    expect(roads_row.locator(".st")).to_have_text("Open")
    expect(roads_row.locator(".where")).to_have_text(re.compile(r"^\s*Common grounds and roads\s*Cleaning\s*$"))
    expect(roads_row.locator(".due")).to_contain_text(re.compile(r"\d+ h \d\d min left"))
    expect(rows.locator("img.rowthumb")).to_have_count(2)
    images_loaded(crew, rows.locator("img.rowthumb"))
    shot(crew, "crew-queue")
    check_page(crew)

    # The order page: what, where, the before photo, nothing after yet; the crew's actions.
    roads_row.locator("a").tap()
    expect(crew).to_have_url(re.compile(rf"/orders/{roads_id}$"))
    ready(crew)
    expect(crew.locator("h1")).to_have_text(f"Work order #{roads_id}")
    expect(crew.locator("p.lead")).to_contain_text(ROADS)
    expect(status(crew)).to_have_text("Open")
    beforeafter = crew.locator(".beforeafter")
    expect(beforeafter.locator("section").nth(0).locator("img")).to_have_count(1)
    expect(beforeafter.locator("section").nth(1)).to_contain_text("No photo yet")
    side_by_side(crew, beforeafter)
    expect(crew.locator(".facts")).to_contain_text("Nobody yet")
    expect(crew.locator("form.action-verify, form.action-reopen, form.action-cancel")).to_have_count(0)
    images_loaded(crew, beforeafter.locator("img"))
    shot(crew, "crew-order-open")
    check_page(crew)

    # Take it, then Start work.
    tap_action(crew, "take")
    expect(crew).to_have_url(re.compile(rf"/orders/{roads_id}$"))
    expect(crew.locator(".facts")).to_contain_text("赵保洁 Zhao")
    expect(status(crew)).to_have_text("Open")
    expect(crew.locator("form.action-take")).to_have_count(0)
    shot(crew, "crew-order-taken")
    tap_action(crew, "start")
    expect(status(crew)).to_have_text("In progress")
    ready(crew)
    shot(crew, "crew-order-started")

    # Resolve with a note but no after photo: refused (422), said beside the photo button, note kept.
    resolve = crew.locator("section.resolve-panel")
    expect(resolve.locator("h3")).to_have_text("Done? Resolve with an after photo")
    note = "Swept the path by gate 3, bagged the leaves"
    crew.locator("#note-resolve").fill(note)
    shot(crew, "crew-resolve-note-typed")
    with crew.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/resolve")) as resp:
        tap_action(crew, "resolve")
    assert resp.value.status == 422
    error = crew.locator("form.action-resolve.has-error p.error[role=alert]")
    expect(error).to_have_text("Add at least one “after” photo to resolve this order.")
    expect(crew.locator("#note-resolve")).to_have_value(note)
    expect(status(crew)).to_have_text("In progress")
    ready(crew)
    shot(crew, "crew-resolve-refused")
    check_page(crew)

    # With the after photo: Resolved, the photo in the After column, the note in the history.
    crew.locator("#photos-resolve").set_input_files(upload("after.jpg", AFTER_ROADS))
    tap_action(crew, "resolve")
    expect(crew).to_have_url(re.compile(rf"/orders/{roads_id}$"))
    expect(status(crew)).to_have_text("Resolved")
    expect(crew.locator("p.flash-error")).to_have_count(0)
    after = beforeafter.locator("section").nth(1)
    expect(after.locator("h3")).to_have_text("After")
    expect(after.locator("img")).to_have_count(1)
    expect(after.locator("img")).to_have_attribute("alt", "After 1")
    images_loaded(crew, beforeafter.locator("img"))  # the crew's own after photo loads too
    side_by_side(crew, beforeafter)
    expect(history(crew).first).to_contain_text("Resolved")
    expect(history(crew).first).to_contain_text(note)
    expect(history(crew).first).to_contain_text("In progress → Resolved")
    expect(crew.locator("form.action-resolve, form.action-take, form.action-start")).to_have_count(0)
    shot(crew, "crew-resolved")

    # The second order (bins), still open: open the resolve panel, photo, note, Resolve.
    crew.locator("p.crumb a").tap()
    expect(crew).to_have_url(re.compile(r"/orders$"))
    expect(crew.locator("#queue li.order-row")).to_have_count(1)  # resolved work leaves the queue
    expect(row(crew, roads_id)).to_have_count(0)
    row(crew, bins_id).locator("a").tap()
    expect(crew).to_have_url(re.compile(rf"/orders/{bins_id}$"))
    ready(crew)
    expect(crew.locator("#note-resolve")).to_be_visible()  # the resolve form is always in view
    crew.locator("#photos-resolve").set_input_files(upload("after.jpg", AFTER_BINS))
    crew.locator("#note-resolve").fill("Emptied both bins, washed the lids")
    shot(crew, "crew-bins-resolve-panel")
    tap_action(crew, "resolve")
    expect(status(crew)).to_have_text("Resolved")
    shot(crew, "crew-bins-resolved")

    # 2. Supervisor: the tiles on Work orders, then To verify with before and after side by side.
    sup.locator("header nav a", has_text="Work orders").tap()
    expect(sup).to_have_url(re.compile(r"/orders$"))
    expect(sup.locator("h1")).to_have_text("Work orders")
    verify_tile = sup.locator("nav.tiles a.tile", has_text="To verify")
    expect(verify_tile.locator("strong")).to_have_text("2")
    ready(sup)
    shot(sup, "supervisor-queue")
    check_page(sup)
    verify_tile.tap()
    expect(sup).to_have_url(re.compile(r"/orders/verify$"))
    cards = sup.locator("article.verify")
    expect(cards).to_have_count(2)
    roads_card = sup.locator(f"#order-{roads_id}")
    expect(roads_card.locator("h2")).to_have_text(f"#{roads_id} {ROADS}: no litter, leaves, spills or dirt")
    expect(roads_card).to_contain_text(note)
    expect(roads_card).to_contain_text("赵保洁 Zhao")
    for card in (roads_card, sup.locator(f"#order-{bins_id}")):
        ba = card.locator(".beforeafter")
        expect(ba.locator("section").nth(0).locator("img")).to_have_count(1)
        expect(ba.locator("section").nth(1).locator("img")).to_have_count(1)
        side_by_side(sup, ba)
    images_loaded(sup, cards.locator(".beforeafter img"))
    shot(sup, "supervisor-verify-list")
    check_page(sup)

    # Verify and close the roads order: back on the verify list, one card left.
    roads_card.get_by_role("button", name="Verify and close").tap()
    expect(sup).to_have_url(re.compile(r"/orders/verify$"))
    expect(cards).to_have_count(1)
    shot(sup, "supervisor-verify-list-after")
    sup.goto(f"/orders/{roads_id}")
    expect(status(sup)).to_have_text("Closed")
    expect(history(sup).first).to_contain_text("Verified")
    expect(history(sup).first).to_contain_text("Resolved → Closed")
    expect(sup.locator("section.actions-panel")).to_have_count(0)
    shot(sup, "supervisor-verified")

    # Reopen the bins order with a reason, from the verify list's "Reopen…".
    sup.goto("/orders/verify")
    sup.locator(f"#order-{bins_id}").get_by_role("link", name="Reopen…").tap()
    expect(sup).to_have_url(re.compile(rf"/orders/{bins_id}#actions-h$"))
    ready(sup)
    reopen = sup.locator("details", has=sup.locator("form.action-reopen"))
    reopen.locator("summary").tap()
    reason = "The bin by block 5 is still full"
    sup.locator("#note-reopen").fill(reason)
    shot(sup, "supervisor-reopen-reason")
    reopen.get_by_role("button", name="Reopen and send back to the team").tap()
    expect(sup).to_have_url(re.compile(rf"/orders/{bins_id}$"))
    expect(status(sup)).to_have_text("Open")
    latest = history(sup).first
    expect(latest.locator("strong")).to_have_text("Reopened")
    expect(latest).to_contain_text(reason)
    expect(latest).to_contain_text("Resolved → Open")
    expect(sup.locator(".beforeafter section").nth(1).locator("img")).to_have_count(1)  # the old after photo stays
    shot(sup, "supervisor-reopened")

    # 3. Crew: the reopened order is back in the queue as Open; the verified one has left it.
    crew.goto("/orders")
    expect(crew.locator("#queue li.order-row")).to_have_count(1)
    back = row(crew, bins_id)
    expect(back.locator(".st")).to_have_text("Open")
    expect(row(crew, roads_id)).to_have_count(0)
    shot(crew, "crew-queue-reopened")

    # The filters change the list in place and keep themselves in the URL.
    crew.locator("#f-status").select_option("mine")
    expect(crew).to_have_url(re.compile(r"/orders\?.*status=mine"))
    expect(crew.locator("#queue li.order-row")).to_have_count(1)  # still Zhao's after the reopen
    crew.locator("#f-area").select_option(label="Central garden")
    expect(crew).to_have_url(re.compile(r"/orders\?.*status=mine.*&area=\d+"))
    expect(crew.locator("#queue li.order-row")).to_have_count(0)
    expect(crew.locator("#queue")).to_contain_text("No work orders here.")
    shot(crew, "crew-queue-filtered")
    crew.reload()
    expect(crew.locator("#f-status")).to_have_value("mine")
    expect(crew.locator("#f-area option:checked")).to_have_text("Central garden")
    crew.goto("/orders")
    back.locator("a").tap()
    expect(history(crew).first).to_contain_text(reason)
    shot(crew, "crew-reopened-order")


# --- 4: the manager's overdue alert -----------------------------------------------------------

def test_manager_gets_an_overdue_alert(demo, phone_factory, shot):
    roads_id, bins_id = raise_two_orders(demo)
    make_overdue(bins_id)  # escalated by the next request (SWEEP_INTERVAL_SECONDS = 0 in tests)
    make_overdue(roads_id, minutes=60 * 50)  # late for days: said in days and hours

    page = phone_factory()
    login(page, "manager")
    bell = page.locator("header a.bell")
    expect(bell).to_contain_text("Alerts")
    expect(bell.locator(".count")).to_have_text("2")
    expect(bell.locator(".count")).to_have_attribute("aria-label", "2 unread")
    shot(page, "manager-today-badge")

    bell.tap()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.locator("h1")).to_have_text("Notifications")
    alerts = page.locator("ul.orders > li.card")
    expect(alerts).to_have_count(2)
    bins_alert = alerts.filter(has_text=f"#{bins_id} {BINS}")
    expect(bins_alert).to_have_class(re.compile(r"\bunread\b"))
    expect(bins_alert.locator("strong")).to_have_text("Overdue")
    expect(bins_alert).to_contain_text("Cleaning")
    ready(page)
    shot(page, "manager-notifications")
    check_page(page)

    bins_alert.locator("a").tap()
    expect(page).to_have_url(re.compile(rf"/orders/{bins_id}$"))
    expect(bell.locator(".count")).to_have_text("1")  # opening the alert read it
    expect(page.locator("main > p.meta .late")).to_have_text("Overdue")
    escalated = history(page).filter(has_text="Escalated")
    expect(escalated).to_have_count(1)
    expect(escalated).to_contain_text("Escalated (overdue)")
    expect(history(page).first).to_contain_text("Escalated (overdue)")
    # A manager's order page has the most controls: reassign, change, cancel.
    for segment in ("reassign", "change", "cancel"):
        expect(page.locator(f"form.action-{segment}")).to_have_count(1)
    ready(page)
    shot(page, "manager-overdue-order")
    check_page(page)

    # Mark all read: the badge goes.
    page.goto("/notifications")
    expect(alerts.filter(has_text=f"#{bins_id} ")).not_to_have_class(re.compile(r"\bunread\b"))
    page.get_by_role("button", name="Mark all read").tap()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.locator("header a.bell .count")).to_have_count(0)
    expect(alerts.first).not_to_have_class(re.compile(r"\bunread\b"))
    page.goto(f"/orders/{roads_id}")
    expect(page.locator(".facts")).to_contain_text("Late by 2 days 2 h")
    shot(page, "manager-notifications-read")


# --- 5: raising an owner's complaint by hand ------------------------------------------------

def test_supervisor_raises_an_owner_complaint(demo, phone_factory, shot):
    page = phone_factory()
    login(page)
    page.locator("header nav a", has_text="Work orders").tap()
    page.locator("nav.tiles a.tile", has_text="Raise an order").tap()
    expect(page).to_have_url(re.compile(r"/orders/new$"))
    expect(page.locator("h1")).to_have_text("Raise an order")
    ready(page)
    shot(page, "raise-form")
    check_page(page)

    description = "Water dripping from the ceiling in the lift lobby, block 3"
    page.locator("#description").fill(description)
    page.locator("#team").select_option(label="Engineering")
    page.locator("#area").select_option(label="Common grounds and roads")
    page.locator("#severity").select_option("major")
    page.locator("#photos").set_input_files(upload("ceiling.jpg", jpeg(blob=(60, 60, 200))))
    page.locator("#owner_name").fill("陈先生 Mr Chen")
    page.locator("#owner_unit").fill("3-1-202")
    page.locator("#owner_phone").fill("138 0013 8000")
    shot(page, "raise-form-filled")
    page.get_by_role("button", name="Raise the order").tap()

    expect(page).to_have_url(ORDER_URL)
    order_id = int(ORDER_URL.search(page.url).group(1))
    expect(page.locator("p.flash[role=status]")).to_have_text(f"Work order #{order_id} raised for Engineering.")
    expect(page.locator("p.lead")).to_have_text(description)
    expect(status(page)).to_have_text("Open")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Engineering")
    expect(facts).to_contain_text("Common grounds and roads")
    expect(facts).to_contain_text("陈先生 Mr Chen")
    expect(facts).to_contain_text("3-1-202")
    tel = facts.locator("a[href^='tel:']")
    expect(tel).to_have_attribute("href", "tel:13800138000")
    expect(tel).to_have_text("Call 138 0013 8000")
    before = page.locator(".beforeafter section").nth(0).locator("img")
    expect(before).to_have_count(1)
    images_loaded(page, before)
    expect(history(page).first).to_contain_text("Raised")
    shot(page, "raised-complaint")
    check_page(page)


# --- the crew's pages in Chinese ----------------------------------------------------------------

def test_crew_queue_and_order_in_chinese(demo, phone_factory, shot):
    roads_id, bins_id = raise_two_orders(demo)
    make_overdue(roads_id, minutes=75)  # the widest row: overdue, "late by 1 h 15 min"

    page = phone_factory("zh-CN")
    login(page, "crew.cleaning")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_have_text("本班组工单")
    rows = page.locator("#queue li.order-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_class(re.compile(r"\boverdue\b"))  # overdue first, though due later
    expect(rows.nth(0).locator(".otitle")).to_contain_text(f"#{roads_id} {ROADS_ZH}")
    expect(rows.nth(0).locator(".late")).to_be_visible()
    expect(rows.nth(0).locator(".st")).to_have_text("待处理")
    images_loaded(page, rows.locator("img.rowthumb"))
    shot(page, "queue-zh")
    check_page(page)

    rows.nth(0).locator("a").tap()
    expect(page).to_have_url(re.compile(rf"/orders/{roads_id}$"))
    expect(page.locator("h2#actions-h")).to_have_text("下一步")
    expect(page.locator("form.action-take button")).to_have_text("接单（稍后处理）")
    expect(page.locator("form.action-start button")).to_have_text("开始处理")
    expect(page.locator(".beforeafter h3")).to_have_text(["处理前", "处理后"])
    # Open the resolve panel too: its camera button and note are part of the page a crew uses.
    page.locator("#note-resolve").scroll_into_view_if_needed()
    expect(page.locator("#note-resolve")).to_be_visible()
    images_loaded(page, page.locator(".beforeafter img"))
    ready(page)
    shot(page, "order-zh")
    check_page(page)


# --- the crew sees every photo on their team's orders -------------------------------------------

def test_crew_sees_order_photos(demo, phone_factory, shot):
    from app.services import workorders as svc

    roads_id, _ = raise_two_orders(demo)
    cfg = current_app.config
    images = normalise_all([AFTER_ROADS], long_edge=cfg["PHOTO_LONG_EDGE"], thumb_edge=cfg["THUMB_LONG_EDGE"])
    crew_user = demo.users["crew.cleaning"]
    photos = store_photos(db.session, current_app.extensions["photo_store"], demo.site, crew_user, images)
    svc.act(db.session, db.session.get(WorkOrder, roads_id), crew_user, "resolve", note="swept",
            photos=photos)
    db.session.commit()  # services flush: the live server reads what is committed

    page = phone_factory()
    login(page, "crew.cleaning")
    page.goto(f"/orders/{roads_id}")
    imgs = page.locator(".beforeafter img")
    expect(imgs).to_have_count(2)
    shot(page, "crew-resolved-order")
    statuses = page.evaluate("Promise.all([...document.querySelectorAll('.beforeafter img')]"
                             ".map(i => fetch(i.src).then(r => r.status)))")
    assert statuses == [200, 200], f"before and after photo responses for the crew: {statuses}"
