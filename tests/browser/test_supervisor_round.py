"""A supervisor walks the morning round on a phone: one-tap answers, a refused and then accepted
failure with a photo, the work order on the team's list, finishing, and switching to Chinese.

The clock is not frozen (that would also freeze the browser's waits): a round can be started at any
hour of its day, so only the label of Today's status badge depends on when the suite runs.
"""
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    STATUS_LABELS_EN, axe_check, check_page, login, no_horizontal_scroll, tap_targets_ok,
)

TOTAL = 109  # items on the demo morning round
ROADS = "Roads and footpaths clean"
ROADS_ZH = "道路及人行道清洁"
CHECKPOINT_URL = re.compile(r"/rounds/(\d+)/checkpoints/1$")


def jpeg(width: int = 1200, height: int = 900) -> bytes:
    """A real camera-sized JPEG: a sky-to-lawn gradient with a 'litter' blob on the path."""
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(90 + 60 * t), int(150 + 60 * t), int(220 - 150 * t)))
    draw.rectangle([0, height * 2 // 3, width, height], fill=(150, 150, 140))
    draw.ellipse([width // 2 - 80, height * 3 // 4 - 40, width // 2 + 80, height * 3 // 4 + 40],
                 fill=(200, 40, 30))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def progress(page: Page):
    return page.locator("#progress p")


def round_card(page: Page, slot_name: str):
    return page.locator("article.round").filter(has=page.get_by_role("heading", name=slot_name))


def start_round(page: Page, slot_name: str = "Morning round") -> int:
    """From Today, start a round; returns its id once its first checkpoint is shown."""
    round_card(page, slot_name).locator("form[action$='/start'] button").tap()
    expect(page).to_have_url(CHECKPOINT_URL)
    # Deferred htmx must be set up before a tap, and the page's asset responses (each refreshes
    # the session cookie) must be in before a test clears the cookies.
    page.wait_for_load_state()
    round_id = int(CHECKPOINT_URL.search(page.url).group(1))
    # The service worker keeps the round's pages for offline use (static/sw.js): wait until it has, so
    # its fetches (which refresh the session cookie too) are not still running when a test goes on.
    expect(page.locator("html")).to_have_attribute("data-round-kept", str(round_id), timeout=20_000)
    return round_id


def scroll_y(page: Page) -> float:
    return page.evaluate("window.scrollY")


def test_supervisor_walks_the_morning_round(demo, phone: Page, shot):
    page = phone

    # Log in (English, from the phone's Accept-Language).
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(page, "login")
    check_page(page)
    login(page)

    # Today: both rounds of the demo site.
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.get_by_role("heading", name=re.compile("Jade Lake Gardens"))).to_be_visible()
    expect(page.locator("article.round h3")).to_have_text(["Morning round", "Afternoon round"])
    for badge in page.locator("article.round .badge").all_inner_texts():
        assert badge.strip() in STATUS_LABELS_EN
    expect(round_card(page, "Morning round")).to_contain_text("09:30–11:00")
    expect(round_card(page, "Afternoon round")).to_contain_text("15:00–17:00")
    shot(page, "today")
    check_page(page)

    # Start the morning round: checkpoint 1 of the route.
    round_id = start_round(page)
    expect(page.locator("h1")).to_have_text("Common grounds and roads")
    expect(progress(page)).to_have_text(f"0 of {TOTAL} answered, 0 failed")
    items = page.locator("form.item")
    ids = [items.nth(i).get_attribute("id") for i in range(4)]
    item = [page.locator(f"[id='{i}']") for i in ids]
    expect(item[0].locator(".text")).to_contain_text(ROADS)
    expect(item[0].locator(".photo-rule")).to_have_text("Photo needed if failed")
    shot(page, "checkpoint")
    check_page(page)

    # One tap per item: the answer and the counter update in place, no navigation, no jump.
    page.evaluate("window.__noReload = 'still here'")
    for n in range(3):
        button = item[n].locator("button.choice-pass")
        button.scroll_into_view_if_needed()
        before = scroll_y(page)
        button.tap()
        expect(item[n].locator("button.choice-pass")).to_have_attribute("aria-pressed", "true")
        expect(progress(page)).to_have_text(f"{n + 1} of {TOTAL} answered, 0 failed")
        assert scroll_y(page) == before, "the page scrolled after an answer"
    assert page.evaluate("window.__noReload") == "still here", "the page was reloaded"
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/checkpoints/1$"))
    shot(page, "three-passed")

    # Change the first item (Roads…, photo needed if failed) from Pass to Fail without a photo:
    # refused in place, the note typed is kept, its Pass and the other answers stay.
    roads = item[0]
    roads.locator("summary").tap()
    roads.locator("textarea[name=note]").fill("Leaves and a drinks can by gate 3")
    roads.locator("button.choice-fail").tap()
    error = roads.locator("p.error[role=alert]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("photo")
    expect(roads.locator("textarea[name=note]")).to_have_value("Leaves and a drinks can by gate 3")
    expect(roads.locator("textarea[name=note]")).to_be_visible()
    expect(roads.locator("button.choice-fail")).to_have_attribute("aria-pressed", "false")
    expect(roads.locator("button.choice-pass")).to_have_attribute("aria-pressed", "true")  # unchanged
    for other in item[1:3]:
        expect(other.locator("button.choice-pass")).to_have_attribute("aria-pressed", "true")
        expect(other.locator("p.error")).to_have_count(0)
    expect(item[3].locator("button[aria-pressed=true]")).to_have_count(0)
    expect(progress(page)).to_have_text(f"3 of {TOTAL} answered, 0 failed")
    assert page.evaluate("window.__noReload") == "still here"
    roads.scroll_into_view_if_needed()
    shot(page, "fail-refused")

    # Take the photo: choosing it sends it at once; then Fail is accepted and raises an order.
    file_input = roads.locator("input[type=file][name=photos]")
    expect(file_input).to_have_attribute("accept", "image/*")
    file_input.set_input_files({"name": "gate3.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    thumb = roads.locator("ul.thumbs img")
    expect(thumb).to_have_count(1)
    expect(roads.locator("p.error")).to_have_count(0)
    roads.locator("button.choice-fail").tap()
    expect(roads.locator("button.choice-fail")).to_have_attribute("aria-pressed", "true")
    expect(roads.locator("button.choice-pass")).to_have_attribute("aria-pressed", "false")
    expect(progress(page)).to_have_text(f"3 of {TOTAL} answered, 1 failed")
    order_link = roads.locator("p.order a")
    expect(order_link).to_have_text(re.compile(r"^Work order #\d+$"))
    order_id = int(re.search(r"#(\d+)", order_link.inner_text()).group(1))
    expect(roads.locator("p.order")).to_contain_text("Cleaning")
    expect(thumb).to_have_count(1)
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert page.evaluate("window.__noReload") == "still here"
    roads.scroll_into_view_if_needed()
    shot(page, "failed-with-photo")

    # The order is on the Cleaning team's open list.
    page.goto("/teams")
    cleaning = page.locator(".cplist a").filter(has_text="Cleaning")
    expect(cleaning).to_contain_text("1 open")
    shot(page, "teams")
    check_page(page)
    cleaning.tap()
    expect(page).to_have_url(re.compile(r"/teams/\d+/orders$"))
    expect(page.locator("h1")).to_contain_text("Cleaning")
    expect(page.locator("#orders .order-row")).to_have_count(1)
    expect(page.locator("#orders .order-row")).to_contain_text(f"#{order_id} ")
    expect(page.locator("#orders .order-row")).to_contain_text(ROADS)
    shot(page, "cleaning-orders")
    check_page(page)

    # Back to the round; finish it: the unanswered items come first, then the confirmation.
    page.goto(f"/rounds/{round_id}")
    expect(progress(page)).to_have_text(f"3 of {TOTAL} answered, 1 failed")
    page.get_by_role("link", name="Finish round").tap()
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/finish$"))
    missing = page.locator("section.warn")
    expect(missing.locator("h2")).to_have_text(f"{TOTAL - 3} items are not answered")
    expect(missing.locator("ul.missing li")).to_have_count(TOTAL - 3)
    expect(missing.locator("ul.missing li").first).to_contain_text("Street and path lights")
    finish = page.get_by_role("button", name="Finish anyway")
    assert page.evaluate(
        "([list, button]) => !!(list.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING)",
        [missing.element_handle(), finish.element_handle()]), "the missing items must come first"
    shot(page, "finish")
    check_page(page)
    finish.tap()

    # The summary: the order raised; the round is read-only now.
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}$"))
    expect(page.get_by_role("heading", name="Work orders raised")).to_be_visible()
    expect(page.locator("ul.orders li")).to_have_count(1)
    expect(page.locator("ul.orders li")).to_contain_text(f"#{order_id}")
    expect(page.locator(".facts")).to_contain_text(f"3 of {TOTAL} answered, 1 failed")
    # Walked now: on time, before the window (the suite may run at night) or after it.
    expect(page.locator(".badge")).to_have_text(re.compile(r"^(Done|Late|Outside the window \(early\))$"))
    shot(page, "summary")
    check_page(page)

    page.goto(f"/rounds/{round_id}/checkpoints/1")
    expect(page.locator("form.item")).to_have_count(items.count())
    expect(page.locator("button.choice-pass, button.choice-fail, button.choice-na")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.locator("form.item").first.locator(".answer-ro")).to_have_text("Fail")
    expect(page.locator("form.item").first.locator(".note-ro")).to_have_text(
        "Leaves and a drinks can by gate 3")
    expect(page.get_by_text("This round is finished and can no longer be changed.")).to_be_visible()
    shot(page, "checkpoint-read-only")

    # Switch to Chinese with the header button: same page, now in Chinese.
    page.locator("header form.lang button").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/checkpoints/1$"))
    expect(page.locator("form.item").first.locator(".text")).to_contain_text(ROADS_ZH)
    expect(page.locator("header form.lang button")).to_have_text("EN")
    shot(page, "checkpoint-read-only-zh")
    check_page(page)

    # Today and a live checkpoint in Chinese: start the afternoon round (下午巡查).
    page.locator("header nav a").first.tap()
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_have_text("今日")
    expect(page.get_by_role("heading", name=re.compile("翠湖花园"))).to_be_visible()
    expect(page.locator("article.round .window").first).to_contain_text("上午巡查路线")
    shot(page, "today-zh")
    check_page(page)
    afternoon = page.locator("article.round").nth(1)
    afternoon.locator("form[action$='/start'] button").tap()
    expect(page).to_have_url(CHECKPOINT_URL)
    expect(page.locator("form.item").first.locator(".text")).to_contain_text(ROADS_ZH)
    expect(page.locator("form.item").first.locator("button.choice-pass")).to_have_text("合格")
    expect(page.locator("form.item").first.locator("button.choice-fail")).to_have_text("不合格")
    shot(page, "checkpoint-zh")
    check_page(page)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_small_phone_fits(demo, phone_factory, shot, locale):
    """A 360 px phone: no sideways scrolling and big enough targets, in both languages."""
    page = phone_factory(locale, width=360, height=740)
    login(page)
    expect(page).to_have_url(re.compile(r"/today$"))
    shot(page, "today")
    no_horizontal_scroll(page)
    tap_targets_ok(page)
    page.locator("article.round").first.locator("form[action$='/start'] button").tap()
    expect(page).to_have_url(CHECKPOINT_URL)
    page.wait_for_load_state()
    # Open a note and show a refusal too: the widest state an item gets into.
    first = page.locator("form.item").first
    first.locator("button.choice-fail").tap()
    expect(first.locator("p.error")).to_be_visible()
    shot(page, "checkpoint")
    no_horizontal_scroll(page)
    tap_targets_ok(page)


def test_expired_session_sends_the_whole_page_to_login(demo, phone: Page, shot):
    page = phone
    login(page)
    round_id = start_round(page)
    checkpoint = f"/rounds/{round_id}/checkpoints/1"
    page.context.clear_cookies()  # the session ends (expiry, logout on another tab, restart)

    page.locator("form.item").first.locator("button.choice-pass").tap()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    shot(page, "login-after-expiry")
    assert parse_qs(urlsplit(page.url).query)["next"] == [checkpoint]
    expect(page.locator("#username")).to_have_count(1)
    expect(page.locator("form.item")).to_have_count(0)
    expect(page.locator("form.item #username, form.item form")).to_have_count(0)

    # Logging in again goes back to the checkpoint; the tap from before was not saved.
    page.locator("#username").fill("supervisor")
    page.locator("#password").fill("rounds-demo")
    page.locator("main button.primary").tap()
    expect(page).to_have_url(re.compile(rf"{re.escape(checkpoint)}$"))
    expect(progress(page)).to_have_text(f"0 of {TOTAL} answered, 0 failed")


def test_offline_tap_is_kept_on_the_phone_and_sent_when_back_online(demo, phone: Page, shot):
    """No signal: the tap is kept on the phone, marked as waiting (static/queue.js; the whole story is in
    test_offline_queue.py), and sent by itself when the network returns."""
    page = phone
    login(page)
    start_round(page)
    first = page.locator("form.item").first
    first_id = first.get_attribute("id")
    item = page.locator(f"[id='{first_id}']")

    page.context.set_offline(True)
    item.locator("button.choice-pass").tap()
    expect(item.locator("p.qmark")).to_have_text("Waiting to send")
    expect(item.locator("button.choice-pass")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#outbox [data-outbox-count]")).to_have_text("1 waiting to send")
    expect(item.locator("p.offline")).to_be_hidden()
    expect(progress(page)).to_have_text(f"0 of {TOTAL} answered, 0 failed")
    shot(page, "offline")
    axe_check(page)

    page.context.set_offline(False)
    expect(progress(page)).to_have_text(f"1 of {TOTAL} answered, 0 failed")
    expect(item.locator("button.choice-pass")).to_have_attribute("aria-pressed", "true")
    expect(item.locator("p.qmark")).to_have_count(0)
    expect(page.locator("#outbox")).to_be_hidden()
    shot(page, "back-online")
