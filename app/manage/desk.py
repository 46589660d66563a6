"""The manager's desk: the dashboard, round compliance and the CSV exports."""
from datetime import date, timedelta

from flask import abort, request
from flask_login import login_required

from app.extensions import db
from app.manage import bp
from app.models import Round, Route
from app.services import compliance, exports, schedule
from app.services import dashboard as dash
from app.web import csv_download, load, render, user_sites


EXPORT_MAX_DAYS = 400  # exports stream, so a year (and a bit) is fine; compliance pages stay shorter


def _site_and_range(max_days: int = compliance.MAX_DAYS):
    """The site and date range from the URL (default: the last 7 days of the first site)."""
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


@bp.get("/dashboard")
@login_required
def dashboard():
    """One site's figures (or every site's with ?site=all), each linking to the list behind it."""
    sites = user_sites()
    if not sites:
        abort(404)
    chosen = request.args.get("site", "")
    selected = sites if chosen == "all" else [next((s for s in sites if str(s.id) == chosen), sites[0])]
    return render("manage/dashboard.html", sites=sites, selected=selected, all_sites=chosen == "all",
                  d=dash.build(db.session, selected))


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


@bp.get("/export/<any(answers, rounds, orders):what>.csv")
@login_required
def export(what: str):
    """Answers, rounds or work orders of a site and date range as CSV, streamed."""
    site, _sites, start, end = _site_and_range(EXPORT_MAX_DAYS)
    return csv_download(exports.rows(db.session, what, site, start, end), f"{what}-{site.code}-{start}-{end}.csv")
