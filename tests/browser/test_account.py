"""Account safety on a phone: changing one's password (other devices logged out) and a paused login
that says why and keeps the username typed."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, check_page, login


@pytest.mark.parametrize("locale,texts", [
    ("en-US", dict(link="Change password", differ="The two new passwords differ.", done="Password changed.")),
    ("zh-CN", dict(link="修改密码", differ="两次输入的新密码不一致。", done="密码已修改。")),
], ids=["en", "zh"])
def test_password_change_from_the_footer(demo, phone_factory, shot, locale, texts):
    """Footer → change password; a mismatch is shown at the field; afterwards this phone stays in, the other is out."""
    other = phone_factory(locale)
    login(other, "supervisor")
    page = phone_factory(locale)
    login(page, "supervisor")
    page.locator("footer").get_by_role("link", name=texts["link"]).tap()
    expect(page).to_have_url(re.compile(r"/account/password$"))
    check_page(page)
    shot(page, f"password-{locale}")
    page.locator("#current").fill(DEMO_PASSWORD)
    page.locator("#new").fill("a-long-new-password")
    page.locator("#repeat").fill("a-long-new-passw0rd")
    page.locator("main button.primary").tap()
    expect(page.locator("#repeat-error")).to_have_text(texts["differ"])
    expect(page.locator("#repeat")).to_have_attribute("aria-invalid", "true")
    check_page(page)
    shot(page, f"password-mismatch-{locale}")
    page.locator("#current").fill(DEMO_PASSWORD)
    page.locator("#new").fill("a-long-new-password")
    page.locator("#repeat").fill("a-long-new-password")
    page.locator("main button.primary").tap()
    expect(page.locator(".flash")).to_contain_text(texts["done"])
    expect(page).not_to_have_url(re.compile(r"/login|/account"))
    shot(page, f"password-changed-{locale}")
    other.reload()
    expect(other).to_have_url(re.compile(r"/login"))
    page.reload()
    expect(page).not_to_have_url(re.compile(r"/login"))


@pytest.mark.parametrize("locale,message", [
    ("en-US", "Too many failed attempts. Try again in 1 minute."),
    ("zh-CN", "登录失败次数过多，请 1 分钟后再试。"),
], ids=["en", "zh"])
def test_paused_login_says_why_and_keeps_the_username(demo, phone_factory, shot, locale, message):
    page = phone_factory(locale)
    page.goto("/login")
    for _ in range(5):
        page.locator("#username").fill("supervisor")
        page.locator("#password").fill("not-the-password")
        page.locator("main button.primary").tap()
        page.wait_for_load_state()
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main button.primary").tap()
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(page.locator("#username")).to_have_value("supervisor")
    expect(page.locator("#password")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/login"))
    check_page(page)
    shot(page, f"login-paused-{locale}")
