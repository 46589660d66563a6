"""Two gunicorn app servers behind nginx on loopback, sharing one PostgreSQL, one SeaweedFS and the task
queue, driven over HTTP as a phone would: a login on one works on the other, a photo uploaded through
one is served by the other, the login throttle counts across both, the sweep escalates once, and a
round goes on through nginx when one server is stopped mid-round.

PostgreSQL only (the production shape): runs in the suite's PostgreSQL pass."""
import re
import signal
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Answer, Photo, WorkOrder, WorkOrderEvent
from app.models.types import utcnow
from tests.conftest import csrf_from
from tests.servers import AppServer, Nginx, Worker, production_env
from tests.web.helpers import item_url, jpeg_bytes, started_morning
from tests.web.test_workorders_web import wait_for

pytestmark = pytest.mark.postgresql_only

HX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def shape(database_url, seaweed, demo, tmp_path):
    """Servers a and b, one worker, nginx in front; stopped after the test."""
    env = production_env(database_url, seaweed.config, ROUNDS_SWEEP_CRON="* * * * * */2",
                         ROUNDS_TASK_HEARTBEAT="1", ROUNDS_TASK_STALLED_AFTER="5")
    started = []
    try:
        a = AppServer(env, tmp_path, "a")
        started.append(a)
        b = AppServer(env, tmp_path, "b")
        started.append(b)
        worker = Worker(env, tmp_path, "worker")
        started.append(worker)
        proxy = Nginx([a, b], tmp_path)
        started.append(proxy)
        yield a, b, worker, proxy
    finally:
        for proc in reversed(started):
            proc.stop()
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE procrastinate_jobs, procrastinate_events, "
                              "procrastinate_periodic_defers, procrastinate_workers CASCADE"))


class Phone:
    """A phone's browser over HTTP: its cookies, the page's CSRF token, htmx's headers."""

    def __init__(self):
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"

    def login(self, base, username="supervisor", password="rounds-demo"):
        token = csrf_from(self.http.get(f"{base}/login", timeout=10).text)
        return self.http.post(f"{base}/login", data={"username": username, "password": password,
                                                     "csrf_token": token}, allow_redirects=False, timeout=10)

    def token(self, url):
        return csrf_from(self.http.get(url, timeout=10).text)

    def tap(self, base, path, token, result="pass", photo=None):
        now = datetime.now(timezone.utc).isoformat()
        data = {"csrf_token": token, "result": result, "note": "", "op": str(uuid.uuid4()),
                "answered_at": now, "sent_at": now}
        files = {"photos": ("fail.jpg", photo, "image/jpeg")} if photo else None
        return self.http.post(base + path, data=data, files=files, headers=HX, timeout=30)


def test_a_login_on_one_server_works_on_the_other_and_a_photo_from_one_is_served_by_the_other(
        shape, demo, session):
    a, b, _, _ = shape
    rnd = started_morning(demo)
    session.commit()
    phone = Phone()
    assert phone.login(a.url).status_code == 302
    today_on_b = phone.http.get(f"{b.url}/today", allow_redirects=False, timeout=10)
    assert today_on_b.status_code == 200 and "Log out" in today_on_b.text

    path, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    token = phone.token(f"{a.url}/rounds/{rnd.id}/checkpoints/3")
    assert phone.tap(a.url, path, token, "fail", photo=jpeg_bytes()).status_code == 200
    session.expire_all()
    photo_id = session.scalar(select(Photo.id))
    from_a = phone.http.get(f"{a.url}/photos/{photo_id}/full.jpg", timeout=10)
    from_b = phone.http.get(f"{b.url}/photos/{photo_id}/full.jpg", timeout=10)
    assert from_a.status_code == from_b.status_code == 200
    assert from_a.content == from_b.content and from_b.headers["Content-Type"] == "image/jpeg"
    assert from_a.headers["ETag"] == from_b.headers["ETag"]
    again = phone.http.get(f"{b.url}/photos/{photo_id}/full.jpg", timeout=10,
                           headers={"If-None-Match": from_a.headers["ETag"]})
    assert again.status_code == 304

    assert phone.http.post(f"{b.url}/logout", data={"csrf_token": phone.token(f"{b.url}/today")},
                           timeout=10).status_code in (200, 302)
    assert "/login" in phone.http.get(f"{a.url}/today", timeout=10).url  # logged out on both


def test_the_login_throttle_counts_failures_on_both_servers(shape, demo):
    a, b, _, _ = shape
    phone = Phone()
    for n in range(5):  # five wrong passwords, alternating servers
        assert phone.login((a, b)[n % 2].url, password="wrong-password").status_code == 401
    for server in (a, b):
        refused = phone.login(server.url)  # even the right password waits now, on either server
        assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_an_overdue_order_is_escalated_once_by_the_queue_not_by_the_app_servers(shape, demo, session):
    from app.services import workorders as wo

    a, b, worker, _ = shape
    order = wo.new_order(session, site=demo.site, team=demo.teams["security"], source="manual",
                         severity="minor", title_zh="道闸损坏", title_en="Barrier broken",
                         actor=demo.users["manager"])
    order.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    phone = Phone()
    phone.login(a.url, "manager")
    for _ in range(5):  # requests to both servers sweep nothing themselves
        phone.http.get(f"{a.url}/orders", timeout=10), phone.http.get(f"{b.url}/orders", timeout=10)

    def escalations():
        session.expire_all()
        return session.scalar(select(func.count(WorkOrderEvent.id)).where(
            WorkOrderEvent.order_id == order.id, WorkOrderEvent.kind == "escalated"))

    assert wait_for(lambda: escalations() == 1, seconds=30)
    assert wait_for(lambda: len(re.findall(r"sweep of \d+ done", worker.log())) >= 3, seconds=20)
    assert escalations() == 1  # swept again since, escalated once


def test_a_round_goes_on_through_nginx_when_one_server_is_stopped(shape, demo, session):
    a, b, _, proxy = shape
    rnd = started_morning(demo)
    session.commit()
    phone = Phone()
    assert phone.login(proxy.url).status_code == 302
    token = phone.token(f"{proxy.url}/rounds/{rnd.id}/checkpoints/1")
    items = [(f"/rounds/{rnd.id}/stops/{s.id}/items/{i.id}") for s in rnd.stops for i in s.version.items
             if not i.photo_required_on_fail][:16]
    served = []
    for n, path in enumerate(items):
        if n == 6:
            a.signal(signal.SIGKILL)  # the server dies mid-round, with no warning…
            a.proc.wait(10)
            assert wait_for(lambda: _refuses(a.port))  # …and is gone
        resp = phone.tap(proxy.url, path, token)
        served.append(resp.status_code)
    assert served == [200] * len(items)
    session.expire_all()
    assert session.scalar(select(func.count(Answer.id)).where(Answer.round_id == rnd.id)) == len(items)
    assert session.scalar(select(func.count(WorkOrder.id))) == 0
    assert b.proc.poll() is None


def _refuses(port):
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
