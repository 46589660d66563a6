"""Changes kept on a phone without signal and sent later: each applied once however often it is
sent, the later answer of an item wins and the other stays in its history, a finished round refuses
them with its reason, a late fail raises its order once at the phone's time."""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.models import Answer, AnswerChange, Photo, WorkOrder, WorkOrderEvent
from app.services import rounds, workorders
from tests.web.helpers import item_url, jpeg_bytes, other_site, started_morning

HX = {"HX-Request": "true", "Accept-Language": "en"}
QUEUE = {**HX, "X-Rounds-Queue": "1"}


@pytest.fixture
def walk(client, auth, demo, session):
    auth.login()
    rnd = started_morning(demo)
    rnd.started_at = datetime.now(timezone.utc) - timedelta(hours=1)  # walked for an hour already
    session.commit()
    return rnd, auth.token(f"/rounds/{rnd.id}/checkpoints/1")


def count(session, model) -> int:
    return session.scalar(select(func.count(model.id)))


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")  # as the phone's Date.toISOString() writes it


def send(client, url, token, *, op=None, result="pass", answered=None, sent=None, photo=False, note="",
         headers=QUEUE):
    now = datetime.now(timezone.utc)
    data = {"csrf_token": token, "result": result, "note": note, "op": op or str(uuid.uuid4()),
            "answered_at": iso(answered or now), "sent_at": iso(sent or now)}
    if photo:
        data["photos"] = [(io.BytesIO(jpeg_bytes()), "after.jpg")]
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def test_a_change_sent_twice_is_stored_once_with_its_photo_and_order(client, walk, session):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    op, answered = str(uuid.uuid4()), datetime.now(timezone.utc) - timedelta(minutes=20)
    first = send(client, url, token, op=op, result="fail", answered=answered, photo=True, note="oil on road")
    again = send(client, url, token, op=op, result="fail", answered=answered, photo=True, note="oil on road")
    assert first.status_code == again.status_code == 200
    assert "1 of 109 answered, 1 failed" in again.get_data(as_text=True)  # what the server stored
    assert count(session, Answer) == 1 and count(session, AnswerChange) == 1
    assert count(session, Photo) == 1 and count(session, WorkOrder) == 1
    assert session.scalar(select(func.count()).select_from(WorkOrderEvent)) == 1


def test_a_fail_sent_late_raises_its_order_once_at_the_phones_time(client, walk, session, demo):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    # The phone's clock runs 7 minutes slow: the server moves the phone's times by that much.
    skew = timedelta(minutes=7)
    answered = datetime.now(timezone.utc) - timedelta(minutes=40)
    resp = send(client, url, token, result="fail", photo=True, answered=answered - skew,
                sent=datetime.now(timezone.utc) - skew)
    assert resp.status_code == 200
    order = session.scalar(select(WorkOrder))
    answer = session.scalar(select(Answer))
    assert abs(answer.answered_at - answered) < timedelta(seconds=5)
    assert abs(order.created_at - answered) < timedelta(seconds=5)
    assert order.events[0].kind == "created" and abs(order.events[0].at - answered) < timedelta(seconds=5)
    # Due by the team's SLA counted from when it was answered, not from when the phone found signal.
    assert order.due_at == workorders.due_at(session, order.team, order.severity, order.created_at)
    resent = send(client, url, token, result="fail", answered=answered - skew)  # another tap, same fail
    assert resent.status_code == 200 and count(session, WorkOrder) == 1


def test_the_later_answer_wins_and_the_other_stays_in_the_history(client, auth, walk, session, demo):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "bins_not_overflowing")
    now = datetime.now(timezone.utc)
    # Phone B (online) answered pass five minutes ago; phone A, offline, had answered fail before that.
    assert send(client, url, token, result="pass", answered=now - timedelta(minutes=5)).status_code == 200
    late = send(client, url, token, result="fail", answered=now - timedelta(minutes=30), photo=True,
                note="bins full")
    html = late.get_data(as_text=True)
    assert late.status_code == 200
    assert 'value="pass" class="choice choice-pass"\n            aria-pressed="true"' in html
    assert "A later answer is kept: Pass by" in html and 'class="notice" role="status"' in html
    answer = session.scalar(select(Answer))
    assert answer.result == "pass" and len(answer.photos) == 1  # the photo is kept as evidence
    assert count(session, WorkOrder) == 0
    changes = session.scalars(select(AnswerChange).order_by(AnswerChange.answered_at)).all()
    assert [(c.result, c.kept) for c in changes] == [("fail", False), ("pass", True)]

    history = client.get(f"/rounds/{rnd.id}/stops/{stop.id}/items/{item.id}/history", headers=HX)
    text = history.get_data(as_text=True)
    assert history.status_code == 200
    assert "Not kept: a later answer had already been saved." in text and "bins full" in text
    zh = client.get(f"/rounds/{rnd.id}/stops/{stop.id}/items/{item.id}/history",
                    headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", " ", zh.split("<main")[1])  # the words on screen, not the attributes
    assert "未采用" in shown and not re.search(r"\d{4}-\d\d-\d\dT", shown)


def test_a_finished_round_refuses_what_the_phone_kept_with_the_reason(client, walk, session):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    rnd.finished_at = datetime.now(timezone.utc)
    session.commit()
    resp = send(client, url, token, result="fail", photo=True)
    assert resp.status_code == 409
    assert "This round is finished and can no longer be changed." in resp.get_data(as_text=True)
    assert count(session, Answer) == count(session, AnswerChange) == count(session, Photo) == 0


def test_times_from_the_phone_stay_within_the_round(client, walk, session):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    now = datetime.now(timezone.utc)
    send(client, url, token, answered=now + timedelta(days=2), sent=now)  # a clock set in the future
    assert session.scalar(select(Answer.answered_at)) <= datetime.now(timezone.utc)
    url2, _, _ = item_url(rnd, "patrol_residential_common", "bins_not_overflowing")
    send(client, url2, token, answered=now - timedelta(days=3), sent=now)  # before the round started
    started = session.get(type(rnd), rnd.id).started_at
    assert min(session.scalars(select(Answer.answered_at))) >= started


@pytest.mark.parametrize("field, value", [("op", "'; drop table answer; --"), ("op", "x" * 500),
                                          ("answered_at", "yesterday"), ("sent_at", "9" * 80),
                                          ("answered_at", "2026-12-04T10:00:00")])  # no zone: ignored
def test_forged_ids_and_times_are_ignored_not_a_500(client, walk, session, field, value):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    data = {"csrf_token": token, "result": "pass", field: value}
    resp = client.post(url, data=data, headers=HX)
    assert resp.status_code == 200
    change = session.scalar(select(AnswerChange))
    assert change.op is None or field != "op"
    assert datetime.now(timezone.utc) - change.answered_at < timedelta(minutes=1)


def test_a_resent_op_from_another_item_changes_nothing_there(client, walk, session):
    """An op is one tap on one item: the same id sent for another item (forged) is not stored twice."""
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    url2, stop2, item2 = item_url(rnd, "patrol_residential_common", "bins_not_overflowing")
    op = str(uuid.uuid4())
    send(client, url, token, op=op)
    send(client, url2, token, result="na")
    resp = send(client, url2, token, op=op, result="fail", photo=True)
    assert resp.status_code == 200
    assert session.scalar(select(Answer.result).where(Answer.item_id == item2.id)) == "na"
    assert count(session, AnswerChange) == 2 and count(session, WorkOrder) == 0


def test_a_queued_change_after_the_session_ended_is_not_said_lost(client, walk, session):
    """The login page asks to log in; it does not say the queued change was lost (the phone keeps it)."""
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    client.post("/logout", data={"csrf_token": token})
    resp = send(client, url, token)
    assert resp.headers["HX-Redirect"].startswith("/login?next=")
    login = client.get(resp.headers["HX-Redirect"]).get_data(as_text=True)
    assert "your last change was not saved" not in login
    assert count(session, Answer) == 0


def test_item_history_is_for_those_who_see_the_round(client, auth, walk, session, demo):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    send(client, url, token)
    path = f"/rounds/{rnd.id}/stops/{stop.id}/items/{item.id}/history"
    other_site()
    client.post("/logout", data={"csrf_token": token})
    auth.login("sup.other")
    assert client.get(path).status_code == 404


def test_a_note_sent_late_neither_loses_nor_beats_a_result(client, walk, session):
    """A note alone is added whenever it arrives; it does not make a later Pass look older."""
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    now = datetime.now(timezone.utc)
    client.post(url, headers=QUEUE, data={"csrf_token": token, "note": "gate open", "op": str(uuid.uuid4()),
                                          "answered_at": iso(now - timedelta(minutes=1)), "sent_at": iso(now)})
    client.post(url, headers=QUEUE, data={"csrf_token": token, "result": "pass", "op": str(uuid.uuid4()),
                                          "answered_at": iso(now - timedelta(minutes=3)), "sent_at": iso(now)})
    answer = session.scalar(select(Answer))
    assert answer.result == "pass" and answer.note == "gate open"


def test_a_slow_upload_is_not_taken_for_a_wrong_clock(walk):
    rnd, _ = walk
    now = datetime.now(timezone.utc)
    tapped = now - timedelta(seconds=90)  # sent at `tapped`, the photo took 40 s to arrive
    assert rounds.answered_time(rnd, tapped, tapped, now=tapped + timedelta(seconds=40)) == tapped
