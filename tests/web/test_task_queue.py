"""The production task queue (ROUNDS_TASKS=procrastinate, jobs in PostgreSQL): a request only hands
its webhooks to the queue; workers started before or after send them, retry on the outbox's schedule,
sweep once per interval however many run, and take over the jobs of a worker that was killed.

PostgreSQL only (procrastinate keeps its jobs there): these run in the suite's PostgreSQL pass."""
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import tasks
from app.extensions import db
from app.models import Notification, WebhookDelivery, WorkOrder, WorkOrderEvent
from app.models.types import utcnow
from tests.web.test_workorders_web import Receiver, fail_item, wait_for

pytestmark = pytest.mark.postgresql_only

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queued(app, monkeypatch):
    """The app in its production shape, with an empty queue before and after."""
    monkeypatch.setitem(app.config, "TASKS", "procrastinate")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW", "127.0.0.1")
    _empty_queue()
    yield
    _empty_queue()


def _empty_queue():
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
                          "procrastinate_workers RESTART IDENTITY CASCADE"))


def jobs(task=None):
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT task_name, status, args, scheduled_at FROM procrastinate_jobs "
                                 "ORDER BY id")).all()
    return [r for r in rows if task is None or r.task_name == task]


def delivery(session):
    session.expire_all()
    return session.scalar(select(WebhookDelivery))


def test_a_request_only_queues_the_webhook_and_a_worker_started_later_sends_it(
        app, client, auth, demo, session, queued):
    receiver = Receiver()
    try:
        demo.teams["security"].webhook_url = receiver.url
        session.commit()
        auth.login()
        assert fail_item(client, auth, demo).status_code == 200
        [job] = jobs("rounds.deliver")
        assert job.status == "todo" and job.args == {"delivery_id": delivery(session).id}
        time.sleep(0.3)
        assert receiver.bodies == []  # no worker yet: nothing was sent from the request

        tasks.run_worker(app, concurrency=1, wait=False)  # a worker that starts now finds the job
        assert [b["event"] for b in receiver.bodies] == ["work_order.raised"]
        assert delivery(session).status == "sent"
        assert jobs() == []  # done jobs are removed; the outbox row is the record
    finally:
        receiver.close()


def test_a_failed_send_is_retried_at_one_then_five_minutes_and_then_sent(
        app, client, auth, demo, session, queued):
    receiver = Receiver(status=503)
    try:
        demo.teams["security"].webhook_url = receiver.url
        session.commit()
        auth.login()
        fail_item(client, auth, demo)
        for attempt, wait in ((1, timedelta(minutes=1)), (2, timedelta(minutes=5))):
            before = utcnow()
            tasks.run_worker(app, concurrency=1, wait=False)
            d = delivery(session)
            assert (d.status, d.attempts, len(receiver.bodies)) == ("pending", attempt, attempt)
            assert before + wait <= d.next_attempt_at <= utcnow() + wait
            [job] = jobs("rounds.deliver")
            assert job.status == "todo" and job.scheduled_at == d.next_attempt_at  # retried then
            tasks.run_worker(app, concurrency=1, wait=False)  # not due yet: nothing is sent
            assert len(receiver.bodies) == attempt
            _make_due(d.id)
        receiver.status = 200
        tasks.run_worker(app, concurrency=1, wait=False)
        d = delivery(session)
        assert (d.status, d.attempts, len(receiver.bodies)) == ("sent", 3, 3)
        assert jobs() == []
    finally:
        receiver.close()


def _make_due(delivery_id):
    """Time passes: the delivery and its job are due now."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE webhook_delivery SET next_attempt_at = now() - interval '1 second' "
                          "WHERE id = :id"), {"id": delivery_id})
        conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now() - interval '1 second'"))


def test_a_queue_that_is_away_never_fails_the_request_and_the_sweep_requeues_later(
        app, client, auth, demo, session, queued, monkeypatch):
    """The hand-over after the commit fails (the queue's database refuses it): the answer is saved and
    the supervisor sees nothing wrong; the delivery waits in the outbox for the sweep."""
    receiver = Receiver()
    try:
        demo.teams["security"].webhook_url = receiver.url
        session.commit()

        def away(*args, **kwargs):
            raise OSError("connection refused")

        monkeypatch.setattr(tasks.deliver, "configure", away)
        auth.login()
        assert fail_item(client, auth, demo).status_code == 200
        assert session.scalar(select(WorkOrder.id)) is not None and jobs() == []
        monkeypatch.undo()
        monkeypatch.setitem(app.config, "WEBHOOK_ALLOW", "127.0.0.1")
        ids = tasks.run_sweep(app, tasks.LOST_AFTER)
        assert ids == []  # not late enough to count as lost yet
        ids = tasks.run_sweep(app, timedelta(0))
        assert ids == [delivery(session).id]
    finally:
        receiver.close()


# --- real worker processes -------------------------------------------------------------------------

def start_worker(database_url, name, log):
    env = dict(os.environ, DATABASE_URL=database_url, ROUNDS_TASKS="procrastinate", FLASK_APP="wsgi.py",
               ROUNDS_SECRET_KEY="test-worker", ROUNDS_WEBHOOK_ALLOW="127.0.0.1",
               ROUNDS_SWEEP_CRON="* * * * * */2", ROUNDS_TASK_HEARTBEAT="0.5",
               ROUNDS_TASK_STALLED_AFTER="3")
    return subprocess.Popen([sys.executable, "-m", "flask", "worker", "--concurrency", "2", "--name", name],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


@pytest.fixture
def workers(database_url, queued, tmp_path):
    """Start `flask worker` processes; their logs are read back by `workers.log(name)`."""
    started = []

    def start(name):
        with (tmp_path / f"{name}.log").open("wb") as log:  # the worker keeps its own copy
            started.append(start_worker(database_url, name, log))
        return started[-1]

    start.started = started
    start.log = lambda name: (tmp_path / f"{name}.log").read_text(errors="replace")
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_two_workers_sweep_once_per_interval_and_escalate_each_order_once(
        app, demo, session, workers, database_url):
    from app.services import workorders as wo

    order = wo.new_order(session, site=demo.site, team=demo.teams["security"], source="manual",
                         severity="minor", title_zh="道闸损坏", title_en="Barrier broken",
                         actor=demo.users["manager"])
    order.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    workers("w1"), workers("w2")
    assert wait_for(lambda: _escalations(session, order.id) == 1, seconds=40)
    time.sleep(6)  # three more intervals, two workers listening
    assert _escalations(session, order.id) == 1
    assert session.scalar(select(db.func.count(Notification.id)).where(
        Notification.order_id == order.id, Notification.kind == "overdue")) >= 1
    for proc in workers.started:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    swept = re.findall(r"sweep of (\d+) done", workers.log("w1") + workers.log("w2"))
    assert len(set(swept)) >= 3  # several intervals were swept…
    assert len(swept) == len(set(swept))  # …each once, by whichever worker took it
    assert re.search(r"sweep of \d+ done", workers.log("w1")) or re.search(
        r"sweep of \d+ done", workers.log("w2"))


def _escalations(session, order_id):
    session.expire_all()
    return session.scalar(select(db.func.count(WorkOrderEvent.id)).where(
        WorkOrderEvent.order_id == order_id, WorkOrderEvent.kind == "escalated"))


def test_a_killed_worker_mid_send_is_taken_over_and_the_message_goes_out(
        app, client, auth, demo, session, workers):
    """kill -9 while the receiver holds the message: the other worker retries the stalled job once
    the dead one's heartbeat stops, and the message is delivered (the lease then ended)."""
    receiver = Receiver()
    try:
        demo.teams["security"].webhook_url = receiver.url
        session.commit()
        receiver.gate.clear()  # the first send hangs at the receiver
        first = workers("first")
        auth.login()
        assert fail_item(client, auth, demo).status_code == 200
        assert wait_for(lambda: _in_flight(session), seconds=20)
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        receiver.gate.set()
        receiver.bodies.clear()  # the dead worker's send never completed for it
        workers("second")
        assert wait_for(lambda: delivery(session).status == "sent", seconds=60)
        assert len(receiver.bodies) >= 1
    finally:
        receiver.gate.set()
        receiver.close()


def _in_flight(session):
    """Claimed by a worker (its lease moved the next attempt ahead) and not yet recorded."""
    d = delivery(session)
    return d is not None and d.attempts == 0 and d.next_attempt_at > utcnow()
