"""Places with a QR code for residents' reports (print, revoke) and the site's routing table
(category x place -> team)."""
from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.manage import bp
from app.manage.forms import PlaceForm
from app.models import Area, ReportPlace
from app.models.report import REPORT_CATEGORIES
from app.services import residents as svc
from app.services.errors import Refused
from app.services.policy import can
from app.web import flash_outcome, refused, render, user_sites


def _site():
    """The site of ?site= (default the manager's first), else 404."""
    sites = user_sites()
    site = next((s for s in sites if str(s.id) == request.values.get("site", "")), sites[0] if sites else None)
    if site is None or not can(current_user, "manage", site):
        abort(404)
    return site, sites


def _page(site, sites, form: PlaceForm, status: int = 200, error: str | None = None):
    """The places page: one context for the page however it is reached."""
    places = svc.places(db.session, site)
    live = [p for p in places if p.live]
    return render("manage/places.html", site=site, sites=sites, form=form, places=places, live=live,
                  table=svc.routing_table(db.session, site), categories=REPORT_CATEGORIES,
                  defaults={c: svc.default_team(site, c) for c in REPORT_CATEGORIES}, error=error,
                  action=EmptyForm(), status_code=status)


@bp.get("/places")
@login_required
def places():
    """A site's places with QR codes, and where each kind of report goes."""
    site, sites = _site()
    return _page(site, sites, PlaceForm(formdata=None).for_site(site))


@bp.post("/places")
@login_required
def place_add():
    """A new place and its QR code; refused in place with what was typed kept."""
    site, sites = _site()
    form = PlaceForm().for_site(site)
    if not form.validate_on_submit():
        return _page(site, sites, form, status=422)
    area = db.session.get(Area, form.area.data) if form.area.data else None
    try:
        svc.new_place(db.session, site, kind=form.kind.data, name_zh=form.name_zh.data or "",
                      name_en=form.name_en.data or "", area=area)
    except Refused as e:
        return _page(site, sites, form, status=e.status, error=refused(e))
    return redirect(url_for("manage.places", site=site.id), 303)


@bp.post("/places/<int:place_id>/revoke")
@login_required
def place_revoke(place_id: int):
    """The place's code stops accepting reports (reports already sent keep their links)."""
    place = db.session.get(ReportPlace, place_id)
    if place is None or not can(current_user, "manage", place) or not EmptyForm().validate_on_submit():
        abort(404)
    flash_outcome(lambda: svc.revoke_place(db.session, place), _("The code no longer accepts reports."))
    return redirect(url_for("manage.places", site=place.site_id), 303)


@bp.post("/places/routing")
@login_required
def place_routing():
    """Save the routing table: per category, a team for every place and for each place."""
    site, sites = _site()
    if not EmptyForm().validate_on_submit():
        abort(400)
    teams = {t.id: t for t in site.teams}
    live = svc.places(db.session, site, include_revoked=False)

    def save():
        for category in REPORT_CATEGORIES:
            for place in [None] + live:
                value = request.form.get(f"route-{category}-{place.id if place else 'all'}", "")
                team = teams.get(int(value)) if value.isdigit() else None
                if value and team is None:
                    raise svc.ReportRefused(_("Choose a team of this site."))
                svc.set_route(db.session, site, category, place, team)

    flash_outcome(save, _("Saved. New reports go to these teams."))
    return redirect(url_for("manage.places", site=site.id) + "#routing", 303)


@bp.get("/places/qr")
@login_required
def places_qr():
    """A printable sheet: one QR code per place that accepts reports."""
    site, _sites = _site()
    return render("manage/places_qr.html", site=site, places=svc.places(db.session, site, include_revoked=False))
