"""The manager's desk in a browser: the dashboard (phone and desktop) and a heat-table drill-down,
adding a checklist item that the next round uses, and commenting on today's duty log.

The dashboard's data comes from seed_history (30 past days of rounds and orders), written through
the session the live server shares; the test commits before the browser reads.
"""
import re

from playwright.sync_api import Page, expect

from app.extensions import db
from app.services.seed import seed_history
from tests.browser.conftest import DEMO_PASSWORD, check_page, login

NEW_ITEM_EN = "Fountain pump running, water clear"
NEW_ITEM_ZH = "喷泉水泵运转正常，水质清澈"
CHECKPOINT_URL = re.compile(r"/rounds/(\d+)/checkpoints/1$")


def ready(page: Page) -> None:
    page.wait_for_load_state()


def login_with_mouse(page: Page, username: str) -> None:
    """login() taps; a desktop without touch clicks."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main button.primary").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    ready(page)


def test_dashboard_on_phone_and_desktop_drills_into_orders(demo, browser, live_server, phone_factory, shot):
    seed_history(db.session, demo.site, days=30)
    db.session.commit()

    phone = phone_factory()
    login(phone, "manager")
    phone.goto("/manage/dashboard")
    ready(phone)
    expect(phone.get_by_role("heading", name=re.compile("^Dashboard"))).to_be_visible()
    expect(phone.locator("table.heat td a").first).to_be_visible()
    shot(phone, "dashboard-phone")
    check_page(phone)

    desktop_ctx = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=False,
                                      is_mobile=False, locale="en-US", base_url=live_server)
    try:
        desktop_ctx.set_default_timeout(10_000)
        desktop = desktop_ctx.new_page()
        login_with_mouse(desktop, "manager")
        desktop.goto("/manage/dashboard")
        ready(desktop)
        expect(desktop.locator("table.heat td a").first).to_be_visible()
        shot(desktop, "dashboard-desktop")
        check_page(desktop)
    finally:
        desktop_ctx.close()

    cell = phone.locator("table.heat td a").first
    count = int(cell.inner_text())
    assert count >= 1
    cell.tap()
    expect(phone).to_have_url(re.compile(r"/orders\?.*category="))
    expect(phone).to_have_url(re.compile(r"/orders\?.*area="))
    ready(phone)
    expect(phone.locator("li.order-row").first).to_be_visible()
    assert phone.locator("li.order-row").count() >= 1
    shot(phone, "heat-cell-orders")


def test_new_checklist_item_reaches_the_next_round(demo, phone_factory, shot):
    manager = phone_factory()
    login(manager, "manager")
    manager.goto("/manage/templates")
    ready(manager)
    shot(manager, "templates")
    manager.locator("main .cplist a", has=manager.locator(".cpname", has_text=re.compile(r"^Greenery$"))).tap()
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Greenery")
    ready(manager)
    shot(manager, "greenery-template")
    manager.get_by_role("link", name="Add an item").tap()
    expect(manager.get_by_role("heading", name="Checklist item")).to_be_visible()
    ready(manager)
    manager.get_by_label("Text (中文)").fill(NEW_ITEM_ZH)
    manager.get_by_label("Text (English)").fill(NEW_ITEM_EN)
    manager.locator("#team_code").select_option("greenery")
    manager.locator("#severity").select_option("major")
    shot(manager, "item-filled")
    manager.get_by_role("button", name="Save").tap()
    expect(manager).to_have_url(re.compile(r"/manage/templates/\d+$"))
    ready(manager)
    new = manager.locator("ol.orders li", has=manager.get_by_role("link", name=NEW_ITEM_EN))
    expect(new).to_be_visible()
    expect(new.locator(".meta")).to_contain_text("Greenery")  # the team's name, not its code
    shot(manager, "item-in-template")

    sup = phone_factory()
    login(sup, "supervisor")
    sup.goto("/today")
    ready(sup)
    shot(sup, "today")
    card = sup.locator("article.round").filter(has=sup.get_by_role("heading", name="Morning round"))
    card.locator("form[action$='/start'] button").tap()
    expect(sup).to_have_url(CHECKPOINT_URL)
    ready(sup)
    round_id = int(CHECKPOINT_URL.search(sup.url).group(1))
    sup.goto(f"/rounds/{round_id}/checkpoints/2")
    ready(sup)
    expect(sup.get_by_role("heading", level=1)).to_contain_text("Central garden")
    expect(sup.locator("form.item p.text", has_text=NEW_ITEM_EN)).to_be_visible()
    shot(sup, "checkpoint-with-new-item")


def test_manager_comments_on_todays_log(demo, phone_factory, shot):
    page = phone_factory()
    login(page, "manager")
    page.goto("/log")
    ready(page)
    shot(page, "duty-logs")
    page.get_by_role("link", name="Today's log").tap()
    expect(page).to_have_url(re.compile(r"/log/\d+/\d{4}-\d{2}-\d{2}$"))
    ready(page)
    comment = "Garden fountain: check again on Friday. 周五复查。"
    page.locator("#comment").fill(comment)
    shot(page, "comment-filled")
    page.get_by_role("button", name="Save comments and mark read").tap()
    expect(page.locator("main")).to_contain_text("Read by")
    ready(page)
    expect(page.locator("main")).to_contain_text(comment)
    expect(page.locator("#comment")).to_have_count(0)
    expect(page.get_by_role("button", name="Save comments and mark read")).to_have_count(0)
    shot(page, "log-read")


def test_all_sites_summary_drills_into_one_site(demo, phone_factory, shot):
    """With two estates, All sites is a line per site (no heat tables); a site's name opens its own
    dashboard with its heat table — in English and in Chinese."""
    from tests.web.helpers import other_site

    seed_history(db.session, demo.site, days=30)
    other = other_site()
    demo.users["manager"].sites.append(other)
    db.session.commit()

    for locale, heading, site_name in (("en-US", "Sites", demo.site.name_en), ("zh-CN", "项目", demo.site.name_zh)):
        page = phone_factory(locale=locale)
        login(page, "manager")
        page.goto("/manage/dashboard?site=all")
        ready(page)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        rows = page.locator("table.sites tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("table.heat")).to_have_count(0)
        shot(page, f"all-sites-{locale}")
        check_page(page)
        rows.get_by_role("link", name=site_name).tap()
        expect(page).to_have_url(re.compile(rf"/manage/dashboard\?site={demo.site.id}$"))
        ready(page)
        expect(page.locator("table.heat td a").first).to_be_visible()
        shot(page, f"one-site-{locale}")
