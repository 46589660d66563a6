"""Work orders: the crew's queue, the order page and its actions, verify/attention/callback lists,
raising an order by hand, and the managers' notifications."""
from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import SelectChoice

from app.extensions import db
from app.forms import EmptyForm
from app.models import Area, Notification, Team, WorkOrder
from app.models.types import utcnow
from app.models.workorder import OPEN_STATUSES
from app.services import escalation
from app.services import workorders as svc
from app.services.lifecycle import BY_SEGMENT, STEPS
from app.services.photos import PhotoRejected
from app.services.policy import can, scope
from app.web import load, refused, render, require, safe_next, uploaded_photos, user_sites
from app.workorders.forms import ActionForm, RaiseForm

bp = Blueprint("workorders", __name__)

@bp.get("/orders")
@login_required
def queue():
    """The work queue: overdue first, then by due time; filters live in the URL."""
    status = request.args.get("status", "active")
    if status not in svc.QUEUE_FILTERS:
        status = "active"
    area_id = request.args.get("area", type=int)
    team_id = request.args.get("team", type=int)
    since = _since_arg()
    found = svc.queue(db.session, current_user, status=status, area_id=area_id, team_id=team_id,
                      category=request.args.get("category") or None, item_code=request.args.get("item") or None,
                      since=since, limit=svc.QUEUE_LIMIT)
    sites = user_sites()
    site_ids = [s.id for s in sites]
    areas = db.session.scalars(select(Area).where(Area.site_id.in_(site_ids)).order_by(Area.id)).all()
    teams = db.session.scalars(scope(current_user, Team)).all()
    counts = svc.lead_counts(db.session, current_user) if can(current_user, "lead_orders") else {}
    return render("workorders/queue.html", "workorders/_queue.html", orders=found.orders, more=found.more,
                  limit=svc.QUEUE_LIMIT, status=status,
                  area_id=area_id, team_id=team_id, areas=areas, teams=teams, counts=counts,
                  now=utcnow())


def _since_arg() -> datetime | None:
    """?since=YYYY-MM-DD, midnight in the user's first site's zone."""
    from datetime import date, time

    try:
        day = date.fromisoformat(request.args.get("since", ""))
    except ValueError:
        return None
    sites = user_sites()
    return datetime.combine(day, time(0), tzinfo=sites[0].tz if sites else None)


@bp.get("/teams")
@login_required
def teams():
    """The teams of the user's sites with their open-order counts."""
    site_ids = [s.id for s in user_sites()]
    counts = dict(db.session.execute(
        select(WorkOrder.team_id, func.count(WorkOrder.id))
        .where(WorkOrder.site_id.in_(site_ids), WorkOrder.status.in_(OPEN_STATUSES))
        .group_by(WorkOrder.team_id)).all())
    rows = [(t, counts.get(t.id, 0)) for t in db.session.scalars(scope(current_user, Team))]
    return render("workorders/teams.html", rows=rows)


@bp.get("/teams/<int:team_id>/orders")
@login_required
def team_orders(team_id: int):
    """A team's open orders, newest first."""
    team = load(Team, team_id, "view_orders")
    return render("workorders/team.html", team=team, orders=svc.open_orders_for_team(db.session, team),
                  now=utcnow())


def order_context(order: WorkOrder, form: ActionForm | None = None, error: str | None = None,
                  failed_action: str | None = None) -> dict:
    """Everything the order page needs, built in one place."""
    form = form or ActionForm(formdata=None)
    form.version.data = order.version
    form.team.choices = [SelectChoice(t.id, t.t()) for t in order.site.teams if t.id != order.team_id]
    return dict(order=order, form=form, offered=svc.offered(current_user, order), error=error,
                failed_action=failed_action, steps=STEPS, now=utcnow(), order_plan=_order_plan(order))


def _order_plan(order: WorkOrder) -> dict | None:
    """A handover defect's pin on its unit's floor plan, so the crew sees where to go (None otherwise)."""
    from app.handover.plans import order_plan

    return order_plan(order) if order.unit_id else None


@bp.get("/orders/<int:order_id>/plan.png")
@login_required
def order_plan_image(order_id: int):
    """The floor plan of the order's unit, for whoever may see the order (crew: their teams' orders)."""
    from app.handover.plans import plan_response

    order = load(WorkOrder, order_id)
    return plan_response(order.unit.layout if order.unit_id else None)


@bp.get("/orders/<int:order_id>")
@login_required
def show(order_id: int):
    """One order: what, where, due, photos before and after, the actions on offer, its history."""
    order = load(WorkOrder, order_id)
    # Opening the order is reading its alerts: the header badge counts only what is still news.
    escalation.mark_read(db.session, current_user, order.id)
    return render("workorders/order.html", **order_context(order))


@bp.post("/orders/<int:order_id>/<any(" + ", ".join(f"'{s}'" for s in BY_SEGMENT) + "):segment>")
@login_required
def act(order_id: int, segment: str):
    """Do one action on the order; a refusal or a stale page re-renders it with the reason."""
    order = load(WorkOrder, order_id)
    action = BY_SEGMENT[segment].action
    form = ActionForm()
    form.team.choices = [SelectChoice(t.id, t.t()) for t in order.site.teams]
    if not form.validate_on_submit():
        return _refused(order, form, action, _("Check the form and try again."), 422)
    if svc.done_before(db.session, order, form.op.data):  # sent again after its reply was lost: done
        return redirect(safe_next(request.form.get("next"), url_for("workorders.show", order_id=order.id)))
    try:
        photos = uploaded_photos(form.photos.data, order.site)
        team = db.session.get(Team, form.team.data) if action == "reassign" and form.team.data else None
        due = _due_from_form(form.due.data, order)
        svc.act(db.session, order, current_user, action, version=form.version.data,
                note=form.note.data or "", photos=photos, team=team,
                severity=form.severity.data if action == "change" else None, due=due,
                outcome=form.outcome.data, op=form.op.data)
    except svc.StaleOrder as e:
        message = refused(e)
        db.session.refresh(order)
        if _repeated(order, action):
            return redirect(url_for("workorders.show", order_id=order.id))
        return _refused(order, None, action, message, e.status)
    except (PhotoRejected, svc.OrderRefused) as e:
        return _refused(order, form, action, refused(e), e.status)
    # `next` (e.g. back to the verify list) only if it is a path on this site, else the order.
    return redirect(safe_next(request.form.get("next"), url_for("workorders.show", order_id=order.id)))


def _due_from_form(value: datetime | None, order: WorkOrder) -> datetime | None:
    """A datetime-local field is the site's wall-clock time."""
    return value.replace(tzinfo=order.site.tz) if value else None


def _repeated(order: WorkOrder, action: str) -> bool:
    """A double tap: the same user just did the same thing, so the second tap is already done."""
    last = order.events[-1] if order.events else None
    return bool(last and last.actor_id == current_user.id and last.kind in STEPS[action].events
                and utcnow() - last.at < timedelta(seconds=30))


def _refused(order, form, action, message, status):
    db.session.refresh(order)
    ctx = order_context(order, form, error=message, failed_action=action)
    return render("workorders/order.html", status_code=status, **ctx)


@bp.get("/orders/verify")
@require("lead_orders")
def verify_list():
    """Resolved orders with their before and after photos side by side."""
    return render("workorders/verify.html", orders=svc.to_verify(db.session, current_user),
                  form=ActionForm(formdata=None), now=utcnow())


@bp.get("/orders/attention")
@require("lead_orders")
def attention_list():
    """Orders a crew could not fix."""
    return render("workorders/list.html", title=_("Needs attention"),
                  orders=svc.blocked(db.session, current_user), now=utcnow())


@bp.get("/orders/callbacks")
@require("lead_orders")
def callback_list():
    """Closed owner complaints to call back (回访)."""
    return render("workorders/list.html", title=_("Callbacks due"),
                  orders=svc.callbacks_due(db.session, current_user), now=utcnow())


@bp.route("/orders/new", methods=["GET", "POST"])
@require("lead_orders")
def raise_order():
    """Raise an order by hand: something seen between rounds, or an owner's complaint."""
    sites = user_sites()
    if not sites:
        abort(404)
    site = next((s for s in sites if str(s.id) == (request.values.get("site") or "")), sites[0])
    form = RaiseForm()
    form.site.data = str(site.id)
    form.team.choices = [SelectChoice(t.id, t.t()) for t in site.teams]
    form.area.choices = [SelectChoice(0, _("— none —"))] + [SelectChoice(a.id, a.t()) for a in site.areas]
    status = 200
    if form.validate_on_submit():
        try:
            photos = uploaded_photos(form.photos.data, site)
            order = svc.raise_by_hand(
                db.session, site=site, team=db.session.get(Team, form.team.data),
                area=db.session.get(Area, form.area.data) if form.area.data else None,
                severity=form.severity.data, description=form.description.data, user=current_user,
                photos=photos, owner_name=form.owner_name.data or "",
                owner_unit=form.owner_unit.data or "", owner_phone=form.owner_phone.data or "")
            flash(_("Work order #%(id)d raised for %(team)s.", id=order.id, team=order.team.t()), "info")
            return redirect(url_for("workorders.show", order_id=order.id))
        except PhotoRejected as e:
            form.photos.errors = [refused(e)]
        except svc.OrderRefused as e:
            form.description.errors = [refused(e)]
        status = 422
    elif request.method == "POST":
        status = 422
    return render("workorders/new.html", form=form, site=site, sites=sites, status_code=status)


@bp.get("/notifications")
@login_required
def notifications():
    """The user's notifications, unread first."""
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc()).limit(200)).all()
    return render("workorders/notifications.html", rows=rows, form=EmptyForm())


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark every notification read."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    escalation.mark_read(db.session, current_user)
    return redirect(url_for("workorders.notifications"))

