"""Duty log: compiled day, supervisor's remarks on the day only, manager's comments close it; briefing."""
from datetime import timedelta

from sqlalchemy import select

from app.models import DutyLog
from app.services import schedule
from tests.web.helpers import item_url, other_site, started_morning


def test_log_compiles_the_day_and_remarks_then_comments_close_it(client, auth, demo, session):
    auth.login("supervisor")
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/3")
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    client.post(url, headers={"HX-Request": "true"}, data={"result": "fail", "csrf_token": token})
    day = schedule.site_today(demo.site).isoformat()
    page = client.get(f"/log/{demo.site.id}/{day}").get_data(as_text=True)
    assert "Failures raised <small>1</small>" in page and "Car-park entry/exit guard" in page
    assert client.post(f"/log/{demo.site.id}/{day}/remarks",
                       data={"csrf_token": token, "text": "Gate 2 guard absent at 10:05"}).status_code == 302
    assert client.post(f"/log/{demo.site.id}/{day}/comment",
                       data={"csrf_token": token, "text": "ok"}).status_code == 404  # supervisors cannot
    client.post("/logout", data={"csrf_token": token})
    auth.login("manager")
    token = auth.token("/today")
    client.post(f"/log/{demo.site.id}/{day}/comment", data={"csrf_token": token, "text": "Talk to the guard."})
    entry = session.scalar(select(DutyLog))
    assert entry.read_at is not None and entry.comment == "Talk to the guard."
    client.post("/logout", data={"csrf_token": token})
    auth.login("supervisor")
    token = auth.token("/today")
    client.post(f"/log/{demo.site.id}/{day}/remarks", data={"csrf_token": token, "text": "changed"})
    session.refresh(entry)
    assert entry.remarks == "Gate 2 guard absent at 10:05"


def test_past_logs_are_read_only_and_briefing_shows_yesterday(client, auth, demo, session):
    yesterday = schedule.site_today(demo.site) - timedelta(days=1)
    session.add(DutyLog(site_id=demo.site.id, date=yesterday, remarks="Lift 3 noisy", comment="Call the vendor"))
    session.commit()
    auth.login("supervisor")
    token = auth.token("/today")
    resp = client.post(f"/log/{demo.site.id}/{yesterday.isoformat()}/remarks",
                       data={"csrf_token": token, "text": "late edit"})
    assert "remarks can be written on its own day only" in client.get(resp.headers["Location"]).get_data(as_text=True)
    html = client.get("/briefing").get_data(as_text=True)
    assert "Lift 3 noisy" in html and "Call the vendor" in html and "Morning round" in html
    listing = client.get(f"/log?from={yesterday.isoformat()}&to={yesterday.isoformat()}").get_data(as_text=True)
    assert yesterday.isoformat() in listing


def test_log_access(client, auth, demo):
    day = schedule.site_today(demo.site).isoformat()
    auth.login("crew.cleaning")
    assert client.get(f"/log/{demo.site.id}/{day}").status_code == 404
    assert client.get("/briefing").status_code == 404
    client.post("/logout", data={"csrf_token": auth.token("/orders")})
    other = other_site()
    auth.login("supervisor")
    assert client.get(f"/log/{other.id}/{day}").status_code == 404
    assert client.get(f"/log/{demo.site.id}/not-a-date").status_code == 404


def test_appearance_check_points_and_manager_only_history(client, auth, demo, session):
    from app.models import AppearanceCheck, WorkOrder

    steward = demo.users["crew.service"]
    auth.login("supervisor")
    html = client.get("/briefing").get_data(as_text=True)
    assert steward.display_name in html
    token = auth.token(f"/briefing/appearance/{steward.id}")
    resp = client.post(f"/briefing/appearance/{steward.id}", data={
        "csrf_token": token, "lapse": ["name_badge", "shoes", "not-an-item"], "note": "badge missing"})
    assert resp.status_code == 302
    check = session.scalar(select(AppearanceCheck))
    assert (check.lapse_codes, check.points) == (["name_badge", "shoes"], -2)
    assert session.scalar(select(WorkOrder.id)) is None  # coaching notes, never work orders
    assert client.get(f"/people/{steward.id}/appearance").status_code == 404  # supervisors cannot
    client.post("/logout", data={"csrf_token": token})
    auth.login("manager")
    history = client.get(f"/people/{steward.id}/appearance").get_data(as_text=True)
    assert "Points: -2" in history and "badge missing" in history and "Name badge worn" in history


def test_round_and_duty_log_pdfs(client, auth, demo, session):
    import io

    from pypdf import PdfReader

    from tests.web.helpers import jpeg_bytes

    auth.login("supervisor")
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    client.post(url, headers={"HX-Request": "true"}, content_type="multipart/form-data", data={
        "result": "fail", "note": "oil by gate 2", "csrf_token": token, "photos": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    resp = client.get(f"/rounds/{rnd.id}/report.pdf?lang=zh_Hans")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    text = "".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    assert "道路及人行道清洁" in text and "oil by gate 2" in text and "不合格" in text
    assert sum(len(p.images) for p in reader.pages) >= 1
    day = rnd.date.isoformat()
    log = PdfReader(io.BytesIO(client.get(f"/log/{demo.site.id}/{day}.pdf?lang=en").data))
    log_text = "".join(p.extract_text() for p in log.pages).replace("\x00", "")
    assert f"Duty log {day}" in log_text and "Failures raised (1)" in log_text
