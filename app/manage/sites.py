"""Sites: a site's name and time zone, its areas and its teams (added or renamed, never deleted)."""
from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.forms import EmptyForm
from app.manage import bp
from app.models import Area, Site, Team
from app.services import sites as svc
from app.web import flash_outcome, load, render


@bp.get("/sites/<int:site_id>")
@login_required
def site_settings(site_id: int):
    """A site's name and time zone, its areas and its teams (add or rename; nothing is deleted)."""
    return render("manage/site.html", site=load(Site, site_id, "manage"), form=EmptyForm())


def _site_change(site_id: int, change):
    """Run one change to a site's settings and go back to the page, saying what happened."""
    site = load(Site, site_id, "manage")
    if not EmptyForm().validate_on_submit():
        abort(400)
    flash_outcome(lambda: change(svc, site, request.form), _("Saved."))
    return redirect(url_for("manage.site_settings", site_id=site.id))


@bp.post("/sites/<int:site_id>/details")
@login_required
def site_details(site_id: int):
    """Rename the site or change its time zone."""
    return _site_change(site_id, lambda svc, site, f: svc.update_site(
        db.session, site, f.get("name_zh", ""), f.get("name_en", ""), f.get("timezone", "")))


@bp.post("/sites/<int:site_id>/areas/new")
@login_required
def site_add_area(site_id: int):
    """Add an area."""
    return _site_change(site_id, lambda svc, site, f: svc.add_area(
        db.session, site, f.get("code", ""), f.get("name_zh", ""), f.get("name_en", "")))


@bp.post("/sites/<int:site_id>/teams/new")
@login_required
def site_add_team(site_id: int):
    """Add a team (a contractor, say)."""
    return _site_change(site_id, lambda svc, site, f: svc.add_team(
        db.session, site, f.get("code", ""), f.get("name_zh", ""), f.get("name_en", ""), f.get("contractor") == "y"))


@bp.post("/sites/<int:site_id>/<any(areas, teams):kind>/<int:obj_id>")
@login_required
def site_rename(site_id: int, kind: str, obj_id: int):
    """Rename an area or a team."""
    def change(svc, site, f):
        obj = db.session.get(Area if kind == "areas" else Team, obj_id)
        if obj is None or obj.site_id != site.id:
            abort(404)
        svc.rename(db.session, obj, f.get("name_zh", ""), f.get("name_en", ""))

    return _site_change(site_id, change)
