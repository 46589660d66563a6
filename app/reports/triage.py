"""The supervisor's triage of residents' reports: confirm (team, severity), merge into an open order of
the same place and category, or close as not a problem with a reason the residents read."""
from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app.extensions import db
from app.forms import EmptyForm
from app.models import ResidentReport, Team, WorkOrder
from app.models.types import utcnow
from app.reports.forms import DismissForm, MergeForm, TriageForm
from app.services import residents as svc
from app.services.errors import Refused
from app.services.policy import can, scope
from app.web import guard, load, refused, render

bp = Blueprint("reports", __name__, url_prefix="/reports")
guard(bp, "triage_reports")


@bp.get("")
def index():
    """Residents' reports nobody has triaged yet, oldest first, with how many residents sent each."""
    orders = svc.to_triage(db.session, scope(current_user, WorkOrder))
    reports = svc.reports_of(db.session, [o.id for o in orders])
    return render("reports/index.html", orders=orders, reports=reports)


def _order(order_id: int) -> WorkOrder:
    order = load(WorkOrder, order_id, "triage")
    return order


def _page(order: WorkOrder, status: int = 200, error: str | None = None, triage=None, dismiss=None):
    """The triage page: one context however it is reached (and re-rendered with what was typed)."""
    reports = svc.reports_of(db.session, [order.id])[order.id]
    first = reports[0] if reports else None
    triage = triage or TriageForm(formdata=None, team=order.team_id, severity=order.severity, version=order.version)
    triage.team.choices = [SelectChoice(t.id, t.t()) for t in db.session.scalars(
        db.select(Team).where(Team.site_id == order.site_id).order_by(Team.id))]
    dismiss = dismiss or DismissForm(formdata=None, version=order.version)
    return render("reports/triage.html", order=order, reports=reports, first=first,
                  duplicates=svc.duplicates(db.session, order, first), triage=triage, dismiss=dismiss,
                  merge=MergeForm(formdata=None, version=order.version), action=EmptyForm(formdata=None),
                  now=utcnow(), error=error, status_code=status)


@bp.get("/<int:order_id>")
def show(order_id: int):
    """One report: what the residents sent, where, the offered duplicates and the three decisions."""
    return _page(_order(order_id))


def _done(order: WorkOrder, message: str):
    flash(message, "info")
    return redirect(url_for("reports.index"), 303)


@bp.post("/<int:order_id>/confirm")
def confirm(order_id: int):
    """Confirm it as a job for its team (or another), at its severity (or another)."""
    order = _order(order_id)
    form = TriageForm()
    form.team.choices = [SelectChoice(t.id, t.t()) for t in order.site.teams]
    if not form.validate_on_submit():
        return _page(order, 422, _("Choose a team and a severity."), triage=form)
    try:
        svc.confirm(db.session, order, current_user, team=db.session.get(Team, form.team.data),
                    severity=form.severity.data, version=form.version.data)
    except Refused as e:
        return _page(db.session.get(WorkOrder, order_id), e.status, refused(e))
    return _done(order, _("Confirmed: #%(id)d is with %(team)s.", id=order.id, team=order.team.t()))


@bp.post("/<int:order_id>/merge")
def merge(order_id: int):
    """Merge it into an open order: its residents follow that order from now on."""
    order = _order(order_id)
    form = MergeForm()
    into = db.session.get(WorkOrder, form.into.data or 0) if form.validate_on_submit() else None
    if into is None or into.site_id != order.site_id:
        return _page(order, 422, _("Choose an open order of this site to merge into."))
    try:
        svc.merge(db.session, order, into, current_user, version=form.version.data)
    except Refused as e:
        return _page(db.session.get(WorkOrder, order_id), e.status, refused(e))
    return _done(order, _("Merged into #%(id)d.", id=into.id))


@bp.post("/<int:order_id>/dismiss")
def dismiss(order_id: int):
    """Close it as not a problem; the residents read the reason."""
    order = _order(order_id)
    form = DismissForm()
    if not form.validate_on_submit():
        return _page(order, 422, None, dismiss=form)
    try:
        svc.dismiss(db.session, order, current_user, form.reason.data, version=form.version.data)
    except Refused as e:
        return _page(db.session.get(WorkOrder, order_id), e.status, refused(e), dismiss=form)
    return _done(order, _("Closed as not a problem. The residents can read why."))


@bp.post("/links/<int:report_id>/revoke")
def revoke_link(report_id: int):
    """Stop one resident's private link: it then opens the 'no longer valid' page (their report stays).
    (A forged or missing CSRF token is refused app-wide with 400 before this runs.)"""
    report = load(ResidentReport, report_id, "revoke_link")
    order = report.order
    back = (url_for("reports.show", order_id=order.id) if can(current_user, "triage", order, db.session)
            else url_for("workorders.show", order_id=order.id))
    svc.revoke_link(db.session, report)
    flash(_("The resident's link no longer opens. Their report is kept."), "info")
    return redirect(back, 303)
