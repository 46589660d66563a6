"""A refused signature on a phone (390x844): the refusal is in view at the refused pad, the other
signature is drawn again and both names kept; the owner signs again and the inspection is signed."""
import base64
import io
import re
import struct

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Inspection, Unit
from app.services import handover as ho
from tests.browser.conftest import check_page, login
from tests.browser.test_handover import OWNER, draw_with_finger, draw_with_mouse

INKED_JS = """() => [...document.querySelectorAll('canvas.pad')].map(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })"""


def gif_bomb_data_url() -> str:
    """A 1x1 GIF whose header says 65535 x 65535, labelled as the pad's PNG."""
    buf = io.BytesIO()
    Image.new("P", (1, 1), 0).save(buf, "GIF")
    raw = bytearray(buf.getvalue())
    raw[6:10] = struct.pack("<HH", 65535, 65535)
    return "data:image/png;base64," + base64.b64encode(bytes(raw)).decode()


def test_refused_owner_signature_keeps_the_engineers_in_view(demo, phone_factory, shot):
    """Both sign; the owner's pad sends a bomb: 422 in view at the owner's pad, the engineer's
    signature redrawn; the owner signs again and the record is signed."""
    unit = db.session.scalar(select(Unit).where(Unit.unit_no == "1", Unit.room == "1201"))
    insp_id = ho.start_inspection(db.session, unit, demo.users["engineer"], OWNER).id
    db.session.commit()

    page = phone_factory()
    login(page, "engineer")
    page.goto(f"/handover/inspections/{insp_id}/sign")
    page.locator("#engineer_name").fill("刘工 Liu")
    pads = page.locator("canvas.pad")
    draw_with_mouse(page, pads.nth(0))
    draw_with_finger(page, pads.nth(1))
    engineer_signature = page.locator("#engineer_signature").input_value()
    # What a tampered pad sends instead of the owner's drawing.
    page.evaluate("v => { document.getElementById('owner_signature').value = v; }", gif_bomb_data_url())
    with page.expect_response(re.compile(r"/sign$")) as answer:
        page.get_by_role("button", name="Both have signed: finish").tap()
    assert answer.value.status == 422

    error = page.locator("#pad-owner-error")
    expect(error).to_have_text("Owner: the signature could not be read. Clear the pad and sign again.")
    expect(error).to_be_in_viewport()
    expect(error).to_be_focused()
    expect(page.locator("#engineer_name")).to_have_value("刘工 Liu")
    expect(page.locator("#owner_name")).to_have_value(OWNER)
    expect(page.locator("#engineer_signature")).to_have_value(engineer_signature)
    expect(page.locator("#owner_signature")).to_have_value("")
    page.wait_for_function("() => document.querySelector('canvas.pad').getContext('2d')"
                           ".getImageData(0, 0, 600, 240).data.some((v, i) => i % 4 == 3 && v > 0)")
    engineer_ink, owner_ink = page.evaluate(INKED_JS)
    assert engineer_ink > 500 and owner_ink == 0, (engineer_ink, owner_ink)
    shot(page, "owner-signature-refused")
    check_page(page)

    draw_with_finger(page, pads.nth(1))
    page.get_by_role("button", name="Both have signed: finish").tap()
    expect(page).to_have_url(re.compile(rf"/handover/units/{unit.id}$"))
    db.session.expire_all()
    insp = db.session.get(Inspection, insp_id)
    assert insp.signed and insp.engineer_signed_name == "刘工 Liu" and insp.owner_signed_name == OWNER
