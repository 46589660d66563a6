"""Walking a round through HTTP: fragments vs pages, CSRF, idempotency, read-only rounds."""
import io

import pytest
from sqlalchemy import func, select

from app.models import Answer, Photo, WorkOrder
from tests.web.helpers import item_url, jpeg_bytes, started_morning

HX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def walk(client, auth, demo):
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    return rnd, token


def count(session, model):
    return session.scalar(select(func.count(model.id)))


def test_today_lists_both_rounds_with_windows(client, auth, demo):
    auth.login()
    html = client.get("/today", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Morning round" in html and "09:30–11:00" in html
    assert "Afternoon round" in html and "15:00–17:00" in html


def test_start_round_opens_first_checkpoint(client, auth, demo, session):
    auth.login()
    from app.models import Round
    from app.services import schedule

    rnd = schedule.rounds_for_day(session, demo.site, schedule.site_today(demo.site))[0]  # planned, unsaved
    token = auth.token()
    start = f"/rounds/planned/{rnd.schedule_id}/{rnd.date.isoformat()}/start"
    resp = client.post(start, data={"csrf_token": token})
    saved = session.scalar(select(Round))
    assert resp.headers["Location"] == f"/rounds/{saved.id}/checkpoints/1"
    client.post(start, data={"csrf_token": token})  # double tap
    assert count(session, Round) == 1
    html = client.get(resp.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "0 of 109 answered, 0 failed" in html
    assert "Roads and footpaths clean" in html


def test_answer_htmx_returns_item_fragment_and_progress(client, walk, session):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, data={"result": "pass", "csrf_token": token}, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in html
    assert f'id="item-{stop.id}-{item.id}"' in html
    assert 'hx-swap-oob="true"' in html and "1 of 109 answered, 0 failed" in html
    assert 'value="pass" class="choice choice-pass"\n            aria-pressed="true"' in html
    assert "HX-Request" in resp.headers["Vary"]


def test_answer_without_htmx_redirects_back_to_the_item(client, walk):
    rnd, token = walk
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, data={"result": "na", "csrf_token": token})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/rounds/{rnd.id}/checkpoints/1#item-{stop.id}-{item.id}"


def test_answer_without_csrf_is_refused_and_changes_nothing(client, walk, session):
    rnd, _ = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, data={"result": "pass"}, headers=HX)
    assert resp.status_code == 400
    assert "expired" in resp.get_data(as_text=True)
    assert count(session, Answer) == 0


def test_forged_result_is_refused(client, walk, session):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, data={"result": "maybe", "csrf_token": token}, headers=HX)
    assert resp.status_code == 422
    assert "Choose pass, fail or n.a." in resp.get_data(as_text=True)
    assert count(session, Answer) == 0


def test_item_from_another_round_is_404(client, walk, session, demo):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    other = url.replace(f"/rounds/{rnd.id}/", f"/rounds/{rnd.id + 1}/")
    assert client.post(other, data={"result": "pass", "csrf_token": token}, headers=HX).status_code == 404


def test_photo_required_refusal_keeps_the_note(client, walk, session):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, data={"result": "fail", "note": "oil stain by gate 2", "csrf_token": token},
                       headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "A photo is required to fail this item" in html
    assert "oil stain by gate 2</textarea>" in html
    assert count(session, Answer) == 0 and count(session, WorkOrder) == 0


def test_fail_with_photo_raises_one_order_even_when_resent(client, walk, session, demo):
    """A weak network resends the same POST: still one answer, one photo, one order."""
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    jpeg = jpeg_bytes()
    for _ in range(2):
        resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
            "result": "fail", "note": "litter", "csrf_token": token,
            "photos": (io.BytesIO(jpeg), "IMG_0001.JPG")})
        assert resp.status_code == 200
    assert count(session, Answer) == 1 and count(session, Photo) == 1
    [order] = session.scalars(select(WorkOrder)).all()
    assert order.team.code == "cleaning"
    html = resp.get_data(as_text=True)
    assert f"Work order #{order.id}" in html and "/photos/" in html
    assert "1 of 109 answered, 1 failed" in html


def test_photo_alone_then_fail(client, walk, session):
    """Choosing a photo first saves it; tapping Fail afterwards is accepted."""
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "csrf_token": token, "photos": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    assert resp.status_code == 200 and "0 of 109 answered" in resp.get_data(as_text=True)
    resp = client.post(url, headers=HX, data={"result": "fail", "csrf_token": token})
    assert resp.status_code == 200
    assert session.scalar(select(Answer.result)) == "fail"
    assert count(session, WorkOrder) == 1


def test_bad_photo_is_refused_and_answer_unchanged(client, walk, session, app):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    client.post(url, headers=HX, data={"result": "pass", "note": "clean", "csrf_token": token})
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "csrf_token": token,
        "photos": (io.BytesIO(b"this is not a picture at all"), "photo.jpg")})
    assert resp.status_code == 422
    assert "not a photo" in resp.get_data(as_text=True)
    answer = session.scalar(select(Answer))
    assert (answer.result, answer.note) == ("pass", "clean")
    assert count(session, Photo) == 0 and count(session, WorkOrder) == 0
    from tests.web.helpers import uploaded_files

    assert uploaded_files(app) == 0


def test_request_over_the_upload_limit_gets_a_clear_message(client, walk, app, session, monkeypatch):
    rnd, token = walk
    # A small limit keeps the test body in memory (werkzeug spools big test bodies to a file it leaks).
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 200_000)
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    big = b"\xff\xd8" + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "csrf_token": token, "photos": (io.BytesIO(big), "huge.jpg")})
    assert resp.status_code == 413
    assert "too large" in resp.get_data(as_text=True)
    assert count(session, Answer) == 0


def test_unfail_cancels_order_via_http(client, walk, session):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    client.post(url, headers=HX, data={"result": "fail", "csrf_token": token})
    client.post(url, headers=HX, data={"result": "pass", "csrf_token": token})
    assert session.scalar(select(WorkOrder.status)) == "cancelled"


def test_finish_lists_unanswered_first_then_summary_is_read_only(client, walk, session):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    client.post(url, headers=HX, data={"result": "fail", "csrf_token": token})
    html = client.get(f"/rounds/{rnd.id}/finish", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "108 items are not answered" in html
    assert html.index("Roads and footpaths clean") < html.index("Finish anyway")
    resp = client.post(f"/rounds/{rnd.id}/finish", data={"csrf_token": token})
    assert resp.headers["Location"] == f"/rounds/{rnd.id}"
    summary = client.get(f"/rounds/{rnd.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Work orders raised" in summary and "Car-park entry/exit guard" in summary
    assert "1 of 109 answered, 1 failed" in summary
    page = client.get(f"/rounds/{rnd.id}/checkpoints/3", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "choice-pass" not in page and "can no longer be changed" in page
    resp = client.post(url, headers=HX, data={"result": "pass", "csrf_token": token})
    assert resp.status_code == 409
    assert "finished" in resp.get_data(as_text=True)
    assert session.scalar(select(Answer.result)) == "fail"


def test_error_page_is_a_fragment_for_htmx(client, walk):
    resp = client.get("/rounds/999/checkpoints/1", headers=HX)
    assert resp.status_code == 404
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="error"' in body
    full = client.get("/rounds/999/checkpoints/1").get_data(as_text=True)
    assert "<html" in full


def test_team_list_shows_order_newest_first(client, walk, session, demo):
    rnd, token = walk
    for code in ("car_gate_guard_conduct", "no_space_overuse"):
        url, _, _ = item_url(rnd, "patrol_parking", code)
        data = {"result": "fail", "csrf_token": token}
        if code == "no_space_overuse":
            data["photos"] = (io.BytesIO(jpeg_bytes()), "p.jpg")
        client.post(url, headers=HX, data=data, content_type="multipart/form-data")
    html = client.get(f"/teams/{demo.teams['security'].id}/orders",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.index("No owner using more spaces") < html.index("Car-park entry/exit guard")


def test_remove_photo_but_not_the_last_one_of_a_required_fail(client, walk, session):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "csrf_token": token,
        "photos": [(io.BytesIO(jpeg_bytes(color=(200, 0, 0))), "a.jpg"),
                   (io.BytesIO(jpeg_bytes(color=(0, 0, 200))), "b.jpg")]})
    answer = session.scalar(select(Answer))
    first, second = answer.photos
    base = f"/rounds/{rnd.id}/answers/{answer.id}/photos"
    resp = client.post(f"{base}/{first.id}/remove", headers=HX, data={"csrf_token": token})
    assert resp.status_code == 200
    assert f"/photos/{first.id}/thumb.jpg" not in resp.get_data(as_text=True)
    resp = client.post(f"{base}/{second.id}/remove", headers=HX, data={"csrf_token": token})
    assert resp.status_code == 422
    assert "needs at least one photo" in resp.get_data(as_text=True)
    session.expire_all()
    assert [p.id for p in session.get(Answer, answer.id).photos] == [second.id]


def test_pass_the_rest_of_a_checkpoint_keeps_existing_answers(client, walk, session):
    rnd, token = walk
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")  # checkpoint 3
    client.post(url, headers=HX, data={"result": "fail", "csrf_token": token})
    page = client.get(f"/rounds/{rnd.id}/checkpoints/3").get_data(as_text=True)
    assert "Mark the 12 unanswered items pass" in page
    resp = client.post(f"/rounds/{rnd.id}/checkpoints/3/pass-rest", data={"csrf_token": token})
    assert resp.headers["Location"] == f"/rounds/{rnd.id}/checkpoints/3"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "12 items marked pass." in page and "13 of 109 answered, 1 failed" in page
    assert session.scalar(select(func.count(WorkOrder.id))) == 1
    results = session.scalars(select(Answer.result)).all()
    assert sorted(results).count("pass") == 12 and results.count("fail") == 1
