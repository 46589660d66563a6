"""Photos drawn on before saving (static/markup.js): the marked photo and its original arrive together,
both are checked and stored, pages show the marked one, and only staff who may see it open the original."""
import io

import pytest
from sqlalchemy import func, select

from app.models import Answer, Defect, Inspection, Photo, Unit, WorkOrder, WorkOrderEvent
from tests.web.helpers import item_url, jpeg_bytes, other_site, started_morning
from tests.web.test_hostile_inputs import HOSTILE_FILES, png_declaring, stored_files

HX = {"HX-Request": "true", "Accept-Language": "en"}
EN = {"Accept-Language": "en"}


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def pair(name="m1abc.jpg", colour=(30, 90, 160)):
    """A photo and the same photo with a red stroke across it, as markup.js sends them (one file name)."""
    original = jpeg_bytes((400, 300), color=colour)
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (400, 300), colour)
    ImageDraw.Draw(img).line((40, 150, 360, 150), fill=(232, 37, 31), width=12)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return (io.BytesIO(buf.getvalue()), name), (io.BytesIO(original), name)


@pytest.fixture
def walk(client, auth, demo):
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    return rnd, url, token


def _fail(client, url, token, photos, originals, note="litter by the gate"):
    return client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "note": note, "csrf_token": token, "photos": photos, "originals": originals})


def test_a_marked_photo_is_stored_with_its_original_and_shown_marked(client, walk, session, app):
    """The item keeps the marked photo (shown, with an "Original" link); the original is stored and linked."""
    rnd, url, token = walk
    marked, original = pair()
    resp = _fail(client, url, token, [marked], [original])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    answer = session.scalar(select(Answer))
    assert len(answer.photos) == 1 and count(session, Photo) == 2
    shown = answer.photos[0]
    assert shown.original_id is not None and shown.original.id != shown.id
    assert f"/photos/{shown.id}/thumb.jpg" in html and f"/photos/{shown.original_id}/" not in html
    assert f"/photos/{shown.id}/original.jpg" in html and ">Original</a>" in html
    # The work order raised by the failure shows the marked photo too.
    order_page = client.get(f"/orders/{session.scalar(select(WorkOrder)).id}").get_data(as_text=True)
    assert f"/photos/{shown.id}/thumb.jpg" in order_page and f"/photos/{shown.id}/original.jpg" in order_page
    # The original opens for the supervisor and is the unmarked picture: no red where the stroke is.
    resp = client.get(f"/photos/{shown.id}/original.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.headers["Cache-Control"].startswith("private")
    from PIL import Image

    orig_px = Image.open(io.BytesIO(resp.data)).convert("RGB").getpixel((200, 150))
    marked_px = Image.open(io.BytesIO(client.get(f"/photos/{shown.id}/full.jpg").data)).convert("RGB").getpixel((200, 150))
    assert marked_px[0] > 180 and marked_px[2] < 90 and orig_px[2] > 120


def test_the_original_is_for_staff_who_see_the_photo_only(client, auth, walk, session, demo):
    """Crew of the order's team open it; another team's crew, another estate and nobody logged in do not;
    a photo nobody drew on has no original."""
    rnd, url, token = walk
    marked, original = pair()
    assert _fail(client, url, token, [marked], [original]).status_code == 200
    plain_url, _, _ = item_url(rnd, "patrol_residential_common", "bins_not_overflowing")
    client.post(plain_url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "note": "full", "csrf_token": token,
        "photos": (io.BytesIO(jpeg_bytes(color=(0, 200, 0))), "plain.jpg")})
    shown = session.scalar(select(Answer).order_by(Answer.id)).photos[0]
    plain = session.scalar(select(Answer).order_by(Answer.id.desc())).photos[0]
    assert plain.original_id is None
    assert client.get(f"/photos/{plain.id}/original.jpg").status_code == 404
    client.post("/logout", data={"csrf_token": token})
    assert client.get(f"/photos/{shown.id}/original.jpg").status_code == 302  # log in first
    for user, status in (("crew.cleaning", 200), ("crew.engineering", 404), ("manager", 200)):
        auth.login(user)
        assert client.get(f"/photos/{shown.id}/original.jpg").status_code == status, user
        client.post("/logout", data={"csrf_token": auth.token("/orders")})
    other_site()
    auth.login("sup.other")
    assert client.get(f"/photos/{shown.id}/original.jpg").status_code == 404


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_a_hostile_original_is_refused_like_any_photo(client, walk, session, app, name):
    """The marked photo is fine, its "original" is hostile: refused whole, the note kept, nothing stored."""
    rnd, url, token = walk
    files = stored_files(app)  # (the demo's floor plans, if any)
    marked, _ = pair()
    resp = _fail(client, url, token, [marked], [(io.BytesIO(HOSTILE_FILES[name][0]), marked[1])])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html and "litter by the gate" in html
    assert (count(session, Answer), count(session, Photo), stored_files(app)) == (0, 0, files)


def test_an_original_without_its_photo_is_refused_with_the_note_kept(client, walk, session, app):
    """Originals pair with photos by file name; one that matches nothing is refused, nothing stored."""
    rnd, url, token = walk
    files = stored_files(app)
    marked, original = pair()
    resp = _fail(client, url, token, [marked], [(original[0], "other.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "arrived without its original" in html and "litter by the gate" in html
    assert (count(session, Photo), stored_files(app)) == (0, files)
    resp = _fail(client, url, token, [], [pair()[1]])
    assert resp.status_code == 422 and count(session, Photo) == 0


def test_request_caps_count_a_marked_photo_once_and_the_pixels_of_both(client, walk, session, app):
    """Ten marked photos with their originals are one full request; eleven are refused by count; originals
    that declare too many pixels are refused by their headers, before any decode."""
    rnd, url, token = walk
    pairs = [pair(f"m{i}.jpg", colour=(i * 20, 80, 80)) for i in range(10)]
    resp = _fail(client, url, token, [p[0] for p in pairs], [p[1] for p in pairs])
    assert resp.status_code == 200 and len(session.scalar(select(Answer)).photos) == 10
    assert count(session, Photo) == 20
    other_url, _, _ = item_url(rnd, "patrol_residential_common", "bins_not_overflowing")
    pairs = [pair(f"n{i}.jpg", colour=(i * 20, 10, 200)) for i in range(11)]
    resp = _fail(client, other_url, token, [p[0] for p in pairs], [p[1] for p in pairs])
    assert resp.status_code == 422 and "You chose 11 photos; send at most 10" in resp.get_data(as_text=True)
    marked = [pair(f"b{i}.jpg")[0] for i in range(3)]
    bombs = [(io.BytesIO(png_declaring(7000, 7000, tag=i)), f"b{i}.jpg") for i in range(3)]
    resp = _fail(client, other_url, token, marked, bombs)
    assert resp.status_code == 422 and "too large together" in resp.get_data(as_text=True)
    assert count(session, Photo) == 20


def test_an_after_photo_drawn_on_resolves_the_order_and_the_before_photo_is_beside_the_picker(
        client, auth, walk, session, demo):
    """The crew sees the before photo beside the after-photo picker; the marked after photo is the one shown."""
    rnd, url, token = walk
    client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "note": "litter", "csrf_token": token,
        "photos": (io.BytesIO(jpeg_bytes()), "before.jpg")})
    order = session.scalar(select(WorkOrder))
    before = order.before_photos[0]
    client.post("/logout", data={"csrf_token": token})
    auth.login("crew.cleaning")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'class="frame-before"' in page and f'data-before="/photos/{before.id}/full.jpg"' in page
    marked, original = pair("after1.jpg")
    token = auth.token(f"/orders/{order.id}")
    resp = client.post(f"/orders/{order.id}/resolve", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "swept",
        "photos": [marked], "originals": [original]})
    assert resp.status_code == 302
    session.expire_all()
    order = session.get(WorkOrder, order.id)
    after = order.after_photos
    assert order.status == "resolved" and len(after) == 1 and after[0].original_id is not None
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f"/photos/{after[0].id}/original.jpg" in page
    assert client.get(f"/photos/{after[0].id}/original.jpg").status_code == 200


def test_a_handover_defect_keeps_the_marked_photo_and_the_owner_never_sees_the_original(client, auth, demo,
                                                                                       session):
    """An engineer's marked defect photo: the defect holds the marked photo; the owner's link serves it but
    not the original, which the engineer can open."""
    unit = session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/inspections", data={"csrf_token": token, "owner_present": "张伟"})
    insp = session.get(Inspection, int(resp.headers["Location"].rsplit("/", 1)[1]))
    item = next(i for i in insp.version.items if i.room == "kitchen")
    marked, original = pair("d1.jpg")
    resp = client.post(f"/handover/inspections/{insp.id}/rooms/kitchen/items/{item.id}", headers=HX,
                       content_type="multipart/form-data", data={
                           "csrf_token": token, "result": "defect", "description": "cracked tile",
                           "location": "by the sink", "photos": [marked], "originals": [original]})
    assert resp.status_code == 200
    defect = session.scalar(select(Defect))
    assert len(defect.photos) == 1 and defect.photos[0].original_id is not None
    shown = defect.photos[0]
    assert client.get(f"/photos/{shown.id}/original.jpg").status_code == 200
    from app.services import handover as svc

    ids = svc.unit_photo_ids(session, unit)
    assert shown.id in ids and shown.original_id not in ids
