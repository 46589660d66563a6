"""Hostile input on the signature pads (POST /handover/inspections/<id>/sign): bombs by header, other
formats, truncated and malformed data, oversize data URLs — each refused at its pad with a message in
the signer's language, the other pad and the names kept, nothing stored, never a 500; what is
accepted (an animation, a PNG carrying GPS) is stored re-encoded: first frame, no ancillary chunk."""
import base64
import io
import re
import struct
import zlib
from html import unescape

import pytest
from PIL import Image, ImageDraw, PngImagePlugin
from sqlalchemy import func, select

from app.models import Inspection, Unit, WorkOrder
from app.services import signatures
from tests.unit.test_handover import signature

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EN = {"Accept-Language": "en"}
READ = "the signature could not be read. Clear the pad and sign again."
LARGE = "the signature is too large. Clear the pad and sign again."


# ---- crafted files: bombs by header, so the tests stay fast ---------------------------------------

def data_url(raw: bytes, prefix: str = "data:image/png;base64,") -> str:
    return prefix + base64.b64encode(raw).decode()


def ink(size=(300, 120), shift=0) -> Image.Image:
    """A signature stroke on a transparent pad, like the canvas draws."""
    img = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(img).line([(10, 100), (80, 20 + shift), (150, 90), (290, 30 + shift)],
                             fill=(0, 0, 0, 255), width=4)
    return img


def png(img: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **params)
    return buf.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG, in order."""
    assert data[:8] == PNG_SIGNATURE
    kinds, i = [], 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kinds.append(data[i + 4:i + 8])
        i += 12 + length
    return kinds


def png_declaring(width: int, height: int) -> bytes:
    """A tiny valid-CRC PNG whose IHDR declares width x height (its IDAT holds one row)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1))) \
        + chunk(b"IEND", b"")


def jpeg_declaring(side: int) -> bytes:
    """An 8x8 JPEG whose SOF0 is patched to side x side."""
    buf = io.BytesIO()
    Image.new("L", (8, 8), 0).save(buf, "JPEG")
    raw = bytearray(buf.getvalue())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5:sof + 9] = struct.pack(">HH", side, side)
    return bytes(raw)


def gif_declaring_65535() -> bytes:
    """A 1x1 GIF whose logical screen says 65535 x 65535."""
    buf = io.BytesIO()
    Image.new("P", (1, 1), 0).save(buf, "GIF")
    raw = bytearray(buf.getvalue())
    raw[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(raw)


def webp_declaring_16383() -> bytes:
    """A 16x16 WebP with a VP8X header whose canvas says 16383 x 16383."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "WEBP", lossless=True, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00")
    raw = bytearray(buf.getvalue())
    vp8x = raw.index(b"VP8X")
    raw[vp8x + 12:vp8x + 18] = (16383 - 1).to_bytes(3, "little") * 2
    return bytes(raw)


def animated_png() -> bytes:
    """Frame 0 is a signature; frame 1 is a black block over the pad's top-left corner."""
    second = ink()
    ImageDraw.Draw(second).rectangle((0, 0, 60, 10), fill=(0, 0, 0, 255))
    return png(ink(), save_all=True, append_images=[second], duration=100, loop=0)


def png_with_gps() -> bytes:
    """A good signature carrying an eXIf chunk with GPS coordinates and text chunks beside it."""
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 14.0, 12.5), 3: "E", 4: (121.0, 28.0, 41.25)})
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home 31.2368N 121.4781E")
    text.add_itxt("Location", "上海", lang="zh", tkey="位置")
    return png(ink(shift=20), exif=exif.tobytes(), pnginfo=text)


HOSTILE = {
    "jpeg-30000": (lambda: data_url(jpeg_declaring(30000)), READ),
    "jpeg-65000": (lambda: data_url(jpeg_declaring(65000)), READ),
    "gif-65535": (lambda: data_url(gif_declaring_65535()), READ),
    "webp-16383": (lambda: data_url(webp_declaring_16383()), READ),
    "png-bomb-65535": (lambda: data_url(png_declaring(65535, 65535)), LARGE),
    "png-5000-square": (lambda: data_url(png_declaring(5000, 5000)), LARGE),
    "png-long-strip": (lambda: data_url(png_declaring(8000, 100)), LARGE),
    "png-truncated": (lambda: data_url(png(ink())[:-120]), READ),
    "png-header-only": (lambda: data_url(png(ink())[:33]), READ),
    "not-an-image": (lambda: data_url(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), READ),
    "jpeg-signature": (lambda: data_url(_jpeg_of_ink()), READ),
    "jpeg-data-url": (lambda: data_url(_jpeg_of_ink(), "data:image/jpeg;base64,"), READ),
    "oversize": (lambda: "data:image/png;base64," + "A" * signatures.MAX_DATA_URL, LARGE),
    "base64-garbage": (lambda: "data:image/png;base64,@@@not*base64", READ),
    "base64-padding": (lambda: "data:image/png;base64,iVBORw0KGgo", READ),
    "no-base64": (lambda: "data:image/png,%89PNG", READ),
    "not-a-data-url": (lambda: "javascript:alert(1)", READ),
}


def _jpeg_of_ink() -> bytes:
    buf = io.BytesIO()
    ink().convert("RGB").save(buf, "JPEG")
    return buf.getvalue()


# ---- the inspection, the POST and what must not change -------------------------------------------

@pytest.fixture
def signing(client, auth, demo, session):
    """An engineer's fresh inspection of 3-1-1201 and a CSRF token for its sign page."""
    unit = session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))
    auth.login("engineer")
    token = auth.token(f"/handover/units/{unit.id}")
    resp = client.post(f"/handover/units/{unit.id}/inspections", data={"csrf_token": token, "owner_present": "张伟"})
    insp_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    return insp_id, auth.token(f"/handover/inspections/{insp_id}/sign")


def sign(client, signing, engineer: str, owner: str, headers=EN):
    insp_id, token = signing
    return client.post(f"/handover/inspections/{insp_id}/sign", headers=headers, data={
        "csrf_token": token, "engineer_name": "刘工", "owner_name": "张伟 Zhang",
        "engineer_signature": engineer, "owner_signature": owner})


def stored_files(app) -> int:
    from tests.web.helpers import uploaded_files

    return uploaded_files(app)


def hidden(html: str, name: str) -> str:
    """The value the page keeps in a pad's hidden field."""
    tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return unescape(value.group(1)) if value else ""


def pad_error(html: str, who: str) -> str:
    match = re.search(rf'<p class="error" id="pad-{who}-error" role="alert">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


def assert_refused_nothing_stored(app, session, signing, before: int) -> None:
    session.expire_all()
    insp = session.get(Inspection, signing[0])
    assert not insp.signed and insp.engineer_signature is None and insp.owner_signature is None
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 0
    assert stored_files(app) == before


# ---- refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_owner_signature_is_refused_at_its_pad(client, app, session, signing, case):
    """Each hostile data URL: 422, the owner's pad says why, the engineer's signature and both
    names are kept, nothing is stored."""
    make, reason = HOSTILE[case]
    good, before = signature(), stored_files(app)
    resp = sign(client, signing, good, make())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422, case
    assert pad_error(html, "owner") == f"Owner: {reason}"
    assert 'aria-describedby="pad-owner-help pad-owner-error"' in html
    assert pad_error(html, "engineer") == ""
    assert hidden(html, "owner_signature") == ""          # signed again
    assert hidden(html, "engineer_signature") == good     # kept, and drawn again by signature.js
    assert 'value="刘工"' in html and 'value="张伟 Zhang"' in html
    assert_refused_nothing_stored(app, session, signing, before)


@pytest.mark.parametrize("case", ["gif-65535", "oversize"])
def test_hostile_engineer_signature_is_refused_and_the_owners_kept(client, app, session, signing, case):
    """The same on the engineer's pad: the owner's signature stays."""
    make, reason = HOSTILE[case]
    good, before = signature(shift=30), stored_files(app)
    resp = sign(client, signing, make(), good)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert pad_error(html, "engineer") == f"Engineer: {reason}" and pad_error(html, "owner") == ""
    assert hidden(html, "engineer_signature") == "" and hidden(html, "owner_signature") == good
    assert_refused_nothing_stored(app, session, signing, before)


def test_both_pads_refused_say_so_each(client, app, session, signing):
    """Two hostile pads: each names its own problem; neither value comes back."""
    before = stored_files(app)
    resp = sign(client, signing, HOSTILE["jpeg-30000"][0](), HOSTILE["png-5000-square"][0]())
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert pad_error(html, "engineer") == f"Engineer: {READ}" and pad_error(html, "owner") == f"Owner: {LARGE}"
    assert hidden(html, "engineer_signature") == "" and hidden(html, "owner_signature") == ""
    assert_refused_nothing_stored(app, session, signing, before)


def test_refusal_is_in_the_signers_language(client, app, session, demo, signing):
    """An engineer who reads Chinese reads the refusal in Chinese."""
    demo.users["engineer"].locale = "zh_Hans"
    session.commit()
    before = stored_files(app)
    resp = sign(client, signing, signature(), HOSTILE["webp-16383"][0](), headers={})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert pad_error(html, "owner") == "业主：签名无法读取，请清除签名板后重新签名。"
    resp = sign(client, signing, HOSTILE["oversize"][0](), signature(), headers={})
    assert pad_error(resp.get_data(as_text=True), "engineer") == "工程师：签名过大，请清除签名板后重新签名。"
    assert_refused_nothing_stored(app, session, signing, before)


def test_a_blank_pad_still_asks_both_to_sign(client, app, session, signing):
    """An empty or inkless pad is not a signature (the message the signers already know)."""
    before = stored_files(app)
    for owner in ("", signature(ink=False)):
        resp = sign(client, signing, signature(), owner)
        assert resp.status_code == 422
        assert pad_error(resp.get_data(as_text=True), "owner") == "Both people must sign on the screen."
    assert_refused_nothing_stored(app, session, signing, before)


# ---- accepted, but never stored as sent -----------------------------------------------------------

def served(client, signing, who: str) -> bytes:
    resp = client.get(f"/handover/inspections/{signing[0]}/signatures/{who}.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    return resp.data


def assert_fresh_png(data: bytes) -> Image.Image:
    """Only the image's own chunks: no eXIf, tEXt, iTXt, zTXt, iCCP, acTL/fcTL/fdAT, pHYs."""
    assert set(chunks(data)) <= {b"IHDR", b"IDAT", b"IEND"}, chunks(data)
    img = Image.open(io.BytesIO(data))
    assert img.mode == "L" and not getattr(img, "is_animated", False)
    return img


def test_animated_png_keeps_only_its_first_frame(client, app, session, signing):
    """An APNG signs with its first frame; the stored and served bytes carry no animation."""
    sent = animated_png()
    assert b"acTL" in sent and Image.open(io.BytesIO(sent)).n_frames == 2
    resp = sign(client, signing, signature(), data_url(sent))
    assert resp.status_code == 302
    session.expire_all()
    insp = session.get(Inspection, signing[0])
    stored = app.extensions["photo_store"].get(insp.owner_signature)
    assert stored == served(client, signing, "owner") != sent
    for kind in (b"acTL", b"fcTL", b"fdAT"):
        assert kind not in stored
    img = assert_fresh_png(stored)
    assert img.size == (300, 120)
    assert img.getpixel((30, 5)) == 255      # the second frame's black block is not there
    assert img.getpixel((10, 100)) < 100     # the first frame's stroke is


def test_png_with_gps_in_exif_is_stored_without_it(client, app, session, signing):
    """A signature carrying GPS (eXIf) and text chunks: stored and served back without any of them."""
    sent = png_with_gps()
    assert {b"eXIf", b"tEXt", b"iTXt"} <= set(chunks(sent))
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)[2] == (31.0, 14.0, 12.5)
    resp = sign(client, signing, data_url(sent), signature())
    assert resp.status_code == 302
    session.expire_all()
    insp = session.get(Inspection, signing[0])
    stored = app.extensions["photo_store"].get(insp.engineer_signature)
    assert stored == served(client, signing, "engineer")
    for data in (stored, served(client, signing, "owner")):
        img = assert_fresh_png(data)
        assert not img.getexif() and not img.info
        assert b"Exif" not in data and b"121.4781" not in data


def test_good_signatures_sign_and_appear_in_the_pdf(client, app, session, signing):
    """The pad's ordinary PNG still signs; both re-encoded signatures are images in the report."""
    from pypdf import PdfReader

    resp = sign(client, signing, signature(), signature(shift=30))
    assert resp.status_code == 302
    session.expire_all()
    insp = session.get(Inspection, signing[0])
    assert insp.signed and insp.engineer_signed_name == "刘工" and insp.owner_signed_name == "张伟 Zhang"
    assert insp.engineer_signature != insp.owner_signature
    for who in ("engineer", "owner"):
        assert_fresh_png(served(client, signing, who))
    page = client.get(f"/handover/inspections/{signing[0]}/sign").get_data(as_text=True)
    assert "signatures/engineer.png" in page and "signatures/owner.png" in page
    reader = PdfReader(io.BytesIO(client.get(f"/handover/inspections/{signing[0]}/report.pdf?lang=en").data))
    text = "".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    assert "刘工" in text and "张伟 Zhang" in text
    assert sum(len(p.images) for p in reader.pages) == 2  # no defects: the two signatures
