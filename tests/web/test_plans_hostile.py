"""Hostile input on the floor-plan routes: plan uploads, rooms and pins out of range, other people's data,
junk heat-map filters, a missing CSRF token, a double tap. A clear message, nothing changed, never a 500."""
import io

import pytest
from sqlalchemy import func, select

from app.models import Defect, Inspection, Layout, Photo, PlanRoom, Unit
from tests.unit.test_plans import pdf, png
from tests.web.test_hostile_inputs import HOSTILE_FILES, good_and_hostile, png_declaring, stored_files

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def unit(demo, session):
    return session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))


def _pdf_with(page: bytes, *more: bytes, trailer_extra: bytes = b"") -> bytes:
    """A one-page PDF with this page dictionary (object 3), any further objects, and a correct xref."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, *more]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, trailer_extra, xref)
    return bytes(out)


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf())))
    writer.encrypt("secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


HOSTILE_PLANS = {
    "not an image": (b"hello, this is text", "This file is not a floor plan"),
    "empty": (b"", "This file is not a floor plan"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "This file is not a floor plan"),
    "png 65535²": (png_declaring(65535, 65535, with_data=False), "too large"),
    "gif/js polyglot": (HOSTILE_FILES["gif/js polyglot"][0], "This file is not a floor plan"),
    "html behind jpeg magic": (HOSTILE_FILES["html behind jpeg magic"][0], "damaged"),
    "truncated png": (HOSTILE_FILES["truncated png"][0], "damaged"),
    "pdf without pages": (b"%PDF-1.4\n%%EOF\n", "This PDF has no pages"),
    "pdf damaged": (pdf()[:len(pdf()) // 2], "cannot be read"),
    "pdf encrypted": (_encrypted_pdf(), "cannot be read"),
    "pdf page 100000² pt": (_pdf_with(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100000 100000] >>"),
                            "no size we can draw"),
    "pdf page negative": (_pdf_with(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 -500 -500] >>"),
                          "no size we can draw"),
    "pdf page a sliver": (_pdf_with(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 0.01 14000] >>"),
                          "too narrow to draw rooms on"),
    "png a sliver": (png(3, 2000), "too narrow to draw rooms on"),
    "pdf page with a huge UserUnit": (_pdf_with(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14000 14000] "
                                                b"/UserUnit 75000 >>"), ""),
    "pdf behind a png": (png(40, 30) + pdf(), ""),
    "over 20 MB": (png(40, 30) + b"\0" * (20 * 1024 * 1024), "larger than 20 MB"),
}


@pytest.mark.parametrize("name", HOSTILE_PLANS)
def test_hostile_plan_upload_is_refused_and_the_plan_stays(client, auth, demo, session, unit, name):
    auth.login("engineer")
    token = auth.token("/handover/layouts")
    lay = unit.layout
    before = (lay.plan_key, lay.plan_width, lay.plan_height)
    data, expected = HOSTILE_PLANS[name]
    resp = client.post(f"/handover/layouts/{lay.id}/plan", headers=EN, content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), "plan.pdf")})
    html = resp.get_data(as_text=True)
    assert resp.status_code in (302, 422), resp.status_code
    if resp.status_code == 422:
        assert expected in html
        session.expire_all()
        assert (lay.plan_key, lay.plan_width, lay.plan_height) == before


# Not a spot on the plan (Python's Decimal reads "1_0" and "٣" as 10 and 3, which are spots).
JUNK_NUMBERS = ["NaN", "nan", "sNaN", "-sNaN", "Infinity", "-inf", "1e999999", "-1", "100.01", "abc", "", " ",
                "0x10", "10" * 400, "1,5"]


@pytest.mark.parametrize("value", JUNK_NUMBERS)
def test_a_room_corner_out_of_range_or_not_a_number_is_refused(client, auth, demo, session, unit, value):
    auth.login("engineer")
    token = auth.token("/handover/layouts")
    rooms = count(session, PlanRoom)
    resp = client.post(f"/handover/layouts/{unit.layout_id}/rooms", headers=EN, data={
        "csrf_token": token, "room_key": "kitchen", "x0": "10", "y0": value, "x1": "40", "y1": "30"})
    assert resp.status_code == 422 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(session, PlanRoom) == rooms


@pytest.fixture
def walk(client, auth, demo, session, unit):
    """An engineer's inspection of 3-1-1201 with one owner's concern pinned."""
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/inspections", data={"csrf_token": token, "owner_present": "张伟"})
    insp_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    resp = client.post(f"/handover/inspections/{insp_id}/plan/new", data={
        "csrf_token": token, "x": "87.5", "y": "55", "room_key": "bathroom-2", "item": "",
        "description": "门关不严", "severity": "minor"})
    assert resp.status_code == 302
    return insp_id, session.scalar(select(Defect)), token


@pytest.mark.parametrize("value", JUNK_NUMBERS)
def test_a_pin_out_of_range_or_not_a_number_is_refused(client, walk, session, value):
    insp_id, d, token = walk
    resp = client.post(f"/handover/inspections/{insp_id}/defects/{d.id}/pin", headers=EN,
                       data={"csrf_token": token, "x": value, "y": "50"})
    assert resp.status_code == 422 and "Tap the plan where the defect is." in resp.get_data(as_text=True)
    session.expire_all()
    assert (d.pin_x, d.pin_y) == (0.875, 0.55)
    resp = client.get(f"/handover/inspections/{insp_id}/plan/new", query_string={"x": value, "y": "50"})
    assert resp.status_code == 302
    resp = client.post(f"/handover/inspections/{insp_id}/plan/new", headers=EN, data={
        "csrf_token": token, "x": value, "y": "50", "room_key": "kitchen", "item": "", "description": "x"})
    assert resp.status_code == 422 and 'role="alert"' in resp.get_data(as_text=True)
    assert count(session, Defect) == 1


@pytest.mark.parametrize("query", ["team=abc", "team=-1", "team=99999999999999999999999", "category=" + "x" * 5000,
                                   "category=%00", "room=%00", "order=%00&cell=%00", "team=1&team=2", "category=%F0%9F%92%A9", "team=1e3",
                                   "cell=abc&layout=abc", "layout=1&cell=-1--1", "layout=1&cell=99999999999-0",
                                   "layout=99999999999999999999&cell=1-1", "layout=²&cell=1-1", "item=99999999999999",
                                   "building=4294967297"])
def test_heatmap_and_defect_list_filters_with_junk_are_ignored(client, auth, demo, unit, query):
    auth.login("manager")
    for url in (f"/handover/layouts/{unit.layout_id}/heatmap", f"/handover/layouts/{unit.layout_id}/heatmap.png",
                f"/handover/defects?site={demo.site.id}"):
        resp = client.get(url + "?" + query if "?" not in url else url + "&" + query, headers=EN)
        assert resp.status_code == 200, (url, resp.status_code)


def test_ids_beyond_an_integer_are_nothing_here(client, walk, session):
    """A defect to move or a checklist item given as a number no column holds: 404, not a server error."""
    insp_id, d, token = walk
    assert client.get(f"/handover/inspections/{insp_id}/plan?move=99999999999999999999").status_code == 404
    assert client.get(f"/handover/inspections/{insp_id}/plan?move=abc").status_code == 200
    resp = client.post(f"/handover/inspections/{insp_id}/plan/new", headers=EN, data={
        "csrf_token": token, "x": "20", "y": "50", "room_key": "kitchen", "item": "99999999999999999999",
        "description": "x", "severity": "minor"})
    assert resp.status_code in (404, 422) and count(session, Defect) == 1


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_a_hostile_photo_on_a_defect_pinned_on_the_plan_is_refused_with_the_words_kept(client, walk, session, app,
                                                                                        name):
    """Every file of the hostile suite beside a good photo, on 'Record the defect' from the plan: 422 naming
    the problem, the words and the spot kept, no defect and nothing stored."""
    insp_id, d, token = walk
    before = (count(session, Defect), count(session, Photo), stored_files(app))
    resp = client.post(f"/handover/inspections/{insp_id}/plan/new", headers=EN, content_type="multipart/form-data",
                       data={"csrf_token": token, "x": "20", "y": "50", "room_key": "kitchen", "item": "",
                             "description": "tile cracked by the sink", "severity": "major",
                             "photos": good_and_hostile(name)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html
    assert "tile cracked by the sink</textarea>" in html
    session.expire_all()
    assert (count(session, Defect), count(session, Photo), stored_files(app)) == before


def test_a_double_tap_on_record_the_defect_records_one(client, walk, session):
    """The same concern at the same spot twice (a double tap) is one defect; other words are another;
    a checklist item tapped twice is its one answer."""
    insp_id, d, token = walk
    for _ in range(2):
        resp = client.post(f"/handover/inspections/{insp_id}/plan/new", data={
            "csrf_token": token, "x": "20", "y": "50", "room_key": "living_room", "item": "",
            "description": "墙面裂缝", "severity": "major"})
        assert resp.status_code == 302
    assert count(session, Defect) == 2
    resp = client.post(f"/handover/inspections/{insp_id}/plan/new", data={
        "csrf_token": token, "x": "20", "y": "50", "room_key": "living_room", "item": "",
        "description": "另一处裂缝", "severity": "major"})
    assert resp.status_code == 302 and count(session, Defect) == 3
    item = session.scalar(select(Inspection).where(Inspection.id == insp_id)).version.items
    kitchen = next(i for i in item if i.room == "kitchen" and not i.photo_required_on_fail)
    for _ in range(2):
        resp = client.post(f"/handover/inspections/{insp_id}/plan/new", data={
            "csrf_token": token, "x": "60", "y": "20", "room_key": "kitchen", "item": str(kitchen.id),
            "description": "缝隙", "severity": "minor"})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 302, (resp.status_code, html[html.find("role=\"alert\""):][:300], html.count("error"))
    assert count(session, Defect) == 4
def test_no_csrf_token_changes_nothing(client, walk, session, unit):
    insp_id, d, token = walk
    rooms = count(session, PlanRoom)
    for url, data in ((f"/handover/inspections/{insp_id}/defects/{d.id}/pin", {"x": "20", "y": "50"}),
                      (f"/handover/inspections/{insp_id}/plan/new", {"x": "20", "y": "50", "room_key": "kitchen",
                                                                     "description": "x"}),
                      (f"/handover/layouts/{unit.layout_id}/rooms", {"room_key": "kitchen", "x0": 1, "y0": 1,
                                                                     "x1": 50, "y1": 50}),
                      (f"/handover/layouts/{unit.layout_id}/plan", {"file": (png(), "p.png")}),
                      (f"/handover/units/{unit.id}/layout", {"layout": "X"}),
                      ("/handover/layouts", {"name": "Z"})):
        for headers, words in ((EN, "This page has expired"), (ZH, "页面已过期")):
            sent = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
            resp = client.post(url, data=sent, headers=headers)
            assert resp.status_code == 400 and words in resp.get_data(as_text=True), url
    session.expire_all()
    assert (d.pin_x, count(session, Defect), count(session, PlanRoom)) == (0.875, 1, rooms)
    assert unit.layout.name != "X" and count(session, Layout) == 2


def test_pins_of_a_signed_inspection_and_other_units_defects_do_not_move(client, walk, session, demo, unit, app):
    insp_id, d, token = walk
    other = session.scalar(select(Unit).where(Unit.room == "1202", Unit.unit_no == "1"))
    resp = client.post(f"/handover/units/{other.id}/inspections", data={"csrf_token": token, "owner_present": "李"})
    other_insp = int(resp.headers["Location"].rsplit("/", 1)[1])
    for url in (f"/handover/inspections/{other_insp}/defects/{d.id}/pin",):
        assert client.post(url, data={"csrf_token": token, "x": "5", "y": "5"}, headers=EN).status_code == 404
    assert client.get(f"/handover/inspections/{other_insp}/plan?move={d.id}").status_code == 404
    assert client.get(f"/handover/inspections/{other_insp}/plan?move=abc").status_code == 200
    session.get(Inspection, insp_id).status = "signed"
    session.commit()
    for headers, words in ((EN, "can no longer"), (ZH, "已签")):
        resp = client.post(f"/handover/inspections/{insp_id}/defects/{d.id}/pin", headers=headers,
                           data={"csrf_token": token, "x": "30", "y": "50"})
        assert resp.status_code == 409 and words in resp.get_data(as_text=True)
        resp = client.post(f"/handover/inspections/{insp_id}/plan/new", headers=headers, data={
            "csrf_token": token, "x": "20", "y": "50", "room_key": "living_room", "item": "",
            "description": "late", "severity": "major"})
        assert resp.status_code in (409, 422) and words in resp.get_data(as_text=True), resp.status_code
    session.expire_all()
    assert (d.pin_x, count(session, Defect)) == (0.875, 1)




def test_another_sites_layout_and_original_photo_are_nothing_here(client, auth, demo, session, unit, app):
    """A manager of another estate: the demo's layouts (page, plan, upload, rooms, heat map) and the
    original of a marked-up photo are 404 in their language, and nothing changes."""
    from app.models import Photo, User
    from tests.web.helpers import jpeg_bytes, other_site

    site = other_site()
    boss = User(username="boss.other", display_name="boss", role="manager")
    boss.set_password("rounds-demo")
    boss.sites.append(site)
    session.add(boss)
    photo = Photo(site_id=demo.site.id, sha256="a" * 64, thumb_sha256="b" * 64, width=1, height=1, size_bytes=1)
    original = Photo(site_id=demo.site.id, sha256="c" * 64, thumb_sha256="d" * 64, width=1, height=1, size_bytes=1)
    session.add_all([photo, original])
    session.flush()
    photo.original_id = original.id
    session.commit()
    auth.login("boss.other")
    token = auth.token("/handover/layouts")
    lay = unit.layout
    before = (lay.plan_key, len(lay.rooms), lay.name)
    for headers, words in ((EN, "There is nothing here"), (ZH, "没有")):
        for url in (f"/handover/layouts/{lay.id}", f"/handover/layouts/{lay.id}/heatmap",
                    f"/photos/{photo.id}/original.jpg"):
            resp = client.get(url, headers=headers)
            assert resp.status_code == 404 and words in resp.get_data(as_text=True), url
        resp = client.post(f"/handover/layouts/{lay.id}/plan", headers=headers, content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(jpeg_bytes()), "p.jpg")})
        assert resp.status_code == 404
        resp = client.post(f"/handover/layouts/{lay.id}/rooms/{lay.rooms[0].id}/delete", headers=headers,
                           data={"csrf_token": token})
        assert resp.status_code == 404
    resp = client.get(f"/handover/layouts?site={demo.site.id}", headers=EN)
    assert f"/handover/layouts/{lay.id}\"" not in resp.get_data(as_text=True)
    session.expire_all()
    assert (lay.plan_key, len(lay.rooms), lay.name) == before


def _pdf_of_strokes(n: int) -> bytes:
    """A PDF of some 100 KB whose first page is `n` strokes (compressed): minutes of drawing for PDFium."""
    import zlib

    stream = zlib.compress(b"0 0 m 100 100 l S\n" * n, 9)
    return _pdf_with(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 600] /Contents 4 0 R >>",
                     b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")


def test_a_pdf_that_takes_too_long_to_draw_is_refused_in_time(client, auth, demo, session, unit, monkeypatch):
    """A small PDF holding millions of strokes: drawn in a child process with a CPU limit, refused
    with a message in the engineer's language, and the plan unchanged."""
    import time

    from app.services import plans

    monkeypatch.setattr(plans, "PDF_SECONDS", 1)
    auth.login("engineer")
    token = auth.token("/handover/layouts")
    lay = unit.layout
    before = lay.plan_key
    data = _pdf_of_strokes(3_000_000)
    assert len(data) < 200_000
    started = time.monotonic()
    resp = client.post(f"/handover/layouts/{lay.id}/plan", headers=EN, content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), "plan.pdf")})
    assert time.monotonic() - started < 8
    assert resp.status_code == 422 and "This PDF takes too long to draw." in resp.get_data(as_text=True)
    session.expire_all()
    assert lay.plan_key == before
    ok = plans.normalise_plan(pdf())  # an ordinary PDF is drawn as before
    assert ok[2] == 2000


def test_a_plan_beyond_the_request_limit_is_refused_in_the_users_language(client, auth, demo, unit, app):
    """A file larger than any request may be (MAX_CONTENT_LENGTH): 413 with a message, plan unchanged."""
    auth.login("engineer")
    token = auth.token("/handover/layouts")
    big = b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    for headers, words in ((EN, "This plan is larger than 20 MB."), (ZH, "20 MB")):
        resp = client.post(f"/handover/layouts/{unit.layout_id}/plan", headers=headers,
                           content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(big), "plan.pdf")})
        assert resp.status_code == 413 and words in resp.get_data(as_text=True)
