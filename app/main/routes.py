"""Home (Today), the language switch and access-checked photos."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_login import current_user, login_required

from app.extensions import db
from app.i18n import normalise_locale
from app.models import Photo
from app.services.policy import can, home_endpoint
from app.web import load, photo_response, safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """Supervisors and managers land on Today, crews on their team's queue, engineers on Handover."""
    return redirect(url_for(home_endpoint(current_user)))


@bp.post("/language")
def set_language():
    """Switch language for this session (and remember it for a logged-in user)."""
    lang = normalise_locale(request.form.get("lang"))
    if lang:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    home = url_for("main.home")
    if request.form.get("next"):
        return redirect(safe_next(request.form["next"], home))
    # No `next` (an old page): back to the referring page, by its path only (so on this site).
    referrer = urlsplit(request.referrer or "")
    return redirect(safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), home))


@bp.get("/photos/<int:photo_id>/<any(full, thumb):size>.jpg")
@login_required
def photo(photo_id: int, size: str):
    """A photo, only for users who may see it; cached privately and validated by ETag."""
    return photo_response(load(Photo, photo_id), size)



@bp.get("/photos/<int:photo_id>/original.jpg")
@login_required
def photo_original(photo_id: int):
    """The unmarked photo a marked-up one was drawn on, for staff who may see the marked photo."""
    photo = load(Photo, photo_id)
    if not can(current_user, "view_original", photo, db.session):
        abort(404)
    return photo_response(photo.original, "full")
