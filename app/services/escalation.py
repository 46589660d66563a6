"""Escalation: overdue orders, and orders resolved but left unverified for a day, go to the managers.

`sweep()` is idempotent (each order escalates once per reason, marked on the order) and cheap
(two indexed queries), so it runs from a cron-able `flask escalate` and, throttled, on requests;
either way as a unit of work of its own (the caller commits).
"""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.models import Notification, User, WorkOrder
from app.models.types import utcnow
from app.models.user import user_site
from app.models.workorder import ACTIVE_STATUSES
from app.services import webhooks
from app.services.policy import holders
from app.services.workorders import record_event

UNVERIFIED_AFTER = timedelta(hours=24)


def managers_of(session, site_id: int) -> list[User]:
    """Active managers assigned to the site."""
    return list(session.scalars(
        select(User).join(user_site, user_site.c.user_id == User.id)
        .where(user_site.c.site_id == site_id, holders("alerts"), User.active.is_(True))
        .order_by(User.id)))


def notify(session, order: WorkOrder, kind: str, users: list[User]) -> None:
    """One notification per user, order and reason (the unique key makes repeats harmless)."""
    for user in users:
        try:
            with session.begin_nested():
                session.add(Notification(user_id=user.id, order_id=order.id, kind=kind))
        except IntegrityError:
            pass


def sweep(session, now: datetime | None = None) -> int:
    """Escalate what is due; returns how many escalations were made."""
    now = now or utcnow()
    made = 0
    overdue = session.scalars(select(WorkOrder).where(
        WorkOrder.status.in_(ACTIVE_STATUSES), WorkOrder.due_at < now,
        WorkOrder.overdue_escalated_at.is_(None)).order_by(WorkOrder.id).limit(200))
    for order in list(overdue):
        made += _escalate(session, order, "overdue", now)
    unverified = session.scalars(select(WorkOrder).where(
        WorkOrder.status == "resolved", WorkOrder.resolved_at < now - UNVERIFIED_AFTER,
        WorkOrder.unverified_escalated_at.is_(None)).order_by(WorkOrder.id).limit(200))
    for order in list(unverified):
        made += _escalate(session, order, "unverified", now)
    return made


def _escalate(session, order: WorkOrder, reason: str, now: datetime) -> bool:
    """One order's escalation in a savepoint: if another server sweeping the same order at once got
    there first (its version moved on), it wins and only this order's escalation is undone."""
    try:
        with session.begin_nested():
            setattr(order, f"{reason}_escalated_at", now)
            record_event(session, order, "escalated", None, detail=reason)
            notify(session, order, reason, managers_of(session, order.site_id))
            if reason == "overdue":
                webhooks.enqueue(session, order, "overdue")
            session.flush()
        return True
    except StaleDataError:
        return False


def unread_count(session, user: User) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(session, user: User, order_id: int | None = None) -> int:
    """Mark the user's unread notifications read (of one order, or all); how many were unread."""
    query = (Notification.__table__.update()
             .where(Notification.user_id == user.id, Notification.read_at.is_(None))
             .values(read_at=utcnow()))
    if order_id is not None:
        query = query.where(Notification.order_id == order_id)
    return session.execute(query).rowcount
