"""What a round weighs with its offline copy: the first load of a started round, plus what the service
worker fetches to keep the round on the phone (static/sw.js).

Run from the project root:  .venv/bin/python bench/offline_weight_bench.py

The real app on a throwaway SQLite database (migrations, demo seed); `supervisor` logs in through the
real form; today's morning round is started through the service. Every response is fetched with the
Flask test client and gzipped at level 6 (a typical server setting), in both languages. Prints figures
only; asserts nothing. 1 KB = 1,024 bytes.

  first load   what opening checkpoint 1 after Start downloads: its HTML, the CSS and scripts it links,
               the favicon, the manifest, /sw.js
  worker       what the worker fetches once: at install its assets (the same versioned URLs the page
               loaded: the browser's HTTP cache may answer them) and the offline page; when the round is
               opened, the round page, every other checkpoint page and Today
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import os  # noqa: E402
import secrets  # noqa: E402

os.environ.setdefault("ROUNDS_SECRET_KEY", secrets.token_hex(32))

import gzip  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402

from bench.common import Databases, demo_round, login, make_app, run_each  # noqa: E402

LANGS = {"zh_Hans": "zh-CN,zh;q=0.9", "en": "en-GB,en;q=0.9"}
KB = 1024


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def run(backend: str, cleanup: list) -> None:
    from app.extensions import db

    dbs = Databases(backend, cleanup, "offline-weight")
    app = make_app(dbs.url("weight"), dbs.photo_dir("weight"))
    with app.app_context():
        round_id = demo_round().id
        db.session.remove()
    cleanup.append(lambda: _dispose(app))

    client = app.test_client()
    login(client, "supervisor")

    def get(path: str, lang: str) -> bytes:
        r = client.get(path, headers={"Accept-Language": LANGS[lang]})
        if r.status_code != 200:
            raise SystemExit(f"GET {path}: {r.status_code}")
        body = r.get_data()
        r.close()
        return body

    print("offline_weight_bench: morning round of the demo estate; gzip level 6; 1 KB = 1,024 B")
    for lang in LANGS:
        page_path = f"/rounds/{round_id}/checkpoints/1"
        html = get(page_path, lang)
        text = html.decode()
        linked = re.findall(r'(?:href|src)="(/static/[^"]+|/manifest\.webmanifest[^"]*)"', text)
        linked = [p for p in dict.fromkeys(linked) if "apple-touch" not in p]  # iOS only, on install
        first = [(page_path, html)] + [(p, get(p.replace("&amp;", "&"), lang)) for p in linked]
        sw = get("/sw.js", lang)
        first.append(("/sw.js", sw))
        config = json.loads(sw.decode().splitlines()[0].removeprefix("const CONFIG = ").removesuffix(";"))
        install = [(p, get(p, lang)) for p in config["assets"] + [config["offline"]]]
        round_html = get(f"/rounds/{round_id}", lang)
        checkpoints = sorted(set(re.findall(rf'href="(/rounds/{round_id}/checkpoints/\d+)"', round_html.decode())),
                             key=lambda p: int(p.rsplit("/", 1)[1]))
        # (not checkpoint 1: the worker kept it as it was shown)
        keep = ([(f"/rounds/{round_id}", round_html)] + [(p, get(p, lang)) for p in checkpoints if p != page_path]
                + [("/today", get("/today", lang))])

        print()
        print(f"[{lang}]  {'request':<58} {'raw':>9} {'gzip-6':>9}")
        for title, rows in (("first load of checkpoint 1", first), ("worker install (assets, offline page)", install),
                            (f"worker keeps the round (checkpoints 2-{len(checkpoints)}, round page, Today)", keep)):
            print(f"  {title}")
            for path, body in rows:
                print(f"    {path[:56]:<56} {len(body):>9,} {gz(body):>9,}")
            print(f"    {'sum':<56} {sum(len(b) for _, b in rows):>9,} {sum(gz(b) for _, b in rows):>9,}")
        everything = first + install + keep
        fresh = first + [(p, b) for p, b in install if p not in dict(first)] + keep
        print(f"  {'total, every request above':<58} {sum(len(b) for _, b in everything):>9,} "
              f"{sum(gz(b) for _, b in everything):>9,}  ({sum(gz(b) for _, b in everything) / KB:.1f} KB gz)")
        print(f"  {'total, if the HTTP cache answers the install (304s)':<58} {sum(len(b) for _, b in fresh):>9,} "
              f"{sum(gz(b) for _, b in fresh):>9,}  ({sum(gz(b) for _, b in fresh) / KB:.1f} KB gz)")


def _dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    run_each(["sqlite"], run)
