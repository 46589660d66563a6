"""Compliance pages, QR sheets, check-in by scanning and CSV exports over HTTP."""
from sqlalchemy import select

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
    assert "Checked in at Underground garage." in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert session.scalar(select(CheckIn.checkpoint_id)) == cp.id
    client.post("/logout", data={"csrf_token": auth.token()})
    auth.login("manager")
    html = client.get(f"/manage/compliance/rounds/{rnd.id}").get_data(as_text=True)
    assert html.count("No scan") == 9  # ten checkpoints, one scanned


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
    assert resp.status_code == 409 and "another estate" in resp.get_data(as_text=True)
    assert session.scalar(select(CheckIn.id)) is None


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
