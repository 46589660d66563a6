"""The installable app: manifest, service worker, offline page and favicon.

Static URLs are content-hashed (/static/app.<hash>.css) by app/static_files.py, so the service worker's
precache list below changes whenever an asset does, and the browser installs the new worker.

The service worker (static/sw.js) keeps a started round's pages for use without signal; it learns
from the `X-Rounds-User` header whose pages it holds, so a shared phone never shows one supervisor's
round to the next (see static/sw.js for the caching rules). The same token, on <body data-user>, names
whose changes static/queue.js keeps on the phone while there is no signal.
"""
import hashlib
import hmac
import json
from pathlib import Path

from flask import Blueprint, current_app, g, render_template, request, send_from_directory, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user

from app.i18n import normalise_locale

bp = Blueprint("pwa", __name__)

# Cached by the service worker when it installs: the shell every page needs, and the icons.
# queue.js and idb-keyval keep the changes made with no signal (IndexedDB), so they must load offline too.
PRECACHE = ("app.css", "app.js", "htmx.min.js", "queue.js", "markup.js", "vendor/idb-keyval-6.2.6.umd.min.js",
            "icons/icon-192.png", "icons/favicon-32.png")
BRAND = "#12355b"
BACKGROUND = "#f4f5f7"
USER_HEADER = "X-Rounds-User"


def user_token(user_id: int) -> str:
    """An opaque name for the user's page cache in the service worker (no id leaks, not guessable)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"sw-pages:{user_id}".encode(), hashlib.sha256).hexdigest()[:20]


@bp.app_template_global()
def queue_user() -> str:
    """The logged-in user's token for <body data-user>: static/queue.js files each change kept on the phone
    under it and sends only the current user's (a shared phone); '' for nobody."""
    user = current_user
    return user_token(user.id) if user.is_authenticated else ""


@bp.after_app_request
def tell_sw_whose_page(resp):
    """Name the logged-in user on HTML pages, so the SW files each page under its user (or keeps none).

    Only when the request already loaded the user (every page does): no extra statement for the rest."""
    user = g.get("_login_user")
    if (resp.mimetype == "text/html" and user is not None and user.is_authenticated
            and USER_HEADER not in resp.headers):
        resp.headers[USER_HEADER] = user_token(user.id)
        resp.vary.add("Cookie")
    return resp


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest in the language asked for (`?lang=zh|en`, as the page links it: browsers fetch
    it without cookies), else the browser's."""
    with force_locale(normalise_locale(request.args.get("lang")) or str(get_locale())):
        body = _manifest()
    resp = current_app.response_class(json.dumps(body, ensure_ascii=False, indent=1),
                                      mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Content-Language"] = body["lang"]
    resp.vary.add("Accept-Language")
    return resp


def _manifest() -> dict:
    """The manifest's fields in the current locale."""
    icon = lambda name, size, purpose: {  # noqa: E731
        "src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}", "type": "image/png",
        "purpose": purpose}
    return {
        "id": "/",
        "name": _("Rounds: estate patrols"),
        "short_name": pgettext("app name", "Rounds"),
        "description": _("Patrol rounds, checklists and work orders for property teams."),
        "lang": "en" if str(get_locale()) == "en" else "zh-Hans",
        "start_url": url_for("rounds.today"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": BRAND,
        "background_color": BACKGROUND,
        "icons": [icon("icon-192.png", 192, "any"), icon("icon-512.png", 512, "any"),
                  icon("maskable-192.png", 192, "maskable"), icon("maskable-512.png", 512, "maskable")],
    }


@bp.get("/sw.js")
def service_worker():
    """static/sw.js at the root scope, told which assets (by hashed URL) to keep and where the offline page is."""
    source = (Path(current_app.static_folder) / "sw.js").read_text(encoding="utf-8")
    assets = [url_for("static", filename=name) for name in PRECACHE]
    config = {"assets": assets, "offline": url_for("pwa.offline")}
    # The version changes with any asset or with sw.js itself: the browser then installs the new worker.
    config["version"] = hashlib.sha256((json.dumps(config) + source).encode()).hexdigest()[:10]
    resp = current_app.response_class(f"const CONFIG = {json.dumps(config)};\n{source}",
                                      mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/offline")
def offline():
    """What a page not kept on the phone shows with no network, in the language asked for (the SW fetches it
    without cookies, naming the language of the pages the user opens), kept by the SW."""
    with force_locale(normalise_locale(request.args.get("lang")) or str(get_locale())):
        resp = current_app.response_class(render_template("offline.html"))
        resp.headers["Content-Language"] = "en" if str(get_locale()) == "en" else "zh-Hans"
    return resp


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask the root for it, whatever the page links."""
    return send_from_directory(Path(current_app.static_folder) / "icons", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
