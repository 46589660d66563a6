"""A manager on a phone edits a checklist item and reads, in their own language, that the change applies to
their estate only (from the next round); another estate keeps the shared checklist."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import ChecklistTemplate
from app.services.checklists import for_site
from tests.browser.conftest import check_page, login
from tests.web.helpers import other_site

EDITED_EN = "Lawns mown, edges trimmed, no litter in beds"


def ready(page: Page) -> None:
    page.wait_for_load_state()


def open_greenery(page: Page, name: str) -> None:
    page.goto("/manage/templates")
    ready(page)
    page.locator("main .cplist a", has=page.locator(".cpname", has_text=re.compile(rf"^{name}$"))).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    ready(page)


def test_manager_edits_an_item_for_their_estate_only(demo, phone_factory, shot):
    other = other_site()
    library = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "patrol_greenery",
                                                                ChecklistTemplate.site_id.is_(None)))
    old_text = library.current_version.items[0].text_en

    page = phone_factory()
    login(page, "manager")
    open_greenery(page, "Greenery")
    note = page.get_by_role("note")
    expect(note).to_contain_text("Changes apply to Jade Lake Gardens from the next round.")
    expect(note).to_contain_text("your first change makes its own copy")
    shot(page, "shared-greenery-en")
    check_page(page)
    page.locator("ol.orders li a").first.tap()
    expect(page.get_by_role("heading", name="Checklist item")).to_be_visible()
    ready(page)
    expect(page.get_by_role("note")).to_contain_text("Changes apply to Jade Lake Gardens from the next round.")
    page.get_by_label("Text (English)").fill(EDITED_EN)
    shot(page, "item-edit-en")
    check_page(page)
    page.get_by_role("button", name="Save").tap()
    expect(page).to_have_url(re.compile(r"/manage/templates/\d+$"))
    ready(page)
    expect(page.locator("main")).to_contain_text("Saved for Jade Lake Gardens.")
    expect(page.get_by_role("note")).to_contain_text("Own copy for Jade Lake Gardens: other estates are not affected.")
    expect(page.locator("ol.orders li").first).to_contain_text(EDITED_EN)
    shot(page, "own-copy-en")
    check_page(page)

    zh = phone_factory(locale="zh-CN")
    login(zh, "manager")
    zh.goto("/manage/templates")
    ready(zh)
    expect(zh.locator("main .cplist li", has_text="绿化")).to_contain_text("专属副本")
    shot(zh, "templates-zh")
    open_greenery(zh, "绿化")
    expect(zh.get_by_role("note")).to_contain_text("修改从下一轮巡查起适用于翠湖花园。")
    expect(zh.get_by_role("note")).to_contain_text("其他项目不受影响")
    zh.locator("ol.orders li a").first.tap()
    expect(zh.get_by_role("heading", name="检查项")).to_be_visible()
    ready(zh)
    expect(zh.get_by_role("note")).to_contain_text("修改从下一轮巡查起适用于翠湖花园。")
    shot(zh, "item-edit-zh")
    check_page(zh)

    db.session.expire_all()
    assert library.current_version.items[0].text_en == old_text
    assert for_site(db.session, "patrol_greenery", demo.site.id).current_version.items[0].text_en == EDITED_EN
    assert for_site(db.session, "patrol_greenery", other.id).id == library.id
