"""Outbound team notifications: an outbox table, delivered after the request, retried a few times.

A delivery is written in the same transaction as the change that causes it, then handed to the task
queue (app/tasks.py) once the request has committed; failed attempts are retried at 1, 5, 15 and 60
minutes. A receiver that is down or slow therefore never slows or fails the request that caused it.
"""
import json
from contextlib import nullcontext
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.models import Team, WebhookDelivery, WorkOrder
from app.models.types import utcnow
from app.services import outbound

MAX_ATTEMPTS = 5
BACKOFF = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1)]
TIMEOUT_SECONDS = 5
EVENT_TEXT = {"raised": ("新派工单", "New work order"), "overdue": ("派工单已超时", "Work order overdue")}


def message(order: WorkOrder, event: str, fmt: str, base_url: str) -> dict:
    """The JSON body for one event, in the team's format (generic, or the WeCom group robot's text)."""
    url = f"{base_url.rstrip('/')}/orders/{order.id}"
    due_local = order.due_at.astimezone(order.site.tz).strftime("%Y-%m-%d %H:%M")
    if fmt == "wecom":
        zh, en = EVENT_TEXT[event]
        area = order.area.name_zh if order.area else ""
        content = (f"【{zh} #{order.id}】{order.title_zh}\n{order.site.name_zh} {area}\n"
                   f"班组:{order.team.name_zh}  严重程度:{order.severity}\n完成时限:{due_local}\n{url}")
        return {"msgtype": "text", "text": {"content": content}}
    return {
        "event": f"work_order.{event}",
        "order": {
            "id": order.id, "url": url, "title_zh": order.title_zh, "title_en": order.title_en,
            "site": order.site.code, "team": order.team.code,
            "area": order.area.code if order.area else None, "severity": order.severity,
            "status": order.status, "due_at": order.due_at.isoformat(), "due_local": due_local,
        },
    }


def enqueue(session, order: WorkOrder, event: str) -> WebhookDelivery | None:
    """Queue a message for the order's team if it has a webhook (committed with the caller's change).

    The web layer sends what a request queued once the request has committed (see `queued`).
    """
    team: Team = order.team
    if not team.webhook_url:
        return None
    delivery = WebhookDelivery(team_id=team.id, order_id=order.id, event=event, url=team.webhook_url,
                               body="", next_attempt_at=utcnow())
    session.add(delivery)
    session.info.setdefault(QUEUED, []).append(delivery)
    return delivery


QUEUED = "webhooks_queued"


def queued(session) -> list[int]:
    """Ids of deliveries this session queued and committed; the list is emptied."""
    deliveries = session.info.pop(QUEUED, [])
    return [d.id for d in deliveries if d.id is not None and d in session and not session.is_modified(d)]


def send(session, delivery: WebhookDelivery, now: datetime, base_url: str,
         allow: outbound.AllowList | None = None) -> None:
    """One attempt; the outcome (a reason code on failure, see `outbound.describe`) is recorded on the
    delivery (the caller commits)."""
    if not delivery.body:
        # Written at the first attempt: the message says what the order is like when it goes out.
        order = session.get(WorkOrder, delivery.order_id)
        fmt = session.get(Team, delivery.team_id).webhook_format
        delivery.body = json.dumps(message(order, delivery.event, fmt, base_url), ensure_ascii=False)
    delivery.attempts += 1
    try:
        # Checked again now, not only when saved: DNS can point a saved name somewhere else since.
        target = outbound.check(delivery.url, allow)
        outbound.post(target, delivery.body.encode(), {"Content-Type": "application/json; charset=utf-8",
                                                       "User-Agent": "Rounds-webhook/1"},
                      timeout=TIMEOUT_SECONDS)
        delivery.status, delivery.last_error = "sent", ""
        return
    except outbound.OutboundError as exc:
        error, permanent = exc.record(), exc.permanent
    if permanent or delivery.attempts >= MAX_ATTEMPTS:
        # A refused address or a redirect will not change by waiting: failed now, shown to the manager.
        delivery.status, delivery.last_error = "failed", error
    else:
        delivery.last_error = error
        delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]


# An attempt takes its delivery for this long (a send gives up after 2 x TIMEOUT_SECONDS): nobody else
# sends it meanwhile, and if the sender dies it is due again once the lease ends.
LEASE = timedelta(seconds=30)


def claim(session, delivery_id: int, now: datetime) -> tuple[bool, datetime | None]:
    """Take a pending, due delivery for one attempt (the caller commits before sending, so the claim
    holds no lock while the message goes out). Returns (claimed, when it is due again): not claimed
    when it is not due yet or someone else holds it (then when to look again), or when it is settled
    (sent, failed for good: None)."""
    taken = session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
        WebhookDelivery.next_attempt_at <= now).values(next_attempt_at=now + LEASE)).rowcount
    if taken:
        return True, None
    return False, session.scalar(select(WebhookDelivery.next_attempt_at).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending"))


def attempt(session, delivery_id: int, base_url: str, now: datetime | None = None) -> datetime | None:
    """Send one claimed delivery and record the outcome; returns when it is due again, or None."""
    delivery = session.get(WebhookDelivery, delivery_id)
    send(session, delivery, now or utcnow(), base_url, outbound.configured_allow_list())
    session.flush()
    return delivery.next_attempt_at if delivery.status == "pending" else None


def due_ids(session, now: datetime, grace: timedelta = timedelta(0), limit: int = 200) -> list[int]:
    """Pending deliveries due (by more than `grace`: one that late has no job, as the hand-over after
    its commit failed or its worker died)."""
    return list(session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now - grace)
        .order_by(WebhookDelivery.id).limit(limit)))


def deliver_due(session, base_url: str, now: datetime | None = None, limit: int = 50,
                each=nullcontext) -> int:
    """Attempt the pending deliveries that are due, one by one; returns how many were tried.

    `each()` wraps every claim and every attempt: commands pass a unit of work, so a claim is saved
    before its message goes out and each outcome before the next (the caller commits otherwise)."""
    now = now or utcnow()
    tried = 0
    for delivery_id in due_ids(session, now, limit=limit):
        with each():
            claimed, _ = claim(session, delivery_id, now)
        if claimed:
            with each():
                attempt(session, delivery_id, base_url, now)
            tried += 1
    return tried


def recent_problems(session, teams: list[Team], now: datetime | None = None, days: int = 30,
                    per_team: int = 5) -> dict[int, list[tuple[WebhookDelivery, WorkOrder]]]:
    """Each team's latest deliveries that failed or are waiting for a retry (with their orders), newest
    first: what its manager should look at. One query."""
    since = (now or utcnow()) - timedelta(days=days)
    ranked = (
        select(WebhookDelivery.id, func.row_number().over(
            partition_by=WebhookDelivery.team_id, order_by=WebhookDelivery.id.desc()).label("n"))
        .where(WebhookDelivery.team_id.in_([t.id for t in teams]), WebhookDelivery.created_at >= since,
               (WebhookDelivery.status == "failed")
               | ((WebhookDelivery.status == "pending") & (WebhookDelivery.attempts > 0)))
        .subquery())
    rows = session.execute(
        select(WebhookDelivery, WorkOrder).join(ranked, ranked.c.id == WebhookDelivery.id)
        .join(WorkOrder, WorkOrder.id == WebhookDelivery.order_id)
        .where(ranked.c.n <= per_team).order_by(WebhookDelivery.id.desc())).all()
    problems: dict[int, list[tuple[WebhookDelivery, WorkOrder]]] = {t.id: [] for t in teams}
    for delivery, order in rows:
        problems[delivery.team_id].append((delivery, order))
    return problems
