"""Work orders: routing, SLA due times, and the order raised or cancelled by a round answer."""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import (
    Answer, ChecklistItem, SiteItemTeam, SlaRule, Team, User, WorkOrder, WorkOrderEvent,
)
from app.models.types import utcnow
from app.models.workorder import OPEN_STATUSES

# Hours from raising to due, used to seed each site's SLA table (README: "SLA defaults").
DEFAULT_SLA_HOURS = {
    "cleaning": {"critical": 1, "major": 4, "minor": 24},
    "greenery": {"critical": 4, "major": 24, "minor": 72},
    "security": {"critical": 1, "major": 4, "minor": 24},
    "engineering": {"critical": 4, "major": 24, "minor": 72},
    "customer_service": {"critical": 2, "major": 24, "minor": 48},
}
FALLBACK_SLA_HOURS = {"critical": 4, "major": 24, "minor": 72}


def team_for_item(session, site_id: int, item: ChecklistItem) -> Team:
    """The team responsible for an item on a site: the site's override, else the item's team."""
    override = session.scalar(
        select(SiteItemTeam.team_id).where(
            SiteItemTeam.site_id == site_id,
            SiteItemTeam.template_code == item.version.template.code,
            SiteItemTeam.item_code == item.code,
        )
    )
    if override is not None:
        return session.get(Team, override)
    team = session.scalar(select(Team).where(Team.site_id == site_id, Team.code == item.team_code))
    if team is None:
        raise LookupError(f"site {site_id} has no team {item.team_code!r}")
    return team


def due_at(session, team: Team, severity: str, raised_at: datetime) -> datetime:
    """Raised time plus the SLA hours for the team and severity."""
    hours = session.scalar(
        select(SlaRule.hours).where(SlaRule.team_id == team.id, SlaRule.severity == severity)
    )
    if hours is None:
        hours = FALLBACK_SLA_HOURS.get(severity, 24)
    return raised_at + timedelta(hours=hours)


def record_event(session, order: WorkOrder, kind: str, actor: User | None,
                 to_status: str | None = None, note: str = "") -> WorkOrderEvent:
    """Append one event and move the order to `to_status` (if given)."""
    event = WorkOrderEvent(
        order=order, kind=kind, actor_id=actor.id if actor else None, at=utcnow(),
        from_status=order.status, to_status=to_status or order.status, note=note,
    )
    if to_status:
        order.status = to_status
    session.add(event)
    return event


def raise_for_answer(session, answer: Answer, actor: User) -> WorkOrder:
    """The order for a failed answer: created once, restored if it was cancelled, else left alone."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    if order is not None:
        if order.status == "cancelled":
            record_event(session, order, "reopened", actor, "open", note="answer failed again")
        return order
    item = answer.item
    stop = answer.stop
    team = team_for_item(session, stop.round.site_id, item)
    now = utcnow()
    order = WorkOrder(
        site_id=stop.round.site_id, team_id=team.id, area_id=stop.area_id, source="round",
        answer_id=answer.id, item_id=item.id, title_zh=item.text_zh, title_en=item.text_en,
        severity=item.severity, status="open", due_at=due_at(session, team, item.severity, now),
        created_at=now, created_by_id=actor.id,
    )
    try:
        # Savepoint: a double tap may race us to the unique answer_id.
        with session.begin_nested():
            session.add(order)
            session.flush()
            record_event(session, order, "created", actor, "open")
    except IntegrityError:
        order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    return order


def cancel_for_answer(session, answer: Answer, actor: User) -> WorkOrder | None:
    """Cancel the order of an answer turned back to pass/n.a. (an event, never a delete)."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    if order is not None and order.status in OPEN_STATUSES:
        record_event(session, order, "cancelled", actor, "cancelled", note="answer changed")
    return order


def open_orders_for_team(session, team: Team) -> list[WorkOrder]:
    """The team's open orders, newest first."""
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.team_id == team.id, WorkOrder.status.in_(OPEN_STATUSES))
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        )
    )
