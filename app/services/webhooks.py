"""Outbound team notifications: an outbox table, delivered after the request, retried a few times.

A delivery is written in the same transaction as the change that causes it, then sent by a
background thread once the request has committed; the escalation sweep retries what failed.
A receiver that is down or slow therefore never slows or fails the request that triggered it.
"""
import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from sqlalchemy import select

from app.models import Team, WebhookDelivery, WorkOrder
from app.models.types import utcnow

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


def send(session, delivery: WebhookDelivery, now: datetime, base_url: str) -> None:
    """One attempt; the outcome is recorded on the delivery (the caller commits)."""
    if not delivery.body:
        # Written at the first attempt: the message says what the order is like when it goes out.
        order = session.get(WorkOrder, delivery.order_id)
        fmt = session.get(Team, delivery.team_id).webhook_format
        delivery.body = json.dumps(message(order, delivery.event, fmt, base_url), ensure_ascii=False)
    req = urllib.request.Request(delivery.url, data=delivery.body.encode(), method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:
            ok = 200 <= resp.status < 300
            error = "" if ok else f"HTTP {resp.status}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        ok, error = False, str(exc)[:500]
    if ok:
        delivery.status, delivery.last_error = "sent", ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.last_error = "failed", error
    else:
        delivery.last_error = error
        delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]


def deliver_due(session, base_url: str, now: datetime | None = None, ids: list[int] | None = None,
                limit: int = 50) -> int:
    """Attempt pending deliveries that are due (or exactly `ids`); returns how many were tried."""
    now = now or utcnow()
    query = select(WebhookDelivery).where(WebhookDelivery.status == "pending")
    query = query.where(WebhookDelivery.id.in_(ids)) if ids else query.where(
        WebhookDelivery.next_attempt_at <= now)
    deliveries = list(session.scalars(query.order_by(WebhookDelivery.id).limit(limit)))
    for delivery in deliveries:
        send(session, delivery, now, base_url)
        session.commit()
    return len(deliveries)


def deliver_in_background(app, ids: list[int]) -> threading.Thread | None:
    """Send freshly queued deliveries without holding up the response."""
    if not ids:
        return None

    def run():
        from app.extensions import db

        with app.app_context():
            try:
                deliver_due(db.session, app.config["BASE_URL"], ids=ids)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name="webhooks", daemon=True)
    thread.start()
    return thread
