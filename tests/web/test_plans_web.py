"""Floor plans over HTTP: upload and rooms, pins in an inspection, who sees which plan, the heat map,
the PDF, and pages whose statement count does not grow with their pins."""
import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Defect, Inspection, Layout, Unit, User, WorkOrder
from app.services import handover as ho
from app.services import plans
from tests.conftest import Auth
from tests.statements import count_statements
from tests.unit.test_handover import signature
from tests.unit.test_plans import pdf, png
from tests.web.helpers import other_site


@pytest.fixture
def unit(demo, session):
    return session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))


def signed_with_pins(session, demo, unit, spots, app, sign=True):
    """An inspection of the unit with an owner's concern pinned at each spot, signed (orders raised)."""
    insp = ho.start_inspection(session, unit, demo.users["engineer"], "王先生")
    for i, (x, y) in enumerate(spots):
        d = ho.add_concern(session, insp, "living_room", f"问题 {i}", [])
        session.flush()
        plans.pin_defect(session, d, x, y)
    if sign:
        ho.sign(session, app.extensions["photo_store"], insp, demo.users["engineer"], engineer_name="刘工",
                owner_name="王先生", engineer_sig=signature(), owner_sig=signature(shift=30))
    session.commit()
    return insp


def test_engineer_uploads_a_plan_and_draws_rooms(client, auth, demo, session):
    auth.login("engineer")
    token = auth.token("/handover/layouts")
    resp = client.post("/handover/layouts", data={"csrf_token": token, "name": "C 1室1厅1卫"})
    layout_url = resp.headers["Location"]
    for data, name, message in [(b"not an image", "plan.png", "This file is not a floor plan"),
                                (b"%PDF-1.4\n%%EOF\n", "plan.pdf", "This PDF has no pages")]:
        resp = client.post(layout_url + "/plan", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(data), name)})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    resp = client.post(layout_url + "/plan", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(pdf()), "plan.pdf")})
    assert resp.status_code == 302
    layout = session.scalar(select(Layout).where(Layout.name == "C 1室1厅1卫"))
    assert layout.plan_height == 2000 and 1410 < layout.plan_width < 1420  # A4's first page, upright
    assert client.get(f"/handover/layouts/{layout.id}/plan.png").mimetype == "image/png"
    resp = client.post(layout_url + "/rooms", data={"csrf_token": token, "room_key": "bathroom-2",
                                                    "x0": "10", "y0": "10", "x1": "40.5", "y1": "30"})
    assert resp.status_code == 302
    resp = client.post(layout_url + "/rooms", data={"csrf_token": token, "room_key": "kitchen",
                                                    "x0": "10", "y0": "10", "x1": "10.2", "y1": "30"})
    assert resp.status_code == 422 and "Draw the room larger" in resp.get_data(as_text=True)
    session.expire_all()
    assert [(r.room_key, r.x1) for r in layout.rooms] == [("bathroom-2", 0.405)]
    assert "Bathroom 2" in client.get(layout_url).get_data(as_text=True)


def test_supervisors_may_pin_but_not_upload_plans(client, auth, demo, unit):
    auth.login("supervisor")
    token = auth.token("/handover/layouts")
    assert client.get(f"/handover/layouts/{unit.layout_id}").status_code == 200
    resp = client.post(f"/handover/layouts/{unit.layout_id}/plan", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(png()), "p.png")})
    assert resp.status_code == 404


def test_unit_layout_is_set_on_the_units_page(client, auth, demo, session, unit):
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/layout", data={"csrf_token": token, "layout": "B 2室2厅1卫"})
    assert resp.status_code == 302
    session.expire_all()
    assert unit.layout.name == "B 2室2厅1卫"
    client.post(f"/handover/units/{unit.id}/layout", data={"csrf_token": token, "layout": ""})
    session.expire_all()
    assert unit.layout is None


def test_tap_the_plan_records_a_pinned_defect_then_move_it_until_signed(client, auth, demo, session, unit):
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/inspections", data={"csrf_token": token, "owner_present": "张伟"})
    insp_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/handover/inspections/{insp_id}/plan").get_data(as_text=True)
    assert 'data-plan="place"' in page
    page = client.get(f"/handover/inspections/{insp_id}/plan/new?x=87.5&y=55").get_data(as_text=True)
    assert "The pin is in Bathroom 2." in page and '<option selected value="bathroom-2">' in page
    assert page.index('<optgroup label="Bathroom">') < page.index('<optgroup label="Kitchen">')
    resp = client.post(f"/handover/inspections/{insp_id}/plan/new", data={
        "csrf_token": token, "x": "87.5", "y": "55", "room_key": "bathroom-2", "item": "",
        "description": "门关不严", "severity": "minor"})
    assert resp.status_code == 302
    d = session.scalar(select(Defect))
    assert (d.room_key, d.pin_x, d.pin_y, d.owner_concern, d.severity) == ("bathroom-2", 0.875, 0.55, True, "minor")
    resp = client.post(f"/handover/inspections/{insp_id}/defects/{d.id}/pin",
                       data={"csrf_token": token, "x": "20", "y": "50"})
    assert resp.status_code == 302
    session.expire_all()
    assert (d.pin_x, d.room_key) == (0.2, "living_room")
    session.get(Inspection, insp_id).status = "signed"
    session.commit()
    resp = client.post(f"/handover/inspections/{insp_id}/defects/{d.id}/pin",
                       data={"csrf_token": token, "x": "30", "y": "50"})
    assert resp.status_code == 409 and "can no longer be moved" in resp.get_data(as_text=True)


def test_pins_show_on_the_unit_the_order_and_the_owners_link(client, auth, demo, session, unit, app):
    signed_with_pins(session, demo, unit, [(0.3, 0.5), (0.875, 0.55)], app)
    auth.login("engineer")
    html = client.get(f"/handover/units/{unit.id}").get_data(as_text=True)
    assert html.count('class="pin pin-open"') == 2 and ">2</text>" in html
    order = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()[1]
    html = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert html.count('class="pin pin-') == 1 and f"/orders/{order.id}/plan.png" in html
    token = auth.token(f"/handover/units/{unit.id}")
    page = client.post(f"/handover/units/{unit.id}/link", data={"csrf_token": token}).get_data(as_text=True)
    owner_token = re.search(r"/o/([\w-]+)</textarea>", page).group(1)
    anon = app.test_client()
    html = anon.get(f"/o/{owner_token}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    first = session.scalars(select(Defect).order_by(Defect.id)).first()
    assert html.count('class="pin pin-') == 2 and f'href="#d-{first.id}"' in html
    assert anon.get(f"/o/{owner_token}/plan.png").mimetype == "image/png"
    assert anon.get(f"/o/{owner_token}x/plan.png").status_code == 404
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(client.get(f"/handover/inspections/{first.inspection_id}/report.pdf?lang=en").data))
    text = "".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    assert "Floor plan (layout A 3室2厅2卫)" in text and len(reader.pages[0].images) == 1


def test_owner_sees_only_their_units_plan(client, auth, demo, session, unit, app):
    other = session.scalar(select(Unit).where(Unit.room == "1202", Unit.unit_no == "1"))  # layout B
    signed_with_pins(session, demo, unit, [(0.3, 0.5)], app)
    token, _link = ho.create_owner_link(session, other, demo.users["engineer"])
    session.commit()
    anon = app.test_client()
    html = anon.get(f"/o/{token}").get_data(as_text=True)
    assert "pin pin-" not in html  # the other unit's pins are not here
    served = anon.get(f"/o/{token}/plan.png").data
    assert served == app.extensions["photo_store"].get(other.layout.plan_key) != \
        app.extensions["photo_store"].get(unit.layout.plan_key)


def test_crew_see_the_plan_of_their_orders_only(client, auth, demo, session, unit, app):
    signed_with_pins(session, demo, unit, [(0.3, 0.5)], app)
    order = session.scalar(select(WorkOrder))
    assert order.team.code == "engineering"
    auth.login("crew.engineering")
    assert client.get(f"/orders/{order.id}/plan.png").status_code == 200
    assert client.get(f"/handover/layouts/{unit.layout_id}/plan.png").status_code == 404  # not an inspector
    other = app.test_client()
    Auth(other).login("crew.cleaning")
    assert other.get(f"/orders/{order.id}/plan.png").status_code == 404
    assert other.get(f"/orders/{order.id}").status_code == 404


def test_another_sites_manager_gets_404(client, auth, demo, session, unit, app):
    insp = signed_with_pins(session, demo, unit, [(0.3, 0.5)], app, sign=False)
    site = other_site()
    boss = User(username="boss.other", display_name="boss", role="manager")
    boss.set_password("rounds-demo")
    boss.sites.append(site)
    session.add(boss)
    session.commit()
    auth.login("boss.other")
    token = auth.token("/handover/layouts")
    d = session.scalar(select(Defect))
    for url in (f"/handover/layouts/{unit.layout_id}", f"/handover/layouts/{unit.layout_id}/plan.png",
                f"/handover/layouts/{unit.layout_id}/heatmap", f"/handover/layouts/{unit.layout_id}/heatmap.png",
                f"/handover/inspections/{insp.id}/plan", f"/handover/inspections/{insp.id}/plan/new?x=1&y=1"):
        assert client.get(url).status_code == 404, url
    for url, data in ((f"/handover/layouts/{unit.layout_id}/rooms", {"room_key": "kitchen", "x0": 1, "y0": 1,
                                                                      "x1": 50, "y1": 50}),
                      (f"/handover/inspections/{insp.id}/defects/{d.id}/pin", {"x": 5, "y": 5}),
                      (f"/handover/units/{unit.id}/layout", {"layout": "X"})):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url


def test_heatmap_clusters_link_to_their_defects_and_export(client, auth, demo, session, unit, app):
    units = session.scalars(select(Unit).where(Unit.layout_id == unit.layout_id).limit(3)).all()
    for u in units:
        signed_with_pins(session, demo, u, [(0.875, 0.55), (0.3, 0.5)], app)
    auth.login("manager")
    html = client.get(f"/handover/layouts/{unit.layout_id}/heatmap").get_data(as_text=True)
    assert "6 pinned defects" in html
    link = re.search(r'<a href="(/handover/defects\?[^"]+)"><span class="cpname">Bathroom 2', html).group(1)
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert listed.count('class="card"') == 3
    team = demo.teams["engineering"].id
    html = client.get(f"/handover/layouts/{unit.layout_id}/heatmap?team={team}").get_data(as_text=True)
    assert "6 pinned defects" in html
    resp = client.get(f"/handover/layouts/{unit.layout_id}/heatmap.png?team={team}")
    assert resp.mimetype == "image/png" and "attachment" in resp.headers["Content-Disposition"]


@pytest.mark.parametrize("page", ["heatmap", "unit", "owner", "inspection_plan"])
def test_plan_pages_cost_the_same_whatever_the_pins(client, auth, demo, session, unit, app, page):
    units = [unit] + session.scalars(select(Unit).where(Unit.layout_id == unit.layout_id, Unit.id != unit.id)
                                     .limit(3)).all()
    auth.login("manager")
    token = auth.token(f"/handover/units/{unit.id}")
    page_link = client.post(f"/handover/units/{unit.id}/link", data={"csrf_token": token}).get_data(as_text=True)
    owner = re.search(r"/o/([\w-]+)</textarea>", page_link).group(1)
    anon = app.test_client()
    costs = []
    for n in (1, 3):
        for u in units:
            insp = signed_with_pins(session, demo, u, [(0.1 * i, 0.5) for i in range(1, n + 1)], app,
                                    sign=page != "inspection_plan")
            if u is unit:
                walk = insp
        url = {"heatmap": f"/handover/layouts/{unit.layout_id}/heatmap", "unit": f"/handover/units/{unit.id}",
               "owner": f"/o/{owner}", "inspection_plan": f"/handover/inspections/{walk.id}/plan"}[page]
        with count_statements(db.engine) as seen:
            resp = (anon if page == "owner" else client).get(url)
        assert resp.status_code == 200 and resp.get_data(as_text=True).count("pin-hit") == (
            0 if page == "heatmap" else n if page == "inspection_plan" else {1: 1, 3: 4}[n])  # pins so far
        costs.append(len(seen))
    assert costs[0] == costs[1], costs


def test_a_plan_while_the_photo_store_is_away_says_try_again(client, auth, demo, session, unit, app, monkeypatch):
    """The plan image, like a photo: a 503 with a plain message when the store does not answer."""
    from app.services.storage import StoreUnavailable

    auth.login("engineer")

    def away(key):
        raise StoreUnavailable("store away")

    monkeypatch.setattr(app.extensions["photo_store"], "get", away)
    resp = client.get(f"/handover/layouts/{unit.layout_id}/plan.png")
    assert resp.status_code == 503 and "cannot be shown just now" in resp.get_data(as_text=True)


def test_a_refused_layout_name_keeps_the_unit_counts(client, auth, demo):
    """The layouts page after a refused name shows the same counts as before (one context builder)."""
    auth.login("engineer")
    page = client.get("/handover/layouts", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "24 units" in page
    token = auth.token("/handover/layouts")
    resp = client.post("/handover/layouts", headers={"Accept-Language": "en"},
                       data={"csrf_token": token, "name": "x" * 41})
    assert resp.status_code == 422 and "24 units" in resp.get_data(as_text=True)


def test_inspection_plan_with_checklist_defects_costs_the_same_whatever_the_pins(client, auth, demo, session, unit):
    """Pins of checklist items (their words come from the item) cost no statement each."""
    insp = ho.start_inspection(session, unit, demo.users["engineer"], "王先生")
    from app.models import Photo

    rooms = {ho.room_type(k) for k, _t, _n in ho.rooms(unit, insp.version)}
    items = [i for i in insp.version.items if i.room in rooms][:6]
    photo = Photo(site_id=demo.site.id, sha256="a" * 64, thumb_sha256="b" * 64, width=1, height=1, size_bytes=1)
    session.add(photo)
    session.commit()
    auth.login("engineer")
    costs = []
    for batch in (items[:1], items[1:6]):
        for item in batch:
            key = next(k for k, _t, _n in ho.rooms(unit, insp.version) if ho.room_type(k) == item.room)
            d = ho.answer(session, insp, key, item, demo.users["engineer"], result="defect", description="",
                          photos=[photo])
            session.flush()
            plans.pin_defect(session, d, 0.5, 0.5)
        session.commit()
        session.expire_all()
        with count_statements(db.engine) as seen:
            resp = client.get(f"/handover/inspections/{insp.id}/plan")
        assert resp.status_code == 200
        costs.append(len(seen))
    assert len(items) == 6 and costs[0] == costs[1], costs
