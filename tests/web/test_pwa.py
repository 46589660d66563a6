"""The installable app over HTTP: manifest in both languages, the service worker, offline page, icons."""
import io
import json
import re

import pytest
from PIL import Image

from tests.web.helpers import started_morning


@pytest.mark.parametrize("lang, name, short", [("zh", "巡查通 · 物业巡查", "巡查通"), ("en", "Rounds: estate patrols", "Rounds")])
def test_manifest_names_follow_the_language_asked(client, lang, name, short):
    """The page links the manifest with its language (browsers fetch it without cookies)."""
    resp = client.get(f"/manifest.webmanifest?lang={lang}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/manifest+json"
    data = json.loads(resp.get_data(as_text=True))
    assert (data["name"], data["short_name"]) == (name, short)
    assert data["lang"] == ("zh-Hans" if lang == "zh" else "en")
    assert data["display"] == "standalone" and data["start_url"] == "/today" and data["scope"] == "/"
    assert data["theme_color"] == "#12355b"
    sizes = {(i["sizes"], i["purpose"]) for i in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_manifest_icons_exist_at_their_declared_sizes(client):
    """Every icon the manifest names is served by its hashed URL, a PNG of the size it declares."""
    data = json.loads(client.get("/manifest.webmanifest?lang=en").get_data(as_text=True))
    for icon in data["icons"]:
        assert re.fullmatch(r"/static/icons/[\w-]+\.[0-9a-f]{12}\.png", icon["src"])
        resp = client.get(icon["src"])
        assert resp.status_code == 200 and resp.mimetype == "image/png"
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        with Image.open(io.BytesIO(resp.get_data())) as img:
            assert f"{img.width}x{img.height}" == icon["sizes"]
        resp.close()


def test_pages_link_manifest_icons_and_the_favicon(client, auth, demo):
    """Each page links the manifest in its language, the favicon and the apple-touch icon (180 px)."""
    html = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest?lang=zh"' in html
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest?lang=en"' in html
    touch = re.search(r'rel="apple-touch-icon" href="([^"]+)"', html).group(1)
    icon = client.get(touch)
    with Image.open(io.BytesIO(icon.get_data())) as img:
        assert img.size == (180, 180)
    icon.close()
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/vnd.microsoft.icon"
    resp.close()


def test_static_urls_carry_a_hash_of_their_content(client):
    """A changed asset is a new URL (app.<hash>.css), so the service worker's cache-first never serves it
    stale (app/static_files.py; tests/web/test_static_files.py for caching and compression)."""
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'href="/static/app\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'src="/static/app\.[0-9a-f]{12}\.js"', html)
    assert "?v=" not in html


def test_service_worker_is_served_for_the_root_scope(client):
    """/sw.js: JavaScript, Service-Worker-Allowed /, no-cache, told its hashed assets (served for a year,
    immutable) and offline page."""
    resp = client.get("/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.headers["Cache-Control"] == "no-cache"
    first = resp.get_data(as_text=True).splitlines()[0]
    config = json.loads(first.removeprefix("const CONFIG = ").removesuffix(";"))
    assert config["offline"] == "/offline" and re.fullmatch(r"[0-9a-f]{10}", config["version"])
    assert all(re.fullmatch(r"/static/[\w/.-]+\.[0-9a-f]{12}\.(js|css|png)", url) for url in config["assets"])
    for url in config["assets"]:
        asset = client.get(url)
        assert asset.status_code == 200
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        asset.close()


@pytest.mark.parametrize("query, accept, text, lang", [
    ("", "zh-CN", "无网络", "zh-Hans"), ("", "en", "No connection", "en"),
    ("?lang=zh-Hans", "en", "无网络", "zh-Hans"), ("?lang=en", "zh-CN", "No connection", "en")])
def test_offline_page_speaks_the_language_asked(client, query, accept, text, lang):
    """The offline page carries no user data and no form: the SW keeps it (fetched without cookies, naming
    the pages' language) and shows it to whoever is offline."""
    resp = client.get(f"/offline{query}", headers={"Accept-Language": accept})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and text in html and resp.headers["Content-Language"] == lang
    assert "csrf_token" not in html and "X-Rounds-User" not in resp.headers


def test_pages_name_their_user_for_the_service_worker(client, auth, demo):
    """Pages of a logged-in user carry an opaque per-user token (never the id); anonymous pages none."""
    assert "X-Rounds-User" not in client.get("/login").headers
    auth.login()
    rnd = started_morning(demo)
    one = client.get(f"/rounds/{rnd.id}/checkpoints/1").headers["X-Rounds-User"]
    assert one == client.get("/today").headers["X-Rounds-User"]
    assert re.fullmatch(r"[0-9a-f]{20}", one)
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("supervisor2")
    assert client.get("/today").headers["X-Rounds-User"] != one
    static = client.get("/static/app.css")
    assert "X-Rounds-User" not in static.headers
    static.close()
