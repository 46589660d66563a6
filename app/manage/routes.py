"""Managers' settings pages."""
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.manage.forms import team_settings_form
from app.models import Round, Route, Site
from app.models.checklist import SEVERITIES
from app.services import compliance, exports, outbound, settings, webhooks
from app.services.policy import can, grantable_roles
from app.web import guard, load, refused, render, user_sites

bp = Blueprint("manage", __name__, url_prefix="/manage")
guard(bp, "manage")  # the manager's desk and administration: managers and admins only


@bp.get("/teams")
@login_required
def teams_index():
    """Go to the first site's team settings."""
    sites = user_sites()
    if not sites:
        abort(404)
    return redirect(url_for("manage.team_settings", site_id=sites[0].id))


@bp.route("/sites/<int:site_id>/teams", methods=["GET", "POST"])
@login_required
def team_settings(site_id: int):
    """The SLA table (team × severity → hours) and each team's webhook, for one site."""
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
                  severities=SEVERITIES, problems=webhooks.recent_problems(db.session, teams),
                  describe=outbound.describe, max_attempts=webhooks.MAX_ATTEMPTS, status_code=status)


EXPORT_MAX_DAYS = 400  # exports stream, so a year (and a bit) is fine; compliance pages stay shorter


def _site_and_range(max_days: int = compliance.MAX_DAYS):
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
    start = max(start, end - timedelta(days=max_days - 1))
    return site, sites, start, end


@bp.get("/compliance")
@login_required
def compliance_report():
    """Every scheduled round in the range: status, who, how long, answered, check-ins; rates."""
    site, sites, start, end = _site_and_range()
    rows = compliance.round_rows(db.session, site, start, end)
    routes = db.session.scalars(db.select(Route).where(Route.site_id == site.id).order_by(Route.id)).all()
    return render("manage/compliance.html", site=site, sites=sites, start=start, end=end, rows=rows,
                  rates=compliance.rates(rows), site_routes=routes)


@bp.get("/compliance/rounds/<int:round_id>")
@login_required
def compliance_round(round_id: int):
    """One round's checkpoints: first and last answer, check-in by scan or not."""
    rnd = load(Round, round_id, "view")
    [row] = [r for r in compliance.round_rows(db.session, rnd.site, rnd.date, rnd.date) if r.round.id == rnd.id]
    return render("manage/compliance_round.html", row=row, rnd=rnd)


@bp.get("/routes/<int:route_id>/qr")
@login_required
def route_qr(route_id: int):
    """A printable sheet: one QR code per checkpoint, to post on site."""
    route = db.session.get(Route, route_id)
    if route is None or not can(current_user, "manage", route.site):
        abort(404)
    return render("manage/route_qr.html", route=route)


@bp.get("/export/<any(answers, rounds, orders):what>.csv")
@login_required
def export(what: str):
    """Answers, rounds or work orders of a site and date range as CSV, streamed."""
    site, _sites, start, end = _site_and_range(EXPORT_MAX_DAYS)
    return exports.csv_response(exports.rows(db.session, what, site, start, end),
                                f"{what}-{site.code}-{start}-{end}.csv")


@bp.get("/dashboard")
@login_required
def dashboard():
    """One site's figures (or every site's with ?site=all), each linking to the list behind it."""
    from app.services import dashboard as dash

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
    from app.labels import ROLE_LABELS

    form = UserForm(obj=user) if user is not None else UserForm()
    roles = grantable_roles(current_user, ROLE_LABELS_KEYS)
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
            form.role.errors = [refused(e)]
    return render("manage/person.html", form=form, person=user, reset_form=EmptyForm(),
                  status_code=422 if form.errors else 200)


@bp.post("/people/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    """A new temporary password, shown once."""
    from app.models import User
    from app.services import people as svc

    user = db.session.get(User, user_id)
    if user is None or not svc.manageable(current_user, user) or not EmptyForm().validate_on_submit():
        abort(404)
    return render("manage/password.html", person=user, password=svc.reset_password(db.session, user))


def _template_scope(value: str | None):
    """The site whose checklists a page shows (`?site=<id>`), or None for the shared library (admins).

    Default: the library for admins, else the user's first site.
    """
    from app.services.policy import manages_library

    if value == "library" or (not value and manages_library(current_user)):
        if not manages_library(current_user):
            abort(404)
        return None
    sites = user_sites()
    site = next((s for s in sites if str(s.id) == value), None) if value else (sites[0] if sites else None)
    if site is None or not can(current_user, "manage", site):
        abort(404)
    return site


def _template_or_404(template_id: int, site_id: int | None):
    """The template to show or change and the site it is changed for (None: the library itself).

    Without a site: a site's copy (its site) or, for admins, a library template. With a site: that site's
    copy, or the library template the site uses (its copy if it has one); a change then makes the copy.
    """
    from app.models import ChecklistTemplate
    from app.services import templates as svc

    tpl = db.session.get(ChecklistTemplate, template_id)
    if tpl is None:
        abort(404)
    if site_id is None:
        if not can(current_user, "edit", tpl):
            abort(404)
        return tpl, tpl.site
    site = load(Site, site_id, "manage")
    if tpl.site_id is not None and tpl.site_id != site.id:
        abort(404)
    return svc.for_site(db.session, tpl.code, site.id) if tpl.site_id is None else tpl, site


def _template_context(tpl, site) -> dict:
    """What every checklist page needs to say where a change applies and to build its links."""
    from app.services import templates as svc

    sites = [site] if site is not None else user_sites()
    return {"tpl": tpl, "site": site, "scope_site_id": site.id if site is not None and tpl.site_id is None else None,
            "teams": svc.item_teams(db.session, [s.id for s in sites]), "form": EmptyForm()}


@bp.get("/templates")
@login_required
def templates():
    """The checklists one site uses (its copies and the library's), or the shared library; YAML export, import."""
    from app.services import templates as svc
    from app.services.policy import manages_library

    site = _template_scope(request.args.get("site"))
    rows = svc.library(db.session) if site is None else svc.site_templates(db.session, site)
    scopes = [s for s in user_sites() if can(current_user, "manage", s)]
    return render("manage/templates.html", rows=rows, site=site, scopes=scopes,
                  library=manages_library(current_user), form=EmptyForm())


@bp.get("/templates/<int:template_id>")
@bp.get("/sites/<int:site_id>/templates/<int:template_id>")
@login_required
def template(template_id: int, site_id: int | None = None):
    """A template's current items, each editable; versions already walked stay as they were."""
    from app.services import templates as svc

    tpl, site = _template_or_404(template_id, site_id)
    return render("manage/template.html", used=svc.is_used(db.session, tpl.current_version),
                  **_template_context(tpl, site))


def _saved_template(target, site):
    """Back to the template just changed (a site's copy has its own address)."""
    return redirect(url_for("manage.template", template_id=target.id,
                            site_id=site.id if site is not None and target.site_id is None else None))


@bp.route("/templates/<int:template_id>/items/new", methods=["GET", "POST"])
@bp.route("/templates/<int:template_id>/items/<code>", methods=["GET", "POST"])
@bp.route("/sites/<int:site_id>/templates/<int:template_id>/items/new", methods=["GET", "POST"])
@bp.route("/sites/<int:site_id>/templates/<int:template_id>/items/<code>", methods=["GET", "POST"])
@login_required
def template_item(template_id: int, code: str | None = None, site_id: int | None = None):
    """Edit one item (or add one): text in both languages, category, team, severity, photo rule, points."""
    from app.services import templates as svc

    tpl, site = _template_or_404(template_id, site_id)
    item = next((i for i in tpl.current_version.items if i.code == code), None) if code else None
    if code and item is None:
        abort(404)
    error = None
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        fields = {f: request.form.get(f, "") for f in ("text_zh", "text_en", "category", "team_code", "severity")}
        fields["photo_required_on_fail"] = request.form.get("photo_required_on_fail") == "y"
        try:
            fields["points"] = int(request.form.get("points") or 0)
            target = svc.site_copy(db.session, tpl, site) if site is not None else tpl
            svc.save_item(db.session, target, code, fields)
            if site is not None:
                flash(_("Saved for %(site)s. Rounds already walked keep the version they used.", site=site.t()),
                      "info")
            else:
                flash(_("Saved. Rounds already walked keep the version they used."), "info")
            return _saved_template(target, site)
        except ValueError:
            error = _("Points must be a whole number.")
        except svc.TemplateRefused as e:
            error = refused(e)
    ctx = _template_context(tpl, site)
    return render("manage/template_item.html", item=item, error=error, categories=svc.categories_for(tpl),
                  values=request.form if request.method == "POST" else None,
                  status_code=422 if error else 200, **ctx)


@bp.post("/templates/<int:template_id>/items/<code>/remove")
@bp.post("/sites/<int:site_id>/templates/<int:template_id>/items/<code>/remove")
@login_required
def template_item_remove(template_id: int, code: str, site_id: int | None = None):
    """Remove an item from the next version (for a site: from its copy)."""
    from app.services import templates as svc

    tpl, site = _template_or_404(template_id, site_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not any(i.code == code for i in tpl.current_version.items):
        abort(404)
    target = svc.site_copy(db.session, tpl, site) if site is not None else tpl
    svc.remove_item(db.session, target, code)
    flash(_("Removed from the next version."), "info")
    return _saved_template(target, site)


def _import_outcome(outcome: dict) -> str:
    """"patrol_greenery (version 2), …" in the reader's language."""
    words = {"created": _("created"), "copied": _("this estate's own copy"), "unchanged": _("unchanged")}
    return ", ".join(f"{code} ({words[v] if isinstance(v, str) else _('version %(n)d', n=v)})"
                     for code, v in outcome.items())


@bp.get("/templates.yaml")
@login_required
def templates_yaml():
    """The checklists of one site (or the library), as YAML in the shape of checklists.yaml."""
    from app.services import templates as svc

    site = _template_scope(request.args.get("site"))
    resp = current_app.response_class(svc.export_yaml(db.session, site), mimetype="application/yaml")
    resp.headers["Content-Disposition"] = 'attachment; filename="checklists.yaml"'
    resp.headers["Cache-Control"] = "private, no-store"  # like every export
    return resp


@bp.post("/templates/import")
@login_required
def templates_import():
    """Import YAML into one site's checklists (its copies) or, for admins, the library."""
    from app.services import templates as svc

    if not EmptyForm().validate_on_submit():
        abort(400)
    site = _template_scope(request.form.get("site"))
    upload = request.files.get("file")
    try:
        outcome = svc.import_yaml(db.session, upload.read(2 * 1024 * 1024).decode("utf-8") if upload else "", site)
        flash(_("Imported: %(summary)s.", summary=_import_outcome(outcome)), "info")
    except UnicodeDecodeError:
        flash(_("This is not a checklist YAML file like checklists.yaml."), "error")
    except svc.TemplateRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("manage.templates", site=site.id if site is not None else "library"))


@bp.get("/routes")
@login_required
def routes():
    """The routes of the manager's sites."""
    rows = db.session.scalars(db.select(Route).where(Route.site_id.in_([s.id for s in user_sites()]))
                              .order_by(Route.site_id, Route.id)).all()
    return render("manage/routes.html", rows=rows)


def _route_or_404(route_id: int) -> Route:
    route = db.session.get(Route, route_id)
    if route is None or not can(current_user, "manage", route.site):
        abort(404)
    return route


def _checkpoint_or_404(route: Route, cp_id: int):
    """An active checkpoint of this route, else 404."""
    from app.models import Checkpoint

    cp = db.session.get(Checkpoint, cp_id)
    if cp is None or cp.route_id != route.id or not cp.active:
        abort(404)
    return cp


@bp.get("/routes/<int:route_id>")
@login_required
def route(route_id: int):
    """Checkpoints in walking order (move, add, remove) and the route's schedules."""
    from app.services.routes_admin import active_checkpoints
    from app.services.templates import site_templates

    r = _route_or_404(route_id)
    return render("manage/route.html", route=r, checkpoints=active_checkpoints(r),
                  templates=site_templates(db.session, r.site), form=EmptyForm())


@bp.post("/routes/<int:route_id>/checkpoints/<int:cp_id>/<any(up, down, remove):what>")
@bp.post("/routes/<int:route_id>/checkpoints/add", endpoint="route_add", defaults={"cp_id": 0, "what": "add"})
@login_required
def route_edit(route_id: int, cp_id: int, what: str):
    """Move a checkpoint, take it off the route, or add one."""
    from app.models import Area
    from app.services import routes_admin as svc
    from app.services.templates import site_templates

    r = _route_or_404(route_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if what == "add":
            area = db.session.get(Area, request.form.get("area", type=int) or 0)
            tpl = next((t for t in site_templates(db.session, r.site)  # the site's copy, or the library's
                        if t.id == request.form.get("template", type=int)), None)
            if area is None or tpl is None:
                abort(404)
            svc.add(db.session, r, area, tpl)
        else:
            cp = _checkpoint_or_404(r, cp_id)
            if what == "remove":
                svc.remove(db.session, r, cp)
            else:
                svc.move(db.session, r, cp, -1 if what == "up" else 1)
    except svc.RouteRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("manage.route", route_id=r.id))


@bp.post("/routes/<int:route_id>/checkpoints/<int:cp_id>/templates")
@login_required
def checkpoint_templates(route_id: int, cp_id: int):
    """Choose the checklists walked at a checkpoint."""
    from app.services import routes_admin as svc
    from app.services.templates import site_templates

    r = _route_or_404(route_id)
    cp = _checkpoint_or_404(r, cp_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ids = {int(i) for i in request.form.getlist("template") if i.isdigit()}
    # Only what this site uses: its own copies, and library templates it has no copy of.
    chosen = [t for t in site_templates(db.session, r.site) if t.id in ids]
    try:
        svc.set_templates(db.session, cp, chosen)
        flash(_("Saved."), "info")
    except svc.RouteRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("manage.route", route_id=r.id))


@bp.post("/routes/<int:route_id>/schedules/<int:schedule_id>")
@login_required
def schedule_edit(route_id: int, schedule_id: int):
    """Change a slot's window, tolerance, weekdays."""
    from app.models import Schedule
    from app.services import routes_admin as svc

    r = _route_or_404(route_id)
    sch = db.session.get(Schedule, schedule_id)
    if sch is None or sch.route_id != r.id or not EmptyForm().validate_on_submit():
        abort(404)
    try:
        svc.save_schedule(db.session, sch, request.form.get("start", ""), request.form.get("end", ""),
                          request.form.get("tolerance", type=int) if request.form.get("tolerance", "").isdigit() else -1,
                          request.form.getlist("weekday"), request.form.get("active") == "y")
        flash(_("Saved. Rounds already created keep their window."), "info")
    except svc.RouteRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("manage.route", route_id=r.id))


@bp.get("/sites/<int:site_id>")
@login_required
def site_settings(site_id: int):
    """A site's name and time zone, its areas and its teams (add or rename; nothing is deleted)."""
    return render("manage/site.html", site=load(Site, site_id, "manage"), form=EmptyForm())


def _site_change(site_id: int, change):
    """Run one change to a site's settings and go back to the page, saying what happened."""
    from app.services import sites_admin as svc

    site = load(Site, site_id, "manage")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        change(svc, site, request.form)
        flash(_("Saved."), "info")
    except svc.SiteRefused as e:
        flash(refused(e), "error")
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
    from app.models import Area, Team

    def change(svc, site, f):
        obj = db.session.get(Area if kind == "areas" else Team, obj_id)
        if obj is None or obj.site_id != site.id:
            abort(404)
        svc.rename(db.session, obj, f.get("name_zh", ""), f.get("name_en", ""))

    return _site_change(site_id, change)
