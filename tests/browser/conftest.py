"""Browser tests: the app on a live server, Debian's Chromium as a phone, and page checks.

Fixtures: `live_server` (base URL), `browser` (one Chromium for the session), `phone_factory`
(new phone-sized contexts, closed after the test), `phone` (a page in a 390×844 touch phone,
locale from `@pytest.mark.locale("zh-CN")`, default en-US), `shot` (numbered screenshots).
Helpers to import: `login`, `axe_check`, `no_horizontal_scroll`, `tap_targets_ok`, `check_page`.
"""
import re
import threading
import time
from pathlib import Path

import pytest
from flask import got_request_exception
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = PROJECT_ROOT / "test-artefacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
             device_scale_factor=2)
MIN_TAP = 44  # px: WCAG 2.5.5 / Apple HIG; the app's own --tap is 48
DEMO_PASSWORD = "rounds-demo"
STATUS_LABELS_EN = {"Upcoming", "Due now", "In progress", "Done", "Outside the window (early)", "Late", "Missed"}


def pytest_configure(config):
    config.addinivalue_line("markers", "locale(name): Accept-Language locale of the `phone` fixture")


# --- the live server ------------------------------------------------------------------------

class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # the access log would drown pytest's output
        pass


class _LiveServer:
    """The session's app served by werkzeug in a daemon thread; counts requests in flight."""

    def __init__(self, app):
        self.app = app
        self.errors: list[BaseException] = []
        self._busy = 0
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                  request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server",
                                       daemon=True)
        got_request_exception.connect(self._record, app)

    def _record(self, sender, exception, **extra):
        self.errors.append(exception)

    def _wsgi(self, environ, start_response):
        with self._lock:
            self._busy += 1
        try:
            # Flask does the request's database work (and pops its context) inside this call.
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._busy -= 1

    def wait_idle(self, timeout: float = 5.0, quiet: float = 0.1) -> None:
        """Before the tables are truncated: let requests the browser left behind finish.

        Idle means no request for `quiet` seconds: a closing browser can still have a request on
        the wire that reaches the app just after the count first drops to zero."""
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            if self._busy:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
            time.sleep(0.01)

    def stop(self) -> None:
        got_request_exception.disconnect(self._record, self.app)
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        # Close the pooled connections the request threads opened before the database goes away
        # (else PostgreSQL connections are garbage-collected open: ResourceWarning -> error).
        from app.extensions import db

        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def _server(app):
    server = _LiveServer(app)
    server.thread.start()
    yield server
    server.stop()


@pytest.fixture
def live_server(_server):
    """The base URL of the running app. Server-side exceptions during the test fail it."""
    _server.errors.clear()
    yield _server.url
    _server.wait_idle()
    errors, _server.errors[:] = list(_server.errors), []
    assert not errors, f"the app raised during the test: {errors!r}"


# --- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def phone_factory(browser, live_server):
    """phone_factory(locale="en-US", width=390, height=844) -> a new Page in a fresh phone context."""
    contexts, script_errors = [], []

    def on_console(msg):
        if msg.type == "error" and "Content Security Policy" in msg.text:
            where = msg.location or {}
            script_errors.append(f"CSP at {where.get('url')}:{where.get('lineNumber')}:"
                                 f"{where.get('columnNumber')} on {msg.page.url if msg.page else '?'}: "
                                 f"{msg.text[:110]}")

    def make(locale: str = "en-US", width: int = 390, height: int = 844) -> Page:
        ctx = browser.new_context(**{**PHONE, "viewport": {"width": width, "height": height}},
                                  locale=locale, base_url=live_server)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: script_errors.append(f"JS error: {exc}"))
        page.on("console", on_console)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not script_errors, "the browser reported:\n  " + "\n  ".join(script_errors)


@pytest.fixture
def phone(request, phone_factory) -> Page:
    """A page in a 390×844 touch phone; `@pytest.mark.locale("zh-CN")` changes Accept-Language."""
    marker = request.node.get_closest_marker("locale")
    return phone_factory(marker.args[0] if marker else "en-US")


# --- screenshots ----------------------------------------------------------------------------

@pytest.fixture
def shot(request):
    """shot(page, "login") -> test-artefacts/screenshots/<test>/<nn>-login.png (full page)."""
    folder = ARTEFACTS / "screenshots" / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    if folder.exists():
        for old in folder.glob("*.png"):
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(page: Page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        # caret="initial": hiding the caret leaves style="" on every input, which htmx's settle
        # step then copies onto swapped-in elements (a CSP style-src violation of our making).
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return take


# --- helpers --------------------------------------------------------------------------------

def login(page: Page, username: str = "supervisor", password: str = DEMO_PASSWORD) -> None:
    """Log in through the real form; lands on Today (or a crew's queue)."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main button.primary").tap()
    expect(page).not_to_have_url(re.compile(r"/login"))
    page.wait_for_load_state()  # htmx initialised, no asset responses still refreshing the cookie


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # WCAG 2.2 AA


def axe_check(page: Page) -> None:
    """No WCAG 2.2 A/AA violations that axe-core can detect on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    if violations:
        lines = [f"{len(violations)} axe violation(s) on {page.url}:"]
        for v in violations:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
            for node in v["nodes"][:8]:
                lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
                for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
                    lines.append(f"      · {check['message']}")
            if len(v["nodes"]) > 8:
                lines.append(f"    … and {len(v['nodes']) - 8} more")
        pytest.fail("\n".join(lines), pytrace=False)


def no_horizontal_scroll(page: Page) -> None:
    """Nothing sticks out sideways: the page is no wider than the phone's screen."""
    info = page.evaluate("""(viewport) => {
        const width = Math.min(window.innerWidth, viewport);
        const wide = [];
        for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.right > width + 0.5 && el.checkVisibility())
                wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                          (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                          ' right=' + Math.round(r.right));
        }
        return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, width, wide: wide.slice(0, 10)};
    }""", page.viewport_size["width"])
    assert info["scroll"] <= info["width"], (
        f"horizontal scroll on {page.url}: scrollWidth {info['scroll']} > {info['width']} "
        f"(innerWidth {info['inner']}); too wide: {info['wide']}")


TAP_TARGETS_JS = """(minimum) => {
    const sel = 'button, a[href], input:not([type=hidden]), select, textarea, summary, label.button, [role=button]';
    const small = [], skipped = [];
    for (const el of document.querySelectorAll('main ' + sel.split(', ').join(', main '))) {
        if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
        const r = el.getBoundingClientRect();
        if (r.width <= 1 || r.height <= 1) continue;  // visually hidden (.vh): its label is the target
        const desc = el.outerHTML.replace(/\\s+/g, ' ').slice(0, 140) + ' h=' + r.height.toFixed(1);
        const style = getComputedStyle(el);
        // An inline link inside running text (a sentence, a list line) may be short (WCAG 2.5.8 exception).
        const inText = el.tagName === 'A' && style.display === 'inline'
            && el.parentElement && el.parentElement.closest('p, li, dd, td');
        if (r.height + 0.5 < minimum) (inText ? skipped : small).push(desc);
    }
    return {small, skipped};
}"""


def tap_targets_ok(page: Page, minimum: int = MIN_TAP) -> list[str]:
    """Every visible control in <main> is at least `minimum` px tall; returns the short inline links."""
    found = page.evaluate(TAP_TARGETS_JS, minimum)
    assert not found["small"], (f"tap targets under {minimum}px on {page.url}:\n  "
                                + "\n  ".join(found["small"]))
    return found["skipped"]


def check_page(page: Page) -> None:
    """The three page checks: axe WCAG 2.2 AA, no sideways scroll, big enough tap targets."""
    expect(page.locator("main")).to_be_visible()
    axe_check(page)
    no_horizontal_scroll(page)
    tap_targets_ok(page)
