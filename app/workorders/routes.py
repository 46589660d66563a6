"""Each team's open orders, and one order with its history."""
from flask import Blueprint
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.extensions import db
from app.main.routes import user_sites
from app.models import Team, WorkOrder
from app.models.workorder import OPEN_STATUSES
from app.services import workorders as svc
from app.services.policy import can
from app.web import load, render

bp = Blueprint("workorders", __name__)


@bp.get("/teams")
@login_required
def teams():
    """The teams of the user's sites with their open-order counts."""
    site_ids = [s.id for s in user_sites()]
    counts = dict(db.session.execute(
        select(WorkOrder.team_id, func.count(WorkOrder.id))
        .where(WorkOrder.site_id.in_(site_ids), WorkOrder.status.in_(OPEN_STATUSES))
        .group_by(WorkOrder.team_id)).all())
    rows = [(t, counts.get(t.id, 0)) for t in db.session.scalars(
        select(Team).where(Team.site_id.in_(site_ids)).order_by(Team.site_id, Team.id))
        if can(current_user, "view_orders", t)]
    return render("workorders/teams.html", rows=rows)


@bp.get("/teams/<int:team_id>/orders")
@login_required
def team_orders(team_id: int):
    """A team's open orders, newest first."""
    team = load(Team, team_id, "view_orders")
    return render("workorders/team.html", team=team, orders=svc.open_orders_for_team(db.session, team))


@bp.get("/orders/<int:order_id>")
@login_required
def show(order_id: int):
    """One order: what, where, due, photos and its history."""
    order = load(WorkOrder, order_id)
    return render("workorders/order.html", order=order)
