"""Proof of presence on phones: a second supervisor (and a crew member) scanning the first
supervisor's checkpoint code is refused in their language and nothing is recorded; the first
supervisor scans, lands on that checkpoint checked in (site time), and a second scan shows the first
time; the manager's compliance page shows who scanned. Also: a round walked hours before its window
reads "outside the window (early)", not "Late".

The round is started through the service (faster); the test commits so the live server sees it.
"""
import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import CheckIn, Checkpoint
from tests.browser.conftest import check_page, login
from tests.web.helpers import started_morning

HHMM = r"\d\d:\d\d"


def scan(page: Page, token: str) -> None:
    """What the phone's camera does with a printed code: open its URL."""
    page.goto(f"/scan/{token}")
    page.wait_for_load_state()


def checkins() -> list[CheckIn]:
    db.session.rollback()  # see what the live server committed
    return db.session.scalars(select(CheckIn)).all()


def test_second_supervisor_scan_is_refused_and_the_walker_checks_in(demo, phone_factory, shot):
    rnd = started_morning(demo)
    round_id, site_tz = rnd.id, demo.site.tz
    garage = db.session.scalar(select(Checkpoint).where(Checkpoint.route_id == rnd.route_id)
                               .order_by(Checkpoint.position).offset(3))
    token, garage_en, garage_zh = garage.qr_token, garage.name_en, garage.name_zh
    db.session.commit()

    # The second supervisor, with no round of their own, scans: a refusal that says why, in English...
    other = phone_factory("en-US")
    login(other, "supervisor2")
    scan(other, token)
    expect(other.get_by_role("heading", name="Not checked in")).to_be_visible()
    alert = other.locator("main [role=alert]")
    expect(alert).to_contain_text("You have no round in progress here")
    expect(alert).to_contain_text("王助理 Wang")
    expect(other.locator("main")).to_contain_text("Nothing was recorded.")
    expect(other.get_by_role("link", name="Go to Today")).to_be_visible()
    shot(other, "second-supervisor-refused-en")
    check_page(other)

    # ...and in Chinese.
    other_zh = phone_factory("zh-CN")
    login(other_zh, "supervisor2")
    scan(other_zh, token)
    expect(other_zh.get_by_role("heading", name="未签到")).to_be_visible()
    expect(other_zh.locator("main [role=alert]")).to_contain_text("您在这里没有进行中的巡查")
    expect(other_zh.locator("main")).to_contain_text("未做任何记录")
    shot(other_zh, "second-supervisor-refused-zh")
    check_page(other_zh)

    # A crew member's phone: their role does not walk rounds.
    crew = phone_factory("zh-CN")
    login(crew, "crew.cleaning")
    scan(crew, token)
    expect(crew.locator("main [role=alert]")).to_contain_text("您的角色不执行巡查")
    shot(crew, "crew-refused-zh")
    check_page(crew)
    assert checkins() == []

    # The supervisor walking the round scans: that checkpoint of their round, checked in (site time).
    walker = phone_factory("en-US")
    login(walker, "supervisor")
    scan(walker, token)
    expect(walker).to_have_url(re.compile(rf"/rounds/{round_id}/checkpoints/4$"))
    expect(walker.locator("h1")).to_have_text(garage_en)
    [ci] = checkins()
    at = ci.at.astimezone(site_tz).strftime("%H:%M")
    expect(walker.locator("main .flash[role=status]")).to_have_text(f"Checked in here at {at}.")
    shot(walker, "walker-checked-in-en")
    check_page(walker)

    # Opened again (the camera app, then the browser): the first time stands.
    scan(walker, token)
    expect(walker).to_have_url(re.compile(rf"/rounds/{round_id}/checkpoints/4$"))
    expect(walker.locator("main .flash")).to_have_text(
        f"Already checked in here at {at}; nothing new was recorded.")
    shot(walker, "walker-scans-again-en")
    assert len(checkins()) == 1

    walker_zh = phone_factory("zh-CN")
    login(walker_zh, "supervisor")
    scan(walker_zh, token)
    expect(walker_zh.locator("h1")).to_have_text(garage_zh)
    expect(walker_zh.locator("main .flash")).to_have_text(re.compile(rf"已于 {at} 在此签到过"))
    shot(walker_zh, "walker-scans-again-zh")
    check_page(walker_zh)

    # The manager's compliance page: when and who scanned, in the site's time.
    for locale, no_scan in (("en-US", "No scan"), ("zh-CN", "未扫码")):
        manager = phone_factory(locale)
        login(manager, "manager")
        manager.goto(f"/manage/compliance/rounds/{round_id}")
        row = manager.locator("tbody tr").filter(has_text=garage_en if locale == "en-US" else garage_zh)
        expect(row).to_contain_text(at)
        expect(row).to_contain_text("王助理 Wang")
        expect(manager.locator("tbody")).to_contain_text(no_scan)
        shot(manager, f"compliance-who-scanned-{locale[:2]}")
        check_page(manager)
    db.session.rollback()
    assert db.session.scalar(select(func.count(CheckIn.id))) == 1


def test_round_walked_before_its_window_reads_early_not_late(demo, phone_factory, shot):
    rnd = started_morning(demo)
    rnd.started_at = rnd.window_start - timedelta(hours=4, minutes=25)
    rnd.finished_at = rnd.window_start - timedelta(hours=3, minutes=55)
    round_id = rnd.id
    db.session.commit()
    for locale, badge, early in (("en-US", "Outside the window (early)", "3 h 55 min early"),
                                 ("zh-CN", "时段外（提前）", "提前 3 小时 55 分钟")):
        page = phone_factory(locale)
        login(page, "supervisor")
        card = page.locator(f"#round-{round_id}")
        expect(card.locator(".badge")).to_have_text(badge)
        shot(page, f"today-{locale[:2]}")
        page.goto(f"/rounds/{round_id}")
        expect(page.locator("main .badge").first).to_have_text(badge)
        expect(page.locator("main")).to_contain_text(early)
        shot(page, f"summary-{locale[:2]}")
        check_page(page)
