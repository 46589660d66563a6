"""Helpers shared by the blueprints: page-or-fragment rendering, load-or-404, and the request's unit of work.

One unit of work per request, one rule for refusals:
- Services change and flush; nobody in a request commits or rolls back by hand. The request
  commits once at its end if its answer is below 400 and nothing was refused; otherwise (4xx, 5xx,
  an exception, a refusal) it rolls back, so a composed action is all or nothing. A commit that
  finds someone else's change first (a moved version, a key taken) answers 409 with a plain
  message; nothing is kept. Webhooks go out only after the commit succeeded.
- A service refuses with a `Refused` (services/errors.py): a message for the user and a status.
  A view catches it only to answer in its own page (re-render with what was typed kept, or flash
  and go back), taking the message with `refused(e)`: that undoes the request's changes at once,
  so the page shows what is stored, and the request will not commit. Any other `Refused` reaches
  the error handler (app/main/errors.py), which does the same and renders the error page or
  fragment with the message and the refusal's status.
- CLI commands and background jobs use `unit_of_work` (app/unit_of_work.py) the same way.
"""
from functools import wraps

from flask import abort, current_app, flash, g, render_template, request
from flask import session as cookie
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db, login
from app.services.errors import Refused
from app.services.policy import can, sites_of


def is_partial() -> bool:
    """An htmx request that wants a fragment: not boosted navigation, not a history restore."""
    h = request.headers
    return (h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true"
            and h.get("HX-History-Restore-Request") != "true")


def render(page: str, fragment: str | None = None, status_code: int = 200, **context):
    """Render the fragment for htmx, else the page (which includes the same fragment)."""
    name = fragment if fragment and is_partial() else page
    resp = current_app.make_response((render_template(name, **context), status_code))
    resp.vary.add("HX-Request")
    return resp


def user_sites() -> list:
    """The sites the current user works on (every site for an admin)."""
    return sites_of(current_user, db.session)


def template_can(action: str, obj=None) -> bool:
    """can() for templates: the current user, the request's session."""
    return can(current_user, action, obj, db.session)


def require(rule: str):
    """A view only for holders of a named policy rule (others get 404: the page is not theirs)."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login.unauthorized()
            if not can(current_user, rule):
                abort(404)
            return view(*args, **kwargs)
        return guarded
    return decorate


def guard(bp, rule: str) -> None:
    """Every view of a blueprint only for holders of a named policy rule; anonymous users log in."""
    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login.unauthorized()
        if not can(current_user, rule):
            abort(404)


def row_id(value) -> int | None:
    """A database id from a URL or form, or None: ASCII digits within a 32-bit integer (a longer number
    would overflow the column in the query, "²".isdigit() is true but int() refuses it)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    ident = int(value)
    return ident if 0 < ident < 2 ** 31 else None


def load(model, ident: int, action: str = "view"):
    """The object if the current user may `action` it; 404 otherwise (existence is not leaked)."""
    obj = db.session.get(model, ident)
    if obj is None or not can(current_user, action, obj, db.session):
        abort(404)
    return obj


def safe_next(value: str | None, default: str) -> str:
    """`value` if it is a path on this site, else `default`: every `next` and referrer goes through here.

    Refused: anything not starting with one "/", a scheme or host, backslashes, and control or
    invisible characters, raw or percent-encoded (browsers drop tabs and newlines, so "/\\t/evil"
    would become "//evil"; a CR/LF would break the Location header).
    """
    from urllib.parse import unquote, urlsplit

    from werkzeug.urls import iri_to_uri

    if not value or not isinstance(value, str) or len(value) > 2000:
        return default
    decoded, seen = value, {value}
    for _ in range(3):  # "%250d" is "%0d" after one decode: look through a few layers
        decoded = unquote(decoded)
        if decoded in seen:
            break
        seen.add(decoded)
    for text in seen:
        if any((ch < " " or ch == "\x7f" or ch == "\\" or (not ch.isprintable() and ch != " ")) for ch in text):
            return default
        if not text.startswith("/") or text.startswith("//"):
            return default
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return default
    return iri_to_uri(value)


def chosen_files(files) -> list:
    """The files actually chosen in a file field (a browser sends one empty part for none)."""
    return [f for f in (files or []) if f and f.filename]


def uploaded_photos(files, site, already: int = 0, originals=None) -> list:
    """Normalise and store the photos of a file field; PhotoRejected (nothing stored) if any is bad.

    Refused before any decode: more photos than a request or (with `already` attached) an item may
    carry, or more pixels in all than a request may declare. A photo the user drew on comes with its
    original (the request's "originals" field unless given): both pass the same checks, the original is
    stored too and linked from the marked photo, which is the one returned (attached and shown).
    """
    from app.services.photos import PhotoRejected, check_room
    from app.services.storage import StoreUnavailable
    from app.services.uploads import link_originals, normalise_all, pair_originals, store_photos

    cfg = current_app.config
    chosen = chosen_files(files)
    extra = chosen_files(request.files.getlist("originals") if originals is None else originals)
    if not chosen:
        if extra:
            raise PhotoRejected(_l("A marked-up photo arrived without its original. Choose the photo again."))
        return []
    if len(chosen) <= cfg["MAX_PHOTOS_PER_REQUEST"]:
        check_room(already, len(chosen), cfg["MAX_PHOTOS_PER_ITEM"])
    pairs = pair_originals([f.filename for f in chosen], [f.filename for f in extra]) if extra else []
    blobs = [f.read() for f in chosen] + [f.read() for f in extra]
    images = normalise_all(blobs, max_count=cfg["MAX_PHOTOS_PER_REQUEST"], pictures=len(chosen),
                           max_total_pixels=cfg["MAX_PIXELS_PER_REQUEST"],
                           max_bytes=cfg["MAX_PHOTO_BYTES"], max_pixels=cfg["MAX_PHOTO_PIXELS"],
                           long_edge=cfg["PHOTO_LONG_EDGE"], thumb_edge=cfg["THUMB_LONG_EDGE"])
    try:
        stored = store_photos(db.session, current_app.extensions["photo_store"], site,
                              current_user if current_user.is_authenticated else None, images)  # a resident: none
    except StoreUnavailable:
        current_app.logger.warning("photo store unavailable while storing", exc_info=True)
        raise PhotoRejected(_l("Not saved: photos cannot be stored just now. Try again in a moment."),
                            status=503) from None
    photos = stored[:len(chosen)]
    if extra:
        link_originals(photos, stored[len(chosen):], pairs)
    return photos


def photo_response(photo, size: str, max_age: int = 31536000):
    """A stored photo (full or thumb) that has passed its access check (see stored_image_response)."""
    return stored_image_response(photo.sha256 if size == "full" else photo.thumb_sha256, "image/jpeg", max_age)


def stored_image_response(key: str, mimetype: str, max_age: int):
    """Bytes from the photo store (a photo, a floor plan) that have passed their access check: ETag,
    304, private cache; 503 "try again" if the store is not answering."""
    from app.services.storage import StoreUnavailable

    if request.if_none_match.contains(key):
        resp = current_app.response_class(status=304)
    else:
        try:
            data = current_app.extensions["photo_store"].get(key)
        except KeyError:
            abort(404)
        except StoreUnavailable:
            current_app.logger.warning("photo store unavailable while reading", exc_info=True)
            return render("errors/error.html", "errors/_error.html", status_code=503, path=request.path,
                          message=_l("This photo cannot be shown just now. Try again in a moment."))
        resp = current_app.response_class(data, mimetype=mimetype)
    resp.set_etag(key)
    # Private: it passed an access check. Content-addressed bytes never change under the same key.
    resp.headers["Cache-Control"] = f"private, max-age={max_age}" + (", immutable" if max_age > 86400 else "")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def pdf_response(make, filename: str):
    """A PDF report in ?lang= (zh_Hans or en), else the page's language; a plain page if no CJK font."""
    from flask_babel import get_locale
    from flask_babel import gettext as _

    from app.services import reports

    lang = request.args.get("lang") if request.args.get("lang") in ("zh_Hans", "en") else str(get_locale())
    try:
        data = make(lang)
    except reports.FontMissing:
        return render("errors/error.html", "errors/_error.html", status_code=503, path=request.path,
                      message=_("PDF reports need a Chinese font on the server (fonts-noto-cjk)."))
    return download(data, "application/pdf", filename, inline=True)


def csv_download(lines, filename: str):
    """CSV lines (exports.csv_lines: formula cells neutralised) streamed as a download."""
    from flask import stream_with_context

    return download(stream_with_context(lines), "text/csv", filename)


def download(body, mimetype: str, filename: str, *, inline: bool = False):
    """A report or export (CSV, PDF, YAML, image) that neither a shared cache nor the browser's keeps:
    they carry owners' names, phones and signatures."""
    resp = current_app.response_class(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def refused(e: Refused) -> str:
    """The message of a refusal a view answers in its own page; the request's changes are undone now
    (the page re-rendered after it shows what is stored) and the request will not commit."""
    g.unit_refused = True
    db.session.rollback()
    return str(e.message)


def flash_outcome(change, saved: str | None = None) -> None:
    """Run one settings change answered by flash-and-redirect: `saved` if it went through, else the
    refusal's message (and the request keeps nothing)."""
    try:
        change()
    except Refused as e:
        flash(refused(e), "error")
        return
    if saved:
        flash(saved, "info")


def end_unit(resp):
    """after_request: commit the request's work if its answer is below 400 and nothing was refused,
    else roll back; a conflict at commit becomes a 409 with the reason (never a 500, nothing kept)."""
    from app import tasks
    from app.services import webhooks
    from app.unit_of_work import CONFLICTS, CONFLICT_MESSAGE

    if resp.status_code >= 400 or g.get("unit_refused"):
        db.session.rollback()
        webhooks.queued(db.session)  # nothing was committed: nothing to send
        return resp
    try:
        db.session.commit()
    except CONFLICTS:
        db.session.rollback()
        webhooks.queued(db.session)
        cookie.pop("_flashes", None)  # a "Saved." flashed before the commit failed would be untrue
        current_app.logger.info("conflict at commit: %s %s", request.method, request.path)
        return render("errors/error.html", "errors/_error.html", status_code=409,
                      message=str(CONFLICT_MESSAGE), path=request.path)
    tasks.hand_over(current_app._get_current_object(), webhooks.queued(db.session))
    return resp


def discard_unit(exc: BaseException | None) -> None:
    """teardown_request: a request that ended in an exception keeps nothing."""
    if exc is not None:
        db.session.rollback()
