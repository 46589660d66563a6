"""Managers' settings pages."""
from flask import Blueprint, abort, current_app, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.manage.forms import team_settings_form
from app.models import Round, Route, Site
from app.models.checklist import SEVERITIES
from app.services import compliance, exports, settings
from app.rounds.forms import EmptyForm
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


ROLE_LABELS_KEYS = ("supervisor", "crew", "manager", "admin", "engineer")


def _people_form(user=None):
    from wtforms import SelectChoice

    from app.manage.people_forms import UserForm
    from app.template_helpers import ROLE_LABELS

    form = UserForm(obj=user) if user is not None else UserForm()
    roles = [r for r in ROLE_LABELS_KEYS if r != "admin" or current_user.role == "admin"]
    form.role.choices = [SelectChoice(r, ROLE_LABELS[r]) for r in roles]
    sites = user_sites()
    form.sites.choices = [SelectChoice(s.id, s.t()) for s in sites]
    form.teams.choices = [SelectChoice(t.id, f"{t.site.t()} · {t.t()}") for s in sites for t in s.teams]
    if user is not None and not form.is_submitted():
        form.sites.data = [s.id for s in user.sites]
        form.teams.data = [t.id for t in user.teams]
    return form


@bp.get("/people")
@login_required
def people():
    """Everyone on the manager's sites (admins: everyone), active first."""
    from app.models import User
    from app.services.people import manageable

    managers_only()
    users = [u for u in db.session.scalars(db.select(User).order_by(User.active.desc(), User.role, User.username))
             if manageable(current_user, u)]
    return render("manage/people.html", users=users)


@bp.route("/people/new", methods=["GET", "POST"])
@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@login_required
def person(user_id: int | None = None):
    """Create or edit a user: role, sites, teams, active."""
    from app.models import Site, Team, User
    from app.services import people as svc

    managers_only()
    user = db.session.get(User, user_id) if user_id else None
    if user_id and (user is None or not svc.manageable(current_user, user)):
        abort(404)
    form = _people_form(user)
    if form.validate_on_submit():
        try:
            sites = [db.session.get(Site, i) for i in form.sites.data]
            teams = [db.session.get(Team, i) for i in form.teams.data]
            saved = svc.save_user(db.session, current_user, user, username=form.username.data,
                                  display_name=form.display_name.data, role=form.role.data,
                                  sites=[s for s in sites if s], teams=[t for t in teams if t],
                                  active=form.active.data)
            if user is None:
                password = svc.reset_password(db.session, saved)
                return render("manage/password.html", person=saved, password=password)
            flash(_("Saved."), "info")
            return redirect(url_for("manage.people"))
        except svc.PeopleRefused as e:
            db.session.rollback()
            form.role.errors = [str(e.message)]
    return render("manage/person.html", form=form, person=user, reset_form=EmptyForm(),
                  status_code=422 if form.errors else 200)


@bp.post("/people/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    """A new temporary password, shown once."""
    from app.models import User
    from app.services import people as svc

    managers_only()
    user = db.session.get(User, user_id)
    if user is None or not svc.manageable(current_user, user) or not EmptyForm().validate_on_submit():
        abort(404)
    return render("manage/password.html", person=user, password=svc.reset_password(db.session, user))
