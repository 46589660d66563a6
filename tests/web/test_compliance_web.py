"""Compliance pages, QR sheets, check-in by scanning and CSV exports over HTTP."""
import re
from datetime import timedelta

from sqlalchemy import func, select

from app.models import CheckIn, Checkpoint
from tests.web.helpers import item_url, other_site, started_morning

HX = {"HX-Request": "true"}


def test_compliance_is_for_managers(client, auth, demo):
    auth.login("supervisor")
    assert client.get("/manage/compliance").status_code == 404
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("manager")
    html = client.get("/manage/compliance").get_data(as_text=True)
    assert "Patrol compliance" in html and "On-time rate" in html and "Morning round" in html


def test_scan_opens_the_checkpoint_and_shows_on_compliance(client, auth, demo, session):
    auth.login("supervisor")
    rnd = started_morning(demo)
    cp = session.scalar(select(Checkpoint).where(Checkpoint.route_id == rnd.route_id)
                        .order_by(Checkpoint.position).offset(3))
    resp = client.get(f"/scan/{cp.qr_token}")
    assert resp.headers["Location"] == f"/rounds/{rnd.id}/checkpoints/4"
    at = session.scalar(select(CheckIn.at)).astimezone(demo.site.tz).strftime("%H:%M")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "<h1>Underground garage</h1>" in page and f"Checked in here at {at}." in page
    assert session.scalar(select(CheckIn.checkpoint_id)) == cp.id
    # Opened twice (the camera app, then the browser): the first time stands, nothing is added.
    again = client.get(f"/scan/{cp.qr_token}")
    assert again.headers["Location"] == f"/rounds/{rnd.id}/checkpoints/4"
    assert f"Already checked in here at {at}" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert session.scalar(select(func.count(CheckIn.id))) == 1
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("manager")
    html = client.get(f"/manage/compliance/rounds/{rnd.id}").get_data(as_text=True)
    assert html.count("No scan") == 9  # ten checkpoints, one scanned
    assert html.count("王助理 Wang") == 2  # the round's supervisor, and who scanned


def test_scan_without_a_round_or_from_another_site_records_nothing(client, auth, demo, session):
    cp = session.scalar(select(Checkpoint).where(Checkpoint.route_id == demo.routes["morning"].id))
    auth.login("supervisor")
    resp = client.get(f"/scan/{cp.qr_token}")
    assert resp.status_code == 409 and "no round in progress" in resp.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": auth.token()})
    started_morning(demo)
    other_site()
    auth.login("sup.other")
    resp = client.get(f"/scan/{cp.qr_token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "another estate" in html and "Nothing was recorded." in html
    assert cp.name_en not in html  # nothing about another estate's checkpoint leaks
    assert client.get("/scan/not-a-code").status_code == 404
    assert session.scalar(select(CheckIn.id)) is None


def login_as(client, auth, username, lang="en"):
    """Log out whoever is in, log `username` in, and read pages in `lang`."""
    client.post("/logout", data={"csrf_token": auth.token("/account/password")})  # a page every role has
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    auth.login(username)


def test_scan_by_anyone_but_the_rounds_supervisor_records_nothing_and_says_why(client, auth, demo, session):
    """A second supervisor, crew, a contractor and an engineer are refused in their language."""
    rnd = started_morning(demo)
    cp = session.scalar(select(Checkpoint).where(Checkpoint.route_id == rnd.route_id)
                        .order_by(Checkpoint.position).offset(3))
    auth.login("supervisor2")
    resp = client.get(f"/scan/{cp.qr_token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "Not checked in" in html and "Nothing was recorded." in html
    assert "You have no round in progress here" in html and "王助理 Wang" in html
    login_as(client, auth, "supervisor2", "zh-CN")
    html = client.get(f"/scan/{cp.qr_token}").get_data(as_text=True)
    assert "未签到" in html and "您在这里没有进行中的巡查" in html and "未做任何记录" in html
    for username in ("crew.cleaning", "contractor", "engineer"):
        login_as(client, auth, username)
        resp = client.get(f"/scan/{cp.qr_token}")
        assert resp.status_code == 403, username
        assert "Your role does not walk rounds" in resp.get_data(as_text=True), username
    login_as(client, auth, "engineer", "zh-CN")
    assert "您的角色不执行巡查" in client.get(f"/scan/{cp.qr_token}").get_data(as_text=True)
    assert session.scalar(select(func.count(CheckIn.id))) == 0
    login_as(client, auth, "supervisor", "zh-CN")
    resp = client.get(f"/scan/{cp.qr_token}")
    at = session.scalar(select(CheckIn.at)).astimezone(demo.site.tz).strftime("%H:%M")
    assert f"已于 {at} 在此签到" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert session.scalar(select(CheckIn.user_id)) == demo.users["supervisor"].id


def test_a_round_done_before_its_window_is_not_called_late(client, auth, demo, session):
    """Summary, Today and compliance say 'outside the window (early)' beside '… early', never 'Late'."""
    rnd = started_morning(demo)
    rnd.started_at = rnd.window_start - timedelta(hours=4, minutes=25)
    rnd.finished_at = rnd.window_start - timedelta(hours=3, minutes=55)
    session.commit()
    auth.login("supervisor")
    summary = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)
    assert "3 h 55 min early" in summary and "Outside the window (early)" in summary
    assert ">Late<" not in summary
    login_as(client, auth, "manager")
    day = rnd.date.isoformat()
    report = client.get(f"/manage/compliance?from={day}&to={day}").get_data(as_text=True)
    row = next(tr for tr in report.split("<tr") if f"/manage/compliance/rounds/{rnd.id}\"" in tr)
    assert "Outside the window (early)" in row and ">Late<" not in row
    assert re.search(r"0 of [12] on time", report)  # (the afternoon counts too once its window has passed)
    login_as(client, auth, "supervisor", "zh-CN")
    assert "时段外（提前）" in client.get(f"/rounds/{rnd.id}").get_data(as_text=True)


def test_qr_sheet_has_one_code_per_checkpoint(client, auth, demo):
    auth.login("manager")
    html = client.get(f"/manage/routes/{demo.routes['morning'].id}/qr").get_data(as_text=True)
    assert html.count('class="qr-card"') == 10 and html.count("<svg") == 10


def test_csv_exports_stream_rows(client, auth, demo, session):
    auth.login("supervisor")
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/3")
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    client.post(url, headers=HX, data={"result": "fail", "note": "guard away", "csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    auth.login("manager")
    day = rnd.date.isoformat()
    answers = client.get(f"/manage/export/answers.csv?from={day}&to={day}")
    assert answers.mimetype == "text/csv" and answers.is_streamed
    lines = answers.get_data(as_text=True).splitlines()
    assert lines[0] == "\ufeffanswer,round,date,slot,checkpoint,item,text_zh,result,note,answered_by,answered_at"
    assert len(lines) == 2 and "car_gate_guard_conduct" in lines[1] and ",fail,guard away," in lines[1]
    orders = client.get(f"/manage/export/orders.csv?from={day}&to={day}").get_data(as_text=True).splitlines()
    assert len(orders) == 2 and ",round,security," in orders[1]
    rounds_csv = client.get(f"/manage/export/rounds.csv?from={day}&to={day}").get_data(as_text=True).splitlines()
    assert len(rounds_csv) == 3  # header, morning, afternoon


def test_exports_accept_a_year_but_compliance_pages_stay_short(client, auth, demo):
    auth.login("manager")
    resp = client.get("/manage/export/rounds.csv?from=2025-11-24&to=2026-11-23")
    assert resp.headers["Content-Disposition"].endswith('rounds-demo-2025-11-24-2026-11-23.csv"')
    page = client.get("/manage/compliance?from=2025-11-24&to=2026-11-23").get_data(as_text=True)
    assert 'value="2026-08-24"' in page  # clamped to 92 days
