"""How long a whole round answered without signal takes to send on a slow network (static/queue.js).

Run from the project root:  .venv/bin/python bench/offline_sync_bench.py [--photos 20] [--kbps 400] [--latency 400]

The real app on a throwaway SQLite database (migrations, demo seed, today's morning round started),
served by werkzeug on loopback; Debian's Chromium as a 390x844 phone. `supervisor` logs in and opens
the round online (the service worker keeps its pages), then with no network (Chromium's network
emulation) answers every item of every checkpoint: `--photos` items fail with a camera-sized photo
(4032x3024 JPEG, downscaled on the phone to 1600 px before it is kept), the rest pass. Then the network
comes back as slow 3G (CDP Network.emulateNetworkConditions: --kbps down and up, --latency ms) and the
queue is sent by itself. Prints the seconds from the network's return to the last acknowledgement, the
requests, and the bytes: the request bodies the server received (what the phone uploaded, by
Content-Length) and the answers it sent back. Asserts the round arrived whole (answers, photos). Prints
figures; 1 KB = 1,024 bytes.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import secrets  # noqa: E402

os.environ.setdefault("ROUNDS_SECRET_KEY", secrets.token_hex(32))

import argparse  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from bench.common import Databases, demo_round, make_app, run_each  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = dict(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
ANSWER_PATH = re.compile(r"^/rounds/\d+/stops/\d+/items/\d+$")
KB = 1024


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class Meter:
    """Wraps the app: counts the answer requests, the bytes they carried and the bytes answered."""

    def __init__(self, app):
        self.app, self.lock = app, threading.Lock()
        self.requests = self.sent = self.received = 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or not ANSWER_PATH.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        with self.lock:
            self.requests += 1
            self.sent += int(environ.get("CONTENT_LENGTH") or 0)
        body = b"".join(self.app(environ, start_response))
        with self.lock:
            self.received += len(body)
        return [body]


def camera_photo(seed: int) -> bytes:
    """A 12 MP phone photo stand-in: sky, a lawn, a path, shapes and sensor noise (compresses like one)."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)
    w, h = 4032, 3024
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    for y in range(0, h, 4):
        t = y / h
        draw.rectangle([0, y, w, y + 4], fill=(int(90 + 80 * t), int(150 + 50 * t), int(225 - 160 * t)))
    draw.rectangle([0, h * 2 // 3, w, h], fill=(128, 126, 118))
    for _ in range(40):
        x, y, r = rng.randrange(w), rng.randrange(h // 2, h), rng.randrange(20, 240)
        draw.ellipse([x - r, y - r // 2, x + r, y + r // 2],
                     fill=(rng.randrange(40, 220), rng.randrange(40, 220), rng.randrange(40, 220)))
    img = img.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise((w, h), 18).convert("RGB")
    img = ImageChops.add(img, noise, scale=1.6, offset=-70)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def run(backend: str, cleanup: list, args) -> None:
    from playwright.sync_api import expect, sync_playwright
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Answer
    from app.models.round import answer_photo

    dbs = Databases(backend, cleanup, "offline-sync")
    app = make_app(dbs.url("sync"), dbs.photo_dir("sync"))
    with app.app_context():
        round_id = demo_round().id
        db.session.remove()
    meter = Meter(app.wsgi_app)
    app.wsgi_app = meter
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cleanup.append(server.shutdown)

    print(f"offline_sync_bench: the demo morning round, {args.photos} photos (4032x3024), "
          f"network back at {args.kbps} kbit/s down and up, {args.latency} ms latency")
    t0 = time.perf_counter()
    photos = [camera_photo(i) for i in range(args.photos)]
    print(f"  photos made: {sum(map(len, photos)) / KB / KB:.1f} MB as taken "
          f"({time.perf_counter() - t0:.1f} s)")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(**PHONE, locale="en-US", base_url=base)
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto("/login")
        page.locator("#username").fill("supervisor")
        page.locator("#password").fill("rounds-demo")
        page.locator("main button.primary").tap()
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        page.goto(f"/rounds/{round_id}/checkpoints/1")
        expect(page.locator("html")).to_have_attribute("data-round-kept", str(round_id), timeout=60_000)
        checkpoints = page.locator(".crumb").inner_text()
        count = int(re.search(r"of (\d+)", checkpoints).group(1))

        # No signal: every item answered, kept on the phone. (Emulated on the page's DevTools session, as
        # the slow network later is: Playwright's own offline switch would reset the throttling.)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                      "downloadThroughput": -1, "uploadThroughput": -1})
        t0 = time.perf_counter()
        answered = failed = 0
        for number in range(1, count + 1):
            page.goto(f"/rounds/{round_id}/checkpoints/{number}")
            page.wait_for_function("() => window.RoundsQueue && window.RoundsQueue.loaded()")
            forms = page.locator("form.item")
            for i in range(forms.count()):
                form = forms.nth(i)
                if failed < len(photos) and answered % 5 == 2:
                    form.locator("input[type=file][name=photos]").set_input_files(
                        {"name": f"IMG_{failed:04d}.jpg", "mimeType": "image/jpeg", "buffer": photos[failed]})
                    expect(form.locator("ul.thumbs.queued img")).to_have_count(1)
                    form.locator("button.choice-fail").tap()
                    failed += 1
                else:
                    form.locator("button.choice-pass").tap()
                expect(form.locator("p.qmark")).to_have_count(1)
                answered += 1
            page.evaluate("() => window.RoundsQueue.idle()")
        entries = page.evaluate("() => window.RoundsQueue.entries().length")
        kept = page.evaluate("""() => window.RoundsQueue.entries().reduce((n, e) =>
            n + (e.files || []).reduce((m, f) => m + f.data.byteLength, 0), 0)""")
        print(f"  offline: {answered} items answered ({failed} failed with a photo) in "
              f"{time.perf_counter() - t0:.1f} s; {entries} changes waiting, photos kept "
              f"{kept / KB:.0f} KB (downscaled on the phone)")

        # The network returns, slow: everything is sent by itself.
        rate = args.kbps * 1000 / 8
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": args.latency,
                                                      "downloadThroughput": rate, "uploadThroughput": rate})
        t0 = time.perf_counter()
        page.evaluate("() => window.RoundsQueue.sync()")
        page.wait_for_function("() => window.RoundsQueue.entries().length === 0", timeout=3_600_000,
                               polling=500)
        seconds = time.perf_counter() - t0
        browser.close()

    with app.app_context():
        answers = db.session.scalar(select(func.count()).select_from(Answer)
                                    .where(Answer.round_id == round_id, Answer.result.is_not(None)))
        stored = db.session.scalar(select(func.count()).select_from(answer_photo)
                                   .join(Answer, answer_photo.c.answer_id == Answer.id)
                                   .where(Answer.round_id == round_id))
        db.session.remove()
        db.engine.dispose()
    assert answers == answered and stored == failed, (answers, answered, stored, failed)
    print(f"  sync: {seconds:.1f} s for {meter.requests} requests; sent {meter.sent / KB:,.0f} KB "
          f"(request bodies), received {meter.received / KB:,.0f} KB (answers); "
          f"{meter.sent * 8 / 1000 / seconds:.0f} kbit/s up on average")
    print(f"  on the server: {answers} answers, {stored} photos, each once")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--kbps", type=int, default=400)
    parser.add_argument("--latency", type=int, default=400)
    options = parser.parse_args()
    run_each(["sqlite"], lambda backend, cleanup: run(backend, cleanup, options))
