"""Static files as an operator sees them (app/static_files.py): hashed URLs in the pages, cached for a
year and immutable, brotli or gzip bodies by Accept-Encoding, no session cookie on them even for a
logged-in user, a changed file a new URL; pages gzipped when the client accepts it."""
import gzip
import re
import threading
from pathlib import Path

import brotli
import pytest
from flask import Flask, url_for

from app.static_files import StaticBuild, setup_static
from tests.web.helpers import started_morning

STATIC = Path(__file__).resolve().parents[2] / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
HASHED_CSS = re.compile(r'href="(/static/app\.[0-9a-f]{12}\.css)"')
HASHED_HTMX = re.compile(r'src="(/static/htmx\.min\.[0-9a-f]{12}\.js)"')


def get(client, url, **headers):
    resp = client.get(url, headers=headers)
    body = resp.get_data()
    resp.close()
    return resp, body


def test_pages_link_hashed_assets_cached_for_a_year(client):
    """The page names app.<hash>.css; that URL is the file's bytes, public, a year, immutable, no cookie."""
    html = client.get("/login").get_data(as_text=True)
    for pattern, name in ((HASHED_CSS, "app.css"), (HASHED_HTMX, "htmx.min.js")):
        url = pattern.search(html).group(1)
        resp, body = get(client, url)
        assert resp.status_code == 200
        assert resp.headers["Cache-Control"] == IMMUTABLE
        assert body == (STATIC / name).read_bytes()
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_unhashed_names_are_still_served_with_a_short_max_age(client):
    """/static/app.css (an old page or bookmark) works, but is cached for a minute only."""
    resp, body = get(client, "/static/app.css")
    assert resp.status_code == 200 and body == (STATIC / "app.css").read_bytes()
    assert resp.headers["Cache-Control"] == "max-age=60, public"
    assert "immutable" not in resp.headers["Cache-Control"]


@pytest.mark.parametrize("accept, encoding, decode", [
    ("gzip, deflate, br", "br", brotli.decompress),
    ("gzip, deflate", "gzip", gzip.decompress),
    ("identity", None, lambda b: b)])
def test_assets_are_sent_compressed_as_the_client_accepts(client, accept, encoding, decode):
    """htmx (52 KB) goes out as brotli or gzip, with Vary: Accept-Encoding so caches keep them apart."""
    url = HASHED_HTMX.search(client.get("/login").get_data(as_text=True)).group(1)
    resp, body = get(client, url, **{"Accept-Encoding": accept})
    assert resp.headers.get("Content-Encoding") == encoding
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.headers["Cache-Control"] == IMMUTABLE
    raw = (STATIC / "htmx.min.js").read_bytes()
    assert decode(body) == raw
    if encoding:
        assert int(resp.headers["Content-Length"]) == len(body) < len(raw) // 3


def test_no_session_cookie_on_static_files_even_logged_in(client, auth, demo):
    """A logged-in supervisor's asset requests get no Set-Cookie, no Vary: Cookie, no user header: a
    browser, nginx or a CDN may keep them for everyone. Pages still refresh the session."""
    auth.login()
    rnd = started_morning(demo)
    page = client.get(f"/rounds/{rnd.id}/checkpoints/1")
    assert "Set-Cookie" in page.headers and "Cookie" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(urls) >= 5
    for url in urls + ["/static/app.css", "/static/no-such-file.css"]:
        resp, _ = get(client, url, **{"Accept-Encoding": "gzip, br"})
        assert resp.status_code == (404 if "no-such" in url else 200), url
        assert "Set-Cookie" not in resp.headers, url
        assert "Cookie" not in resp.headers.get("Vary", ""), url
        assert "X-Rounds-User" not in resp.headers, url


def _tiny_app(static: Path, builds: Path, debug: bool = False) -> Flask:
    """A Flask app with its own static folder, set up as create_app does (a restart is a new app)."""
    app = Flask(__name__, static_folder=str(static))
    app.config["STATIC_BUILD_DIR"] = str(builds)
    app.debug = debug
    setup_static(app)
    app.add_url_rule("/", "page", lambda: url_for("static", filename="site.css"))
    return app


def test_a_changed_file_is_a_new_url_after_a_restart(tmp_path):
    """Edit site.css and restart: the page names a new URL serving the new bytes; the old URL is gone."""
    static, builds = tmp_path / "static", tmp_path / "builds"
    static.mkdir()
    (static / "site.css").write_text("body { color: red }\n" * 100)
    first = _tiny_app(static, builds).test_client()
    old_url = first.get("/").get_data(as_text=True)
    assert re.fullmatch(r"/static/site\.[0-9a-f]{12}\.css", old_url)
    assert get(first, old_url)[1] == (static / "site.css").read_bytes()

    (static / "site.css").write_text("body { color: blue }\n" * 100)
    second = _tiny_app(static, builds).test_client()
    new_url = second.get("/").get_data(as_text=True)
    assert new_url != old_url
    resp, body = get(second, new_url)
    assert b"blue" in body and resp.headers["Cache-Control"] == IMMUTABLE
    assert get(second, old_url)[0].status_code == 404
    resp, body = get(second, new_url, **{"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip" and b"blue" in gzip.decompress(body)


def test_in_debug_mode_an_edited_file_is_a_new_url_without_a_restart(tmp_path):
    static, builds = tmp_path / "static", tmp_path / "builds"
    static.mkdir()
    (static / "site.css").write_text("a { color: red }")
    app = _tiny_app(static, builds, debug=True)
    client = app.test_client()
    old_url = client.get("/").get_data(as_text=True)
    (static / "site.css").write_text("a { color: green }")
    app.extensions["static_build"]["checked"] = float("-inf")  # (re-read at most once a second)
    new_url = client.get("/").get_data(as_text=True)
    assert new_url != old_url and get(client, new_url)[1] == b"a { color: green }"


def test_workers_starting_at_once_share_one_whole_build(tmp_path):
    """Eight gunicorn workers starting together: one build directory, complete, no leftovers."""
    builds = tmp_path / "builds"
    start = threading.Barrier(8)
    made, errors = [], []

    def worker():
        try:
            start.wait()
            made.append(StaticBuild(STATIC, builds))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [p.name for p in builds.iterdir()] == [made[0].directory.name]
    directory = made[0].directory
    for name, hashed in made[0].urls.items():
        assert (directory / hashed).read_bytes() == (STATIC / name).read_bytes()
    assert (directory / made[0].urls["htmx.min.js"]).with_suffix(".js.br").is_file()
    assert (directory / made[0].urls["htmx.min.js"]).with_suffix(".js.gz").is_file()


def test_pages_are_gzipped_when_the_client_accepts_it(client, auth, demo):
    """Under plain gunicorn too: a checkpoint page goes out gzipped; Vary names Accept-Encoding (and
    Cookie: it is a user's page); small responses and clients that do not ask get it as it is."""
    auth.login()
    rnd = started_morning(demo)
    url = f"/rounds/{rnd.id}/checkpoints/1"
    plain, raw = get(client, url)
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    resp, body = get(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    assert {"Accept-Encoding", "Cookie"} <= {v.strip() for v in resp.headers["Vary"].split(",")}
    assert int(resp.headers["Content-Length"]) == len(body) < len(raw) // 3
    h1 = re.compile(r"<h1[^>]*>.*?</h1>", re.S)
    assert h1.search(gzip.decompress(body).decode()).group(0) == h1.search(raw.decode()).group(0)
    resp, body = get(client, "/sw.js", **{"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip" and gzip.decompress(body).startswith(b"const CONFIG")
    redirect = client.post("/logout", data={"csrf_token": auth.token()}, headers={"Accept-Encoding": "gzip"})
    assert redirect.status_code == 302 and "Content-Encoding" not in redirect.headers
