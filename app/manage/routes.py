"""Managers' settings pages."""
from flask import Blueprint, abort, current_app, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.manage.forms import team_settings_form
from app.models import Round, Route, Site
from app.models.checklist import SEVERITIES
from app.services import compliance, exports, settings
from app.services.policy import can
from app.web import load, render, user_sites

bp = Blueprint("manage", __name__, url_prefix="/manage")


def managers_only():
    if current_user.role not in ("manager", "admin"):
        abort(404)


@bp.get("/teams")
@login_required
def teams_index():
    """Go to the first site's team settings."""
    managers_only()
    sites = user_sites()
    if not sites:
        abort(404)
    return redirect(url_for("manage.team_settings", site_id=sites[0].id))


@bp.route("/sites/<int:site_id>/teams", methods=["GET", "POST"])
@login_required
def team_settings(site_id: int):
    """The SLA table (team × severity → hours) and each team's webhook, for one site."""
    managers_only()
    site = load(Site, site_id, "manage")
    teams = site.teams
    form = team_settings_form(site, teams, settings.sla_table(db.session, teams))
    if form.validate_on_submit():
        hours = {(t.id, s): form[f"t{t.id}_{s}"].data for t in teams for s in SEVERITIES}
        hooks = {t.id: (form[f"t{t.id}_webhook"].data or "", form[f"t{t.id}_format"].data) for t in teams}
        site.rectification_days = form.rectification_days.data
        site.owner_link_days = form.owner_link_days.data
        settings.save_team_settings(db.session, teams, hours, hooks)
        flash(_("Saved. New due times apply to orders raised from now on."), "info")
        return redirect(url_for("manage.team_settings", site_id=site.id))
    status = 422 if form.errors else 200
    return render("manage/teams.html", site=site, teams=teams, form=form, sites=user_sites(),
                  severities=SEVERITIES, status_code=status)


def _site_and_range():
    """The site and date range from the URL (default: the last 7 days of the first site)."""
    from datetime import date, timedelta

    from app.services import schedule

    sites = user_sites()
    site = next((s for s in sites if str(s.id) == request.args.get("site", "")), sites[0] if sites else None)
    if site is None:
        abort(404)
    today = schedule.site_today(site)
    try:
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        start = date.fromisoformat(request.args["from"]) if request.args.get("from") else end - timedelta(days=6)
    except ValueError:
        start, end = today - timedelta(days=6), today
    if end < start:
        start, end = end, start
    start = max(start, end - timedelta(days=compliance.MAX_DAYS - 1))
    return site, sites, start, end


@bp.get("/compliance")
@login_required
def compliance_report():
    """Every scheduled round in the range: status, who, how long, answered, check-ins; rates."""
    managers_only()
    site, sites, start, end = _site_and_range()
    rows = compliance.round_rows(db.session, site, start, end)
    routes = db.session.scalars(db.select(Route).where(Route.site_id == site.id).order_by(Route.id)).all()
    return render("manage/compliance.html", site=site, sites=sites, start=start, end=end, rows=rows,
                  rates=compliance.rates(rows), site_routes=routes)


@bp.get("/compliance/rounds/<int:round_id>")
@login_required
def compliance_round(round_id: int):
    """One round's checkpoints: first and last answer, check-in by scan or not."""
    managers_only()
    rnd = load(Round, round_id, "view")
    [row] = [r for r in compliance.round_rows(db.session, rnd.site, rnd.date, rnd.date) if r.round.id == rnd.id]
    return render("manage/compliance_round.html", row=row, rnd=rnd)


@bp.get("/routes/<int:route_id>/qr")
@login_required
def route_qr(route_id: int):
    """A printable sheet: one QR code per checkpoint, to post on site."""
    managers_only()
    route = db.session.get(Route, route_id)
    if route is None or not can(current_user, "manage", route.site):
        abort(404)
    return render("manage/route_qr.html", route=route)


@bp.get("/export/<any(answers, rounds, orders):what>.csv")
@login_required
def export(what: str):
    """Answers, rounds or work orders of a site and date range as CSV, streamed."""
    managers_only()
    site, _sites, start, end = _site_and_range()
    resp = current_app.response_class(stream_with_context(exports.rows(db.session, what, site, start, end)),
                                      mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{what}-{site.code}-{start}-{end}.csv"'
    return resp


@bp.get("/dashboard")
@login_required
def dashboard():
    """One site's figures (or every site's with ?site=all), each linking to the list behind it."""
    from app.services import dashboard as dash

    managers_only()
    sites = user_sites()
    if not sites:
        abort(404)
    chosen = request.args.get("site", "")
    selected = sites if chosen == "all" else [next((s for s in sites if str(s.id) == chosen), sites[0])]
    return render("manage/dashboard.html", sites=sites, selected=selected, all_sites=chosen == "all",
                  d=dash.build(db.session, selected))
