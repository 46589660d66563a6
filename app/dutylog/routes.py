"""Duty log (工作日志) and the morning briefing: supervisors write remarks, managers comment."""
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.models import Site
from app.services import dutylog, schedule
from app.services.policy import can
from app.web import load, pdf_response, refused, render, user_sites

bp = Blueprint("dutylog", __name__)


def _site() -> Site:
    """The site a duty-log page shows (`?site=<id>`, else the user's first); 404 without the duty log."""
    if not can(current_user, "duty_log"):
        abort(404)
    sites = user_sites()
    site = next((s for s in sites if str(s.id) == request.args.get("site", "")), sites[0] if sites else None)
    if site is None:
        abort(404)
    return site


@bp.get("/log")
@login_required
def log_index():
    """Past duty logs, searchable by date."""
    site = _site()
    try:
        q_from = date.fromisoformat(request.args["from"]) if request.args.get("from") else None
        q_to = date.fromisoformat(request.args["to"]) if request.args.get("to") else None
    except ValueError:
        q_from = q_to = None
    return render("dutylog/log_index.html", site=site, logs=dutylog.search(db.session, site, q_from, q_to),
                  today=schedule.site_today(site), q_from=q_from, q_to=q_to)


def _site_day(site_id: int, day: str) -> tuple[Site, date]:
    """The site (if the user may see its logs) and the date of a log URL, else 404."""
    site = load(Site, site_id, "view_log")
    try:
        return site, date.fromisoformat(day)
    except ValueError:
        abort(404)


@bp.get("/log/<int:site_id>/<day>")
@login_required
def log(site_id: int, day: str):
    """One day's log: compiled figures, the duty supervisor's remarks, the manager's comments."""
    site, the_day = _site_day(site_id, day)
    entry = dutylog.entry_for(db.session, site, the_day)
    return render("dutylog/log.html", site=site, day=the_day, entry=entry, form=EmptyForm(),
                  data=dutylog.compile_day(db.session, site, the_day),
                  is_today=the_day == schedule.site_today(site))


@bp.post("/log/<int:site_id>/<day>/remarks")
@bp.post("/log/<int:site_id>/<day>/comment", endpoint="log_comment")
@login_required
def log_remarks(site_id: int, day: str):
    """Save the supervisor's remarks, or (managers) the comments that close the log."""
    site, the_day = _site_day(site_id, day)
    if not EmptyForm().validate_on_submit():
        abort(400)
    entry = dutylog.get_or_create(db.session, site, the_day)
    text = request.form.get("text", "")
    try:
        if request.path.endswith("/comment"):
            if not can(current_user, "comment_log", site):
                abort(404)
            dutylog.comment_and_read(db.session, entry, current_user, text)
            flash(_("Comments saved; the log is marked read."), "info")
        else:
            dutylog.save_remarks(db.session, entry, current_user, text)
            flash(_("Remarks saved."), "info")
    except dutylog.LogRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("dutylog.log", site_id=site.id, day=day))


@bp.get("/briefing")
@login_required
def briefing():
    """The morning briefing: yesterday's log and comments, carried-over orders, today's rounds."""
    site = _site()
    today = schedule.site_today(site)
    yesterday = today - timedelta(days=1)
    entry = dutylog.entry_for(db.session, site, yesterday)
    from app.models import AppearanceCheck

    checked = {c.person_id: c for c in db.session.scalars(db.select(AppearanceCheck).where(
        AppearanceCheck.site_id == site.id, AppearanceCheck.date == today))}
    return render("dutylog/briefing.html", site=site, today=today, yesterday=yesterday, entry=entry,
                  data=dutylog.compile_day(db.session, site, yesterday),
                  rounds=schedule.rounds_for_day(db.session, site, today), status_of=schedule.round_status,
                  staff=dutylog.staff_of(db.session, site), checked=checked)


@bp.route("/briefing/appearance/<int:person_id>", methods=["GET", "POST"])
@login_required
def appearance(person_id: int):
    """Check one person's appearance at the briefing: tick the lapses, add a coaching note."""
    from app.models import User

    site = _site()
    person = db.session.get(User, person_id)
    if person is None or site not in person.sites:
        abort(404)
    items = dutylog.appearance_items(db.session, site.id)
    form = EmptyForm()
    if form.validate_on_submit():
        dutylog.record_appearance(db.session, site, person, current_user, request.form.getlist("lapse"),
                                  request.form.get("note", ""))
        flash(_("Appearance check of %(name)s recorded.", name=person.display_name), "info")
        return redirect(url_for("dutylog.briefing", site=site.id) + "#appearance")
    return render("dutylog/appearance.html", site=site, person=person, items=items, form=form)


@bp.get("/people/<int:person_id>/appearance")
@login_required
def appearance_history(person_id: int):
    """A person's appearance history: managers only."""
    from app.models import User

    person = db.session.get(User, person_id)
    if person is None or not can(current_user, "coaching_history", person):
        abort(404)
    checks = dutylog.appearance_history(db.session, person)
    items = {i.code: i for i in dutylog.appearance_items(db.session)}
    return render("dutylog/appearance_history.html", person=person, checks=checks, items=items,
                  total=sum(c.points for c in checks))


@bp.get("/log/<int:site_id>/<day>.pdf")
@login_required
def log_report(site_id: int, day: str):
    """The day's duty log as a PDF (zh or en)."""
    from app.services import reports

    site, the_day = _site_day(site_id, day)
    return pdf_response(lambda lang: reports.duty_log_pdf(site, the_day, db.session, lang),
                         f"duty-log-{site.code}-{the_day.isoformat()}.pdf")
