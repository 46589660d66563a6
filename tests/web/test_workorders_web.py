"""Work orders over HTTP: the crew's queue, actions and refusals, verify/reopen, raising by hand,
callbacks, notifications, webhooks, access."""
import io
import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from app.models import Notification, WebhookDelivery, WorkOrder
from app.models.types import utcnow
from app.services import workorders as wo
from tests.web.helpers import item_url, jpeg_bytes, other_site, started_morning

HX = {"HX-Request": "true"}


@pytest.fixture
def raised(client, auth, demo, session):
    """Two cleaning orders raised by failed items on the morning round; the supervisor logs out."""
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    ids = []
    for code in ("roads_clean", "bins_not_overflowing"):
        url, _, _ = item_url(rnd, "patrol_residential_common", code)
        client.post(url, headers=HX, content_type="multipart/form-data", data={
            "result": "fail", "note": f"{code} seen", "csrf_token": token,
            "photos": (io.BytesIO(jpeg_bytes(color=(10 * len(ids), 90, 30))), "before.jpg")})
        ids.append(session.scalar(select(WorkOrder.id).order_by(WorkOrder.id.desc())))
    client.post("/logout", data={"csrf_token": token})
    return [session.get(WorkOrder, i) for i in ids]


def act(client, auth, order, segment, **data):
    token = auth.token(f"/orders/{order.id}")
    form = {"csrf_token": token, "version": str(data.pop("version", order.version)), **data}
    return client.post(f"/orders/{order.id}/{segment}", data=form, content_type="multipart/form-data")


def test_crew_queue_overdue_first_then_due(client, auth, raised, session):
    roads, bins = raised  # roads: minor (24 h), bins: major (4 h)
    roads.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    auth.login("crew.cleaning")
    html = client.get("/orders").get_data(as_text=True)
    assert "<h1>My team's queue</h1>" in html
    assert html.index(f"#{roads.id} ") < html.index(f"#{bins.id} ")
    assert "Late by 1 h 00 min" in html or "Late by 59 min" in html
    assert "/thumb.jpg" in html


def test_queue_filters_keep_the_url_and_poll_returns_the_list_only(client, auth, raised, demo):
    auth.login("crew.cleaning")
    area = raised[0].area_id
    page = client.get(f"/orders?status=mine&area={area}").get_data(as_text=True)
    assert 'value="mine" selected' in page and "No work orders here." in page
    poll = client.get(f"/orders?status=active&area={area}", headers=HX)
    body = poll.get_data(as_text=True)
    assert "<html" not in body and 'id="queue"' in body and 'hx-trigger="every 30s"' in body
    assert 'hx-get="/orders?status=active&amp;area=' in body


def test_take_start_resolve_needs_after_photo(client, auth, raised, session):
    order = raised[0]
    auth.login("crew.cleaning")
    assert act(client, auth, order, "take").status_code == 302
    assert act(client, auth, order, "start").status_code == 302
    resp = act(client, auth, order, "resolve", note="swept")
    assert resp.status_code == 422
    assert "Add at least one “after” photo" in resp.get_data(as_text=True)
    session.refresh(order)
    assert order.status == "in_progress"
    resp = act(client, auth, order, "resolve", note="swept and washed",
               photos=(io.BytesIO(jpeg_bytes(color=(0, 200, 0))), "after.jpg"))
    assert resp.status_code == 302
    session.refresh(order)
    assert order.status == "resolved" and len(order.after_photos) == 1
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "swept and washed" in html and "Resolved" in html and "Taken" in html
    after = order.after_photos[0]
    assert client.get(f"/photos/{after.id}/thumb.jpg").status_code == 200  # crew see their after photo
    client.post("/logout", data={"csrf_token": auth.token("/orders")})
    auth.login("crew.engineering")
    assert client.get(f"/photos/{after.id}/thumb.jpg").status_code == 404  # not another team's


def test_double_tap_is_harmless_and_stale_form_is_refused(client, auth, raised, session):
    order = raised[0]
    auth.login("crew.cleaning")
    version = order.version
    assert act(client, auth, order, "take", version=version).status_code == 302
    assert act(client, auth, order, "take", version=version).status_code == 302  # double tap
    assert [e.kind for e in order.events].count("assigned") == 1
    resp = act(client, auth, order, "cant-fix", version=version, note="needs a plumber")
    assert resp.status_code == 409
    assert "changed by someone else" in resp.get_data(as_text=True)
    session.refresh(order)
    assert order.status == "open"


def test_verify_page_shows_before_and_after_then_verify_and_reopen(client, auth, raised, session, demo):
    crew = demo.users["crew.cleaning"]
    photo = raised[0].before_photos[0]
    for order in raised:
        wo.act(session, order, crew, "resolve", note="done", photos=[photo])
    auth.login("supervisor")
    html = client.get("/orders/verify").get_data(as_text=True)
    assert html.count('class="beforeafter"') == 2
    assert act(client, auth, raised[0], "verify").status_code == 302
    resp = act(client, auth, raised[1], "reopen")
    assert resp.status_code == 422 and "Give a reason" in resp.get_data(as_text=True)
    assert act(client, auth, raised[1], "reopen", note="still overflowing").status_code == 302
    session.refresh(raised[0])
    session.refresh(raised[1])
    assert (raised[0].status, raised[1].status, raised[1].reopen_count) == ("closed", "open", 1)


def test_crew_cannot_verify_and_other_team_gets_404(client, auth, raised, session, demo):
    order = raised[0]
    wo.act(session, order, demo.users["crew.cleaning"], "resolve", note="done",
           photos=order.before_photos)
    auth.login("crew.cleaning")
    resp = act(client, auth, order, "verify")
    assert resp.status_code == 422
    assert "Only a supervisor or a manager can do this." in resp.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": auth.token("/orders")})
    auth.login("crew.engineering")
    assert client.get(f"/orders/{order.id}").status_code == 404
    token = auth.token("/orders")
    resp = client.post(f"/orders/{order.id}/verify", data={"csrf_token": token, "version": order.version})
    assert resp.status_code == 404
    session.refresh(order)
    assert order.status == "resolved"


def test_other_site_and_anonymous_get_nothing(client, auth, raised):
    order = raised[0]
    assert client.get(f"/orders/{order.id}").status_code == 302
    other_site()
    auth.login("sup.other")
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert f"#{order.id} " not in client.get("/orders").get_data(as_text=True)
    assert client.post(f"/orders/{order.id}/take", data={"csrf_token": auth.token("/orders"),
                                                         "version": 1}).status_code == 404


def test_raise_complaint_by_hand_then_callback_not_satisfied_reopens(client, auth, demo, session):
    auth.login("supervisor")
    page = client.get("/orders/new").get_data(as_text=True)
    assert "From an owner?" in page
    token = auth.token("/orders/new")
    data = {"csrf_token": token, "team": demo.teams["engineering"].id, "area": 0, "severity": "major",
            "description": "Water dripping from ceiling in lift lobby, block 3",
            "owner_name": "陈先生", "owner_unit": "3-1-202", "owner_phone": "not a phone"}
    resp = client.post("/orders/new", data=data)
    assert resp.status_code == 422 and "Enter a phone number" in resp.get_data(as_text=True)
    assert session.scalar(select(WorkOrder.id)) is None
    resp = client.post("/orders/new", data={**data, "owner_phone": "138 0013 8000"})
    order = session.scalar(select(WorkOrder))
    assert resp.headers["Location"] == f"/orders/{order.id}"
    assert (order.source, order.team.code, order.created_by.username) == ("complaint", "engineering", "supervisor")
    order.status = "resolved"  # the crew's part is covered elsewhere
    session.commit()
    act(client, auth, order, "verify")
    assert f"#{order.id} " in client.get("/orders/callbacks").get_data(as_text=True)
    resp = act(client, auth, order, "callback", outcome="unsatisfied", note="still dripping")
    assert resp.status_code == 302
    session.refresh(order)
    assert (order.status, order.callback, order.reopen_count) == ("open", "unsatisfied", 1)


def test_manager_sees_overdue_notification_with_badge(client, auth, raised, session):
    order = raised[1]
    order.due_at = utcnow() - timedelta(minutes=5)
    session.commit()
    auth.login("manager")
    html = client.get("/orders").get_data(as_text=True)  # any request sweeps (interval 0 in tests)
    assert 'class="count"' in html and ">1</span>" in html
    page = client.get("/notifications").get_data(as_text=True)
    assert "Overdue" in page and f"#{order.id} " in page
    client.post("/notifications/read", data={"csrf_token": auth.token("/notifications")})
    assert session.scalar(select(Notification.read_at)) is not None
    history = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Escalated" in history and "(overdue)" in history


def test_manager_reassigns_changes_and_cancels(client, auth, raised, session, demo):
    order = raised[0]
    auth.login("manager")
    assert act(client, auth, order, "reassign", team=demo.teams["security"].id, note="it is a parking issue").status_code == 302
    session.refresh(order)
    assert order.team.code == "security"
    assert act(client, auth, order, "change", severity="critical", due="2030-01-02T09:30").status_code == 302
    session.refresh(order)
    assert order.severity == "critical"
    assert order.due_at.astimezone(demo.site.tz).strftime("%Y-%m-%d %H:%M") == "2030-01-02 09:30"
    assert act(client, auth, order, "cancel").status_code == 422
    assert act(client, auth, order, "cancel", note="duplicate of #1").status_code == 302
    session.refresh(order)
    assert order.status == "cancelled"
    kinds = [e.kind for e in order.events]
    assert kinds[-3:] == ["reassigned", "changed", "cancelled"]


class Receiver:
    """A local HTTP receiver for webhook tests; `gate` holds every request until it is set."""

    def __init__(self, status=200):
        self.bodies, self.gate, self.status = [], threading.Event(), status
        self.gate.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.gate.wait(10)
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_loopback(app, monkeypatch):
    """Webhooks refuse internal addresses; the tests' receiver on 127.0.0.1 is let through by the allow-list."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW", "127.0.0.1")


@pytest.fixture
def receiver(allow_loopback):
    r = Receiver()
    yield r
    r.close()


def wait_for(predicate, seconds=5.0):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def fail_item(client, auth, demo, code="car_gate_guard_conduct"):
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/3")
    url, _, _ = item_url(rnd, "patrol_parking", code)
    return client.post(url, headers=HX, data={"result": "fail", "csrf_token": token})


@pytest.mark.parametrize("fmt", ["generic", "wecom"])
def test_webhook_delivered_in_both_formats(client, auth, demo, session, receiver, fmt):
    team = demo.teams["security"]
    team.webhook_url, team.webhook_format = receiver.url, fmt
    session.commit()
    auth.login()
    assert fail_item(client, auth, demo).status_code == 200
    assert wait_for(lambda: receiver.bodies)
    body = receiver.bodies[0]
    if fmt == "wecom":
        assert body["msgtype"] == "text" and "新派工单" in body["text"]["content"]
        assert "Car-park" not in body["text"]["content"] and "安管" in body["text"]["content"]
    else:
        assert body["event"] == "work_order.raised" and body["order"]["team"] == "security"
        assert body["order"]["url"].endswith(f"/orders/{body['order']['id']}")
    assert wait_for(lambda: session.scalar(select(WebhookDelivery.status).execution_options(
        populate_existing=True)) == "sent" or _status(session) == "sent")


def _status(session):
    session.expire_all()
    return session.scalar(select(WebhookDelivery.status))


def test_slow_webhook_does_not_hold_the_request(client, auth, demo, session, receiver):
    """The receiver blocks until the test lets it go: the answer must come back first."""
    team = demo.teams["security"]
    team.webhook_url = receiver.url
    session.commit()
    receiver.gate.clear()
    auth.login()
    assert fail_item(client, auth, demo).status_code == 200  # returned while the receiver waits
    assert receiver.bodies == []
    receiver.gate.set()
    assert wait_for(lambda: receiver.bodies)


def test_dead_webhook_never_fails_the_request_and_is_retried(client, auth, demo, session, allow_loopback):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"  # nothing listens once closed
    team = demo.teams["security"]
    team.webhook_url = dead
    session.commit()
    auth.login()
    assert fail_item(client, auth, demo).status_code == 200
    assert session.scalar(select(WorkOrder.team_id)) == team.id
    assert wait_for(lambda: _attempts(session) == 1)
    delivery = session.scalar(select(WebhookDelivery))
    assert delivery.status == "pending" and delivery.last_error
    from app.services import webhooks

    for day in range(1, webhooks.MAX_ATTEMPTS):
        webhooks.deliver_due(session, "http://x", now=utcnow() + timedelta(days=day))
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)


def _attempts(session):
    session.expire_all()
    return session.scalar(select(WebhookDelivery.attempts))


def test_history_reads_in_the_viewers_language_with_names_and_local_times(client, auth, raised, demo):
    """A manager's changes read as team, severity and status names and site-local times, in zh."""
    order = raised[0]
    auth.login("manager")
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": auth.token("/orders")})
    assert act(client, auth, order, "reassign", team=demo.teams["customer_service"].id).status_code == 302
    assert act(client, auth, order, "change", severity="critical", due="2030-01-02T09:30").status_code == 302
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    history = re.sub(r"<[^>]+>", " ", html[html.index('class="timeline"'):])  # the text a user reads
    for code in ("customer_service", "cleaning", "critical", "minor", "major", "T09:30", "+00:00", "+08:00"):
        assert code not in history, code
    assert "班组：保洁 → 客服" in history
    assert "严重程度：" in history and "→ 紧急" in history
    assert "→ 2030-01-02 09:30" in history  # the site's wall clock, as on the rest of the page


def test_a_changed_severity_alone_does_not_move_the_due_time(client, auth, raised, demo, session):
    order = raised[0]
    due = order.due_at
    auth.login("manager")
    prefilled = due.astimezone(demo.site.tz).strftime("%Y-%m-%dT%H:%M")  # what the form sends back
    assert act(client, auth, order, "change", severity="critical", due=prefilled).status_code == 302
    session.refresh(order)
    assert order.due_at == due
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Severity: Minor → Critical" in html and "Due:" not in html


def test_crew_cannot_take_a_colleagues_order_but_a_supervisor_can_take_over(client, auth, raised, demo, session):
    order = raised[0]
    wo.act(session, order, demo.users["crew.cleaning"], "take")
    mate = demo.users["crew.cleaning"].__class__(username="crew.mate", display_name="王师傅", role="crew")
    mate.set_password("rounds-demo")
    mate.sites.append(demo.site)
    mate.teams.append(demo.teams["cleaning"])
    session.add(mate)
    session.commit()
    auth.login("crew.mate")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "/take#" not in page  # not offered
    resp = act(client, auth, order, "take")
    assert resp.status_code == 422 and "has this order" in resp.get_data(as_text=True)
    session.refresh(order)
    assert order.assignee.username == "crew.cleaning"
    client.post("/logout", data={"csrf_token": auth.token("/orders")})
    auth.login("supervisor")
    name = demo.users["crew.cleaning"].display_name
    assert f"Take over from {name}" in client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert act(client, auth, order, "take").status_code == 302
    session.refresh(order)
    assert order.assignee.username == "supervisor"
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Taken over" in html and f"Assigned to: {name} → " in html


def test_opening_an_alert_marks_it_read_and_the_badge_drops(client, auth, raised, session):
    order = raised[1]
    order.due_at = utcnow() - timedelta(minutes=5)
    session.commit()
    auth.login("manager")
    assert 'class="count"' in client.get("/orders").get_data(as_text=True)
    client.get(f"/orders/{order.id}")  # tapped in the list of alerts
    assert 'class="count"' not in client.get("/orders").get_data(as_text=True)
    assert session.scalar(select(Notification.read_at)) is not None


def test_orders_late_for_days_say_days_and_hours(client, auth, raised, session):
    order = raised[0]
    order.due_at = utcnow() - timedelta(hours=489, minutes=3)
    session.commit()
    auth.login("crew.cleaning")
    for html in (client.get("/orders").get_data(as_text=True),
                 client.get(f"/orders/{order.id}").get_data(as_text=True)):
        assert "Late by 20 days 9 h" in html and "489 h" not in html


def test_refailing_an_answer_reopens_its_order_and_counts_it(client, auth, demo, session):
    """Fail, pass, fail again: the order is reopened once, and its count says so."""
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    for result in ("fail", "pass", "fail"):
        client.post(url, headers=HX, content_type="multipart/form-data", data={
            "result": result, "note": "leaves", "csrf_token": token,
            "photos": (io.BytesIO(jpeg_bytes()), "before.jpg")})
    order = session.scalar(select(WorkOrder))
    assert order.status == "open"
    assert order.reopen_count == [e.kind for e in order.events].count("reopened") == 1


def test_a_refusal_comes_back_at_its_form_with_the_text_kept(client, auth, raised):
    """A refused resolve: the message at the top of the page, linking to the form, and leading the
    form (which the page's script focuses); the note kept."""
    order = raised[0]
    auth.login("crew.cleaning")
    act(client, auth, order, "start")
    html = act(client, auth, order, "resolve", note="swept the whole road").get_data(as_text=True)
    message = "Add at least one “after” photo to resolve this order."
    top = html[html.index("<h1>"):html.index('class="facts"')]
    assert message in top and 'href="#act-resolve"' in top
    form = html[html.index('id="act-resolve"'):]
    assert form.index(message) < form.index("Take the after photo")  # the message leads the form
    assert 'class="error refusal" role="alert"' in form
    assert ">swept the whole road</textarea>" in form


def test_a_resolve_sent_twice_from_the_phone_is_done_once(client, auth, raised, session):
    """A crew member resolves in the pump room; the phone sends it again when the reply was lost.
    The second copy (same op, same version) is answered as done: one resolve, one after photo. A
    different change on the old version is still a conflict, shown, not lost."""
    from app.models import Photo, WorkOrderEvent

    order = raised[0]
    auth.login("crew.cleaning")
    act(client, auth, order, "take")
    act(client, auth, order, "start")
    session.refresh(order)
    version = order.version
    photos_before = session.query(Photo).count()
    for attempt in range(2):
        resp = act(client, auth, order, "resolve", version=version, note="pump room cleaned",
                   op="3f1c2a9e-7d41-4b8a-9c1e-5a6b7c8d9e0f",
                   photos=(io.BytesIO(jpeg_bytes(color=(0, 200, 0))), "after.jpg"))
        assert resp.status_code == 302 and resp.headers["Location"] == f"/orders/{order.id}"
        if attempt == 0:  # the copy arrives twenty minutes later, when the phone finds signal
            for event in session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id)):
                event.at -= timedelta(minutes=20)
            session.commit()
    session.refresh(order)
    resolved = session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id,
                                                            WorkOrderEvent.kind == "resolved")).all()
    assert len(resolved) == 1 and len(order.after_photos) == 1
    assert session.query(Photo).count() == photos_before + 1
    stale = act(client, auth, order, "comment", version=version, note="later note",
                op="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
    assert stale.status_code == 409


def test_a_teams_order_list_reads_like_the_queue(client, auth, raised, session):
    """The team's list (Teams → a team) names where to go, even for an order with no area, says how late
    in words, and leaves no separator to lead a wrapped line (the dots are drawn between the parts)."""
    late, no_area = raised
    late.due_at = utcnow() - timedelta(hours=489, minutes=3)
    no_area.area_id = None
    session.commit()
    auth.login("supervisor")
    html = client.get(f"/teams/{late.team_id}/orders", headers={"Accept-Language": "en"}).get_data(as_text=True)
    rows = html[html.index('id="orders"'):]
    rows = rows[:rows.index("</ul>")]
    assert "Late by 20 days 9 h" in rows
    assert late.area.name_en in rows and no_area.site.name_en in rows
    assert "·" not in rows


def test_the_order_line_under_a_failed_item_carries_no_leading_separator(client, auth, raised):
    """'Work order #N, team, status' under a failed item: the parts sit in their own elements."""
    auth.login()
    order = raised[0]
    html = client.get(f"/rounds/{order.answer.round_id}/checkpoints/1",  # the raised fixture's checkpoint
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    line = re.search(r'<p class="order order-open dots">(.*?)</p>', html, re.S)
    assert line and f"Work order #{order.id}" in line.group(1) and "·" not in line.group(1)
