"""Outbound team notifications: an outbox table, delivered after the request, retried a few times.

A delivery is written in the same transaction as the change that causes it, then sent by a
background thread once the request has committed; the escalation sweep retries what failed.
A receiver that is down or slow therefore never slows or fails the request that triggered it.
"""
import json
from contextlib import nullcontext
from datetime import datetime, timedelta

from sqlalchemy import func, select

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


def deliver_due(session, base_url: str, now: datetime | None = None, ids: list[int] | None = None,
                limit: int = 50, each=nullcontext) -> int:
    """Attempt pending deliveries that are due (or exactly `ids`); returns how many were tried.

    `each()` wraps every attempt: jobs pass a unit of work, so each outcome is saved before the next
    message goes out (the caller commits otherwise)."""
    now = now or utcnow()
    query = select(WebhookDelivery).where(WebhookDelivery.status == "pending")
    query = query.where(WebhookDelivery.id.in_(ids)) if ids else query.where(
        WebhookDelivery.next_attempt_at <= now)
    deliveries = list(session.scalars(query.order_by(WebhookDelivery.id).limit(limit)))
    allow = outbound.configured_allow_list()
    for delivery in deliveries:
        with each():
            send(session, delivery, now, base_url, allow)
            session.flush()
    return len(deliveries)


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
