"""Supervisors walking their rounds, for locust (headless); started by bench/load_bench.py, which
seeds one supervisor and one started round per simulated user and writes the plan this file reads
(ROUNDS_LOAD_PLAN, a JSON file).

Each user logs in through the real /login form, opens its round's first checkpoint (for the CSRF
token, as the page has it) and then taps one item every `tap` seconds (constant pacing, as a hand
does not wait for the previous reply): pass, and every `fail_every`-th tap a fail with a photo. A
tap is what htmx sends for the item form (multipart; the empty file input on a pass; HX-Request,
X-CSRFToken) with what static/queue.js adds: an op id made once per tap, answered_at and sent_at.

What happens when a tap does not come back 200 follows the page:
- no reply (connection refused or reset, no byte for `network_timeout`): queue.js keeps the change
  and sends it again under the same op; while anything waits, later taps wait behind it; the queue
  is sent in order every 20 s, one at a time, and a run stops at the first failure (network or 5xx)
  and keeps the rest;
- 5xx on a tap sent by htmx: app.js tells the user "not saved, try again" and the user taps the
  item again (a new op); 5xx while the queue is sent: kept, sent again at the next run;
- 400 (page expired): the page is reloaded (a fresh token) and the item tapped again;
- 409/422: a refusal the user reads; nothing is sent again.
After `tap_until` no new taps are made: the users send what their queue still holds, then idle.

Every attempt is one JSON line in the log (ROUNDS_LOAD_PLAN's "log" + the process id) so the
harness can compute latencies per request type and reconcile what the server acknowledged with
what the database holds.
"""
import itertools
import json
import os
import re
import time
import uuid
from datetime import datetime, timezone

from locust import FastHttpUser, constant_pacing, task

PLAN = json.load(open(os.environ["ROUNDS_LOAD_PLAN"]))
TAP = float(PLAN.get("tap", 2.0))
FAIL_EVERY = int(PLAN.get("fail_every", 10))
QUEUE_EVERY = float(PLAN.get("queue_every", 20.0))
TAP_UNTIL = float(PLAN["tap_until"])
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
PHOTOS = [open(p, "rb").read() for p in PLAN["photos"]]
_accounts = itertools.count()
_photo_turn = itertools.count()
_log = open(f"{PLAN['log']}.{os.getpid()}.jsonl", "a", buffering=1)


def log(**fields) -> None:
    fields["t"] = round(time.time(), 4)
    _log.write(json.dumps(fields) + "\n")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "----rounds" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, ctype, data in files:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def snippet(text: str) -> str:
    """The words of an error reply, for the report: what the user would read."""
    return " ".join(re.sub(r"<[^>]+>", " ", text or "").split())[:160]


class Supervisor(FastHttpUser):
    wait_time = constant_pacing(TAP)
    # A weak signal: htmx gives up on a tap after 30 s (queue.js patience; a photo gets more, and
    # geventhttpclient's timeout is per socket operation, so a slow upload that progresses goes on).
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self):
        self.me = PLAN["users"][next(_accounts) % len(PLAN["users"])]
        self.n = 0            # taps made
        self.queue = []       # kept on the phone, oldest first
        self.next_sync = 0.0
        self.retap = None     # an item the user was told to tap again
        self.token = None
        while not self.login():
            time.sleep(2)

    # ------------------------------------------------------------------ session

    def login(self) -> bool:
        me = self.me
        t0 = time.time()
        try:
            page = self.client.get("/login", name="login page")
            m = CSRF_RE.search(page.text or "")
            if page.status_code != 200 or not m:
                log(kind="login", user=me["username"], status=page.status_code, ok=False, ms=_ms(t0))
                return False
            body, ctype = multipart([("csrf_token", m.group(1)), ("username", me["username"]),
                                     ("password", me["password"])], [])
            r = self.client.post("/login", data=body, headers={"Content-Type": ctype}, name="login",
                                 allow_redirects=False)
            if r.status_code != 302:  # the form again: refused (throttled, wrong, expired page)
                log(kind="login", user=me["username"], status=r.status_code, ok=False, ms=_ms(t0),
                    error=snippet(r.text)[:120])
                return False
            ok = self.reload()
            log(kind="login", user=me["username"], status=200 if ok else 0, ok=ok, ms=_ms(t0),
                error=None if ok else "checkpoint page did not open after login")
            return ok
        except Exception as e:  # noqa: BLE001 - counted, tried again
            log(kind="login", user=me["username"], status=0, ok=False, error=repr(e)[:120], ms=_ms(t0))
            return False

    def reload(self) -> bool:
        """Open the round's first checkpoint, as the phone does, for its CSRF token."""
        rid = self.me["round_id"]
        r = self.client.get(f"/rounds/{rid}/checkpoints/1", name="checkpoint page", allow_redirects=False)
        page = r.text or "" if r.status_code == 200 else ""
        m = CSRF_RE.search(page) if f"/rounds/{rid}/stops/" in page else None  # not the login form's
        if m:
            self.token = m.group(1)
        return bool(m)

    # ------------------------------------------------------------------ taps

    @task
    def tap(self):
        now = time.time()
        if now >= TAP_UNTIL:  # the walk is over: send what waits, then idle
            if self.queue and now >= self.next_sync:
                self.sync(final=True)
            return
        if self.retap is not None:
            stop_id, item_id, number, result = self.retap
            self.retap = None
        else:
            stop_id, item_id, number = self.me["items"][self.n % len(self.me["items"])]
            result = "fail" if (self.n + 1) % FAIL_EVERY == 0 else "pass"
            self.n += 1
        entry = dict(op=str(uuid.uuid4()), at=now, stop=stop_id, item=item_id, number=number, result=result,
                     photo=next(_photo_turn) % len(PHOTOS) if result == "fail" else None)
        log(kind="tap", user=self.me["username"], op=entry["op"], stop=stop_id, item=item_id, result=result,
            at=now)
        if self.queue:  # older changes still wait: this one waits behind them (queue.js shouldQueue)
            self.queue.append(entry)
            log(kind="queued", op=entry["op"], why="behind")
        else:
            outcome = self.send(entry, via="tap")
            if outcome == "network":
                self.queue.append(entry)
                self.next_sync = time.time() + QUEUE_EVERY
            elif outcome in ("server", "expired"):
                self.retap = (stop_id, item_id, number, result)  # told to try again: the user taps again
                if outcome == "expired":
                    self.reload()
        if self.queue and time.time() >= self.next_sync:
            self.sync()

    def sync(self, final: bool = False):
        """Send the kept changes in order, one at a time; stop at the first that fails."""
        while self.queue:
            entry = self.queue[0]
            outcome = self.send(entry, via="queue")
            if outcome in ("ack", "refused"):
                self.queue.pop(0)
                continue
            if outcome == "expired":
                self.reload()
            self.next_sync = time.time() + (TAP if final else QUEUE_EVERY)
            return

    def send(self, entry: dict, via: str) -> str:
        """One try; returns ack, network (no reply), server (5xx/429), expired (400), refused (409/422/...)."""
        fields = [("csrf_token", self.token), ("result", entry["result"]), ("note", ""),
                  ("op", entry["op"]), ("answered_at", iso(entry["at"])), ("sent_at", iso(time.time()))]
        if entry["photo"] is not None:
            files = [("photos", f"IMG_{entry['op'][:8]}.jpg", "image/jpeg", PHOTOS[entry["photo"]])]
            kind = "fail+photo"
        else:
            files = [("photos", "", "application/octet-stream", b"")]
            kind = entry["result"]
        body, ctype = multipart(fields, files)
        rid = self.me["round_id"]
        headers = {"Content-Type": ctype, "X-CSRFToken": self.token, "HX-Request": "true",
                   "HX-Target": f"item-{entry['stop']}-{entry['item']}",
                   "HX-Current-URL": f"{self.host}/rounds/{rid}/checkpoints/{entry['number']}",
                   "X-Bench-Kind": kind + (" resend" if via == "queue" else ""), "X-Bench-Op": entry["op"]}
        if via == "queue":
            headers["X-Rounds-Queue"] = "1"
        name = f"answer {kind}" + (" (queued resend)" if via == "queue" else "")
        t0 = time.time()
        err, status, text = None, 0, ""
        with self.client.post(f"/rounds/{rid}/stops/{entry['stop']}/items/{entry['item']}", data=body,
                              headers=headers, name=name, catch_response=True, allow_redirects=False) as r:
            status = r.status_code or 0
            exc = r.request_meta.get("exception")
            if exc is not None and not status:
                err = repr(exc)[:160]
            if status == 200:
                r.success()
            else:
                text = r.text if status else ""
                r.failure(err or f"HTTP {status}")
            if status in (302, 303) or (r.headers or {}).get("HX-Redirect"):
                err = f"HTTP {status} to {(r.headers or {}).get('Location') or (r.headers or {}).get('HX-Redirect')}"
                status = 401  # sent to the login page
        if status == 200:
            outcome = "ack"
        elif status == 0:
            outcome = "network"
        elif status >= 500 or status == 429:
            outcome = "server"
        elif status == 400:
            outcome = "expired"
        elif status == 401:
            outcome = "expired"
            self.login()
        else:
            outcome = "refused"
        log(kind="send", op=entry["op"], via=via, type=kind, status=status, outcome=outcome, ms=_ms(t0),
            error=err, says=snippet(text) if status not in (0, 200) else None, stop=entry["stop"],
            item=entry["item"], result=entry["result"], at=entry["at"], user=self.me["username"])
        return outcome


def _ms(t0: float) -> float:
    return round((time.time() - t0) * 1000, 2)
