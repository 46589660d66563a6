"""Layouts only a browser can measure: the dashboard's heat table at a desk and on a phone, and the
duty log's status badges on a phone in Chinese. Screenshots in both languages."""
import re

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.services import rounds, schedule
from app.services.seed import seed_history
from tests.browser.conftest import DEMO_PASSWORD, check_page, login

HEAT_FIT_JS = """() => {
    const wrap = document.querySelector('table.heat').closest('.table-wrap');
    const main = document.querySelector('main').getBoundingClientRect();
    const heads = [...document.querySelectorAll('table.heat thead th')].map(th => {
        const r = th.getBoundingClientRect();
        return {text: th.innerText.trim(), right: r.right, hidden: r.right > main.right + 0.5,
                clipped: th.scrollWidth > th.clientWidth + 1 || th.scrollHeight > th.clientHeight + 1};
    });
    return {scroll: wrap.scrollWidth, client: wrap.clientWidth, table: document.querySelector('table.heat').getBoundingClientRect().width,
            main: main.width, heads};
}"""


def desktop(browser, live_server, locale: str) -> Page:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, has_touch=False, is_mobile=False,
                              locale=locale, base_url=live_server)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.goto("/login")
    page.locator("#username").fill("manager")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main button.primary").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_heat_table_fits_a_desk_and_reads_on_a_phone(demo, browser, live_server, phone_factory, shot, locale):
    """At 1366×768 every category column is on screen; on a phone the area names stay in view."""
    seed_history(db.session, demo.site, days=30)
    db.session.commit()

    page = desktop(browser, live_server, locale)
    try:
        page.goto("/manage/dashboard")
        page.wait_for_load_state()
        page.locator("table.heat").scroll_into_view_if_needed()
        fit = page.evaluate(HEAT_FIT_JS)
        shot(page, "dashboard-1366")
        assert len(fit["heads"]) > 10  # the demo's month fails items of many categories
        assert fit["scroll"] <= fit["client"], (
            f"heat table {fit['scroll']} px wide in a {fit['client']} px column; hidden: "
            f"{[h['text'] for h in fit['heads'] if h['hidden']]}")
        assert not [h["text"] for h in fit["heads"] if h["hidden"] or h["clipped"]]
        check_page(page)
    finally:
        page.context.close()

    phone = phone_factory(locale)
    login(phone, "manager")
    phone.goto("/manage/dashboard")
    phone.wait_for_load_state()
    heat = phone.locator("table.heat")
    heat.scroll_into_view_if_needed()
    shot(phone, "dashboard-phone")
    fit = phone.evaluate(HEAT_FIT_JS)
    assert not [h["text"] for h in fit["heads"] if h["clipped"]]
    size = phone.evaluate("() => parseFloat(getComputedStyle(document.querySelector('table.heat thead th')).fontSize)")
    assert size >= 12
    # Scrolled to the last category, the row's area is still named beside its counts.
    phone.evaluate("() => { const w = document.querySelector('table.heat').closest('.table-wrap'); w.scrollLeft = w.scrollWidth; }")
    area = heat.locator("tbody th[scope=row]").first
    box, wrap = area.bounding_box(), phone.locator(".table-wrap:has(table.heat)").bounding_box()
    assert box["x"] >= wrap["x"] - 0.5 and box["x"] + box["width"] <= wrap["x"] + wrap["width"] + 0.5
    shot(phone, "dashboard-phone-scrolled")
    check_page(phone)


@pytest.mark.locale("zh-CN")
def test_duty_log_badges_keep_their_shape_on_a_phone_in_chinese(demo, phone, shot):
    """A round in progress on today's log: its badge is one line, as wide as its words, not a tall oval."""
    day = schedule.site_today(demo.site)
    rnd = next(r for r in schedule.rounds_for_day(db.session, demo.site, day) if r.slot == "morning")
    rounds.start_round(db.session, rnd, demo.users["supervisor"])
    db.session.commit()
    login(phone, "supervisor")
    phone.goto(f"/log/{demo.site.id}/{day.isoformat()}")
    phone.wait_for_load_state()
    badge = phone.locator("section[aria-labelledby=lr-h] .badge").first
    expect(badge).to_have_text("进行中")
    shot(phone, "duty-log-zh")
    shape = badge.evaluate("""b => { const r = b.getBoundingClientRect(), s = getComputedStyle(b);
        return {w: r.width, h: r.height, sw: b.scrollWidth, cw: b.clientWidth, line: parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.45}; }""")
    assert shape["sw"] <= shape["cw"] + 1, f"badge text overflows: {shape}"
    assert shape["h"] <= shape["line"] + 16, f"badge stretched tall: {shape}"
    assert shape["w"] > shape["h"], f"badge squeezed into a tall oval: {shape}"
    check_page(phone)
