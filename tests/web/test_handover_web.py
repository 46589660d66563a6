"""Handover over HTTP: import, the walk, signing, immutability, the owner's link and what it shows."""
import io
import re

import pytest
from sqlalchemy import func, select

from app.models import Defect, Inspection, Photo, Unit, WorkOrder
from app.services import handover as ho
from app.services import workorders as wo
from tests.unit.test_handover import GOOD_CSV, signature
from tests.web.helpers import jpeg_bytes, other_site
from tests.web.test_hostile_inputs import HOSTILE_FILES, good_and_hostile, stored_files

HX = {"HX-Request": "true"}


@pytest.fixture
def unit(demo, session):
    return session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))


def start(client, auth, unit, who="engineer"):
    auth.login(who)
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/inspections", data={"csrf_token": token, "owner_present": "张伟"})
    insp_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    return insp_id, token


def kitchen_item(session, insp_id):
    insp = session.get(Inspection, insp_id)
    return next(i for i in insp.version.items if i.room == "kitchen" and i.photo_required_on_fail)


def test_import_via_web_reports_rows(client, auth, demo, session):
    auth.login("engineer")
    token = auth.token("/handover/import")
    bad = GOOD_CSV + "5,1,3,301,dup,,2,1\n"
    resp = client.post("/handover/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(bad.encode()), "units.csv")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "nothing was imported" in html and "Line 4:" in html
    resp = client.post("/handover/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(GOOD_CSV.encode()), "units.csv")})
    assert resp.status_code == 302
    assert session.scalar(select(func.count(Unit.id))) == 50


def test_walk_defect_needs_photo_then_sign_raises_orders(client, auth, demo, session, unit):
    insp_id, token = start(client, auth, unit)
    item = kitchen_item(session, insp_id)
    url = f"/handover/inspections/{insp_id}/rooms/kitchen/items/{item.id}"
    resp = client.post(url, headers=HX, data={"csrf_token": token, "result": "defect", "location": "sink"})
    assert resp.status_code == 422 and "A photo is required for this defect" in resp.get_data(as_text=True)
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "csrf_token": token, "result": "defect", "location": "under the sink", "description": "leaking trap",
        "photos": (io.BytesIO(jpeg_bytes()), "d.jpg")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'aria-pressed="true"' in html and "under the sink" in html
    page = client.get(f"/handover/inspections/{insp_id}/sign").get_data(as_text=True)
    assert "Defects found in 3-1-1201" in page and "under the sink" in page and 'class="pad"' in page
    resp = client.post(f"/handover/inspections/{insp_id}/sign", data={
        "csrf_token": token, "engineer_name": "刘工", "owner_name": "张伟",
        "engineer_signature": signature(), "owner_signature": ""})
    assert resp.status_code == 422 and "Both people must sign" in resp.get_data(as_text=True)
    resp = client.post(f"/handover/inspections/{insp_id}/sign", data={
        "csrf_token": token, "engineer_name": "刘工", "owner_name": "张伟",
        "engineer_signature": signature(), "owner_signature": signature(shift=30)})
    assert resp.status_code == 302
    order = session.scalar(select(WorkOrder))
    assert (order.source, order.unit_id, order.team.code) == ("handover", unit.id, "engineering")
    # The crew sees where to go: the estate and the unit, in the list and on the order.
    listed = client.get("/orders").get_data(as_text=True)
    shown = client.get(f"/orders/{order.id}").get_data(as_text=True)
    for html in (listed, shown):
        assert f"{demo.site.t()} 3-1-1201" in html or "Jade Lake Gardens 3-1-1201" in html
    assert client.get(f"/handover/inspections/{insp_id}/signatures/owner.png").mimetype == "image/png"

    # The printable report: the defects, their photos and both signatures, Chinese rendered.
    from pypdf import PdfReader

    resp = client.get(f"/handover/inspections/{insp_id}/report.pdf?lang=zh_Hans")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    # pypdf interleaves NULs in fpdf2's UTF-16 text (poppler's pdftotext reads it cleanly)
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    assert "3-1-1201" in text and "under the sink" in text and "leaking trap" in text
    assert item.text_zh[:6] in text and "刘工" in text and "张伟" in text
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 3  # the defect's photo and two signatures
    english = PdfReader(io.BytesIO(client.get(f"/handover/inspections/{insp_id}/report.pdf?lang=en").data))
    assert "Defects (1)" in "".join(p.extract_text() for p in english.pages).replace("\x00", "")


def test_signed_inspection_refuses_every_edit(client, auth, demo, session, unit, app):
    insp_id, token = start(client, auth, unit)
    insp = session.get(Inspection, insp_id)
    ho.sign(session, app.extensions["photo_store"], insp, demo.users["engineer"], engineer_name="刘工",
            owner_name="张伟", engineer_sig=signature(), owner_sig=signature())
    item = kitchen_item(session, insp_id)
    resp = client.post(f"/handover/inspections/{insp_id}/rooms/kitchen/items/{item.id}", headers=HX,
                       data={"csrf_token": token, "result": "pass"})
    assert resp.status_code == 409 and "signed and can no longer be changed" in resp.get_data(as_text=True)
    client.post(f"/handover/inspections/{insp_id}/rooms/kitchen/concerns", data={"csrf_token": token, "text": "x"})
    resp = client.post(f"/handover/inspections/{insp_id}/sign", data={
        "csrf_token": token, "engineer_name": "X", "owner_name": "Y",
        "engineer_signature": signature(), "owner_signature": signature()})
    assert resp.status_code in (409, 422)
    session.expire_all()
    insp = session.get(Inspection, insp_id)
    assert insp.engineer_signed_name == "刘工" and not insp.defects
    assert session.scalar(select(func.count(Defect.id))) == 0


def test_crew_and_other_sites_get_404(client, auth, demo, unit):
    insp_id, token = start(client, auth, unit)
    client.post("/logout", data={"csrf_token": token})
    auth.login("crew.cleaning")
    for path in ("/handover/", f"/handover/units/{unit.id}", f"/handover/inspections/{insp_id}"):
        assert client.get(path).status_code == 404, path
    client.post("/logout", data={"csrf_token": auth.token("/orders")})
    other_site()
    auth.login("sup.other")
    assert client.get(f"/handover/units/{unit.id}").status_code == 404
    assert client.get(f"/handover/inspections/{insp_id}").status_code == 404


@pytest.fixture
def owner_setup(client, auth, demo, session, unit, app):
    """A signed inspection with one defect whose order has an internal comment, and a fresh link."""
    insp_id, token = start(client, auth, unit)
    insp = session.get(Inspection, insp_id)
    item = kitchen_item(session, insp_id)
    from app.services.photos import normalise
    from app.services.uploads import store_photos

    [p] = store_photos(session, app.extensions["photo_store"], demo.site, demo.users["engineer"],
                       [normalise(jpeg_bytes())])
    session.commit()
    ho.answer(session, insp, "kitchen", item, demo.users["engineer"], result="defect", photos=[p],
              location="under the sink")
    ho.sign(session, app.extensions["photo_store"], insp, demo.users["engineer"], engineer_name="刘工",
            owner_name="张伟", engineer_sig=signature(), owner_sig=signature())
    order = session.scalar(select(WorkOrder))
    wo.act(session, order, demo.users["supervisor"], "comment", note="INTERNAL: contractor blames the tiler")
    resp = client.post(f"/handover/units/{unit.id}/link", data={"csrf_token": token})
    html = resp.get_data(as_text=True)
    assert "<svg" in html  # the QR code
    link = re.search(r'<textarea id="owner-url"[^>]*>(http://[^<]+/o/[\w-]+)</textarea>', html).group(1)
    return link.split("/o/", 1)[1], order, p


def test_owner_link_shows_its_unit_only_and_no_internal_notes(client, owner_setup, unit, session):
    token, order, photo = owner_setup
    anon = client.application.test_client()
    resp = anon.get(f"/o/{token}", headers={"Accept-Language": "zh-CN"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "3-1-1201" in html and "整改中" in html
    assert "INTERNAL" not in html and "tiler" not in html
    assert "刘工" not in html and "王助理" not in html and "Wang" not in html  # no staff names
    assert "3-1-1202" not in html and "under the sink" in html
    assert resp.headers["Cache-Control"] == "no-store"
    assert anon.get(f"/o/{token}/photos/{photo.id}/thumb.jpg").status_code == 200


def test_altered_revoked_and_other_units_links_refused(client, auth, owner_setup, demo, session, unit):
    token, order, photo = owner_setup
    anon = client.application.test_client()
    altered = token[:-2] + ("xy" if token[-2:] != "xy" else "zz")
    resp = anon.get(f"/o/{altered}", headers={"Accept-Language": "en"})
    assert resp.status_code == 404 and "no longer valid" in resp.get_data(as_text=True)
    other = session.scalar(select(Unit).where(Unit.room == "1202", Unit.unit_no == "1"))
    other_token, _ = ho.create_owner_link(session, other, demo.users["engineer"])
    # unit B's link never shows unit A's photo
    assert anon.get(f"/o/{other_token}/photos/{photo.id}/full.jpg").status_code == 404
    assert "under the sink" not in anon.get(f"/o/{other_token}").get_data(as_text=True)
    client.post(f"/handover/units/{unit.id}/link/revoke", data={"csrf_token": auth.token(f"/handover/units/{unit.id}")})
    assert anon.get(f"/o/{token}").status_code == 404


def test_project_view_counts_link_to_lists_and_export(client, auth, demo, session, unit, app):
    insp_id, token = start(client, auth, unit)
    insp = session.get(Inspection, insp_id)
    eng = demo.users["engineer"]
    from app.services.photos import normalise
    from app.services.uploads import store_photos

    [p] = store_photos(session, app.extensions["photo_store"], demo.site, eng, [normalise(jpeg_bytes())])
    kitchen = [i for i in insp.version.items if i.room == "kitchen"][:2]
    for it in kitchen:
        ho.answer(session, insp, "kitchen", it, eng, result="defect", photos=[p])
    bed = next(i for i in insp.version.items if i.room == "bedroom")
    ho.answer(session, insp, "bedroom-1", bed, eng, result="defect", photos=[p],
              team=demo.teams["contractor_huajian"])
    ho.add_concern(session, insp, "balcony", "rack too low", [])
    ho.sign(session, app.extensions["photo_store"], insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    html = client.get(f"/handover/project?site={demo.site.id}").get_data(as_text=True)
    assert "4 defects" in html
    assert re.search(r'room=kitchen">Kitchen</a></th><td class="num">2<', html)
    assert re.search(r'room=bedroom">Bedroom</a></th><td class="num">1<', html)
    assert re.search(r'category=owner_concern">Owner&#39;s concerns</a></th><td class="num">1<', html) or \
        re.search(r"category=owner_concern\">Owner's concerns</a></th><td class=\"num\">1<", html)
    assert re.search(r"status=defects_open\">Defects open</a></th><td class=\"num\">1<", html)
    team = demo.teams["contractor_huajian"].id
    listing = client.get(f"/handover/defects?site={demo.site.id}&team={team}&order=open").get_data(as_text=True)
    assert "1 defect" in listing and "3-1-1201" in listing
    csv_resp = client.get(f"/handover/defects.csv?site={demo.site.id}&room=kitchen")
    body = csv_resp.get_data(as_text=True)
    assert csv_resp.mimetype == "text/csv" and body.startswith("\ufeffdefect,unit,room")
    assert body.count("3-1-1201,kitchen") == 2


def test_typed_details_autosave_without_replacing_the_form(client, auth, demo, session, unit):
    """A blur in 'Where in the room' saves the draft and answers 204: nothing typed is lost."""
    insp_id, token = start(client, auth, unit)
    item = kitchen_item(session, insp_id)
    url = f"/handover/inspections/{insp_id}/rooms/kitchen/items/{item.id}"
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "csrf_token": token, "photos": (io.BytesIO(jpeg_bytes()), "d.jpg")})
    assert resp.status_code == 200 and "now tap Defect" in resp.get_data(as_text=True)
    resp = client.post(url, headers=HX, data={"csrf_token": token, "location": "under the sink"})
    assert resp.status_code == 204
    resp = client.post(url, headers=HX, data={"csrf_token": token, "result": "defect"})
    assert resp.status_code == 200
    defect = session.scalar(select(Defect))
    assert defect.location == "under the sink" and len(defect.photos) == 1


def test_owner_page_shows_the_defects_own_description_first(client, auth, demo, session, unit, app):
    """The owner reads the problem the engineer wrote, then where, then the standard it falls short of."""
    insp_id, token = start(client, auth, unit)
    insp = session.get(Inspection, insp_id)
    wall = next(i for i in insp.version.items if i.room == "bathroom" and i.category == "walls_ceilings")
    eng = demo.users["engineer"]
    from app.services.photos import normalise
    from app.services.uploads import store_photos

    [p] = store_photos(session, app.extensions["photo_store"], demo.site, eng, [normalise(jpeg_bytes())])
    ho.answer(session, insp, "bathroom-2", wall, eng, result="defect", photos=[p],
              description="墙面空鼓开裂约30厘米", location="淋浴间北墙")
    ho.sign(session, app.extensions["photo_store"], insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    owner_token, _link = ho.create_owner_link(session, unit, eng)
    html = client.application.test_client().get(
        f"/o/{owner_token}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    card = re.search(r'<li class="card" id="d-\d+">(.*?)</li>', html, re.S).group(1)
    title = re.search(r'<p class="otitle">(.*?)</p>', card, re.S).group(1)
    assert title == "卫生间 2 · 墙面空鼓开裂约30厘米"
    assert "位置：淋浴间北墙" in card
    assert card.index("墙面空鼓开裂约30厘米") < card.index(wall.text_zh)  # the standard comes after


def test_defect_badge_shows_the_severity_the_engineer_chose(client, auth, demo, session, unit):
    """A defect marked minor on a major item shows Minor, on the room page and after a reload."""
    insp_id, token = start(client, auth, unit)
    item = next(i for i in session.get(Inspection, insp_id).version.items
                if i.room == "kitchen" and i.severity == "major")
    url = f"/handover/inspections/{insp_id}/rooms/kitchen/items/{item.id}"
    resp = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "csrf_token": token, "result": "defect", "severity": "minor", "photos": (io.BytesIO(jpeg_bytes()), "d.jpg")})
    assert resp.status_code == 200
    badge = re.search(r'<span class="sev sev-(\w+)"[^>]*>([^<]+)</span>', resp.get_data(as_text=True))
    assert badge.groups() == ("minor", "Minor")
    page = client.get(f"/handover/inspections/{insp_id}/rooms/kitchen").get_data(as_text=True)
    form = page[page.index(f'id="hi-{item.id}"'):]
    assert re.search(r'<span class="sev sev-(\w+)"', form).group(1) == "minor"


def test_bad_photo_with_the_owners_concern_is_refused_in_place_text_kept(client, auth, demo, session, unit):
    """htmx: 422 and the concerns section, the refusal first and focused, the typed text still there."""
    insp_id, token = start(client, auth, unit)
    url = f"/handover/inspections/{insp_id}/rooms/balcony/concerns"
    typed = "阳台门上方有裂缝，业主担心漏雨"
    bad = {"csrf_token": token, "text": typed, "photos": (io.BytesIO(b"not a photo at all"), "x.jpg")}
    resp = client.post(url, headers={**HX, "Accept-Language": "zh-CN"}, content_type="multipart/form-data",
                       data=bad)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and html.lstrip().startswith('<section id="concerns"')
    alert = re.search(r'<p class="[^"]*" role="alert"[^>]*autofocus[^>]*>([^<]+)</p>', html)
    assert alert and "照片" in alert.group(1)  # said in the owner's language
    assert re.search(rf">\s*{typed}</textarea>", html)
    assert session.scalar(select(func.count(Defect.id))) == 0
    # Without JavaScript: the whole room page, 422, the same refusal and text.
    bad["photos"] = (io.BytesIO(b"not a photo at all"), "x.jpg")
    resp = client.post(url, content_type="multipart/form-data", data=bad)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<h1>Balcony</h1>" in html and re.search(rf">\s*{typed}</textarea>", html)
    assert re.search(r'role="alert"[^>]*autofocus', html)
    # A good one is recorded; htmx gets the section back with the concern listed and an empty form.
    resp = client.post(url, headers=HX, data={"csrf_token": token, "text": typed})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "The owner&#39;s concern is recorded." in html
    assert f"<li>{typed}" in html and re.search(r'name="text"[^>]*>\s*</textarea>', html)  # emptied
    resp = client.post(url, headers=HX, data={"csrf_token": token, "text": "  "})
    assert resp.status_code == 422 and "Write the owner&#39;s concern." in resp.get_data(as_text=True)


def _reinspection_of_a_fixed_defect(client, auth, demo, session, unit, app):
    """A signed inspection whose one defect was fixed and verified, and the re-inspection started:
    (re-inspection, defect, order, token)."""
    insp_id, token = start(client, auth, unit)
    insp = session.get(Inspection, insp_id)
    eng, sup = demo.users["engineer"], demo.users["supervisor"]
    from app.services.photos import normalise
    from app.services.uploads import store_photos

    [p] = store_photos(session, app.extensions["photo_store"], demo.site, eng, [normalise(jpeg_bytes())])
    ho.add_concern(session, insp, "balcony", "Crack above the door", [p])
    ho.sign(session, app.extensions["photo_store"], insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    order = session.scalar(select(WorkOrder))
    wo.act(session, order, sup, "resolve", note="filled", photos=[p])
    wo.act(session, order, sup, "verify")
    reinsp = ho.start_reinspection(session, unit, eng, "张伟")
    defect = session.scalar(select(Defect))
    return reinsp, defect, order, token


def test_rejection_with_a_bad_photo_is_refused_in_place_reason_kept(client, auth, demo, session, unit, app):
    """Re-inspection: a rejection whose photo is not an image answers 422 with the card, reason kept."""
    reinsp, defect, order, token = _reinspection_of_a_fixed_defect(client, auth, demo, session, unit, app)
    url = f"/handover/inspections/{reinsp.id}/checks/{defect.id}/reject"
    reason = "裂缝还在，雨后渗水"
    resp = client.post(url, headers={**HX, "Accept-Language": "zh-CN"}, content_type="multipart/form-data",
                       data={"csrf_token": token, "reason": reason, "photos": (io.BytesIO(b"%PDF-1.4"), "x.jpg")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and html.lstrip().startswith(f'<li class="card" id="d-{defect.id}">')
    assert re.search(r'<details class="card" open>', html)
    alert = re.search(r'<p class="[^"]*" role="alert"[^>]*autofocus[^>]*>([^<]+)</p>', html)
    assert alert and "照片" in alert.group(1)
    assert f">{reason}</textarea>" in html
    session.expire_all()
    assert session.get(WorkOrder, order.id).status == "closed" and not reinsp.checks
    resp = client.post(url, content_type="multipart/form-data",  # without JavaScript: the page, 422
                       data={"csrf_token": token, "reason": reason, "photos": (io.BytesIO(b"%PDF"), "x.jpg")})
    assert resp.status_code == 422 and "<h1>Re-inspection" in resp.get_data(as_text=True)
    assert f">{reason}</textarea>" in resp.get_data(as_text=True)
    resp = client.post(url, headers=HX, content_type="multipart/form-data",
                       data={"csrf_token": token, "reason": reason, "photos": (io.BytesIO(jpeg_bytes()), "y.jpg")})
    assert resp.status_code == 200 and "Fix not accepted" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(WorkOrder, order.id).status == "open"


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_a_hostile_photo_on_a_rejection_is_refused_with_the_reason_kept(client, auth, demo, session, unit, app,
                                                                         name):
    """Every file of the hostile suite beside a good photo: 422 naming the problem, the reason kept, the
    order still closed and nothing stored."""
    reinsp, defect, order, token = _reinspection_of_a_fixed_defect(client, auth, demo, session, unit, app)
    before = (session.scalar(select(func.count(Photo.id))), stored_files(app))
    resp = client.post(f"/handover/inspections/{reinsp.id}/checks/{defect.id}/reject",
                       headers={**HX, "Accept-Language": "en"}, content_type="multipart/form-data",
                       data={"csrf_token": token, "reason": "the crack is back after the rain",
                             "photos": good_and_hostile(name)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html
    assert ">the crack is back after the rain</textarea>" in html
    session.expire_all()
    assert session.get(WorkOrder, order.id).status == "closed" and not reinsp.checks
    assert (session.scalar(select(func.count(Photo.id))), stored_files(app)) == before


def test_owner_link_box_has_copy_and_share_buttons(client, auth, demo, unit):
    """The new link shows whole in a box, with a copy button and a share button (shown by the script)."""
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    html = client.post(f"/handover/units/{unit.id}/link", data={"csrf_token": token}).get_data(as_text=True)
    assert re.search(r'<textarea id="owner-url" class="linkbox" readonly', html)
    assert re.search(r'<button type="button"[^>]*data-copy="owner-url"[^>]*>Copy the link</button>', html)
    assert re.search(r'<button type="button"[^>]*data-share="owner-url"[^>]*>Share the link</button>', html)
    assert '<p class="hint" id="owner-url-status" role="status"></p>' in html
