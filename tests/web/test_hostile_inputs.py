"""Hostile input on every route that takes a redirect target or a file: a clear answer, never a 500,
nothing stored, nothing already saved lost."""
import io
import struct
import zlib
from functools import lru_cache

import pytest
from sqlalchemy import func, select

from app.models import Answer, Defect, Inspection, Photo, Unit, WorkOrder, WorkOrderEvent
from app.services import photos as photo_svc
from tests.web.helpers import item_url, jpeg_bytes, started_morning

HX = {"HX-Request": "true", "Accept-Language": "en"}

# What a hostile `next` looks like; every one must send the user to the route's own default page.
HOSTILE_NEXT = [
    "/\r\nSet-Cookie: x=1",        # CR/LF: a header break
    "/\nX",
    "/%0d%0aX",                     # encoded CR/LF (decoded once more by anything downstream)
    "/%250d%250aX",
    "/\t/evil.example",             # browsers drop the tab: //evil.example
    "/\x00/evil.example",
    "/\x7f",
    "\\evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    " /today",
    "today",
    "/\u2028/evil.example",
]


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> int:
    from tests.web.helpers import uploaded_files

    return uploaded_files(app)


# ---- redirect targets ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_next_goes_home_when_hostile(client, auth, demo, target):
    """Logging in with a hostile `next`, and visiting /login with one while logged in, goes home."""
    resp = auth.client.get("/login", query_string={"next": target})
    assert resp.status_code == 200
    from tests.conftest import csrf_from

    token = csrf_from(resp.get_data(as_text=True))
    resp = client.post("/login", query_string={"next": target},
                       data={"username": "supervisor", "password": "rounds-demo", "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.get("/login", query_string={"next": target})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_login_keeps_a_same_site_next(client, auth, demo):
    """The guard does not break the ordinary case: back to the page (query kept, Chinese encoded)."""
    auth.login()
    for target, expected in (("/orders?status=mine", "/orders?status=mine"),
                             ("/today", "/today"), ("/handover?q=卧室", "/handover?q=%E5%8D%A7%E5%AE%A4")):
        resp = client.get("/login", query_string={"next": target})
        assert resp.headers["Location"] == expected


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_language_switch_next_goes_home_when_hostile(client, auth, demo, session, target):
    """The header's language button with a hostile `next`: the language changes, the redirect stays home."""
    auth.login()
    token = auth.token()
    resp = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert demo.users["supervisor"].locale == "en"


@pytest.mark.parametrize("referrer", ["https://evil.example//evil.example/x", "http://x/\\evil", "javascript:x"])
def test_language_switch_without_next_ignores_a_hostile_referrer(client, auth, demo, referrer):
    auth.login()
    token = auth.token()
    resp = client.post("/language", data={"lang": "zh_Hans", "csrf_token": token}, headers={"Referer": referrer})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.post("/language", data={"lang": "en", "csrf_token": token},
                       headers={"Referer": "http://localhost/orders?status=mine"})
    assert resp.headers["Location"] == "/orders?status=mine"


@pytest.fixture
def order(client, auth, demo, session):
    """A cleaning order raised by a failed item; the supervisor stays logged in."""
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, _, _ = item_url(rnd, "patrol_residential_common", "roads_clean")
    client.post(url, headers=HX, content_type="multipart/form-data", data={
        "result": "fail", "note": "litter", "csrf_token": token,
        "photos": (io.BytesIO(jpeg_bytes()), "before.jpg")})
    return session.scalar(select(WorkOrder))


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_comment_with_hostile_next_is_saved_once_and_lands_on_the_order(client, auth, order, session, target):
    """The comment is recorded (once) and the user lands on the order: no 500 after the commit."""
    token = auth.token(f"/orders/{order.id}")
    before = count(session, WorkOrderEvent)
    resp = client.post(f"/orders/{order.id}/comment", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "checked again", "next": target})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/orders/{order.id}"
    assert count(session, WorkOrderEvent) == before + 1
    assert session.scalar(select(WorkOrderEvent.kind).order_by(WorkOrderEvent.id.desc())) == "commented"


def test_comment_keeps_a_same_site_next(client, auth, order):
    token = auth.token(f"/orders/{order.id}")
    resp = client.post(f"/orders/{order.id}/comment", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "ok", "next": "/orders/verify"})
    assert resp.headers["Location"] == "/orders/verify"


def test_safe_next_rules():
    """The one helper: same-site paths pass (non-ASCII encoded), everything else is the default."""
    from app.web import safe_next

    for bad in HOSTILE_NEXT + [None, "", "/" + "a" * 3000]:
        assert safe_next(bad, "/d") == "/d", bad
    assert safe_next("/orders/3?x=1#h", "/d") == "/orders/3?x=1#h"
    assert safe_next("/房间", "/d") == "/%E6%88%BF%E9%97%B4"


# ---- files --------------------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@lru_cache(maxsize=8)
def _idat(width: int, height: int) -> bytes:
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + one bit per pixel, all black
    return comp.compress(row * height) + comp.flush()


def png_declaring(width: int, height: int, tag: int = 0, with_data: bool = True) -> bytes:
    """A small valid 1-bit PNG of `width` x `height` (a few KB for 7000²); `tag` makes each unique."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = _chunk(b"tEXt", b"n\x00" + str(tag).encode()) + (_chunk(b"IDAT", _idat(width, height)) if with_data else b"")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + body + _chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header claims another size (a bomb by header)."""
    data = bytearray(jpeg_bytes((64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_declaring(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00" + b"\x00" * 6 + b";"


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any upload reaches the decoder."""
    calls = []

    def refuse(img, long_edge):
        calls.append(img.size)
        raise AssertionError("decoded")

    monkeypatch.setattr(photo_svc, "_shrink_upright", refuse)
    return calls


def thirty_bombs():
    return [(io.BytesIO(png_declaring(7000, 7000, tag=i)), f"p{i}.png") for i in range(30)]


def eleven_photos():
    return [(io.BytesIO(jpeg_bytes((40, 30), color=(i * 20, 10, 10))), f"p{i}.jpg") for i in range(11)]


@pytest.fixture
def walk(client, auth, demo):
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    return url, token, stop, item


def _answer(client, url, token, photos, result="fail", note="rubbish by the gate", headers=HX):
    return client.post(url, headers=headers, content_type="multipart/form-data", data={
        "result": result, "note": note, "csrf_token": token, "photos": photos})


@pytest.mark.parametrize("lang, expected", [("en", "send at most 10 at a time"), ("zh_Hans", "一次最多 10 张")])
def test_eleven_photos_on_a_round_item_are_refused_in_place(client, walk, session, app, lang, expected,
                                                            no_decoding):
    """Eleven photos: the item comes back at 422 with the message and the note kept; nothing stored."""
    url, token, stop, item = walk
    resp = _answer(client, url, token, eleven_photos(), headers={**HX, "Accept-Language": lang})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422, html
    assert f'id="item-{stop.id}-{item.id}"' in html and expected in html and "rubbish by the gate" in html
    assert (count(session, Answer), count(session, Photo), count(session, WorkOrder)) == (0, 0, 0)
    assert stored_files(app) == 0 and no_decoding == []


def test_eleven_photos_without_htmx_render_the_checkpoint_with_the_refusal(client, walk, session):
    url, token, stop, item = walk
    resp = _answer(client, url, token, eleven_photos(), headers={"Accept-Language": "en"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "<html" in html and "send at most 10 at a time" in html
    assert count(session, Photo) == 0


def test_thirty_png_bombs_by_header_are_refused_before_any_decode(client, walk, session, app, no_decoding):
    """The tester's request: 30 PNGs of a few KB, each declaring 7000×7000 (49 MP)."""
    url, token, stop, item = walk
    resp = _answer(client, url, token, thirty_bombs())
    assert resp.status_code == 422 and "send at most 10 at a time" in resp.get_data(as_text=True)
    assert (count(session, Answer), count(session, Photo)) == (0, 0) and stored_files(app) == 0
    assert no_decoding == []


def test_three_big_images_over_the_request_pixel_budget_are_refused_unread(client, walk, session, app,
                                                                          no_decoding):
    """Three 49 MP images (147 MP) exceed the 140 MP a request may declare: refused by their headers."""
    url, token, stop, item = walk
    photos = [(io.BytesIO(png_declaring(7000, 7000, tag=i)), f"p{i}.png") for i in range(3)]
    resp = _answer(client, url, token, photos)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "too large together (147 megapixels; at most 140" in html
    assert count(session, Photo) == 0 and stored_files(app) == 0 and no_decoding == []


def test_an_answer_holds_at_most_ten_photos_and_keeps_what_it_has(client, walk, session, app):
    """Nine photos saved, then two more: refused, the nine and the answer stay as they were."""
    url, token, stop, item = walk
    nine = [(io.BytesIO(jpeg_bytes((40, 30), color=(i * 25, 60, 60))), f"a{i}.jpg") for i in range(9)]
    assert _answer(client, url, token, nine).status_code == 200
    answer = session.scalar(select(Answer))
    assert len(answer.photos) == 9
    files = stored_files(app)
    two = [(io.BytesIO(jpeg_bytes((40, 30), color=(i * 25, 200, 0))), f"b{i}.jpg") for i in range(2)]
    resp = _answer(client, url, token, two, result="pass", note="changed my mind")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "holds at most 10 photos; it has 9" in html and "changed my mind" in html
    session.expire_all()
    answer = session.scalar(select(Answer))
    assert (answer.result, answer.note, len(answer.photos)) == ("fail", "rubbish by the gate", 9)
    assert count(session, Photo) == 9 and stored_files(app) == files
    one = [(io.BytesIO(jpeg_bytes((40, 30), color=(1, 2, 3))), "c.jpg")]
    assert _answer(client, url, token, one).status_code == 200
    session.expire_all()
    assert len(session.scalar(select(Answer)).photos) == 10


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


HOSTILE_FILES = {
    "png bomb by header (30000²)": (png_declaring(30000, 30000, with_data=False), "too large"),
    "jpeg bomb by header (30000²)": (jpeg_declaring(30000, 30000), "too large"),
    "jpeg declaring 9000² (81 MP)": (jpeg_declaring(9000, 9000), "too large (81 megapixels)"),
    "gif 65535²": (gif_declaring(65535, 65535), "not a photo"),
    "gif/js polyglot": (b"GIF89a/*\x00\x00*/=alert(1);//" + b"\x00" * 20, "not a photo"),
    "html behind jpeg magic": (b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>", "damaged"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "not a photo"),
    "truncated jpeg": (_truncated(jpeg_bytes((400, 300))), "damaged"),
    "truncated png": (png_declaring(2000, 2000)[:300], "damaged"),
    "empty": (b"", "not a photo"),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file_on_a_round_item_is_refused_and_nothing_is_lost(client, walk, session, app, name):
    """A good photo saved first; a hostile file next to a good one is refused and the first stays."""
    url, token, stop, item = walk
    assert _answer(client, url, token, [(io.BytesIO(jpeg_bytes()), "ok.jpg")]).status_code == 200
    files = stored_files(app)
    data, expected = HOSTILE_FILES[name]
    resp = _answer(client, url, token, [(io.BytesIO(jpeg_bytes(color=(0, 0, 200))), "good.jpg"),
                                        (io.BytesIO(data), "photo.jpg")], note="second try")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and expected in html and "second try" in html
    session.expire_all()
    assert count(session, Photo) == 1 and len(session.scalar(select(Answer)).photos) == 1
    assert stored_files(app) == files


def test_a_polyglot_png_with_a_payload_is_stored_re_encoded(client, walk, session, app):
    """A valid PNG carrying HTML after IEND is a photo; what is stored is a fresh JPEG without it."""
    url, token, stop, item = walk
    payload = b"<html><script>alert(document.cookie)</script></html>"
    resp = _answer(client, url, token, [(io.BytesIO(png_declaring(64, 64) + payload), "p.png")])
    assert resp.status_code == 200
    photo = session.scalar(select(Photo))
    data = app.extensions["photo_store"].get(photo.sha256)
    assert data[:3] == b"\xff\xd8\xff" and b"script" not in data


# ---- the other routes that take files: the request caps hold everywhere ----------------------------

@pytest.mark.parametrize("photos", [eleven_photos, thirty_bombs])
def test_order_comment_with_too_many_photos_is_refused(client, auth, order, session, app, photos, no_decoding):
    token = auth.token(f"/orders/{order.id}")
    events, files = count(session, WorkOrderEvent), stored_files(app)
    resp = client.post(f"/orders/{order.id}/comment", content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "see photos", "photos": photos(),
        "next": "/\r\nX"})
    assert resp.status_code == 422 and "send at most 10 at a time" in resp.get_data(as_text=True)
    assert count(session, WorkOrderEvent) == events and count(session, Photo) == 1 and stored_files(app) == files
    assert no_decoding == []


@pytest.mark.parametrize("photos", [eleven_photos, thirty_bombs])
def test_raising_an_order_with_too_many_photos_is_refused(client, auth, demo, session, app, photos, no_decoding):
    auth.login()
    token = auth.token("/orders/new")
    resp = client.post("/orders/new", content_type="multipart/form-data", data={
        "csrf_token": token, "team": demo.teams["engineering"].id, "area": 0, "severity": "major",
        "description": "Water dripping in the lift lobby", "photos": photos()})
    assert resp.status_code == 422 and "send at most 10 at a time" in resp.get_data(as_text=True)
    assert (count(session, WorkOrder), count(session, Photo), stored_files(app)) == (0, 0, 0)
    assert no_decoding == []


@pytest.fixture
def inspection(client, auth, demo, session):
    unit = session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/inspections", data={"csrf_token": token, "owner_present": "张伟"})
    insp = session.get(Inspection, int(resp.headers["Location"].rsplit("/", 1)[1]))
    item = next(i for i in insp.version.items if i.room == "kitchen")
    return insp, item, token


@pytest.mark.parametrize("photos", [eleven_photos, thirty_bombs])
def test_handover_defect_and_concern_with_too_many_photos_are_refused(client, inspection, session, app, photos,
                                                                       no_decoding):
    insp, item, token = inspection
    resp = client.post(f"/handover/inspections/{insp.id}/rooms/kitchen/items/{item.id}", headers=HX,
                       content_type="multipart/form-data", data={
                           "csrf_token": token, "result": "defect", "description": "cracked tile",
                           "photos": photos()})
    assert resp.status_code == 422 and "send at most 10 at a time" in resp.get_data(as_text=True)
    resp = client.post(f"/handover/inspections/{insp.id}/rooms/kitchen/concerns", headers=HX,
                       content_type="multipart/form-data", data={
                           "csrf_token": token, "text": "smell of gas", "photos": photos()})
    assert resp.status_code == 422 and "send at most 10 at a time" in resp.get_data(as_text=True)
    assert (count(session, Defect), count(session, Photo), stored_files(app)) == (0, 0, 0)
    assert no_decoding == []


def test_a_handover_defect_holds_at_most_ten_photos(client, inspection, session):
    insp, item, token = inspection
    url = f"/handover/inspections/{insp.id}/rooms/kitchen/items/{item.id}"

    def send(n, shade):
        return client.post(url, headers=HX, content_type="multipart/form-data", data={
            "csrf_token": token, "result": "defect", "description": "cracked tile",
            "photos": [(io.BytesIO(jpeg_bytes((40, 30), color=(shade, i * 20, 9))), f"{i}.jpg") for i in range(n)]})

    assert send(8, 1).status_code == 200
    resp = send(3, 2)
    assert resp.status_code == 422 and "holds at most 10 photos; it has 8" in resp.get_data(as_text=True)
    session.expire_all()
    assert len(session.scalar(select(Defect)).photos) == 8


# ---- the hostile files on every other route that takes photos ------------------------------------

EN = {"Accept-Language": "en"}


def good_and_hostile(name: str) -> list:
    """A good photo beside the hostile one: the request is refused whole, the good one not kept."""
    return [(io.BytesIO(jpeg_bytes((40, 30), color=(0, 120, 0))), "good.jpg"),
            (io.BytesIO(HOSTILE_FILES[name][0]), "photo.jpg")]


@pytest.mark.parametrize("name", HOSTILE_FILES)
@pytest.mark.parametrize("segment", ["comment", "resolve"])
def test_hostile_file_on_an_order_action_is_refused_with_the_note_kept(client, auth, order, session, app,
                                                                      segment, name):
    """A comment or a resolve with a hostile photo: a 422 naming the problem, the note kept, the
    order unchanged and nothing stored."""
    token = auth.token(f"/orders/{order.id}")
    before = (count(session, WorkOrderEvent), count(session, Photo), stored_files(app))
    resp = client.post(f"/orders/{order.id}/{segment}", headers=EN, content_type="multipart/form-data", data={
        "csrf_token": token, "version": str(order.version), "note": "swept it twice",
        "photos": good_and_hostile(name)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html
    assert ">swept it twice</textarea>" in html
    session.expire_all()
    assert (count(session, WorkOrderEvent), count(session, Photo), stored_files(app)) == before
    assert session.get(WorkOrder, order.id).status == "open"


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file_when_raising_an_order_is_refused_with_the_text_kept(client, auth, demo, session, app, name):
    auth.login()
    token = auth.token("/orders/new")
    resp = client.post("/orders/new", headers=EN, content_type="multipart/form-data", data={
        "csrf_token": token, "team": demo.teams["engineering"].id, "area": 0, "severity": "major",
        "description": "Water dripping in the lift lobby", "photos": good_and_hostile(name)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html
    assert "Water dripping in the lift lobby" in html
    assert (count(session, WorkOrder), count(session, Photo), stored_files(app)) == (0, 0, 0)


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file_on_a_handover_defect_or_concern_is_refused_with_the_text_kept(client, inspection, session,
                                                                                    app, name):
    insp, item, token = inspection
    resp = client.post(f"/handover/inspections/{insp.id}/rooms/kitchen/items/{item.id}", headers=HX,
                       content_type="multipart/form-data", data={
                           "csrf_token": token, "result": "defect", "description": "cracked tile by the sink",
                           "location": "left of the sink", "photos": good_and_hostile(name)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html
    assert ">cracked tile by the sink</textarea>" in html and 'value="left of the sink"' in html
    resp = client.post(f"/handover/inspections/{insp.id}/rooms/kitchen/concerns", headers=HX,
                       content_type="multipart/form-data", data={
                           "csrf_token": token, "text": "smell of gas near the meter",
                           "photos": good_and_hostile(name)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and HOSTILE_FILES[name][1] in html and "smell of gas near the meter" in html
    assert (count(session, Defect), count(session, Photo), stored_files(app)) == (0, 0, 0)


def test_a_refused_photo_on_a_recorded_defect_keeps_the_new_words(client, inspection, session):
    """A defect recorded with a photo; the engineer rewrites where and what, picks another severity and
    adds a file that is not a photo: refused on the item, the new words and severity still in the form
    (not the stored ones), and the stored defect unchanged."""
    insp, item, token = inspection
    url = f"/handover/inspections/{insp.id}/rooms/kitchen/items/{item.id}"
    first = client.post(url, headers=HX, content_type="multipart/form-data", data={
        "csrf_token": token, "result": "defect", "description": "tile cracked",
        "photos": [(io.BytesIO(jpeg_bytes()), "crack.jpg")]})
    assert first.status_code == 200
    for headers in (HX, EN):  # with htmx the item, without it the room's page
        resp = client.post(url, headers=headers, content_type="multipart/form-data", data={
            "csrf_token": token, "result": "defect", "description": "two tiles cracked behind the sink",
            "location": "north wall, 40 cm up", "severity": "critical",
            "photos": [(io.BytesIO(b"%PDF-1.4 not a photo"), "crack2.jpg")]})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422 and "not a photo" in html
        assert ">two tiles cracked behind the sink</textarea>" in html
        assert 'value="north wall, 40 cm up"' in html
        assert '<option value="critical" selected>' in html
    session.expire_all()
    defect = session.scalar(select(Defect))
    assert (defect.description, defect.location, len(defect.photos)) == ("tile cracked", "", 1)


def _png_with_gps() -> bytes:
    """A real photo as PNG whose eXIf chunk carries GPS coordinates (Shanghai) and a camera name."""
    from PIL import Image

    img = Image.new("RGB", (320, 240), (90, 140, 200))
    exif = Image.Exif()
    exif[0x010F] = "SnoopCam"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 14.0, 12.5), "E", (121.0, 28.0, 41.3)
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif)
    return buf.getvalue()


def test_a_png_with_gps_in_its_exif_chunk_is_stored_without_it(client, walk, session, app):
    """A round photo sent as PNG with an eXIf chunk: accepted, stored as a fresh JPEG with no EXIF."""
    from PIL import Image

    url, token, stop, item = walk
    sent = _png_with_gps()
    assert b"eXIf" in sent and Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)
    assert _answer(client, url, token, [(io.BytesIO(sent), "gps.png")]).status_code == 200
    photo = session.scalar(select(Photo))
    store = app.extensions["photo_store"]
    for sha in (photo.sha256, photo.thumb_sha256):
        data = store.get(sha)
        img = Image.open(io.BytesIO(data))
        assert img.format == "JPEG" and not img.getexif()
        assert b"Exif" not in data and b"SnoopCam" not in data


# ---- the routes that take a data file: checklist YAML and the units' CSV --------------------------

def _laughs(depth: int) -> str:
    """A "billion laughs" YAML: nested aliases that expand to 9**depth strings once made into text."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, depth)]
    return "\n".join(lines) + f"""
templates:
  - id: evil
    items:
      - {{id: x, text_zh: *l{depth - 1}, text_en: t, category: c, responsible_team: cleaning,
          severity: minor, photo_required_on_fail: false}}
"""


ITEM = "{id: x, text_zh: t, text_en: t, category: c, responsible_team: cleaning, severity: minor, " \
       "photo_required_on_fail: false%s}"
HOSTILE_YAML = {
    "billion laughs": _laughs(7),
    "a list for a name": "templates:\n  - id: evil\n    name_zh: [1, 2]\n    items: []\n",
    "a list for a kind": "templates:\n  - id: evil\n    kind: [x]\n    items: []\n",
    "a mapping for a room": "templates:\n  - id: evil\n    items:\n      - " + ITEM % ", room: {a: 1}" + "\n",
    "a code longer than its column": "templates:\n  - id: " + "x" * 5000 + "\n    items: []\n",
    "a name longer than its column": "templates:\n  - id: evil\n    name_en: " + "n" * 300 + "\n    items: []\n",
    "a category longer than its column": "templates:\n  - id: evil\n    items:\n      - "
                                         + (ITEM % "").replace("category: c", "category: " + "c" * 300) + "\n",
    "points beyond an integer": "templates:\n  - id: evil\n    items:\n      - " + ITEM % ", points: 1e300" + "\n",
    "items not a list": "templates:\n  - id: evil\n    items: 5\n",
    "not text": "\x00\x01\x02",
}


@pytest.mark.parametrize("name", HOSTILE_YAML)
def test_hostile_checklist_yaml_is_refused_and_changes_nothing(client, auth, demo, session, name):
    """A manager's YAML import with fields of the wrong shape or size, or nested aliases: a refusal
    read on the checklists page, quickly, and no checklist created or changed (never a 500)."""
    import time

    from app.models import ChecklistTemplate, TemplateVersion

    auth.login("manager")
    token = auth.token("/manage/templates")
    before = (count(session, ChecklistTemplate), count(session, TemplateVersion))
    started = time.monotonic()
    resp = client.post("/manage/templates/import", headers=EN, content_type="multipart/form-data", data={
        "csrf_token": token, "site": str(demo.site.id),
        "file": (io.BytesIO(HOSTILE_YAML[name].encode()), "checklists.yaml")})
    assert resp.status_code == 302 and time.monotonic() - started < 2
    page = client.get(resp.headers["Location"], headers=EN).get_data(as_text=True)
    assert ("This is not a checklist YAML file like checklists.yaml." in page
            or "has an item without text, category, team, severity or photo rule." in page)
    assert (count(session, ChecklistTemplate), count(session, TemplateVersion)) == before


def test_the_exported_yaml_imports_unchanged(client, auth, demo):
    """What the checks above refuse leaves the real file alone: the export imports back, unchanged."""
    auth.login("manager")
    exported = client.get(f"/manage/templates.yaml?site={demo.site.id}").data
    token = auth.token("/manage/templates")
    resp = client.post("/manage/templates/import", headers=EN, content_type="multipart/form-data", data={
        "csrf_token": token, "site": str(demo.site.id), "file": (io.BytesIO(exported), "checklists.yaml")})
    page = client.get(resp.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Imported:" in page and "not a checklist YAML" not in page


HOSTILE_CSV = {
    "utf-16": "building,unit,floor,room,owner_name,owner_phone,bedrooms,bathrooms\n5,1,3,301,张,,2,1\n"
              .encode("utf-16"),
    "a png": png_declaring(64, 64),
    "a unit number longer than its column": b"building,unit,floor,room,owner_name,owner_phone,bedrooms,bathrooms\n"
                                            b"5,12345678901234567890,3,301,x,,2,1\n",
    "a building longer than its column": ("building,unit,floor,room,owner_name,owner_phone,bedrooms,bathrooms\n"
                                          + "B" * 300 + ",1,3,301,x,,2,1\n").encode(),
    "a huge bedroom count": b"building,unit,floor,room,owner_name,owner_phone,bedrooms,bathrooms\n"
                            b"5,1,3,301,x,,99999999999999999999,1\n",
    "nul bytes": b"building,unit\x00,floor\n\x00\x00\x00\n",
}


@pytest.mark.parametrize("name", HOSTILE_CSV)
def test_hostile_units_csv_is_refused_and_imports_nothing(client, auth, demo, session, name):
    auth.login("engineer")
    token = auth.token("/handover/import")
    units = count(session, Unit)
    resp = client.post("/handover/import", headers=EN, content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(HOSTILE_CSV[name]), "units.csv")})
    assert resp.status_code == 422 and "nothing was imported" in resp.get_data(as_text=True)
    assert count(session, Unit) == units


def test_a_units_csv_with_codes_too_long_says_which_in_chinese(client, auth, demo, session):
    """The line and the sizes are named in the engineer's language (the unit form's limits)."""
    auth.login("engineer")
    token = auth.token("/handover/import")
    resp = client.post("/handover/import", headers={"Accept-Language": "zh-CN"},
                       content_type="multipart/form-data", data={
                           "csrf_token": token, "file": (io.BytesIO(HOSTILE_CSV["a unit number longer than its column"]),
                                                         "units.csv")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "楼栋最多 20 个字符，单元和房号最多 10 个字符。" in html
