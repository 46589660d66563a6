"""Teams: the SLA table (team × severity → hours) and each team's webhook, per site."""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.manage import bp
from app.manage.forms import team_settings_form
from app.models import Site
from app.models.checklist import SEVERITIES
from app.services import outbound, settings, webhooks
from app.web import load, render, user_sites


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
