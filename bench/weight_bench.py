"""Page weight: what a supervisor's phone downloads for a checkpoint, and per answer tap.

Run from the project root:  .venv/bin/python bench/weight_bench.py

The real app on a temporary SQLite database (real migrations, demo seed); `supervisor` logs in
through the real /login form; today's morning round is started through the service. Every
checkpoint page is fetched with the Flask test client and gzipped at level 6 (a typical server
setting), in both languages. Prints figures only; asserts nothing. 1 KB = 1,024 bytes.

Targets: largest checkpoint page + app.css + htmx.min.js + app.js <= 35 KB gzipped; the largest
checkpoint page under 50 KB raw (HTML, without photos); one answer's htmx response <= 2 KB gzipped.

Then what the round page and the largest checkpoint page transfer as a browser would fetch them (no
service worker): the page and every stylesheet, script and icon it links, as the server sends them
(Content-Encoding as negotiated for a client that accepts "gzip, deflate, br", and one that accepts
gzip only), bodies plus response headers. First load: an empty HTTP cache. Repeat load: the page again;
an asset whose Cache-Control makes it fresh (max-age, immutable) costs nothing, any other is revalidated
(If-None-Match / If-Modified-Since: a 304's headers, and a round trip).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import secrets  # noqa: E402

# The app reads its secret key when app.config is imported: set it first (TestConfig overrides it).
os.environ["ROUNDS_SECRET_KEY"] = secrets.token_hex(32)

import gzip  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402

KB = 1024
TARGET_BUNDLE_GZ = 35 * KB
TARGET_PAGE_RAW = 50 * KB
TARGET_ANSWER_GZ = 2 * KB
ASSETS = ("app.css", "htmx.min.js", "app.js")
LANGS = {"zh_Hans": "zh-CN,zh;q=0.9", "en": "en-GB,en;q=0.9"}
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def kb(n: int) -> str:
    return f"{n / KB:6.1f} KB"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="weight-bench-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: str) -> None:
    from app.services.rounds import stops_by_checkpoint
    from bench.common import demo_round

    os.makedirs(os.path.join(tmp, "photos"))

    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp}/weight.db"
        PHOTO_DIR = os.path.join(tmp, "photos")

    app = create_app(BenchConfig)
    with app.app_context():
        rnd = demo_round()
        round_id = rnd.id
        groups = [[(s.id, [(i.id, i.photo_required_on_fail) for i in s.version.items]) for s in g]
                  for g in stops_by_checkpoint(rnd)]
        names = [g[0].checkpoint.name_en for g in stops_by_checkpoint(rnd)]
        db.session.remove()

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post("/login", data={"username": "supervisor", "password": "rounds-demo",
                                       "csrf_token": CSRF_RE.search(page).group(1)})
    if resp.status_code != 302:
        raise SystemExit(f"login failed: {resp.status_code}")

    def fetch(path: str, lang: str) -> bytes:
        r = client.get(path, headers={"Accept-Language": LANGS[lang]})
        if r.status_code != 200:
            raise SystemExit(f"GET {path}: {r.status_code}")
        body = r.get_data()
        r.close()
        return body

    # Every checkpoint page, fresh (nothing answered yet), in both languages.
    pages = {lang: [] for lang in LANGS}
    for lang in LANGS:
        for n in range(1, len(groups) + 1):
            body = fetch(f"/rounds/{round_id}/checkpoints/{n}", lang)
            pages[lang].append((n, len(body), gz(body)))

    assets = {lang: {} for lang in LANGS}
    with app.test_request_context():
        from flask import url_for

        asset_urls = {name: url_for("static", filename=name) for name in ASSETS}
    for lang in LANGS:
        for name in ASSETS:
            body = fetch(asset_urls[name], lang)
            assets[lang][name] = (len(body), gz(body))

    # The heaviest checkpoint: by gzipped size for the bundle, by raw size for the raw target
    # (they need not be the same page), per language.
    largest = {lang: max(pages[lang], key=lambda p: p[2]) for lang in LANGS}
    largest_raw = {lang: max(pages[lang], key=lambda p: p[1]) for lang in LANGS}

    # One answer's htmx response, on the largest checkpoint: a pass, and a fail that raises a
    # work order (on an item that needs no photo), and a refused fail (needs a photo: 422).
    n_big = largest["zh_Hans"][0]
    token = CSRF_RE.search(fetch(f"/rounds/{round_id}/checkpoints/{n_big}", "zh_Hans").decode()).group(1)
    items = [(stop_id, item_id, photo) for stop_id, its in groups[n_big - 1] for item_id, photo in its]

    def answer(lang, stop_id, item_id, result):
        r = client.post(
            f"/rounds/{round_id}/stops/{stop_id}/items/{item_id}",
            data={"csrf_token": token, "result": result, "note": "",
                  "photos": (io.BytesIO(b""), "", "application/octet-stream")},
            headers={"HX-Request": "true", "X-CSRFToken": token, "Accept-Language": LANGS[lang]},
            content_type="multipart/form-data")
        return r.status_code, r.get_data()

    no_photo = [p for p in items if not p[2]]
    needs_photo = [p for p in items if p[2]]
    answers = {lang: [] for lang in LANGS}
    for lang in LANGS:
        s_id, i_id, _ = items[0]
        answers[lang].append(("pass", *answer(lang, s_id, i_id, "pass")))
        if no_photo:
            s_id, i_id, _ = no_photo[-1]
            answers[lang].append(("fail, raises a work order", *answer(lang, s_id, i_id, "fail")))
        if needs_photo:
            s_id, i_id, _ = needs_photo[-1]
            answers[lang].append(("fail without photo (refused)", *answer(lang, s_id, i_id, "fail")))

    # The same checkpoint once every item is answered: fail where no photo is needed (each raises
    # a work order, shown on the page), pass elsewhere — the heaviest state of the page.
    for k, (s_id, i_id, photo) in enumerate(items):
        answer("en", s_id, i_id, "fail" if not photo else ("na" if k % 3 == 2 else "pass"))
    answered = {}
    for lang in LANGS:
        body = fetch(f"/rounds/{round_id}/checkpoints/{n_big}", lang)
        answered[lang] = (len(body), gz(body))

    # ------------------------------------------------------------------ report
    n_items = [sum(len(its) for _, its in g) for g in groups]
    print(f"weight_bench: morning round, {len(groups)} checkpoints, {sum(n_items)} items; "
          "gzip level 6; 1 KB = 1,024 B")
    print()
    print("Checkpoint pages, fresh (raw / gzipped bytes)")
    print(f"  {'#':>2}  {'checkpoint':<26} {'items':>5}  " +
          "  ".join(f"{lang + ' raw':>12} {lang + ' gz':>11}" for lang in LANGS))
    for idx in range(len(groups)):
        cells = "  ".join(f"{pages[lang][idx][1]:>12,} {pages[lang][idx][2]:>11,}" for lang in LANGS)
        print(f"  {idx + 1:>2}  {names[idx][:26]:<26} {n_items[idx]:>5}  {cells}")

    print()
    for lang in LANGS:
        n, raw, g = largest[lang]
        a = assets[lang]
        total_gz = g + sum(v[1] for v in a.values())
        total_raw = raw + sum(v[0] for v in a.values())
        ans_gz = max(gz(body) for _, _, body in answers[lang])
        rn, rraw, rg = largest_raw[lang]
        print(f"[{lang}] largest checkpoint: #{n} {names[n - 1]} ({n_items[n - 1]} items) by gzipped"
              f" size; #{rn} {names[rn - 1]} ({n_items[rn - 1]} items) by raw size")
        print(f"  {'item':<52} {'raw':>10} {'gzip-6':>10}   target")
        print(f"  {f'checkpoint page HTML #{n}, fresh (max gzipped)':<52} {raw:>10,} {g:>10,}")
        print(f"  {f'checkpoint page HTML #{rn}, fresh (max raw)':<52} {rraw:>10,} {rg:>10,}   "
              f"raw < {TARGET_PAGE_RAW:,}: {verdict(rraw < TARGET_PAGE_RAW)}")
        ar, ag = answered[lang]
        print(f"  {f'checkpoint page HTML #{n}, every item answered':<52} {ar:>10,} {ag:>10,}   "
              f"raw < {TARGET_PAGE_RAW:,}: {verdict(ar < TARGET_PAGE_RAW)}")
        for name in ASSETS:
            print(f"  {'static/' + name:<52} {a[name][0]:>10,} {a[name][1]:>10,}")
        print(f"  {'sum: fresh page + app.css + htmx.min.js + app.js':<52} {total_raw:>10,} "
              f"{total_gz:>10,}   gz <= {TARGET_BUNDLE_GZ:,}: {verdict(total_gz <= TARGET_BUNDLE_GZ)}"
              f" ({kb(total_gz).strip()})")
        worst = max(ag, g) + sum(v[1] for v in a.values())
        print(f"  {'sum with the answered page instead':<52} {'':>10} {worst:>10,}   "
              f"gz <= {TARGET_BUNDLE_GZ:,}: {verdict(worst <= TARGET_BUNDLE_GZ)}")
        for label, status, body in answers[lang]:
            print(f"  {'answer htmx response: ' + label + f' [{status}]':<52} {len(body):>10,} "
                  f"{gz(body):>10,}   gz <= {TARGET_ANSWER_GZ:,}: {verdict(gz(body) <= TARGET_ANSWER_GZ)}")
        print(f"  largest answer response gzipped: {ans_gz:,} B")
        print()

    transfers(client, round_id, n_big)

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


ASSET_RE = re.compile(r'<(?:link[^>]+rel="(?:stylesheet|icon|apple-touch-icon)"[^>]+href|script[^>]+src)="([^"]+)"')
MAX_AGE_RE = re.compile(r"max-age=(\d+)")


def header_bytes(resp) -> int:
    """The status line and headers as on the wire (HTTP/1.1)."""
    return len(f"HTTP/1.1 {resp.status}\r\n") + sum(len(k) + len(v) + 4 for k, v in resp.headers.items()) + 2


def transfers(client, round_id: int, n_big: int) -> None:
    """Bytes on the wire for a page and its linked assets, first load and repeat load, by Accept-Encoding."""
    print("What a page transfers (bodies as sent + response headers; the browser's HTTP cache, no service worker)")
    print(f"  {'page':<30} {'accepts':<18} {'first load':>22} {'repeat load':>24}   of which assets")
    for label, path in ((f"round /rounds/{round_id}", f"/rounds/{round_id}"),
                        (f"checkpoint #{n_big} (largest)", f"/rounds/{round_id}/checkpoints/{n_big}")):
        for accepts in ("gzip, deflate, br", "gzip", "(none)"):
            headers = {"Accept-Language": LANGS["zh_Hans"]}
            if accepts != "(none)":
                headers["Accept-Encoding"] = accepts
            first = repeat = asset_first = asset_repeat = 0
            req_first = req_repeat = 0
            page = client.get(path, headers=headers)
            page_bytes = len(page.get_data()) + header_bytes(page)
            html = page.get_data()
            if page.headers.get("Content-Encoding") == "gzip":
                html = gzip.decompress(html)
            elif page.headers.get("Content-Encoding") == "br":
                import brotli
                html = brotli.decompress(html)
            page.close()
            first += page_bytes
            repeat += page_bytes
            req_first += 1
            req_repeat += 1
            for url in dict.fromkeys(ASSET_RE.findall(html.decode())):
                r = client.get(url, headers=headers)
                size = len(r.get_data()) + header_bytes(r)
                cc = r.headers.get("Cache-Control", "")
                etag, modified = r.headers.get("ETag"), r.headers.get("Last-Modified")
                r.close()
                first += size
                asset_first += size
                req_first += 1
                max_age = MAX_AGE_RE.search(cc)
                fresh = "immutable" in cc or (max_age and int(max_age.group(1)) > 0 and "no-cache" not in cc)
                if not fresh:  # revalidated on the repeat load
                    cond = dict(headers)
                    if etag:
                        cond["If-None-Match"] = etag
                    if modified:
                        cond["If-Modified-Since"] = modified
                    r = client.get(url, headers=cond)
                    size = len(r.get_data()) + header_bytes(r)
                    r.close()
                    repeat += size
                    asset_repeat += size
                    req_repeat += 1
            print(f"  {label:<30} {accepts:<18} {first:>9,} B {req_first:>2} requests "
                  f"{repeat:>9,} B {req_repeat:>2} requests   {asset_first:,} / {asset_repeat:,} B")
    print()


if __name__ == "__main__":
    main()
