"""Background work: webhook deliveries and the once-a-minute sweep, run by a task queue.

ROUNDS_TASKS chooses how (app/config.py):

- "procrastinate", the production shape for any number of app servers: jobs live in PostgreSQL
  (procrastinate, so no new server to run or back up). A request hands the deliveries it committed
  to the queue; `flask worker` processes, on any machine, run them and retry failures when the
  outbox row says (1, 5, 15, 60 minutes). The sweep is a periodic job that procrastinate defers once
  a minute across all workers (one job per minute, never two); it escalates, re-queues deliveries a
  lost hand-over left pending, and retries the jobs of a worker that died.
- "inline", the embedded default (`make run`, SQLite): no extra process. The same work runs in the
  app's own processes: deliveries on a thread after the request, the sweep on a request at most
  once a minute, with due retries on a thread.

Each run is a unit of work of its own (app/unit_of_work.py); nothing here runs inside a user's request.
"""
import asyncio
import logging
import os
import threading
from datetime import timedelta

import procrastinate
from flask import Flask
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.pg import libpq_url
from app.models.types import utcnow
from app.services import escalation, webhooks
from app.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

QUEUES = ("webhooks", "sweep")
# A pending delivery this late for its attempt has no job: the hand-over after its commit failed
# (the queue's database was away), or its worker died before the stalled job was retried.
LOST_AFTER = timedelta(minutes=2)
DATABASE_AWAY_RETRY_SECONDS = 30
# When the sweep runs: every minute (tests set seconds, a sixth field). Read at import, as the
# periodic job is declared then.
SWEEP_CRON = os.environ.get("ROUNDS_SWEEP_CRON", "* * * * *")

# Tasks are defined on one procrastinate app per process; its connector is set when first used
# (connect()), since the database comes from the Flask app's configuration.
queue = procrastinate.App(connector=procrastinate.PsycopgConnector())


class TryAgainAt(Exception):
    """A delivery failed and is due again at `at` (the outbox row's next attempt)."""

    def __init__(self, at):
        super().__init__(f"next attempt at {at.isoformat()}")
        self.at = at


class OutboxSchedule(procrastinate.BaseRetryStrategy):
    """Retry when the outbox row says; a database that is away (a restart) in 30 s; anything else is
    a bug that fails the job (the sweep re-queues a delivery it left pending)."""

    def get_retry_decision(self, *, exception, job):
        if isinstance(exception, TryAgainAt):
            return procrastinate.RetryDecision(retry_at=exception.at)
        if isinstance(exception, OperationalError):
            return procrastinate.RetryDecision(retry_in={"seconds": DATABASE_AWAY_RETRY_SECONDS})
        return None


def run_delivery(app: Flask, delivery_id: int):
    """One attempt of one delivery: claimed in one unit of work, sent and recorded in another (no
    lock is held while the receiver answers). Returns when it is due again, or None when settled."""
    with app.app_context():
        try:
            with unit_of_work(db.session):
                claimed, due_again = webhooks.claim(db.session, delivery_id, utcnow())
            if not claimed:
                return due_again
            with unit_of_work(db.session):
                return webhooks.attempt(db.session, delivery_id, app.config["BASE_URL"])
        finally:
            db.session.remove()


def run_sweep(app: Flask, grace: timedelta) -> list[int]:
    """Escalate what is due (one unit of work); returns the deliveries to hand to the queue: those the
    escalations just queued and those pending for longer than `grace` past their attempt."""
    with app.app_context():
        try:
            with unit_of_work(db.session):
                escalation.sweep(db.session)
            ids = webhooks.queued(db.session)
            return sorted(set(ids) | set(webhooks.due_ids(db.session, utcnow(), grace)))
        finally:
            db.session.remove()


@queue.task(name="rounds.deliver", queue="webhooks", pass_context=True, retry=OutboxSchedule())
def deliver(context, delivery_id: int) -> None:
    again = run_delivery(context.additional_context["flask_app"], delivery_id)
    if again is not None:
        raise TryAgainAt(again)


@queue.periodic(cron=SWEEP_CRON, periodic_id="minute")
@queue.task(name="rounds.sweep", queue="sweep", queueing_lock="sweep", pass_context=True)
async def sweep(context, timestamp: int) -> None:
    app = context.additional_context["flask_app"]
    ids = await asyncio.to_thread(run_sweep, app, LOST_AFTER)
    for delivery_id in ids:
        try:
            await deliver.configure(queueing_lock=f"delivery-{delivery_id}").defer_async(
                delivery_id=delivery_id)
        except procrastinate.exceptions.AlreadyEnqueued:
            pass  # one waiting job per delivery: it is already queued
    # A worker killed mid-job (kill -9, a lost machine) stops its heartbeat; its jobs run again.
    stalled_after = app.config["TASK_STALLED_AFTER_SECONDS"]
    for job in await context.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        log.warning("retrying job %s of a worker that stopped", job.id)
        await context.app.job_manager.retry_job(job)
    log.info("sweep of %s done by %s", timestamp, context.worker_name)


# --- the queue's connection, one per process ----------------------------------------------------

_connected = {"key": None}
_connect_lock = threading.Lock()


def connect(app: Flask) -> procrastinate.App:
    """The queue, connected to the app's database. A forked process makes its own pool: connections
    must never cross processes (gunicorn forks its workers after the app is imported)."""
    key = (os.getpid(), app.config["SQLALCHEMY_DATABASE_URI"])
    with _connect_lock:
        if _connected["key"] != key:
            # What App.replace_connector does, kept for the life of the process.
            queue.connector = queue.job_manager.connector = procrastinate.PsycopgConnector(
                conninfo=libpq_url(key[1]), min_size=1, max_size=4, timeout=5)
            _connected["key"] = key
    return queue


# --- what the app calls ------------------------------------------------------------------------


def hand_over(app: Flask, delivery_ids: list[int]) -> None:
    """Send deliveries a request (or command) committed, never holding up its response: to the queue,
    or on a thread inline. A queue that is away is logged; the sweep re-queues those deliveries."""
    if not delivery_ids:
        return
    if app.config["TASKS"] == "procrastinate":
        try:
            connect(app).open()  # once per process: the pool stays open
            for delivery_id in delivery_ids:
                try:
                    deliver.configure(queueing_lock=f"delivery-{delivery_id}").defer(
                        delivery_id=delivery_id)
                except procrastinate.exceptions.AlreadyEnqueued:
                    pass
        except Exception:  # the request has committed; the sweep picks the deliveries up later
            log.warning("task queue away: %d deliveries left for the sweep", len(delivery_ids),
                        exc_info=True)
        return
    thread = threading.Thread(target=_deliver_inline, args=(app, list(delivery_ids)),
                              name="webhooks", daemon=True)
    thread.start()


def _deliver_inline(app: Flask, delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        try:
            run_delivery(app, delivery_id)
        except Exception:  # one bad delivery must not keep the others from going out
            log.exception("webhook delivery %s failed", delivery_id)


def setup(app: Flask) -> None:
    """Inline mode only: the sweep on a request at most every SWEEP_INTERVAL_SECONDS (escalations in
    their own unit, before the request's), due retries on a thread."""
    import time

    state = {"last": 0.0}

    @app.before_request
    def sweep_now_and_then():
        if app.config["TASKS"] != "inline":
            return
        if time.monotonic() - state["last"] < app.config["SWEEP_INTERVAL_SECONDS"]:
            return
        state["last"] = time.monotonic()
        try:
            ids = run_sweep(app, timedelta(0))
        except Exception:  # an escalation problem must never break the user's request
            app.logger.exception("escalation sweep failed")
            return
        hand_over(app, ids)


def run_worker(app: Flask, concurrency: int, wait: bool = True, name: str | None = None) -> None:
    """Run queued jobs until stopped (SIGINT/SIGTERM finish the running jobs first)."""
    connect(app).run_worker(
        queues=list(QUEUES), concurrency=concurrency, wait=wait, name=name,
        additional_context={"flask_app": app}, install_signal_handlers=wait,
        delete_jobs="successful",  # the outbox row and the order's history keep the record
        update_heartbeat_interval=app.config["TASK_HEARTBEAT_SECONDS"],
        stalled_worker_timeout=app.config["TASK_STALLED_AFTER_SECONDS"])
