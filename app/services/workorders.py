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
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm import joinedload, selectinload

from app.models import (
    Answer, ChecklistItem, Photo, SiteItemTeam, SlaRule, Team, Unit, User, WorkOrder, WorkOrderEvent,
    WorkOrderPhoto,
)
from app.models.checklist import SEVERITIES
from app.models.types import utcnow
from app.models.workorder import ACTIVE_STATUSES, OPEN_STATUSES, STATUSES
from app.services import policy, webhooks
from app.services.lifecycle import LIFECYCLE, STEPS, Step
from app.services.errors import Conflict, Refused

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
                 to_status: str | None = None, note: str = "", detail: str = "",
                 at: datetime | None = None) -> WorkOrderEvent:
    """Append one event (at `at`, default now) and move the order to `to_status` (if given)."""
    event = WorkOrderEvent(
        order=order, kind=kind, actor_id=actor.id if actor else None, at=at or utcnow(),
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
    event = record_event(session, order, "created", actor, "open", at=now)
    _attach(session, order, event, photos, "before")
    webhooks.enqueue(session, order, "raised")
    return order


def raise_for_answer(session, answer: Answer, actor: User) -> WorkOrder:
    """The order for a failed answer: created once, restored if it was cancelled, else left alone.
    It is raised at the time the item was answered (a fail sent late from a phone keeps its time)."""
    order = answer.work_order  # loaded with the answer (or known to be none for a new one)
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
                              actor=actor, area_id=stop.area_id, answer=answer, item_id=item.id,
                              now=answer.answered_at)
    except IntegrityError:
        order = session.scalar(select(WorkOrder).where(WorkOrder.answer_id == answer.id))
    return order


def cancel_for_answer(session, answer: Answer, actor: User) -> WorkOrder | None:
    """Cancel the order of an answer turned back to pass/n.a. (an event, never a delete)."""
    order = answer.work_order
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

class OrderRefused(Refused):
    """An action the order's state or the user's role does not allow; `message` is for the user."""


class StaleOrder(OrderRefused, Conflict):
    """Someone changed the order since this page was loaded (409)."""

    def __init__(self):
        super().__init__(_l("This order was changed by someone else. Here is its current state."))


def _check(order: WorkOrder, user: User, step: Step, version: int | None) -> None:
    if version is not None and order.version != version:
        raise StaleOrder()
    reason = policy.order_refusal(user, step.action, order)
    if reason is not None:
        raise OrderRefused(reason)


REQUIREMENTS = {  # what an action needs from the form, and what the user is told when it is missing
    "after_photo": (lambda note, photos, **_: bool(photos), _l("Add at least one “after” photo to resolve this order.")),
    "note_or_photo": (lambda note, photos, **_: bool(note or photos), _l("Write a comment or add a photo.")),
    "outcome": (lambda outcome, **_: outcome in ("satisfied", "unsatisfied"), _l("Choose satisfied or not satisfied.")),
}
NOTE_MISSING = {
    "resolve": _l("Say in a few words what was done."),
    "cant_fix": _l("Say why it cannot be fixed (another team, parts needed…)."),
    "reopen": _l("Give a reason for reopening."),
    "cancel": _l("Give a reason for cancelling."),
}


def _require(step: Step, **given) -> None:
    for need in step.needs:
        if need == "note":
            if not given["note"]:
                raise OrderRefused(NOTE_MISSING[step.action])
        elif need in REQUIREMENTS:
            present, message = REQUIREMENTS[need]
            if not present(**given):
                raise OrderRefused(message)


def _attach(session, order: WorkOrder, event: WorkOrderEvent, photos, kind: str) -> None:
    for photo in photos:
        session.add(WorkOrderPhoto(order=order, photo_id=photo.id, event=event, kind=kind))


def act(session, order: WorkOrder, user: User, action: str, *, version: int | None = None,
        note: str = "", photos: list[Photo] = (), team: Team | None = None,
        severity: str | None = None, due: datetime | None = None, outcome: str | None = None,
        now: datetime | None = None, op: str | None = None) -> WorkOrderEvent:
    """Do one lifecycle action (see lifecycle.LIFECYCLE), append its event, flush (the caller commits).
    Refusals raise OrderRefused; StaleOrder if someone changed the order first (its version moved on).
    `op` is the phone's id of the action: its event carries it, so the action sent again is known
    (done_before) and two copies at once cannot both be stored (unique)."""
    step = STEPS[action]
    _check(order, user, step, version)
    note = (note or "").strip()[:2000]
    _require(step, note=note, photos=photos, outcome=outcome)
    event = EFFECTS.get(action, _plain)(session, order, user, step, note=note, photos=photos, team=team,
                                        severity=severity, due=due, outcome=outcome, now=now or utcnow())
    event.op = op
    try:
        session.flush()  # the version check: two people acting on one order cannot both win
    except (StaleDataError, IntegrityError) as exc:  # (IntegrityError: the same op sent twice at once)
        raise StaleOrder() from exc
    return event


def done_before(session, order: WorkOrder, op: str | None) -> bool:
    """Was this action (the phone's id for it) already done on the order? (A resend after a lost reply.)"""
    return op is not None and session.scalar(
        select(WorkOrderEvent.id).where(WorkOrderEvent.order_id == order.id, WorkOrderEvent.op == op)) is not None


def _plain(session, order, user, step, *, note, **_):
    """Record the step's event and move to its status; nothing else changes."""
    return record_event(session, order, step.events[0], user, step.to_status, note=note)


def _take(session, order, user, step, *, note, **_):
    if order.assignee_id is None:
        event = record_event(session, order, "assigned", user, note=note)
    else:  # a lead takes over a colleague's order: on the record, from whom
        event = record_event(session, order, "taken_over", user, note=note,
                             detail=json.dumps({"assignee": [order.assignee_id, user.id]}))
    order.assignee_id = user.id
    return event


def _start(session, order, user, step, *, note, **_):
    event = _plain(session, order, user, step, note="")
    order.assignee_id = order.assignee_id or user.id
    return event


def _resolve(session, order, user, step, *, note, photos, now, **_):
    event = _plain(session, order, user, step, note=note)
    order.assignee_id = order.assignee_id or user.id
    order.resolved_at = now
    _attach(session, order, event, photos, "after")
    return event


def _release(session, order, user, step, *, note, **_):
    """Hand back / send back: the order returns to the team's queue, nobody has it."""
    event = _plain(session, order, user, step, note=note)
    order.assignee_id = None
    return event


def _comment(session, order, user, step, *, note, photos, **_):
    event = _plain(session, order, user, step, note=note)
    _attach(session, order, event, photos, "comment")
    return event


def _verify(session, order, user, step, *, note, now, **_):
    event = _plain(session, order, user, step, note=note)
    order.closed_at = now
    if order.source in CALLBACK_SOURCES:
        order.callback = "due"
    return event


# Orders whose callback (回访) is due once closed: an owner's complaint, a resident's report.
CALLBACK_SOURCES = ("complaint", "resident")


def _reopen_step(session, order, user, step, *, note, **_):
    return _reopen(session, order, user, note)


def _callback(session, order, user, step, *, note, outcome, **_):
    event = record_event(session, order, "callback", user, note=note, detail=outcome)
    order.callback = outcome
    if outcome == "unsatisfied":
        _reopen(session, order, user, note)
    return event


def callback_from_resident(session, order: WorkOrder, outcome: str) -> WorkOrderEvent:
    """A resident's own answer on their report's link (no account, so no actor): the same callback as
    the service centre records, and not satisfied reopens the order."""
    return _callback(session, order, None, STEPS["callback"], note="", outcome=outcome)


def _reassign(session, order, user, step, *, note, team, **_):
    if team is None or team.site_id != order.site_id:
        raise OrderRefused(_l("Choose a team of this site."))
    if team.id == order.team_id:
        raise OrderRefused(_l("The order is already with this team."))
    event = record_event(session, order, "reassigned", user, step.to_status, note=note,
                         detail=json.dumps({"team": [order.team_id, team.id]}))
    order.team_id, order.team, order.assignee_id = team.id, team, None
    return event


def _change(session, order, user, step, *, note, severity, due, **_):
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
    return record_event(session, order, "changed", user, note=note, detail=json.dumps(changes))


# What an action changes besides its event and status; the rest are _plain.
EFFECTS = {"take": _take, "start": _start, "resolve": _resolve, "hand_back": _release,
           "send_back": _release, "comment": _comment, "verify": _verify, "reopen": _reopen_step,
           "callback": _callback, "reassign": _reassign, "change": _change}


def offered(user: User, order: WorkOrder) -> set[str]:
    """The actions the order page offers this user now."""
    return {step.action for step in LIFECYCLE if policy.can(user, step.action, order)}


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
    return order


def queue_order():
    """Overdue first, then by due time: the crew's working order."""
    now = utcnow()
    return (case((WorkOrder.due_at < now, 0), else_=1), WorkOrder.due_at, WorkOrder.id)


QUEUE_FILTERS = ("active", "mine", "overdue", "open", "in_progress", "blocked", "resolved", "closed", "all")
# A phone never receives thousands of rows: the list shows this many and says when there are more.
QUEUE_LIMIT = 200


@dataclass
class Queue:
    orders: list[WorkOrder]
    more: bool  # rows beyond the limit exist: the page asks to narrow the filter


def queue(session, user: User, *, status: str = "active", area_id: int | None = None,
          team_id: int | None = None, category: str | None = None, item_code: str | None = None,
          since: datetime | None = None, limit: int = QUEUE_LIMIT) -> Queue:
    """The work queue: overdue first, then by due time, filtered as the URL says (the dashboard's
    figures link here with their filters); at most `limit` orders."""
    query = policy.scope(user, WorkOrder)
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
    query = query.options(*LIST_LOADS).order_by(*queue_order()).limit(limit + 1)
    orders = list(session.scalars(query).unique())
    return Queue(orders[:limit], len(orders) > limit)


# What a list row shows (team, place, assignee, a before or after thumbnail): loaded with the list,
# so a list costs the same few statements at 20 rows or 200.
LIST_LOADS = (
    joinedload(WorkOrder.team), joinedload(WorkOrder.area), joinedload(WorkOrder.site),
    joinedload(WorkOrder.assignee), joinedload(WorkOrder.unit).joinedload(Unit.building),
    selectinload(WorkOrder.answer).selectinload(Answer.photos),
    selectinload(WorkOrder.photo_links).joinedload(WorkOrderPhoto.photo),
)


def to_verify(session, user: User, limit: int = 200) -> list[WorkOrder]:
    """Resolved orders waiting for a supervisor, oldest resolution first, with who fixed them."""
    query = (policy.scope(user, WorkOrder).where(WorkOrder.status == "resolved")
             .options(*LIST_LOADS, selectinload(WorkOrder.events).joinedload(WorkOrderEvent.actor))
             .order_by(WorkOrder.resolved_at, WorkOrder.id).limit(limit))
    return list(session.scalars(query).unique())


def blocked(session, user: User, limit: int = 200) -> list[WorkOrder]:
    """Orders a crew could not fix, waiting for a supervisor's decision."""
    return list(session.scalars(policy.scope(user, WorkOrder).where(WorkOrder.status == "blocked").options(*LIST_LOADS)
                                .order_by(WorkOrder.due_at, WorkOrder.id).limit(limit)).unique())


def lead_counts(session, user: User) -> dict[str, int]:
    """The supervisor's tiles in one statement: to verify, can't fix, callbacks due, reports to triage."""
    subq = policy.scope(user, WorkOrder).subquery()
    row = session.execute(select(
        func.count().filter(subq.c.status == "resolved"),
        func.count().filter(subq.c.status == "blocked"),
        func.count().filter(subq.c.callback == "due"),
        func.count().filter(subq.c.source == "resident", subq.c.triaged_at.is_(None),
                            subq.c.status.in_(OPEN_STATUSES)),
    ).select_from(subq)).one()
    return {"verify": row[0], "blocked": row[1], "callbacks": row[2], "triage": row[3]}


def callbacks_due(session, user: User, limit: int = 200) -> list[WorkOrder]:
    """Closed owner complaints whose callback (回访) is still to be made."""
    return list(session.scalars(policy.scope(user, WorkOrder).where(WorkOrder.callback == "due").options(*LIST_LOADS)
                                .order_by(WorkOrder.closed_at, WorkOrder.id).limit(limit)).unique())
