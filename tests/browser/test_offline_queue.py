"""Changes made with no signal wait on the phone (static/queue.js, IndexedDB) and are sent when the
network returns: exactly once, in order, refusals kept with the server's reason until dismissed, the
queue surviving a closed page, a server that dies half-way, a service-worker update and an expired login.

Each test starts a round online (so the service worker keeps its pages), then goes offline with
Playwright's network emulation. What reached the server is read from the database the live server shares.
"""
import io
import re
import socket
from contextlib import contextmanager

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, WorkOrder
from app.models.round import AnswerChange, answer_photo
from tests.browser.conftest import axe_check, check_page, login, no_horizontal_scroll, tap_targets_ok
from tests.browser.test_supervisor_round import start_round
from tests.browser.test_offline_round import wait_for_worker

ANSWER_PATH = re.compile(r"^/rounds/\d+/stops/\d+/items/\d+$")
SLOT = {"en-US": "Morning round", "zh-CN": "上午巡查"}
BANNER = {"en-US": "Offline — pages you opened are still here", "zh-CN": "无网络：已打开过的页面仍可查看"}
PHOTO_RULE = {"en-US": "A photo is required to fail this item. Take a photo, then tap Fail again.",
              "zh-CN": "此项判为不合格须附照片。请先拍照，再点“不合格”。"}
FINISHED = {"en-US": "This round is finished and can no longer be changed.", "zh-CN": "本次巡查已结束，不能再修改。"}
MARK = {"en-US": "Waiting to send", "zh-CN": "待发送"}
SYNC_TIMEOUT = 60_000


def waiting_text(n: int, locale: str = "en-US") -> str:
    return f"{n} waiting to send" if locale == "en-US" else f"{n} 条待发送"


# --- helpers --------------------------------------------------------------------------------

def photo(seed: int = 0, width: int = 2400, height: int = 1800) -> dict:
    """A camera-sized JPEG (distinct per seed: the photo store keeps one photo per content hash)."""
    img = Image.new("RGB", (width, height), (90 + seed * 7 % 100, 150, 220 - seed * 5 % 120))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, height * 2 // 3, width, height], fill=(150, 150, 140))
    draw.ellipse([width // 3, height * 3 // 4 - 80, width // 3 + 300, height * 3 // 4 + 80],
                 fill=(200, (40 + seed * 23) % 255, 30))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return {"name": f"photo-{seed}.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def outbox(page: Page):
    return page.locator("#outbox")


def count(page: Page):
    return page.locator("#outbox [data-outbox-count]")


def entries(page: Page) -> list[dict]:
    """The queue as the page holds it (after every write has landed in IndexedDB)."""
    page.evaluate("() => window.RoundsQueue.idle()")
    return page.evaluate("""() => window.RoundsQueue.entries().map(e => ({
        op: e.op, state: e.state, kind: e.kind, form: e.form, reason: e.reason || '',
        files: (e.files || []).length, fields: e.fields}))""")


def all_sent(page: Page) -> None:
    """The page has read the queue and nothing of this user's waits any more (after a navigation too)."""
    page.wait_for_function("() => window.RoundsQueue && window.RoundsQueue.loaded()"
                           " && window.RoundsQueue.entries().length === 0", timeout=SYNC_TIMEOUT)
    expect(outbox(page)).to_be_hidden()


def stored(page: Page) -> int:
    """How many entries IndexedDB holds (for any user)."""
    return page.evaluate("async () => (await idbKeyval.keys(window.RoundsQueue.store)).length")


def item_forms(page: Page):
    return page.locator("form.item")


def checkpoint(page: Page, round_id: int, number: int) -> None:
    page.goto(f"/rounds/{round_id}/checkpoints/{number}")
    expect(page.locator(".crumb")).to_contain_text(str(number))
    page.wait_for_load_state()
    page.evaluate("() => window.RoundsQueue.idle()")


def begin(page: Page, locale: str = "en-US") -> int:
    """Log in, start the morning round online (its pages kept by the worker); returns its id."""
    login(page)
    wait_for_worker(page)
    return start_round(page, SLOT[locale])


def go_offline(page: Page, locale: str = "en-US") -> None:
    page.context.set_offline(True)
    expect(page.locator("#netstate")).to_have_text(BANNER[locale])


def server_counts(round_id: int) -> tuple[int, int, int]:
    """(answers with a result, photos on answers, work orders raised) of the round, as committed."""
    db.session.rollback()
    answers = db.session.scalar(select(func.count()).select_from(Answer)
                                .where(Answer.round_id == round_id, Answer.result.is_not(None)))
    photos = db.session.scalar(select(func.count()).select_from(answer_photo)
                               .join(Answer, answer_photo.c.answer_id == Answer.id).where(Answer.round_id == round_id))
    orders = db.session.scalar(select(func.count()).select_from(WorkOrder)
                               .join(Answer, WorkOrder.answer_id == Answer.id).where(Answer.round_id == round_id))
    return answers, photos, orders


def applied_ops(round_id: int) -> list[str]:
    """The op ids of the changes the server recorded for the round's answers (one row per change)."""
    db.session.rollback()
    return list(db.session.scalars(select(AnswerChange.op).join(Answer, AnswerChange.answer_id == Answer.id)
                                   .where(Answer.round_id == round_id, AnswerChange.op.is_not(None))))


def once_each(round_id: int, ops: list[str], items: int) -> None:
    """Each item's changes arrived as one change (an item's changes that never left the phone go
    together), under ops the phone made, none twice."""
    applied = applied_ops(round_id)
    assert len(applied) == len(set(applied)) == items, applied
    assert set(applied) <= set(ops)


def tap(form, result: str) -> None:
    form.locator(f"button.choice-{result}").tap()


@contextmanager
def flaky_server(app, monkeypatch):
    """Control over the answers reaching the app: `state["apply"]` answers go through normally; the
    next one is applied and then the connection dies before the reply (the phone never hears back);
    after that, while `state["down"]`, every answer's connection is dropped unread."""
    state = {"apply": 10**6, "seen": 0, "down": False}
    real = app.wsgi_app

    def wsgi(environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or not ANSWER_PATH.match(environ.get("PATH_INFO", "")):
            return real(environ, start_response)
        if state["down"]:
            _drop(environ)
        state["seen"] += 1
        if state["seen"] <= state["apply"]:
            return real(environ, start_response)
        # Applied (committed), then the server dies before answering.
        body = real(environ, lambda *a, **k: (lambda data: None))
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()
        state["down"] = True
        _drop(environ, unread=False)

    monkeypatch.setattr(app, "wsgi_app", wsgi)
    yield state


def _drop(environ, unread: bool = True):
    if unread:  # read what was sent (else the server reads the rest as a next request), answer nothing
        try:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        except (OSError, ValueError):
            pass
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionResetError("server gone (test)")


def answer_offline(page: Page, round_id: int, numbers, wanted: int, seed0: int = 0, made0: int = 0):
    """Answer `wanted` items across the checkpoints `numbers`, offline: a pattern of pass, fail with a
    photo, n.a., fail (with a photo where the item needs one) and pass with a note. Returns
    (entries made, photos, fails, results by item form id); `made0` entries were waiting before."""
    made, photos, fails = made0, 0, 0
    results: dict[str, str] = {}
    seed = seed0
    for number in numbers:
        checkpoint(page, round_id, number)
        forms = item_forms(page)
        touched = 0
        for i in range(forms.count()):
            if len(results) == wanted:
                break
            form = forms.nth(i)
            form_id = form.get_attribute("id")
            needs_photo = form.get_attribute("data-photo-required") is not None
            kind = len(results) % 5
            if kind == 1 or (kind == 3 and needs_photo):
                form.locator("input[type=file][name=photos]").set_input_files(photo(seed))
                seed += 1
                made += 1
                photos += 1
                expect(form.locator("ul.thumbs.queued img")).to_have_count(1)
            if kind == 4:
                form.locator("summary").tap()
                form.locator("textarea[name=note]").fill(f"note {len(results)}")
                made += 1  # the note is sent on its own when the field loses focus (htmx `change`)
            result = {0: "pass", 1: "fail", 2: "na", 3: "fail", 4: "pass"}[kind]
            tap(form, result)
            made += 1
            fails += result == "fail"
            results[form_id] = result
            touched += 1
            expect(form.locator(f"button.choice-{result}")).to_have_attribute("aria-pressed", "true")
            expect(form.locator("p.qmark.qwait")).to_have_text(MARK["en-US"])
            expect(count(page)).to_have_text(waiting_text(made))
        expect(page.locator("p.qmark.qwait")).to_have_count(touched)
        if len(results) == wanted:
            break
    return made, photos, fails, results


# --- 1. a round answered offline, kept across a closed page, sent exactly once -------------------

def test_round_answered_offline_is_kept_and_sent_exactly_once(demo, phone_factory, shot, _server):
    """Twenty answers (fails with photos, a note, n.a.) offline across checkpoints: each marked waiting,
    the count shown; a photo-needed fail without a photo is refused on the phone; the page closed and
    opened again offline still has them; online they arrive once each, and the marks clear."""
    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    page.reload()  # from the phone
    expect(page.locator("h1")).to_be_visible()

    # The photo rule, offline, as the server says it online: nothing is kept.
    checkpoint(page, round_id, 1)
    needs = page.locator("form.item[data-photo-required]").first
    needs_id = needs.get_attribute("id")
    tap(needs, "fail")
    expect(needs.locator("p.qtold")).to_have_text(PHOTO_RULE["en-US"])
    expect(needs.locator("p.qtold")).to_be_focused()
    expect(needs.locator("button.choice-fail")).to_have_attribute("aria-pressed", "false")
    expect(outbox(page)).to_be_hidden()
    assert entries(page) == []
    shot(page, "photo-rule-offline")
    axe_check(page)

    # With a photo it is kept, and failing it then passes the rule.
    needs.locator("input[type=file][name=photos]").set_input_files(photo(99))
    expect(needs.locator("ul.thumbs.queued img")).to_have_count(1)
    expect(needs.locator("p.qtold")).to_have_count(0)
    tap(needs, "fail")
    expect(needs.locator("button.choice-fail")).to_have_attribute("aria-pressed", "true")
    expect(count(page)).to_have_text(waiting_text(2))
    made, photos, fails, results = answer_offline(page, round_id, range(2, 11), 19, seed0=0, made0=2)
    photos, fails = photos + 1, fails + 1
    results[needs_id] = "fail"
    assert len(results) == 20
    shot(page, "answered-offline")
    check_page(page)

    # Stored downscaled: long edge 1600 px, JPEG.
    sizes = page.evaluate("""async () => {
        const e = window.RoundsQueue.entries().find(x => x.files && x.files.length);
        const f = e.files[0];
        const bmp = await createImageBitmap(new Blob([f.data], {type: f.type}));
        return [bmp.width, bmp.height, f.type, f.data.byteLength];
    }""")
    assert sizes[:3] == [1600, 1200, "image/jpeg"], sizes
    queued = entries(page)
    assert len(queued) == made and all(e["state"] == "waiting" for e in queued)
    ops = [e["op"] for e in queued]
    assert len(set(ops)) == len(ops) and all(re.fullmatch(r"[A-Za-z0-9-]{1,64}", op) for op in ops)

    # The page closed and opened again, still offline: the marks and the count are still there.
    context = page.context
    page.close()
    page = context.new_page()
    checkpoint(page, round_id, 2)
    expect(page.locator("#netstate")).to_have_text(BANNER["en-US"])
    expect(count(page)).to_have_text(waiting_text(made))
    marked = [f for f in results if page.locator(f"#{f}").count()]
    assert marked
    for form_id in marked:
        expect(page.locator(f"#{form_id} p.qmark.qwait")).to_have_text(MARK["en-US"])
        expect(page.locator(f"#{form_id} button.choice-{results[form_id]}")).to_have_attribute("aria-pressed", "true")
    shot(page, "reopened-offline")
    assert server_counts(round_id) == (0, 0, 0)

    # Back online: sent by itself, in order, once each; the marks clear.
    context.set_offline(False)
    all_sent(page)
    expect(page.locator("p.qmark")).to_have_count(0)
    for form_id in marked:
        expect(page.locator(f"#{form_id}")).to_have_class(re.compile(rf"\bresult-{results[form_id]}\b"))
    expect(page.locator("#progress p")).to_contain_text("20 of")
    shot(page, "sent")
    assert stored(page) == 0
    assert server_counts(round_id) == (20, photos, fails)
    once_each(round_id, ops, 20)


@pytest.mark.locale("zh-CN")
def test_offline_words_in_chinese(demo, phone, shot):
    """In Chinese: the photo rule refused offline, the waiting mark and the count."""
    page = phone
    round_id = begin(page, "zh-CN")
    go_offline(page, "zh-CN")
    checkpoint(page, round_id, 1)
    needs = page.locator("form.item[data-photo-required]").first
    tap(needs, "fail")
    expect(needs.locator("p.qtold")).to_have_text(PHOTO_RULE["zh-CN"])
    other = page.locator("form.item:not([data-photo-required])").first
    tap(other, "fail")
    expect(other.locator("p.qmark.qwait")).to_have_text(MARK["zh-CN"])
    tap(page.locator("form.item").nth(2), "pass")
    expect(count(page)).to_have_text(waiting_text(2, "zh-CN"))
    expect(outbox(page).locator("button")).to_have_text("立即发送")
    shot(page, "waiting-zh")
    check_page(page)
    page.context.set_offline(False)
    all_sent(page)
    assert server_counts(round_id)[0] == 2


# --- 2. the same queue delivered twice --------------------------------------------------------

def test_a_queue_delivered_twice_stores_nothing_twice(demo, phone_factory):
    """The acknowledged entries put back into IndexedDB and sent again: the server's counts stay."""
    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    made, photos, fails, _ = answer_offline(page, round_id, [1, 2], 6, seed0=40)
    page.evaluate("async () => { window.__copy = await idbKeyval.entries(window.RoundsQueue.store); }")
    ops = [e["op"] for e in entries(page)]
    page.context.set_offline(False)
    all_sent(page)
    first = server_counts(round_id)
    assert first == (6, photos, fails)
    once_each(round_id, ops, 6)
    first_ops = applied_ops(round_id)

    page.evaluate("""async () => {
        for (const [k, v] of window.__copy) await idbKeyval.set(k, v, window.RoundsQueue.store);
        await window.RoundsQueue.reload();
    }""")
    all_sent(page)  # sent again by itself
    assert stored(page) == 0
    assert server_counts(round_id) == first
    assert sorted(applied_ops(round_id)) == sorted(first_ops)


# --- 3. the server dies in the middle of a sync ----------------------------------------------

def test_server_dying_mid_sync_loses_nothing_and_doubles_nothing(demo, phone_factory, app, monkeypatch, shot):
    """Three answers go through, the fourth is applied but its reply is lost, the server is gone for
    the rest; when it is back, the rest (and the fourth again, under its op) go through once."""
    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    made, photos, fails, results = answer_offline(page, round_id, [1, 2], 8, seed0=60)
    ops = [e["op"] for e in entries(page)]
    with flaky_server(app, monkeypatch) as state:
        state["apply"] = 3  # (an item's changes go as one request)
        page.context.set_offline(False)
        page.wait_for_function("() => document.querySelector('#outbox [data-send-now]').textContent === 'Send now'"
                               " && window.RoundsQueue.entries().length < %d" % made, timeout=SYNC_TIMEOUT)
        page.evaluate("() => window.RoundsQueue.idle()")
        assert state["down"]
        left = entries(page)
        assert {e["form"] for e in left} == set(list(results)[3:])  # the fourth (unheard) and the rest
        expect(count(page)).to_have_text(waiting_text(len(left)))
        shot(page, "server-gone")
        state["down"] = False
        state["apply"] = 10**6
        outbox(page).locator("button").tap()  # Send now
        all_sent(page)
    assert server_counts(round_id) == (8, photos, fails)
    once_each(round_id, ops, 8)  # the fourth too: once


# --- 4. conflicts: a finished round, the finish page, a worker update, an expired login --------

def test_round_finished_meanwhile_refuses_changes_kept_until_dismissed(demo, phone_factory, shot):
    """The round is finished on the server while the phone is offline: each waiting change comes back
    refused with the server's reason, stays on the phone (also after a reload) until dismissed."""
    from app.models import Round, User
    from app.services.rounds import finish_round

    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    _, _, _, results = answer_offline(page, round_id, [1], 3, seed0=80)
    made = len(results)  # an item's changes go together, and come back refused together
    rnd = db.session.get(Round, round_id)
    finish_round(db.session, rnd, db.session.scalar(select(User).where(User.username == "supervisor2"))
                 or demo.users["supervisor"])
    db.session.commit()

    page.context.set_offline(False)
    refused = page.locator("#outbox-refused")
    expect(refused.locator("li")).to_have_count(made, timeout=SYNC_TIMEOUT)
    expect(outbox(page)).to_be_hidden()
    for i in range(made):
        expect(refused.locator("li").nth(i).locator(".error")).to_have_text(FINISHED["en-US"])
    expect(page.locator("p.qmark.qrefused").first).to_contain_text(FINISHED["en-US"])
    shot(page, "refused")
    check_page(page)
    assert server_counts(round_id) == (0, 0, 0)

    page.reload()
    expect(refused.locator("li")).to_have_count(made)
    refused.locator("li").first.get_by_role("button", name="Dismiss").tap()
    expect(refused.locator("li")).to_have_count(made - 1)
    refused.get_by_role("button", name="Dismiss all").tap()
    expect(refused).to_be_hidden()
    assert stored(page) == 0


def test_finish_page_refuses_while_changes_wait(demo, phone_factory, app, monkeypatch, shot):
    """With changes waiting (the server unreachable for answers), Finish is refused on the finish page
    and says how many would be lost; once sent, finishing works."""
    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    made, _, _, _ = answer_offline(page, round_id, [1], 3, seed0=90)
    with flaky_server(app, monkeypatch) as state:
        state["down"] = True
        page.context.set_offline(False)
        page.goto(f"/rounds/{round_id}/finish")
        box = page.locator("#finish-waiting")
        expect(box).to_be_visible()
        expect(outbox(page).locator("button")).to_have_text("Send now")  # the try at sending is over
        n = len(entries(page))
        assert 3 <= n <= made
        expect(box.locator("[data-finish-text]")).to_have_text(
            f"{n} changes for this round are still waiting to send. Send them before you finish, or they will be lost.")
        expect(box.locator("[data-finish-anyway]")).to_have_text(f"Finish anyway — {n} changes will be lost")
        page.locator(".actions button.primary").tap()  # Finish anyway (items unanswered) / Finish round
        expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/finish$"))
        expect(box.locator("[data-finish-text]")).to_be_focused()
        shot(page, "finish-refused")
        check_page(page)
        state["down"] = False
        box.get_by_role("button", name="Send now").tap()
        expect(box).to_be_hidden(timeout=SYNC_TIMEOUT)
    assert server_counts(round_id)[0] == 3
    page.locator(".actions button.primary").tap()
    expect(page).not_to_have_url(re.compile(r"/finish$"))


def test_finish_anyway_says_how_many_are_lost(demo, phone_factory, app, monkeypatch):
    """Confirming "Finish anyway — N changes will be lost" finishes; the N come back refused."""
    from app.models import Round

    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    _, _, _, results = answer_offline(page, round_id, [1], 2, seed0=95)
    made = len(results)
    with flaky_server(app, monkeypatch) as state:
        state["down"] = True
        page.context.set_offline(False)
        page.goto(f"/rounds/{round_id}/finish")
        page.locator("#finish-waiting [data-finish-anyway]").tap()
        expect(page).not_to_have_url(re.compile(r"/finish$"))
        state["down"] = False
        expect(page.locator("#outbox-refused li")).to_have_count(made, timeout=SYNC_TIMEOUT)
    db.session.rollback()
    assert db.session.get(Round, round_id).finished_at is not None


def test_service_worker_update_keeps_the_waiting_queue(demo, phone_factory, app, monkeypatch):
    """A new service worker (another asset list: a new version) installs and activates while changes
    wait; the queue is untouched and is sent afterwards."""
    from app.main import pwa

    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    made, _, _, _ = answer_offline(page, round_id, [1], 3, seed0=100)
    old = [k for k in page.evaluate("caches.keys()") if k.startswith("rounds-static-")]
    with flaky_server(app, monkeypatch) as state:
        state["down"] = True
        page.context.set_offline(False)
        monkeypatch.setattr(pwa, "PRECACHE", pwa.PRECACHE + ("icons/icon-512.png",))
        page.evaluate("async () => { const reg = await navigator.serviceWorker.getRegistration(); await reg.update(); }")
        page.wait_for_function("""async (old) => {
            const keys = (await caches.keys()).filter(k => k.startsWith('rounds-static-'));
            return keys.length === 1 && keys[0] !== old;
        }""", arg=old[0])
        page.reload()
        expect(count(page)).to_have_text(waiting_text(made))
        assert stored(page) == made
        state["down"] = False
        page.evaluate("() => window.RoundsQueue.sync()")  # (or the 20 s timer, or Send now)
        all_sent(page)
    assert server_counts(round_id)[0] == 3


def test_login_expired_while_offline_sends_after_logging_in_again(demo, phone_factory, shot):
    """The session ends while the phone is offline: the queue waits, the page says to log in; after
    logging in again it is sent."""
    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    made, _, _, _ = answer_offline(page, round_id, [1], 3, seed0=110)
    page.context.clear_cookies()
    page.context.set_offline(False)
    link = outbox(page).locator("a.outbox-login")
    expect(link).to_have_text(f"Log in to send {made} waiting changes", timeout=SYNC_TIMEOUT)
    expect(count(page)).to_have_text(waiting_text(made))
    shot(page, "log-in-to-send")
    assert server_counts(round_id) == (0, 0, 0)
    link.tap()
    expect(page).to_have_url(re.compile(r"/login"))
    page.locator("#username").fill("supervisor")
    page.locator("#password").fill("rounds-demo")
    page.locator("main button.primary").tap()
    expect(page).not_to_have_url(re.compile(r"/login"))
    all_sent(page)
    assert server_counts(round_id)[0] == 3
    assert stored(page) == 0


def test_another_user_on_the_phone_sends_none_of_the_first_users_changes(demo, phone_factory):
    """A shared phone: the first supervisor's waiting changes are theirs; the next user sends none."""
    page = phone_factory()
    round_id = begin(page)
    go_offline(page)
    made, _, _, _ = answer_offline(page, round_id, [1], 2, seed0=120)
    page.context.clear_cookies()  # the first supervisor's session ends (logged out, or expired)
    page.context.set_offline(False)
    login(page, "supervisor2")
    page.wait_for_load_state()
    page.wait_for_function("() => window.RoundsQueue && window.RoundsQueue.loaded()")
    page.evaluate("() => window.RoundsQueue.idle()")
    expect(outbox(page)).to_be_hidden()
    assert page.evaluate("() => window.RoundsQueue.entries().length") == 0  # none of them is this user's
    assert stored(page) == made  # still on the phone, for their owner
    assert server_counts(round_id) == (0, 0, 0)


# --- 5. a crew resolves an order offline --------------------------------------------------------

def test_crew_resolves_an_order_offline_sent_once(demo, phone_factory, shot):
    """An order opened online, resolved offline with an after photo and a note: kept, marked, and
    resolved exactly once when the network returns."""
    from app.models import WorkOrderEvent, WorkOrderPhoto
    from tests.browser.test_work_orders import raise_two_orders

    roads_id, _ = raise_two_orders(demo)
    page = phone_factory()
    login(page, "crew.cleaning")
    wait_for_worker(page)
    page.goto(f"/orders/{roads_id}")
    page.locator("#act-start button").tap()  # online, through the page's fetch
    expect(page.locator(".meta .st")).to_have_text("In progress")
    page.wait_for_load_state()

    go_offline(page)
    form = page.locator("#act-resolve")
    form.locator("button.primary").tap()  # no photo, no note: the browser asks for the note first
    form.locator("textarea[name=note]").fill("Swept and washed")
    form.locator("button.primary").tap()
    expect(form.locator("p.qtold")).to_have_text("Add at least one “after” photo to resolve this order.")
    form.locator("input[type=file]").set_input_files(photo(130))
    form.locator("button.primary").tap()
    expect(form.locator("p.qmark.qwait")).to_have_text(MARK["en-US"])
    expect(count(page)).to_have_text(waiting_text(1))
    op = entries(page)[0]["op"]
    shot(page, "resolve-waiting")
    check_page(page)

    page.reload()  # the order page kept on the phone
    expect(page.locator("#act-resolve p.qmark.qwait")).to_have_text(MARK["en-US"])
    page.context.set_offline(False)
    all_sent(page)
    expect(page.locator(".meta .st")).to_have_text("Resolved")
    shot(page, "resolved")
    db.session.rollback()
    order = db.session.get(WorkOrder, roads_id)
    db.session.refresh(order)
    assert order.status == "resolved"
    events = db.session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == roads_id,
                                                             WorkOrderEvent.kind == "resolved")).all()
    assert len(events) == 1 and events[0].note == "Swept and washed" and events[0].op == op
    after = db.session.scalar(select(func.count()).select_from(WorkOrderPhoto)
                              .where(WorkOrderPhoto.order_id == roads_id, WorkOrderPhoto.kind == "after"))
    assert after == 1
