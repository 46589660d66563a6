"""Patrol routes: checkpoints in walking order, the checklists walked at each, schedules, QR sheets."""
from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.manage import bp
from app.models import Area, Checkpoint, Route, Schedule
from app.services import patrols as svc
from app.services.checklists import site_templates
from app.services.policy import can
from app.web import flash_outcome, render, user_sites


@bp.get("/routes")
@login_required
def routes():
    """The routes of the manager's sites."""
    rows = db.session.scalars(db.select(Route).where(Route.site_id.in_([s.id for s in user_sites()]))
                              .order_by(Route.site_id, Route.id)).all()
    return render("manage/routes.html", rows=rows)


def _route_or_404(route_id: int) -> Route:
    """A route of a site the manager manages, else 404."""
    route = db.session.get(Route, route_id)
    if route is None or not can(current_user, "manage", route.site):
        abort(404)
    return route


def _checkpoint_or_404(route: Route, cp_id: int):
    """An active checkpoint of this route, else 404."""
    cp = db.session.get(Checkpoint, cp_id)
    if cp is None or cp.route_id != route.id or not cp.active:
        abort(404)
    return cp


@bp.get("/routes/<int:route_id>")
@login_required
def route(route_id: int):
    """Checkpoints in walking order (move, add, remove) and the route's schedules."""
    r = _route_or_404(route_id)
    return render("manage/route.html", route=r, checkpoints=svc.active_checkpoints(r),
                  templates=site_templates(db.session, r.site), form=EmptyForm())


@bp.post("/routes/<int:route_id>/checkpoints/<int:cp_id>/<any(up, down, remove):what>")
@bp.post("/routes/<int:route_id>/checkpoints/add", endpoint="route_add", defaults={"cp_id": 0, "what": "add"})
@login_required
def route_edit(route_id: int, cp_id: int, what: str):
    """Move a checkpoint, take it off the route, or add one."""
    r = _route_or_404(route_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if what == "add":
        area = db.session.get(Area, request.form.get("area", type=int) or 0)
        tpl = next((t for t in site_templates(db.session, r.site)  # the site's copy, or the library's
                    if t.id == request.form.get("template", type=int)), None)
        if area is None or tpl is None:
            abort(404)
        flash_outcome(lambda: svc.add(db.session, r, area, tpl))
    else:
        cp = _checkpoint_or_404(r, cp_id)
        flash_outcome(lambda: svc.remove(db.session, r, cp) if what == "remove"
                      else svc.move(db.session, r, cp, -1 if what == "up" else 1))
    return redirect(url_for("manage.route", route_id=r.id))


@bp.post("/routes/<int:route_id>/checkpoints/<int:cp_id>/templates")
@login_required
def checkpoint_templates(route_id: int, cp_id: int):
    """Choose the checklists walked at a checkpoint."""
    r = _route_or_404(route_id)
    cp = _checkpoint_or_404(r, cp_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = {int(i) for i in request.form.getlist("template") if i.isdigit()}
    # Only what this site uses: its own copies, and library templates it has no copy of.
    chosen = [t for t in site_templates(db.session, r.site) if t.id in ids]
    flash_outcome(lambda: svc.set_templates(db.session, cp, chosen), _("Saved."))
    return redirect(url_for("manage.route", route_id=r.id))


@bp.post("/routes/<int:route_id>/schedules/<int:schedule_id>")
@login_required
def schedule_edit(route_id: int, schedule_id: int):
    """Change a slot's window, tolerance, weekdays."""
    r = _route_or_404(route_id)
    sch = db.session.get(Schedule, schedule_id)
    if sch is None or sch.route_id != r.id or not EmptyForm().validate_on_submit():
        abort(404)
    form = request.form
    tolerance = form.get("tolerance", type=int) if form.get("tolerance", "").isdigit() else -1
    flash_outcome(lambda: svc.save_schedule(db.session, sch, form.get("start", ""), form.get("end", ""), tolerance,
                                            form.getlist("weekday"), form.get("active") == "y"),
                  _("Saved. Rounds already created keep their window."))
    return redirect(url_for("manage.route", route_id=r.id))


@bp.get("/routes/<int:route_id>/qr")
@login_required
def route_qr(route_id: int):
    """A printable sheet: one QR code per checkpoint, to post on site."""
    return render("manage/route_qr.html", route=_route_or_404(route_id))
