"""The staff side of residents' reports on a phone (390×844, touch), in Chinese and in English: the
supervisor's list of reports to triage and one report's triage page (with a duplicate to merge into), the
manager's places page and its printable QR sheet. Each page passes axe, has 44 px targets and nothing
sticking out at 360 px; no internal code and no ISO time is shown. Screenshots in
test-artefacts/screenshots/<test>/.
"""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services import residents as svc
from tests.browser.conftest import check_page, login, no_horizontal_scroll
from tests.browser.test_resident_report import after_photo

# Codes the database keeps that a person must never read: snake_case codes, ISO dates and times.
# (Labels are capitalised in English; a lower-case code word is the code itself. Place and team names such as
# "Building 3 lobby" or "Security & parking" are names, not codes, so kinds and "parking" are not listed.)
CODE_RE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:cleaning|greenery|repairs|noise|major|minor|critical|"
                     r"cancelled)\b")
ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|[+-]\d{2}:\d{2}\b|UTC")

TEXT = {
    "zh-CN": {"list": "住户报事", "confirm": "确认并派给班组", "qr": "打印二维码", "places": "位置及二维码",
              "dup": "2 位住户报了这个问题"},
    "en-US": {"list": "Residents' reports", "confirm": "Confirm and send to the team", "qr": "Print the QR codes",
              "places": "Places and their QR codes", "dup": "2 residents reported this"},
}


@pytest.fixture
def estate(demo):
    """Three places (one withdrawn) and four reports: two about the lobby's floor (one merged away),
    one from the lift with a photo and a call-back, one noise report."""
    lobby = svc.new_place(db.session, demo.site, kind="lobby", name_zh="3号楼大堂", name_en="Building 3 lobby",
                          area=demo.site.areas[0])
    lift = svc.new_place(db.session, demo.site, kind="lift", name_zh="3号楼2号电梯", name_en="Building 3, lift 2")
    garage = svc.new_place(db.session, demo.site, kind="garage", name_zh="地下车库", name_en="Underground garage")
    svc.revoke_place(db.session, garage)
    sup = demo.users["supervisor"]
    _t, first = svc.submit(db.session, lobby, category="cleaning", description="大堂地面有积水，很滑")
    _t, second = svc.submit(db.session, lobby, category="cleaning", description="大堂门口一滩水")
    svc.merge(db.session, second.order, first.order, sup)
    _t, third = svc.submit(db.session, lobby, category="cleaning", description="大堂又有积水了")
    _t, lifted = svc.submit(db.session, lift, category="repairs", description="电梯按钮7楼不亮",
                            unit="3-1-1201", phone="138 0000 1234", photos=[after_photo(demo.site)])
    svc.submit(db.session, lift, category="noise", description="晚上11点还在装修")
    db.session.commit()
    return {"third": third.order_id, "lift": lifted.order_id}


def readable(page) -> str:
    text = page.locator("main").inner_text()
    assert not CODE_RE.search(text), (page.url, CODE_RE.search(text).group(0), text[:600])
    assert not ISO_RE.search(text), (page.url, ISO_RE.search(text).group(0), text[:600])
    return text


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_supervisor_triages_and_manager_prints_codes_on_a_phone(estate, phone_factory, shot, locale):
    words = TEXT[locale]
    phone = phone_factory(locale)
    login(phone, "supervisor")
    phone.goto("/reports")
    expect(phone.get_by_role("heading", name=words["list"])).to_be_visible()
    expect(phone.locator("li.order-row")).to_have_count(4)
    text = readable(phone)
    assert words["dup"] in text
    check_page(phone)
    shot(phone, f"reports-list-{locale}")

    phone.locator(f'a[href="/reports/{estate["third"]}"]').tap()
    expect(phone.get_by_role("button", name=words["confirm"])).to_be_visible()
    readable(phone)
    check_page(phone)
    shot(phone, f"triage-duplicate-{locale}")

    phone.goto(f"/reports/{estate['lift']}")
    expect(phone.locator("main")).to_contain_text("3-1-1201")
    readable(phone)
    check_page(phone)
    shot(phone, f"triage-photo-callback-{locale}")

    manager = phone_factory(locale)
    login(manager, "manager")
    manager.goto("/manage/places")
    expect(manager.get_by_role("heading", name=words["places"])).to_be_visible()
    readable(manager)
    check_page(manager)
    for height in manager.locator(".place-row button").evaluate_all("bs => bs.map(b => b.offsetHeight)"):
        assert height < 60, "a row's button wraps its words"
    shot(manager, f"places-{locale}")
    manager.get_by_role("link", name=words["qr"]).tap()
    expect(manager.locator("main svg")).to_have_count(2)  # the withdrawn garage is not printed
    readable(manager)
    check_page(manager)
    shot(manager, f"places-qr-{locale}")

    narrow = phone_factory(locale, width=360, height=740)
    login(narrow, "manager")
    for url in ("/reports", f"/reports/{estate['third']}", f"/reports/{estate['lift']}", "/manage/places",
                "/manage/places/qr"):
        narrow.goto(url)
        no_horizontal_scroll(narrow)
        for height in narrow.locator(".place-row button").evaluate_all("bs => bs.map(b => b.offsetHeight)"):
            assert height < 60, f"a row's button wraps its words on {url}"
