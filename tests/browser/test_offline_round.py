"""Installable, and a started round readable with no signal: the service worker (static/sw.js) keeps
the round's pages per user; the page says when it is offline; the next user on a shared phone gets
none of the previous user's pages."""
import re
from contextlib import contextmanager

import pytest
from flask import request, request_started
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, axe_check, check_page, login
from tests.browser.test_supervisor_round import start_round

BANNER = {"en-US": "Offline — pages you opened are still here", "zh-CN": "无网络：已打开过的页面仍可查看"}
OFFLINE_TITLE = {"en-US": "No connection", "zh-CN": "无网络"}
NAMES = {"en-US": ("Rounds: estate patrols", "Rounds"), "zh-CN": ("巡查通 · 物业巡查", "巡查通")}


@contextmanager
def server_requests(app):
    """The paths the server is asked for while the block runs (to prove pages came from the phone)."""
    seen = []

    def record(sender, **extra):
        seen.append(request.path)

    request_started.connect(record, app)
    try:
        yield seen
    finally:
        request_started.disconnect(record, app)


@pytest.fixture
def installed_phone(_playwright, live_server, tmp_path):
    """installed_phone(locale) -> a page in a phone browser with a profile on disk (not incognito, so
    Chromium judges installability, and the profile survives closing the browser); closed after the test."""
    opened, problems = [], []

    def launch(locale: str = "en-US") -> Page:
        ctx = _playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            locale=locale, base_url=live_server, **PHONE)
        ctx.set_default_timeout(10_000)
        opened.append(ctx)
        ctx.on("page", lambda p: p.on("pageerror", lambda exc: problems.append(f"JS error: {exc}")))
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
        return page

    yield launch
    for ctx in opened:
        ctx.close()
    assert not problems, problems


def wait_for_worker(page: Page) -> None:
    """The service worker controls the page. It installs the app's assets first, which on a busy machine
    can take long; if it became active without claiming this page, a reload puts the page under it.
    (Functions, not bare expressions: Playwright evals an expression, which the page's CSP refuses.)"""
    page.wait_for_function("async () => { const r = await navigator.serviceWorker.getRegistration();"
                           " return !!(r && r.active); }", timeout=60_000, polling=250)
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_installable_with_manifest_in_the_users_language(demo, installed_phone, shot, locale):
    """Chromium finds no installability error (Lighthouse's check); the manifest names follow the language."""
    page = installed_phone(locale)
    login(page)
    wait_for_worker(page)
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")
    name, short = NAMES[locale]
    assert f'"name": "{name}"' in manifest["data"] and f'"short_name": "{short}"' in manifest["data"]
    # The favicon is a real image (no 404, no data: placeholder).
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).headers["content-type"] == "image/png"
    shot(page, f"today-{locale}")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_started_round_opens_offline_after_reload_and_a_restart(demo, installed_phone, shot, _server, locale):
    """Start a round online; offline, reload its checkpoint, open a later one, the round page, again
    from a new page and after the browser is closed and opened again: all from the phone, with the
    offline notice; a page not kept says so."""
    page = installed_phone(locale)
    login(page)
    wait_for_worker(page)
    round_id = start_round(page, "Morning round" if locale == "en-US" else "上午巡查")  # waits for the round kept
    first_title = page.locator("h1").inner_text()
    banner = page.locator("#netstate")
    expect(banner).to_be_empty()
    page.goto(f"/rounds/{round_id}/checkpoints/7")  # online: a later checkpoint, to know its name
    seventh_title = page.locator("h1").inner_text()
    page.goto(f"/rounds/{round_id}/checkpoints/1")

    context = page.context
    with server_requests(_server.app) as seen:
        context.set_offline(True)
        expect(banner).to_have_text(BANNER[locale])
        page.reload()
        expect(page.locator("h1")).to_have_text(first_title)
        expect(banner).to_have_text(BANNER[locale])
        expect(banner).to_have_attribute("role", "status")
        shot(page, "checkpoint-1-offline")
        axe_check(page)

        page.goto(f"/rounds/{round_id}/checkpoints/10")  # never opened: kept when the round started
        expect(page.locator(".crumb")).to_contain_text("10")
        expect(banner).to_have_text(BANNER[locale])
        page.goto(f"/rounds/{round_id}")
        expect(page.locator("ol.cplist li")).to_have_count(10)
        shot(page, "round-offline")
        check_page(page)

        page.goto("/orders")  # not a page the round keeps
        expect(page.locator("h1")).to_have_text(OFFLINE_TITLE[locale])
        shot(page, "not-kept-offline")
        check_page(page)

        # The browser's tab closed and opened again, still without signal.
        page.close()
        again = context.new_page()
        again.goto(f"/rounds/{round_id}/checkpoints/7")
        expect(again.locator("h1")).to_have_text(seventh_title)
        expect(again.locator("#netstate")).to_have_text(BANNER[locale])
        again.goto("/today")
        expect(again.locator("h1")).to_be_visible()
        expect(again.locator("#netstate")).to_have_text(BANNER[locale])
        shot(again, "today-offline")

        # The whole browser closed and opened again (same profile), still without signal.
        context.close()
        page = installed_phone(locale)
        page.context.set_offline(True)
        page.goto(f"/rounds/{round_id}/checkpoints/4")
        expect(page.locator(".crumb")).to_contain_text("4")
        expect(page.locator("#netstate")).to_have_text(BANNER[locale])
        shot(page, "checkpoint-4-after-restart")
    # (The browser itself, not the page, may fetch the manifest and its icons, and check /sw.js for an
    # update on navigation: offline emulation does not cover the browser's own requests.)
    browsers_own = ("/manifest.webmanifest", "/favicon.ico", "/sw.js")
    asked = [p for p in seen if p not in browsers_own and not p.startswith("/static/icons/")]
    assert asked == [], f"offline, yet the server was asked for {asked}"

    page.context.set_offline(False)
    page.reload()
    expect(page.locator("#netstate")).to_be_empty()


def test_next_user_on_the_same_phone_gets_none_of_the_previous_round(demo, phone_factory, shot):
    """Logging out drops the user's kept pages; the next supervisor offline sees the offline page, not
    the previous supervisor's round, and their own pages are kept apart."""
    page = phone_factory()
    login(page)
    wait_for_worker(page)
    round_id = start_round(page)
    kept = page.evaluate("caches.keys()")
    assert [k for k in kept if k.startswith("rounds-pages-")], kept

    page.locator("footer form button").tap()  # Log out
    expect(page).to_have_url(re.compile(r"/login"))
    assert not [k for k in page.evaluate("caches.keys()") if k.startswith("rounds-pages-")]

    login(page, "supervisor2")
    expect(page.locator("h1")).to_be_visible()
    name = page.locator("footer span").first.inner_text()
    page.context.set_offline(True)
    for path in (f"/rounds/{round_id}/checkpoints/1", f"/rounds/{round_id}"):
        page.goto(path)
        expect(page.locator("h1")).to_have_text("No connection")
    shot(page, "next-user-offline")
    page.goto("/today")  # the new user's own Today, kept when they opened it
    expect(page.locator("#netstate")).to_have_text(BANNER["en-US"])
    expect(page.locator("footer span").first).to_have_text(name)
    page.context.set_offline(False)


def test_install_button_offered_by_the_browser_can_be_dismissed(demo, phone_factory, shot):
    """Where the browser offers installing (beforeinstallprompt), a small button does; dismissed, it stays away."""
    page = phone_factory()
    login(page)
    install = page.locator("#install")
    expect(install).to_be_hidden()
    page.evaluate("""() => { const e = new Event('beforeinstallprompt', {cancelable: true});
        e.prompt = () => Promise.resolve(); e.userChoice = Promise.resolve({outcome: 'dismissed'});
        window.dispatchEvent(e); }""")
    expect(install.get_by_role("button", name="Install Rounds on this phone")).to_be_visible()
    shot(page, "install-offered")
    axe_check(page)
    install.get_by_role("button", name="Not now").tap()
    expect(install).to_be_hidden()
    page.reload()
    page.evaluate("() => window.dispatchEvent(new Event('beforeinstallprompt', {cancelable: true}))")
    expect(install).to_be_hidden()
