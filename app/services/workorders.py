"""Work orders: routing, SLA due times, the order raised by a round answer, and the lifecycle.

    open ──take/start──▶ in progress ──resolve (after photo)──▶ resolved ──verify──▶ closed
      ▲         └──can't fix──▶ blocked ──send back / reassign──▶ open         │
      └──────────────── reopen (reason; callback not satisfied) ◀──────────────┘
    any state but closed/cancelled ──cancel (manager, reason)──▶ cancelled

Every change appends an event; a stale form or a concurrent change is refused (version check).
"""
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.models import (
    Answer, ChecklistItem, Photo, SiteItemTeam, SlaRule, Team, User, WorkOrder, WorkOrderEvent,
    WorkOrderPhoto,
)
from app.models.checklist import SEVERITIES
from app.models.types import utcnow
from app.models.workorder import ACTIVE_STATUSES, OPEN_STATUSES, STATUSES
from app.services import webhooks

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
                 to_status: str | None = None, note: str = "", detail: str = "") -> WorkOrderEvent:
    """Append one event and move the order to `to_status` (if given)."""
    event = WorkOrderEvent(
        order=order, kind=kind, actor_id=actor.id if actor else None, at=utcnow(),
        from_status=order.status, to_status=to_status or order.status, note=note, detail=detail,
    )
    if to_status:
        order.status = to_status
    session.add(event)
    return event


def new_order(session, *, site, team: Team, source: str, severity: str, title_zh: str, title_en: str,
              actor: User | None, photos=(), due: datetime | None = None, now: datetime | None = None,
              **fields) -> WorkOrder:
    """The one way an order is raised, whatever raises it: due by the SLA (unless `due` is given),
    the "created" event, the before photos, the team's webhook queued. Flushes; the caller commits."""
    now = now or utcnow()
    order = WorkOrder(
        site_id=site.id, team_id=team.id, team=team, source=source, severity=severity,
        title_zh=title_zh, title_en=title_en, status="open", created_at=now,
        created_by_id=actor.id if actor else None, due_at=due or due_at(session, team, severity, now),
        **fields,
    )
    session.add(order)
    session.flush()
    event = record_event(session, order, "created", actor, "open")
    _attach(session, order, event, photos, "before")
    webhooks.enqueue(session, order, "raised")
    return order


def raise_for_answer(session, answer: Answer, actor: User) -> WorkOrder:
    """The order for a failed answer: created once, restored if it was cancelled, else left alone."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    if order is not None:
        if order.status == "cancelled":
            _reopen(session, order, actor, "")
        return order
    item = answer.item
    stop = answer.stop
    team = team_for_item(session, stop.round.site_id, item)
    try:
        # Savepoint: a double tap may race us to the unique answer_id.
        with session.begin_nested():
            order = new_order(session, site=stop.round.site, team=team, source="round",
                              severity=item.severity, title_zh=item.text_zh, title_en=item.text_en,
                              actor=actor, area_id=stop.area_id, answer_id=answer.id, item_id=item.id)
    except IntegrityError:
        order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    return order


def cancel_for_answer(session, answer: Answer, actor: User) -> WorkOrder | None:
    """Cancel the order of an answer turned back to pass/n.a. (an event, never a delete)."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    if order is not None and order.status in OPEN_STATUSES:
        record_event(session, order, "cancelled", actor, "cancelled")
    return order


def open_orders_for_team(session, team: Team) -> list[WorkOrder]:
    """The team's open orders, newest first."""
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.team_id == team.id, WorkOrder.status.in_(OPEN_STATUSES))
            .options(*LIST_LOADS).order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        ).unique()
    )


# --------------------------------------------------------------------------- lifecycle

class OrderRefused(Exception):
    """An action the order's state or the user's role does not allow; `message` is for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StaleOrder(OrderRefused):
    """Someone changed the order since this page was loaded."""

    def __init__(self):
        super().__init__(_l("This order was changed by someone else. Here is its current state."))


CREW = ("crew",)
LEADS = ("supervisor", "manager", "admin")
MANAGERS = ("manager", "admin")


@dataclass(frozen=True)
class Rule:
    """Which roles may do an action, from which statuses."""

    roles: tuple[str, ...]
    from_statuses: tuple[str, ...]


# Supervisors and managers can also do the crew's actions (a small site has no crew phone).
RULES = {
    "take": Rule(CREW + LEADS, ("open",)),
    "start": Rule(CREW + LEADS, ("open",)),
    "resolve": Rule(CREW + LEADS, ("open", "in_progress")),
    "hand_back": Rule(CREW + LEADS, ("open", "in_progress")),
    "cant_fix": Rule(CREW + LEADS, ("open", "in_progress")),
    "comment": Rule(CREW + LEADS, STATUSES),
    "verify": Rule(LEADS, ("resolved",)),
    "reopen": Rule(LEADS, ("resolved",)),
    "send_back": Rule(LEADS, ("blocked",)),
    "callback": Rule(LEADS, ("closed",)),
    "reassign": Rule(MANAGERS, ("open", "in_progress", "blocked")),
    "change": Rule(MANAGERS, ("open", "in_progress", "blocked", "resolved")),
    "cancel": Rule(MANAGERS, ("open", "in_progress", "blocked", "resolved")),
}


def allowed(user: User, order: WorkOrder, action: str) -> bool:
    """Whether the action is offered: role and status (the order's visibility is the caller's check)."""
    rule = RULES[action]
    if user.role not in rule.roles or order.status not in rule.from_statuses:
        return False
    if action == "take":
        # A colleague's order stays theirs; a supervisor or manager may take it over (recorded).
        return order.assignee_id is None or (order.assignee_id != user.id and user.role in LEADS)
    if action == "hand_back" and order.assignee_id is None:
        return False
    if action in ("start", "resolve", "hand_back", "cant_fix") and user.role in CREW:
        # A colleague's order stays theirs until they hand it back.
        return order.assignee_id in (None, user.id)
    if action == "callback":
        return order.callback == "due"
    return True


def _check(order: WorkOrder, user: User, action: str, version: int | None) -> None:
    if version is not None and order.version != version:
        raise StaleOrder()
    if user.role not in RULES[action].roles:
        raise OrderRefused(_l("Only a supervisor or a manager can do this."))
    if not allowed(user, order, action):
        if order.assignee is not None and order.assignee_id != user.id and action in COLLEAGUES_ORDER:
            raise OrderRefused(_l("%(name)s has this order. Ask them to hand it back, or ask a supervisor.",
                                  name=order.assignee.display_name))
        raise OrderRefused(REFUSALS.get(action, _l("That is not possible for this order now.")))


# The actions a crew member may not do on an order a colleague has taken.
COLLEAGUES_ORDER = ("take", "start", "resolve", "hand_back", "cant_fix")
# The event each action appends: a repeated tap is recognised by it (a double tap counts once).
EVENT_KINDS = {
    "take": ("assigned", "taken_over"), "start": ("started",), "resolve": ("resolved",),
    "verify": ("verified",), "hand_back": ("handed_back",), "cant_fix": ("blocked",),
    "reopen": ("reopened",), "send_back": ("sent_back",), "cancel": ("cancelled",),
}


REFUSALS = {
    "take": _l("This order cannot be taken now."),
    "start": _l("Only an open order can be started."),
    "resolve": _l("Only an open or started order can be resolved."),
    "hand_back": _l("Only the person who has this order can hand it back."),
    "verify": _l("Only a resolved order can be verified."),
    "reopen": _l("Only a resolved order can be reopened."),
    "cancel": _l("Only a manager can cancel an order that is not closed."),
    "callback": _l("This order has no callback due."),
}


def _attach(session, order: WorkOrder, event: WorkOrderEvent, photos, kind: str) -> None:
    for photo in photos:
        session.add(WorkOrderPhoto(order=order, photo_id=photo.id, event=event, kind=kind))


def act(session, order: WorkOrder, user: User, action: str, *, version: int | None = None,
        note: str = "", photos: list[Photo] = (), team: Team | None = None,
        severity: str | None = None, due: datetime | None = None, outcome: str | None = None,
        now: datetime | None = None) -> WorkOrderEvent:
    """Do one lifecycle action, append its event, commit. Refusals raise OrderRefused."""
    _check(order, user, action, version)
    now = now or utcnow()
    note = (note or "").strip()[:2000]
    event = None
    if action == "take":
        if order.assignee_id is None:
            event = record_event(session, order, "assigned", user, note=note)
        else:
            event = record_event(session, order, "taken_over", user, note=note,
                                 detail=json.dumps({"assignee": [order.assignee_id, user.id]}))
        order.assignee_id = user.id
    elif action == "start":
        event = record_event(session, order, "started", user, "in_progress")
        order.assignee_id = order.assignee_id or user.id
    elif action == "resolve":
        if not photos:
            raise OrderRefused(_l("Add at least one “after” photo to resolve this order."))
        if not note:
            raise OrderRefused(_l("Say in a few words what was done."))
        event = record_event(session, order, "resolved", user, "resolved", note=note)
        order.assignee_id = order.assignee_id or user.id
        order.resolved_at = now
        _attach(session, order, event, photos, "after")
    elif action == "hand_back":
        event = record_event(session, order, "handed_back", user, "open", note=note)
        order.assignee_id = None
    elif action == "cant_fix":
        if not note:
            raise OrderRefused(_l("Say why it cannot be fixed (another team, parts needed…)."))
        event = record_event(session, order, "blocked", user, "blocked", note=note)
    elif action == "comment":
        if not note and not photos:
            raise OrderRefused(_l("Write a comment or add a photo."))
        event = record_event(session, order, "commented", user, note=note)
        _attach(session, order, event, photos, "comment")
    elif action == "verify":
        event = record_event(session, order, "verified", user, "closed", note=note)
        order.closed_at = now
        if order.source == "complaint":
            order.callback = "due"
    elif action == "reopen":
        if not note:
            raise OrderRefused(_l("Give a reason for reopening."))
        event = _reopen(session, order, user, note)
    elif action == "send_back":
        event = record_event(session, order, "sent_back", user, "open", note=note)
        order.assignee_id = None
    elif action == "callback":
        if outcome not in ("satisfied", "unsatisfied"):
            raise OrderRefused(_l("Choose satisfied or not satisfied."))
        event = record_event(session, order, "callback", user, note=note, detail=outcome)
        order.callback = outcome
        if outcome == "unsatisfied":
            _reopen(session, order, user, note)
    elif action == "reassign":
        if team is None or team.site_id != order.site_id:
            raise OrderRefused(_l("Choose a team of this site."))
        if team.id == order.team_id:
            raise OrderRefused(_l("The order is already with this team."))
        event = record_event(session, order, "reassigned", user, "open", note=note,
                             detail=json.dumps({"team": [order.team_id, team.id]}))
        order.team_id, order.team, order.assignee_id = team.id, team, None
    elif action == "change":
        if severity is not None and severity not in SEVERITIES:
            raise OrderRefused(_l("Choose a severity."))
        changes = {}
        if severity and severity != order.severity:
            changes["severity"] = [order.severity, severity]
            order.severity = severity
        # The form shows the due time to the minute: the same minute sent back is no change.
        if due and _to_minute(due) != _to_minute(order.due_at):
            changes["due"] = [order.due_at.isoformat(), due.astimezone(timezone.utc).isoformat()]
            order.due_at = due
            order.overdue_escalated_at = None  # a new deadline can be missed again
        if not changes:
            raise OrderRefused(_l("Nothing was changed."))
        event = record_event(session, order, "changed", user, note=note, detail=json.dumps(changes))
    elif action == "cancel":
        if not note:
            raise OrderRefused(_l("Give a reason for cancelling."))
        event = record_event(session, order, "cancelled", user, "cancelled", note=note)
    session.commit()
    return event


def _to_minute(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(second=0, microsecond=0)


def reopen_order(session, order: WorkOrder, user: User, note: str) -> WorkOrderEvent:
    """Reopen on someone's behalf outside the lifecycle buttons (an owner rejected the fix)."""
    return _reopen(session, order, user, note)


def _reopen(session, order: WorkOrder, user: User | None, note: str) -> WorkOrderEvent:
    """The one place an order is reopened: the event and the count go together."""
    event = record_event(session, order, "reopened", user, "open", note=note)
    order.reopen_count += 1
    order.resolved_at = order.closed_at = None
    order.unverified_escalated_at = None
    return event


def raise_by_hand(session, *, site, team: Team, area, severity: str, description: str,
                  user: User, photos: list[Photo] = (), owner_name: str = "", owner_unit: str = "",
                  owner_phone: str = "") -> WorkOrder:
    """An order raised from anywhere; with an owner's details it is a complaint with a callback."""
    if severity not in SEVERITIES:
        raise OrderRefused(_l("Choose a severity."))
    if team.site_id != site.id or (area is not None and area.site_id != site.id):
        raise OrderRefused(_l("Choose a team and an area of this site."))
    description = description.strip()[:2000]
    if not description:
        raise OrderRefused(_l("Describe the problem."))
    complaint = bool(owner_name.strip() or owner_unit.strip() or owner_phone.strip())
    title = description.splitlines()[0][:120]
    order = new_order(
        session, site=site, team=team, source="complaint" if complaint else "manual", severity=severity,
        title_zh=title, title_en=title, actor=user, photos=photos, area_id=area.id if area else None,
        description=description, owner_name=owner_name.strip()[:120] or None,
        owner_unit=owner_unit.strip()[:60] or None, owner_phone=owner_phone.strip()[:40] or None,
    )
    session.commit()
    return order


def queue_order():
    """Overdue first, then by due time: the crew's working order."""
    now = utcnow()
    return (case((WorkOrder.due_at < now, 0), else_=1), WorkOrder.due_at, WorkOrder.id)


QUEUE_FILTERS = ("active", "mine", "overdue", "open", "in_progress", "blocked", "resolved", "closed", "all")


def visible_orders(user: User):
    """A select of the orders the user may see: their sites; for crew, their teams."""
    query = select(WorkOrder)
    if user.role != "admin":
        query = query.where(WorkOrder.site_id.in_(user.site_ids or [-1]))
    if user.role == "crew":
        query = query.where(WorkOrder.team_id.in_(user.team_ids or [-1]))
    return query


def queue(session, user: User, *, status: str = "active", area_id: int | None = None,
          team_id: int | None = None, category: str | None = None, item_code: str | None = None,
          since: datetime | None = None, limit: int = 200) -> list[WorkOrder]:
    """The work queue: overdue first, then by due time, filtered as the URL says (the dashboard's
    figures link here with their filters)."""
    query = visible_orders(user)
    if status == "mine":
        query = query.where(WorkOrder.assignee_id == user.id, WorkOrder.status.in_(ACTIVE_STATUSES))
    elif status == "overdue":
        query = query.where(WorkOrder.status.in_(ACTIVE_STATUSES), WorkOrder.due_at < utcnow())
    elif status in STATUSES:
        query = query.where(WorkOrder.status == status)
    elif status != "all":
        query = query.where(WorkOrder.status.in_(ACTIVE_STATUSES))
    if area_id:
        query = query.where(WorkOrder.area_id == area_id)
    if team_id:
        query = query.where(WorkOrder.team_id == team_id)
    if category or item_code:
        query = query.join(ChecklistItem, WorkOrder.item_id == ChecklistItem.id)
        if category:
            query = query.where(ChecklistItem.category == category)
        if item_code:
            query = query.where(ChecklistItem.code == item_code)
    if since:
        query = query.where(WorkOrder.created_at >= since)
    query = query.options(*LIST_LOADS).order_by(*queue_order()).limit(limit)
    return list(session.scalars(query).unique())


# What a list row shows (team, place, assignee, a before or after thumbnail): loaded with the list,
# so a list costs the same few statements at 20 rows or 200.
LIST_LOADS = (
    joinedload(WorkOrder.team), joinedload(WorkOrder.area), joinedload(WorkOrder.site),
    joinedload(WorkOrder.assignee),
    selectinload(WorkOrder.answer).selectinload(Answer.photos),
    selectinload(WorkOrder.photo_links).joinedload(WorkOrderPhoto.photo),
)


def to_verify(session, user: User, limit: int = 200) -> list[WorkOrder]:
    """Resolved orders waiting for a supervisor, oldest resolution first, with who fixed them."""
    query = (visible_orders(user).where(WorkOrder.status == "resolved")
             .options(*LIST_LOADS, selectinload(WorkOrder.events).joinedload(WorkOrderEvent.actor))
             .order_by(WorkOrder.resolved_at, WorkOrder.id).limit(limit))
    return list(session.scalars(query).unique())


def blocked(session, user: User, limit: int = 200) -> list[WorkOrder]:
    """Orders a crew could not fix, waiting for a supervisor's decision."""
    return list(session.scalars(visible_orders(user).where(WorkOrder.status == "blocked").options(*LIST_LOADS)
                                .order_by(WorkOrder.due_at, WorkOrder.id).limit(limit)).unique())


def lead_counts(session, user: User) -> dict[str, int]:
    """The supervisor's tiles in one statement: to verify, can't fix, callbacks due."""
    subq = visible_orders(user).subquery()
    row = session.execute(select(
        func.count().filter(subq.c.status == "resolved"),
        func.count().filter(subq.c.status == "blocked"),
        func.count().filter(subq.c.callback == "due"),
    ).select_from(subq)).one()
    return {"verify": row[0], "blocked": row[1], "callbacks": row[2]}


def callbacks_due(session, user: User, limit: int = 200) -> list[WorkOrder]:
    """Closed owner complaints whose callback (回访) is still to be made."""
    return list(session.scalars(visible_orders(user).where(WorkOrder.callback == "due").options(*LIST_LOADS)
                                .order_by(WorkOrder.closed_at, WorkOrder.id).limit(limit)).unique())
