"""Residents' pages, with no account: the report form behind a place's QR code, and the private link
that follows the report to its callback. Nothing here shows one resident what another sent."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from datetime import timedelta

from app.extensions import csrf, db
from app.forms import EmptyForm
from app.models import Photo
from app.reports.forms import ReportForm
from app.services import residents as svc
from app.services import throttle
from app.services.errors import Refused
from app.web import chosen_files, photo_response, refused, render, uploaded_photos

bp = Blueprint("resident", __name__, url_prefix="/r")
# Every POST here is a form of app.forms.Form, whose CSRF token is checked by the form itself: a refusal
# is then answered in the resident's page with what they typed, where the app-wide check would send
# someone without an account to the staff login.
csrf.exempt(bp)


FIELDS_MAX_BYTES = 64 * 1024  # the form's text fields, photos aside


def _private(resp):
    """A page or photo reached by a private link: never cached by others, the link never sent on."""
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


def _place(code: str):
    """The place of a code; a code nobody posted, or one withdrawn, answers its own page."""
    place = svc.place_by_code(db.session, code)
    if place is None:
        return None, render("resident/gone.html", status_code=404)
    if not place.live:
        return None, render("resident/gone.html", status_code=410)
    return place, None


def _form_page(place, form, status: int = 200, error: str | None = None):
    return _private(render("resident/report.html", place=place, form=form, error=error, max_photos=svc.MAX_PHOTOS,
                           status_code=status))


@bp.get("/<code>")
def report(code: str):
    """Where the resident is, and what is wrong: the form behind a place's QR code."""
    place, gone = _place(code)
    if gone:
        return gone
    return _form_page(place, ReportForm(formdata=None, once=svc.new_once()))


@bp.post("/<code>")
def report_send(code: str):
    """Send a report: checked, counted against the place's and the address's limits, then raised as a
    work order; the resident lands on their private link. Refusals keep what they typed."""
    place, gone = _place(code)
    if gone:
        return gone
    # A description is a few KB at most: a pasted book is refused before it is read (and never echoed back).
    request.max_form_memory_size = FIELDS_MAX_BYTES
    if request.mimetype != "multipart/form-data" and (request.content_length or 0) > FIELDS_MAX_BYTES:
        abort(413)
    form = ReportForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.once.errors:
            form.once.data = svc.new_once() if form.once.errors else form.once.data
            return _form_page(place, form, 400, _("This page has expired. Please send it again."))
        return _form_page(place, form, 422)
    token = svc.token_for_once(current_app.secret_key, form.once.data)
    if svc.sent_already(db.session, token) is not None:  # a double tap: the first one was sent
        return redirect(url_for("resident.follow", token=token), 303)
    cfg = current_app.config
    verdict = throttle.hit(db.session, [
        throttle.Limit(f"report-place:{place.code}", cfg["RESIDENT_REPORTS_PER_PLACE_HOUR"], timedelta(hours=1)),
        throttle.Limit(f"report-addr:{request.remote_addr or '-'}", cfg["RESIDENT_REPORTS_PER_ADDRESS_HOUR"],
                       timedelta(hours=1))])
    if not verdict.allowed:
        return _form_page(place, form, 429, _(
            "Many reports were sent from here just now. Please try again in %(num)d minutes, "
            "or call the property service centre.", num=verdict.wait_minutes))
    files = chosen_files(request.files.getlist(form.photos.name))
    try:
        if len(files) > svc.MAX_PHOTOS:
            raise svc.ReportRefused(_l("You can add at most %(num)d photos.", num=svc.MAX_PHOTOS))
        photos = uploaded_photos(files, place.site, originals=[])
        token, _report = svc.submit(db.session, place, category=form.category.data,
                                    description=form.description.data, unit=form.unit.data or "",
                                    phone=form.phone.data or "", photos=photos, token=token)
    except Refused as e:
        message = refused(e)
        if files:
            message += " " + _("Please choose the photos again.")
        return _form_page(place, form, e.status if e.status >= 400 else 422, message)
    flash(_("Thank you, your report was sent. Keep this page (bookmark it) to follow it."), "info")
    return redirect(url_for("resident.follow", token=token), 303)


@bp.errorhandler(413)
def too_large(e):
    """More than the form may carry (a pasted book, a huge photo): said in the resident's page."""
    code = (request.view_args or {}).get("code")
    place = svc.place_by_code(db.session, code) if code else None
    mb = current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)
    message = _("What you sent is too large. Please keep the description under %(num)d characters and each "
                "photo under %(mb)d MB, then send it again.", num=svc.MAX_DESCRIPTION, mb=mb)
    if place is None or not place.live:
        return _private(render("resident/gone.html", status_code=413))
    return _form_page(place, ReportForm(formdata=None, once=svc.new_once()), 413, message)


def _report_or_invalid(token: str):
    return svc.report_for_link(db.session, token)


@bp.get("/f/<token>")
def follow(token: str):
    """The resident's own report and how it is going: status in words, what was done, the after photo."""
    rep = _report_or_invalid(token)
    if rep is None:
        return _private(render("owner/invalid.html", status_code=404))
    return _follow_page(rep, token)


def _follow_page(rep, token: str, status: int = 200, error: str | None = None):
    prog = svc.progress(db.session, rep)
    return _private(render("resident/follow.html", report=rep, token=token, p=prog, form=EmptyForm(),
                           error=error, status_code=status))


@bp.post("/f/<token>/<any(satisfied, unsatisfied):outcome>")
def answer(token: str, outcome: str):
    """The resident's one tap once it is closed: satisfied, or not (which reopens the order)."""
    rep = _report_or_invalid(token)
    if rep is None:
        return _private(render("owner/invalid.html", status_code=404))
    if not EmptyForm().validate_on_submit():
        return _follow_page(rep, token, 400, _("This page has expired. Please tap again."))
    try:
        svc.answer(db.session, rep, outcome)
    except Refused as e:
        message = refused(e)
        rep = _report_or_invalid(token)
        return _follow_page(rep, token, e.status, message)
    flash(_("Thank you. We will look at it again.") if outcome == "unsatisfied" else _("Thank you for telling us."),
          "info")
    return redirect(url_for("resident.follow", token=token), 303)


@bp.get("/f/<token>/photos/<int:photo_id>/<any(full, thumb):size>.jpg")
def photo(token: str, photo_id: int, size: str):
    """A photo this resident sent, or of the fix; no other."""
    rep = _report_or_invalid(token)
    if rep is None or photo_id not in svc.photo_ids(rep, svc.progress(db.session, rep)):
        abort(404)
    return _private(photo_response(db.session.get(Photo, photo_id), size, max_age=3600))
