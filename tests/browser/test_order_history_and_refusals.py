"""What users read after acting: a refused resolve in view where the crew is looking (both
languages), an order's history in Chinese as a manager changed it, and an upload too large for the
server said as such on the round (htmx).

Orders are raised through the services (fast); the browser does what the user does.
"""
import re

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import WorkOrder
from app.services import workorders as wo
from tests.browser.conftest import check_page, login
from tests.browser.test_work_orders import BEFORE_ROADS, raise_two_orders, upload
from tests.web.helpers import started_morning

IN_VIEW_JS = """el => { const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight && document.activeElement === el; }"""


def viewport_shot(shot, page: Page, name: str) -> None:
    """What the user sees without scrolling (the shot fixture takes the whole page)."""
    path = shot(page, name + "-full")
    page.screenshot(path=str(path).replace("-full.png", "-screen.png"), caret="initial")


@pytest.mark.parametrize("locale, message, typed", [
    ("en-US", "Add at least one “after” photo to resolve this order.", "Swept the path by gate 3"),
    ("zh-CN", "完工须至少附一张“处理后”照片。", "已清扫3号门旁小路"),
], ids=["en", "zh"])
def test_a_refused_resolve_is_in_view_focused_and_keeps_the_note(demo, phone_factory, shot, locale,
                                                                 message, typed):
    roads_id, _ = raise_two_orders(demo)
    crew_user = demo.users["crew.cleaning"]
    order = db.session.get(WorkOrder, roads_id)
    wo.act(db.session, order, crew_user, "start")
    db.session.commit()

    crew = phone_factory(locale)
    login(crew, "crew.cleaning")
    crew.goto(f"/orders/{roads_id}")
    crew.wait_for_load_state()
    crew.locator("#note-resolve").fill(typed)
    with crew.expect_response(lambda r: r.request.method == "POST" and "/resolve" in r.url) as resp:
        crew.locator("form.action-resolve button:not([type=button])").tap()
    assert resp.value.status == 422
    crew.wait_for_load_state()
    refusal = crew.locator("form.action-resolve .refusal")
    expect(refusal).to_have_text(message)
    expect(refusal).to_have_attribute("role", "alert")
    crew.wait_for_function(IN_VIEW_JS, arg=refusal.element_handle())  # on screen, and focused
    expect(crew.locator("#note-resolve")).to_have_value(typed)
    expect(crew.locator("#note-resolve")).to_be_in_viewport()
    viewport_shot(shot, crew, f"refused-resolve-{locale}")
    check_page(crew)


def test_the_order_history_reads_in_chinese_after_a_managers_changes(demo, phone_factory, shot):
    roads_id, _ = raise_two_orders(demo)
    wo.act(db.session, db.session.get(WorkOrder, roads_id), demo.users["crew.cleaning"], "take")
    db.session.commit()

    page = phone_factory("zh-CN")
    login(page, "manager")
    page.goto(f"/orders/{roads_id}")
    page.wait_for_load_state()
    # Take it over from the crew member, then move it to Customer service, then make it critical.
    page.get_by_role("button", name=re.compile(r"^从.+处接手$")).tap()
    expect(page.locator(".facts")).to_contain_text("陈经理")
    page.locator("summary", has_text="改派其他班组").tap()
    page.locator("#team-reassign").select_option(label="客服")
    page.locator("form.action-reassign button").tap()
    expect(page.locator(".facts")).to_contain_text("客服")
    page.locator("summary", has_text="修改严重程度或时限").tap()
    page.locator("#severity-change").select_option("critical")
    page.locator("form.action-change button").tap()
    expect(page.locator("main > p.meta .sev")).to_have_text("紧急")

    history = page.locator("ol.timeline")
    text = history.inner_text()
    for code in ("customer_service", "cleaning", "critical", "minor", "severity", "due ", "+00:00", "T0", "T1"):
        assert code not in text, (code, text)
    expect(history.locator("li").nth(0)).to_contain_text("严重程度：一般 → 紧急")
    expect(history.locator("li").nth(0)).not_to_contain_text("完成时限")  # only what was changed
    expect(history.locator("li").nth(1)).to_contain_text("班组：保洁 → 客服")
    expect(history.locator("li").nth(2)).to_contain_text("已接手")
    expect(history.locator("li").nth(2)).to_contain_text(re.compile(r"处理人：.+ → 陈经理"))
    history.scroll_into_view_if_needed()
    shot(page, "history-zh")
    check_page(page)

    # The same history read in English (the header's language button): names and site time too.
    page.locator("form.lang button").tap()
    expect(page.locator("main > p.meta .sev")).to_have_text("Critical")
    text = history.inner_text()
    for code in ("customer_service", "critical", "minor", "+00:00", "T0", "T1", "紧急", "客服"):
        assert code not in text, (code, text)
    expect(history.locator("li").nth(0)).to_contain_text("Severity: Minor → Critical")
    expect(history.locator("li").nth(0)).not_to_contain_text("Due")
    expect(history.locator("li").nth(1)).to_contain_text("Team: Cleaning → Customer service")
    expect(history.locator("li").nth(2)).to_contain_text("Taken over")
    expect(history.locator("li").nth(2)).to_contain_text(re.compile(r"Assigned to: .+ → 陈经理 Chen"))
    expect(history.locator("li time").first).to_have_text(re.compile(r"^\d\d-\d\d \d\d:\d\d$"))
    history.scroll_into_view_if_needed()
    shot(page, "history-en")
    check_page(page)


@pytest.mark.parametrize("locale, message", [
    ("zh-CN", "未保存：照片太大，无法发送。请重新拍摄，或分几次发送。"),
    ("en-US", "Not saved: the photos are too large to send. Take them again, or send fewer at a time."),
], ids=["zh", "en"])
def test_photos_too_large_for_the_server_say_so_on_the_round(demo, phone_factory, shot, locale, message):
    """A 413 (the proxy's or ours) under htmx: the item says the photos are too large, in the
    user's language (never the generic "server had a problem")."""
    rnd = started_morning(demo)
    db.session.commit()
    page = phone_factory(locale)
    login(page)
    page.route(re.compile(r"/items/\d+$"), lambda route: route.fulfill(status=413, body="Too large"))
    page.goto(f"/rounds/{rnd.id}/checkpoints/1")
    page.wait_for_load_state()
    item = page.locator("form.item").first
    item.locator("input[type=file][name=photos]").set_input_files(upload("huge.jpg", BEFORE_ROADS))
    status = item.locator(".offline")
    expect(status).to_have_text(message)
    expect(status).to_be_in_viewport()
    shot(page, f"too-large-{locale[:2]}")
