"""Home (Today), the language switch and access-checked photos."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.i18n import normalise_locale
from app.models import Photo
from app.web import load

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """Crews land on their team's queue; everyone else on Today."""
    if current_user.role == "crew":
        return redirect(url_for("workorders.queue"))
    if current_user.role == "engineer":
        return redirect(url_for("handover.index"))
    return redirect(url_for("rounds.today"))


@bp.post("/language")
def set_language():
    """Switch language for this session (and remember it for a logged-in user)."""
    lang = normalise_locale(request.form.get("lang"))
    if lang:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    back = request.form.get("next") or request.referrer or url_for("main.home")
    parts = urlsplit(back)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or path.startswith("//"):
        path = url_for("main.home")
    return redirect(path)


@bp.get("/photos/<int:photo_id>/<any(full, thumb):size>.jpg")
@login_required
def photo(photo_id: int, size: str):
    """A photo, only for users who may see it; cached privately and validated by ETag."""
    p: Photo = load(Photo, photo_id)
    key = p.sha256 if size == "full" else p.thumb_sha256
    if request.if_none_match.contains(key):
        resp = current_app.response_class(status=304)
    else:
        try:
            data = current_app.extensions["photo_store"].get(key)
        except KeyError:
            abort(404)
        resp = current_app.response_class(data, mimetype="image/jpeg")
    resp.set_etag(key)
    # Private: the photo passed an access check; immutable: content-addressed bytes never change.
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
